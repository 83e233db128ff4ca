# Production, region B: the standby region (cross-region read replicas, read-only
# until the operator promotes it). Its own root and state, in its own region:
# region A's databases are named by ARN (derived from their identifiers or
# given), never read from region A's state, so this root plans and applies while
# region A is gone.

locals {
  name = "pastebin-${var.environment}-b"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  source_arn_prefix = "arn:${data.aws_partition.current.partition}:rds:${var.source_region}:${data.aws_caller_identity.current.account_id}:db:${var.source_name}"
  source_database_arns = coalesce(var.source_database_arns, {
    main      = "${local.source_arn_prefix}-main"
    analytics = "${local.source_arn_prefix}-analytics"
  })
}

module "region" {
  source = "../../../modules/region"

  name                                   = local.name
  role                                   = "replica"
  source_database_arns                   = local.source_database_arns
  azs                                    = var.azs
  vpc_cidr                               = var.vpc_cidr
  kubernetes_version                     = var.kubernetes_version
  admin_cidrs                            = var.admin_cidrs
  admin_role_arns                        = var.admin_role_arns
  app_namespace                          = var.app_namespace
  bucket_name                            = "pastebin-${var.environment}-${var.region}"
  bucket_replication                     = var.replicate_bucket_to
  postgres_version                       = var.postgres_version
  db_instance_class                      = var.db_instance_class
  cache_node_type                        = var.cache_node_type
  redis_auth_token                       = var.redis_auth_token
  create_autoscaling_service_linked_role = var.create_autoscaling_service_linked_role

  dns = {
    zone_id           = var.route53_zone_id
    record_name       = var.public_hostname
    regional_hostname = var.regional_hostname
    failover_role     = var.failover_role
    load_balancer     = var.load_balancer
  }
}
