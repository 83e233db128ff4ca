output "health_check_id" {
  description = "Route 53 health check of this region (alarm on HealthCheckStatus)."
  value       = aws_route53_health_check.this.id
}
