output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.cluster.cluster_name
}

output "kms_key_arn" {
  description = "The region's KMS key (the other region's bucket replication encrypts with it)."
  value       = module.kms.key_arn
}

output "ecr_repository_url" {
  description = "image.repository in this region."
  value       = module.ecr.repository_url
}

output "bucket_name" {
  description = "PASTEBIN_S3_BUCKET in this region."
  value       = module.bucket.name
}

output "bucket_arn" {
  description = "ARN of this region's bucket (the destination of the other region's replication)."
  value       = module.bucket.arn
}

output "app_role_arn" {
  description = "IRSA role of the pastebin ServiceAccount."
  value       = module.cluster.app_role_arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of the cluster autoscaler."
  value       = module.cluster.cluster_autoscaler_role_arn
}

output "external_secrets_role_arn" {
  description = "IRSA role of the External Secrets Operator."
  value       = module.cluster.external_secrets_role_arn
}

output "database" {
  description = "Database instances of this region: endpoints (host:port) and ARNs."
  value = {
    main_endpoint          = module.database.main_endpoint
    main_arn               = module.database.main_arn
    read_replica_endpoints = module.database.read_replica_endpoints
    analytics_endpoint     = module.database.analytics_endpoint
    analytics_arn          = module.database.analytics_arn
    master_user_secrets    = module.database.master_user_secret_arns
  }
}

output "redis_endpoint" {
  description = "ElastiCache primary endpoint (PASTEBIN_REDIS_URL = rediss://:<token>@<host>:6379)."
  value       = module.cache.primary_endpoint
}

output "health_check_id" {
  description = "Route 53 health check of this region (null until dns.load_balancer is set)."
  value       = try(module.dns[0].health_check_id, null)
}

output "helm_values" {
  description = "The chart values this region's infrastructure decides, to pass after values-region-<x>.yaml: terraform output -json helm_values > region.tfvalues.json; helm ... -f region.tfvalues.json."
  value = {
    image = { repository = module.ecr.repository_url }
    serviceAccount = {
      annotations = { "eks.amazonaws.com/role-arn" = module.cluster.app_role_arn }
    }
    config = {
      PASTEBIN_S3_BUCKET = module.bucket.name
      PASTEBIN_S3_REGION = data.aws_region.current.name
    }
    postgresql = {
      external = {
        # Only this region's own instances: a replica until promoted, then the primary.
        hosts = [module.database.main_endpoint]
        replica = {
          hosts = var.role == "primary" ? module.database.read_replica_endpoints : [module.database.main_endpoint]
        }
        analytics = { hosts = [module.database.analytics_endpoint] }
      }
    }
  }
}
