output "region" {
  description = "This root's region."
  value       = var.region
}

output "cluster_name" {
  description = "EKS cluster (aws eks update-kubeconfig --region <region> --name <cluster_name>)."
  value       = module.region.cluster_name
}

output "ecr_repository_url" {
  description = "Where the build pushes the image for this region (image.repository)."
  value       = module.region.ecr_repository_url
}

output "bucket_name" {
  description = "PASTEBIN_S3_BUCKET of this region."
  value       = module.region.bucket_name
}

output "bucket_arn" {
  description = "This region's bucket (the other root's replicate_bucket_to.bucket_arn)."
  value       = module.region.bucket_arn
}

output "kms_key_arn" {
  description = "This region's KMS key (the other root's replicate_bucket_to.kms_key_arn)."
  value       = module.region.kms_key_arn
}

output "app_role_arn" {
  description = "IRSA role of the pastebin ServiceAccount."
  value       = module.region.app_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role for the cluster autoscaler's ServiceAccount (kube-system/cluster-autoscaler)."
  value       = module.region.cluster_autoscaler_role_arn
}

output "external_secrets_role_arn" {
  description = "IRSA role for the External Secrets Operator's ServiceAccount (external-secrets/external-secrets)."
  value       = module.region.external_secrets_role_arn
}

output "database" {
  description = "Database endpoints and ARNs of this region (master credential secrets on the primary)."
  value       = module.region.database
}

output "redis_endpoint" {
  description = "ElastiCache primary endpoint: PASTEBIN_REDIS_URL = rediss://:<token>@<host>:6379."
  value       = module.region.redis_endpoint
}

output "health_check_id" {
  description = "Route 53 health check of this region (null before load_balancer is set)."
  value       = module.region.health_check_id
}

output "helm_values" {
  description = "Chart values decided by this region's infrastructure: terraform output -json helm_values > <file>.json, then helm ... -f values-region-<x>.yaml -f <file>.json."
  value       = module.region.helm_values
}
