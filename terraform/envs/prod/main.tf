# Production: region A (primary, takes writes) and region B (standby, serves
# reads from the cross-region replica, read-only until promoted).

locals {
  name = "pastebin-${var.environment}"
  tags = {
    Project     = "pastebin"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
}

# --- encryption keys -------------------------------------------------------------

module "kms_a" {
  source    = "../../modules/kms"
  providers = { aws = aws.a }
  name      = "${local.name}-a"
}

module "kms_b" {
  source    = "../../modules/kms"
  providers = { aws = aws.b }
  name      = "${local.name}-b"
}

# --- networks --------------------------------------------------------------------

module "network_a" {
  source      = "../../modules/network"
  providers   = { aws = aws.a }
  name        = "${local.name}-a"
  cidr        = var.vpc_cidr_a
  azs         = var.azs_a
  kms_key_arn = module.kms_a.key_arn
}

module "network_b" {
  source      = "../../modules/network"
  providers   = { aws = aws.b }
  name        = "${local.name}-b"
  cidr        = var.vpc_cidr_b
  azs         = var.azs_b
  kms_key_arn = module.kms_b.key_arn
}

# --- object storage (A -> B replication) -----------------------------------------

module "bucket" {
  source = "../../modules/bucket"
  providers = {
    aws.primary = aws.a
    aws.replica = aws.b
  }
  name_prefix         = local.name
  primary_region      = var.region_a
  replica_region      = var.region_b
  primary_kms_key_arn = module.kms_a.key_arn
  replica_kms_key_arn = module.kms_b.key_arn
}

# --- Kubernetes ------------------------------------------------------------------

module "cluster_a" {
  source                 = "../../modules/cluster"
  providers              = { aws = aws.a }
  name                   = "${local.name}-a"
  kubernetes_version     = var.kubernetes_version
  vpc_id                 = module.network_a.vpc_id
  subnet_ids             = module.network_a.private_subnet_ids
  kms_key_arn            = module.kms_a.key_arn
  endpoint_public_access = length(var.admin_cidrs) > 0
  public_access_cidrs    = var.admin_cidrs
  app_namespace          = var.app_namespace
  app_bucket_arns        = [module.bucket.primary_bucket_arn]
  app_kms_key_arns       = [module.kms_a.key_arn]
}

module "cluster_b" {
  source                 = "../../modules/cluster"
  providers              = { aws = aws.b }
  name                   = "${local.name}-b"
  kubernetes_version     = var.kubernetes_version
  vpc_id                 = module.network_b.vpc_id
  subnet_ids             = module.network_b.private_subnet_ids
  kms_key_arn            = module.kms_b.key_arn
  endpoint_public_access = length(var.admin_cidrs) > 0
  public_access_cidrs    = var.admin_cidrs
  app_namespace          = var.app_namespace
  app_bucket_arns        = [module.bucket.replica_bucket_arn]
  app_kms_key_arns       = [module.kms_b.key_arn]
}

# --- Postgres --------------------------------------------------------------------

module "database_a" {
  source                     = "../../modules/database"
  providers                  = { aws = aws.a }
  name                       = "${local.name}-a"
  role                       = "primary"
  engine_version             = var.postgres_version
  instance_class             = var.db_instance_class
  read_replica_count         = var.db_read_replicas
  kms_key_arn                = module.kms_a.key_arn
  vpc_id                     = module.network_a.vpc_id
  subnet_ids                 = module.network_a.private_subnet_ids
  allowed_security_group_ids = [module.cluster_a.cluster_security_group_id]
  # Region B's pods reach region A's primary over the (operator-provided)
  # VPC peering / transit gateway; only used if region B takes writes
  # without promoting its own replica.
  allowed_cidrs = var.cross_region_db_access ? [var.vpc_cidr_b] : []
}

module "database_b" {
  source                     = "../../modules/database"
  providers                  = { aws = aws.b }
  name                       = "${local.name}-b"
  role                       = "replica"
  source_main_arn            = module.database_a.main_arn
  source_analytics_arn       = module.database_a.analytics_arn
  instance_class             = var.db_instance_class
  kms_key_arn                = module.kms_b.key_arn
  vpc_id                     = module.network_b.vpc_id
  subnet_ids                 = module.network_b.private_subnet_ids
  allowed_security_group_ids = [module.cluster_b.cluster_security_group_id]
  allowed_cidrs              = var.cross_region_db_access ? [var.vpc_cidr_a] : []
}

# --- Redis (regional, not replicated) ---------------------------------------------

module "cache_a" {
  source                     = "../../modules/cache"
  providers                  = { aws = aws.a }
  name                       = "${local.name}-a"
  node_type                  = var.cache_node_type
  auth_token                 = var.redis_auth_token_a
  kms_key_arn                = module.kms_a.key_arn
  vpc_id                     = module.network_a.vpc_id
  subnet_ids                 = module.network_a.private_subnet_ids
  allowed_security_group_ids = [module.cluster_a.cluster_security_group_id]
}

module "cache_b" {
  source                     = "../../modules/cache"
  providers                  = { aws = aws.b }
  name                       = "${local.name}-b"
  node_type                  = var.cache_node_type
  auth_token                 = var.redis_auth_token_b
  kms_key_arn                = module.kms_b.key_arn
  vpc_id                     = module.network_b.vpc_id
  subnet_ids                 = module.network_b.private_subnet_ids
  allowed_security_group_ids = [module.cluster_b.cluster_security_group_id]
}

# --- DNS failover ----------------------------------------------------------------
# The load balancers are created by the ingress controller after the chart
# is installed; the DNS module is applied in a second step once their names
# are known (var.load_balancers), see terraform/README.md.

module "dns" {
  count       = var.load_balancers == null ? 0 : 1
  source      = "../../modules/dns"
  providers   = { aws = aws.a }
  name        = local.name
  zone_id     = var.route53_zone_id
  record_name = var.public_hostname
  regions = {
    a = {
      failover_role     = "PRIMARY"
      health_check_fqdn = var.regional_hostnames.a
      lb_dns_name       = var.load_balancers.a.dns_name
      lb_zone_id        = var.load_balancers.a.zone_id
    }
    b = {
      failover_role     = "SECONDARY"
      health_check_fqdn = var.regional_hostnames.b
      lb_dns_name       = var.load_balancers.b.dns_name
      lb_zone_id        = var.load_balancers.b.zone_id
    }
  }
}
