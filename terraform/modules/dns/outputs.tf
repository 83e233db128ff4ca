output "health_check_ids" {
  description = "Route 53 health check per region (alarm on HealthCheckStatus)."
  value       = { for k, v in aws_route53_health_check.region : k => v.id }
}
