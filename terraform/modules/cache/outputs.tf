output "primary_endpoint" {
  description = "Primary endpoint host; PASTEBIN_REDIS_URL = rediss://:<token>@<host>:6379."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}
