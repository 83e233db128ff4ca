output "main_arn" {
  description = "ARN of the main instance (source of the other region's replica)."
  value       = aws_db_instance.main.arn
}

output "main_endpoint" {
  description = "host:port of the main instance (PASTEBIN_DATABASE_URL host)."
  value       = aws_db_instance.main.endpoint
}

output "read_replica_endpoints" {
  description = "host:port of the in-region read replicas (PASTEBIN_REPLICA_DATABASE_URL hosts)."
  value       = aws_db_instance.read[*].endpoint
}

output "analytics_arn" {
  description = "ARN of the analytics instance."
  value       = aws_db_instance.analytics.arn
}

output "analytics_endpoint" {
  description = "host:port of the analytics instance."
  value       = aws_db_instance.analytics.endpoint
}

output "master_user_secret_arns" {
  description = "Secrets Manager secrets holding the master credentials (primary role only)."
  value = {
    main      = try(aws_db_instance.main.master_user_secret[0].secret_arn, null)
    analytics = try(aws_db_instance.analytics.master_user_secret[0].secret_arn, null)
  }
}
