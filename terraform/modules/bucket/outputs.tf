output "primary_bucket" {
  description = "Bucket of the primary region (PASTEBIN_S3_BUCKET in region A)."
  value       = aws_s3_bucket.primary.bucket
}

output "primary_bucket_arn" {
  description = "ARN of the primary bucket."
  value       = aws_s3_bucket.primary.arn
}

output "replica_bucket" {
  description = "Bucket of the replica region (PASTEBIN_S3_BUCKET in region B)."
  value       = aws_s3_bucket.replica.bucket
}

output "replica_bucket_arn" {
  description = "ARN of the replica bucket."
  value       = aws_s3_bucket.replica.arn
}
