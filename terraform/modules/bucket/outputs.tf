output "name" {
  description = "Bucket name (PASTEBIN_S3_BUCKET)."
  value       = aws_s3_bucket.this.bucket
}

output "arn" {
  description = "Bucket ARN."
  value       = aws_s3_bucket.this.arn
}
