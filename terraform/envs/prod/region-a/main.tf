# Production, region A: the primary region (takes writes). Its own root and
# state; region B has the same shape (../region-b) with role = "replica".

locals {
  name = "pastebin-${var.environment}-a"
}

module "region" {
  source = "../../../modules/region"

  name                                   = local.name
  role                                   = "primary"
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
  db_read_replicas                       = var.db_read_replicas
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
