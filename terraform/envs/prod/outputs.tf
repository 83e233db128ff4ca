output "clusters" {
  description = "EKS cluster names per region."
  value = {
    a = module.cluster_a.cluster_name
    b = module.cluster_b.cluster_name
  }
}

output "app_role_arns" {
  description = "IRSA role per region: serviceAccount.annotations.eks.amazonaws.com/role-arn in the region's values file."
  value = {
    a = module.cluster_a.app_role_arn
    b = module.cluster_b.app_role_arn
  }
}

output "database_endpoints" {
  description = "host:port for postgresql.external in the region values files (region B's main is the cross-region replica)."
  value = {
    a = {
      main      = module.database_a.main_endpoint
      replicas  = module.database_a.read_replica_endpoints
      analytics = module.database_a.analytics_endpoint
    }
    b = {
      main      = module.database_b.main_endpoint
      analytics = module.database_b.analytics_endpoint
    }
  }
}

output "database_master_secrets" {
  description = "Secrets Manager ARNs of the RDS master credentials (for creating the application roles)."
  value       = module.database_a.master_user_secret_arns
}

output "redis_endpoints" {
  description = "ElastiCache primary endpoints per region (PASTEBIN_REDIS_URL = rediss://:<token>@<host>:6379)."
  value = {
    a = module.cache_a.primary_endpoint
    b = module.cache_b.primary_endpoint
  }
}

output "buckets" {
  description = "PASTEBIN_S3_BUCKET per region."
  value = {
    a = module.bucket.primary_bucket
    b = module.bucket.replica_bucket
  }
}

output "health_check_ids" {
  description = "Route 53 health checks on /readyz (empty until load_balancers is set)."
  value       = try(module.dns[0].health_check_ids, {})
}
