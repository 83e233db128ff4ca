# Everything pastebin needs in one AWS region, for one Terraform root per region
# (envs/prod/region-a, envs/prod/region-b). Nothing here reads another region's
# state: what a region needs from the other (the source database of a replica,
# the bucket to replicate to) comes in as ARNs, so each root plans and applies
# while the other region is down.

locals {
  tags = merge(var.tags, { Region = data.aws_region.current.name, Role = var.role })
}

data "aws_region" "current" {}

module "kms" {
  source                                 = "../kms"
  name                                   = var.name
  create_autoscaling_service_linked_role = var.create_autoscaling_service_linked_role
  tags                                   = local.tags
}

module "network" {
  source      = "../network"
  name        = var.name
  cidr        = var.vpc_cidr
  azs         = var.azs
  kms_key_arn = module.kms.key_arn
  tags        = local.tags
}

module "ecr" {
  source      = "../ecr"
  name        = var.image_name
  kms_key_arn = module.kms.key_arn
  tags        = local.tags
}

module "bucket" {
  source      = "../bucket"
  name        = var.bucket_name
  kms_key_arn = module.kms.key_arn
  replication = var.bucket_replication
  tags        = local.tags
}

module "cluster" {
  source                 = "../cluster"
  name                   = var.name
  kubernetes_version     = var.kubernetes_version
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  kms_key_arn            = module.kms.key_arn
  endpoint_public_access = length(var.admin_cidrs) > 0
  public_access_cidrs    = var.admin_cidrs
  admin_role_arns        = var.admin_role_arns
  app_namespace          = var.app_namespace
  app_service_account    = var.app_service_account
  app_bucket_arns        = [module.bucket.arn]
  app_kms_key_arns       = [module.kms.key_arn]
  tags                   = local.tags
}

module "database" {
  source                     = "../database"
  name                       = var.name
  role                       = var.role
  engine_version             = var.postgres_version
  source_main_arn            = var.source_database_arns == null ? null : var.source_database_arns.main
  source_analytics_arn       = var.source_database_arns == null ? null : var.source_database_arns.analytics
  instance_class             = var.db_instance_class
  read_replica_count         = var.role == "primary" ? var.db_read_replicas : 0
  kms_key_arn                = module.kms.key_arn
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.cluster.cluster_security_group_id]
  tags                       = local.tags
}

module "cache" {
  source                     = "../cache"
  name                       = var.name
  node_type                  = var.cache_node_type
  auth_token                 = var.redis_auth_token
  kms_key_arn                = module.kms.key_arn
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = [module.cluster.cluster_security_group_id]
  tags                       = local.tags
}

# This region's half of the Route 53 failover, once its ingress controller's
# load balancer exists (second apply, docs/deployment.md).
module "dns" {
  count             = var.dns.load_balancer == null ? 0 : 1
  source            = "../dns"
  name              = var.name
  zone_id           = var.dns.zone_id
  record_name       = var.dns.record_name
  regional_hostname = var.dns.regional_hostname
  failover_role     = var.dns.failover_role
  load_balancer     = var.dns.load_balancer
  tags              = local.tags
}
