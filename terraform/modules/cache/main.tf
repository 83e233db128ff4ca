# ElastiCache (Redis OSS) per region: cache, pub/sub and job queue of that
# region's pods. Nothing in it must survive a regional failover (counters are
# flushed to the analytics DB every few seconds), so it is not replicated
# across regions.

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-redis-"
  description = "Redis for pastebin: reachable from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_parameter_group" "this" {
  name   = var.name
  family = var.parameter_group_family
  # The job queue must not lose keys to eviction; cache keys carry TTLs.
  parameter {
    name  = "maxmemory-policy"
    value = "volatile-lru"
  }
  tags = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "pastebin cache, pub/sub and job queue"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.this.id]

  # Primary + replica in different zones, automatic failover.
  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = true
  multi_az_enabled           = true

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  # AUTH token: supplied at apply time (TF_VAR_...), never a default. It
  # is stored in the (encrypted) state; rotate with auth_token_update_strategy.
  auth_token                 = var.auth_token
  auth_token_update_strategy = "ROTATE"

  snapshot_retention_limit   = 1
  auto_minor_version_upgrade = true
  apply_immediately          = false
  maintenance_window         = "sun:05:30-sun:06:30"

  tags = var.tags
}
