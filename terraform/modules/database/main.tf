# Postgres for pastebin in one region.
#
# role = "primary": the main database as a Multi-AZ instance (synchronous
#   standby in a second zone: a commit is acknowledged once both zones have
#   it, RPO 0 within the region, failover by DNS flip in ~1-2 min), optional
#   in-region read replicas for the read pool, and the analytics instance.
# role = "replica": cross-region read replicas of both (asynchronous, promoted
#   by the operator during a regional failover, see terraform/README.md).

locals {
  primary = var.role == "primary"
  # Parameter groups are per engine major version.
  family = "postgres${split(".", var.engine_version)[0]}"
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name_prefix        = "${var.name}-rds-mon-"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name_prefix = "${var.name}-pg-"
  description = "Postgres for pastebin: reachable from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_sg" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.this.id
  description                  = "Postgres from ${each.value}"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "from_cidr" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.this.id
  description       = "Postgres from ${each.value}"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name}-"
  family      = local.family
  description = "pastebin Postgres settings"

  # The application connects with TLS only.
  parameter {
    name  = "rds.force_ssl"
    value = var.require_tls ? "1" : "0"
  }
  # Slow statements and DDL are logged (statement timeout is 5 s in the app).
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }
  # A standby long behind the primary keeps the replica's queries from
  # being cancelled by vacuum on the primary.
  parameter {
    name  = "hot_standby_feedback"
    value = "1"
  }

  tags = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

locals {
  common = {
    instance_class                        = var.instance_class
    storage_type                          = "gp3"
    storage_encrypted                     = true
    kms_key_id                            = var.kms_key_arn
    db_subnet_group_name                  = aws_db_subnet_group.this.name
    parameter_group_name                  = aws_db_parameter_group.this.name
    publicly_accessible                   = false
    iam_database_authentication_enabled   = true
    auto_minor_version_upgrade            = true
    copy_tags_to_snapshot                 = true
    deletion_protection                   = var.deletion_protection
    performance_insights_enabled          = true
    performance_insights_kms_key_id       = var.kms_key_arn
    performance_insights_retention_period = 7
    monitoring_interval                   = 60
    enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]
  }
}

# --- main database -------------------------------------------------------------

resource "aws_db_instance" "main" {
  identifier = "${var.name}-main"

  # Primary: a new Multi-AZ instance. Replica: a cross-region read replica
  # of var.source_main_arn (engine, size and credentials come from it).
  engine = local.primary ? "postgres" : null
  # Both roles: a replica is created at its source's version, but once promoted
  # (region loss) this is what upgrades it; a major-version prefix ("17") lets
  # auto_minor_version_upgrade move the minor version without a diff.
  engine_version              = var.engine_version
  allocated_storage           = local.primary ? var.allocated_storage_gib : null
  max_allocated_storage       = var.max_allocated_storage_gib
  db_name                     = local.primary ? "pastebin" : null
  username                    = local.primary ? "pastebin_admin" : null
  manage_master_user_password = local.primary ? true : null
  # The master password lives in Secrets Manager, never in state or code.
  master_user_secret_kms_key_id = local.primary ? var.kms_key_arn : null
  replicate_source_db           = local.primary ? null : var.source_main_arn

  # Multi-AZ on the replica too, so region B is highly available as soon as
  # it is promoted.
  multi_az                  = true
  backup_retention_period   = var.backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-main-final"

  instance_class                        = local.common.instance_class
  storage_type                          = local.common.storage_type
  storage_encrypted                     = local.common.storage_encrypted
  kms_key_id                            = local.common.kms_key_id
  db_subnet_group_name                  = local.common.db_subnet_group_name
  vpc_security_group_ids                = [aws_security_group.this.id]
  parameter_group_name                  = local.common.parameter_group_name
  publicly_accessible                   = local.common.publicly_accessible
  iam_database_authentication_enabled   = local.common.iam_database_authentication_enabled
  auto_minor_version_upgrade            = local.common.auto_minor_version_upgrade
  copy_tags_to_snapshot                 = local.common.copy_tags_to_snapshot
  deletion_protection                   = local.common.deletion_protection
  performance_insights_enabled          = local.common.performance_insights_enabled
  performance_insights_kms_key_id       = local.common.performance_insights_kms_key_id
  performance_insights_retention_period = local.common.performance_insights_retention_period
  monitoring_interval                   = local.common.monitoring_interval
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  enabled_cloudwatch_logs_exports       = local.common.enabled_cloudwatch_logs_exports

  tags = merge(var.tags, { Role = var.role })

  lifecycle {
    # After a promotion the replica no longer has a source; Terraform must
    # not try to turn it back into a replica (runbook step 5).
    ignore_changes = [replicate_source_db]
  }
}

# In-region asynchronous read replicas for the application's read pool.
resource "aws_db_instance" "read" {
  #checkov:skip=CKV_AWS_133:A read replica is a disposable copy rebuilt from the primary, whose backups (PITR) cover the data
  #checkov:skip=CKV_AWS_157:Losing a read replica only sends reads to the primary (the app falls back); the primary itself is Multi-AZ
  count               = local.primary ? var.read_replica_count : 0
  identifier          = "${var.name}-main-read-${count.index + 1}"
  replicate_source_db = aws_db_instance.main.identifier
  multi_az            = false
  # Read replicas are rebuilt from the primary; their own backups add nothing.
  backup_retention_period = 0
  skip_final_snapshot     = true

  instance_class                        = local.common.instance_class
  storage_type                          = local.common.storage_type
  storage_encrypted                     = local.common.storage_encrypted
  kms_key_id                            = local.common.kms_key_id
  vpc_security_group_ids                = [aws_security_group.this.id]
  parameter_group_name                  = local.common.parameter_group_name
  publicly_accessible                   = local.common.publicly_accessible
  iam_database_authentication_enabled   = local.common.iam_database_authentication_enabled
  auto_minor_version_upgrade            = local.common.auto_minor_version_upgrade
  copy_tags_to_snapshot                 = local.common.copy_tags_to_snapshot
  deletion_protection                   = local.common.deletion_protection
  performance_insights_enabled          = local.common.performance_insights_enabled
  performance_insights_kms_key_id       = local.common.performance_insights_kms_key_id
  performance_insights_retention_period = local.common.performance_insights_retention_period
  monitoring_interval                   = local.common.monitoring_interval
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  enabled_cloudwatch_logs_exports       = local.common.enabled_cloudwatch_logs_exports

  tags = merge(var.tags, { Role = "read-replica" })
}

# --- analytics database (its own server) ----------------------------------------

resource "aws_db_instance" "analytics" {
  identifier = "${var.name}-analytics"

  engine                        = local.primary ? "postgres" : null
  engine_version                = var.engine_version
  allocated_storage             = local.primary ? var.analytics_allocated_storage_gib : null
  max_allocated_storage         = var.max_allocated_storage_gib
  db_name                       = local.primary ? "pastebin_analytics" : null
  username                      = local.primary ? "pastebin_admin" : null
  manage_master_user_password   = local.primary ? true : null
  master_user_secret_kms_key_id = local.primary ? var.kms_key_arn : null
  replicate_source_db           = local.primary ? null : var.source_analytics_arn

  instance_class            = var.analytics_instance_class
  multi_az                  = true
  backup_retention_period   = var.backup_retention_days
  backup_window             = "03:00-04:00"
  maintenance_window        = "sun:04:30-sun:05:30"
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-analytics-final"

  storage_type                          = local.common.storage_type
  storage_encrypted                     = local.common.storage_encrypted
  kms_key_id                            = local.common.kms_key_id
  db_subnet_group_name                  = local.common.db_subnet_group_name
  vpc_security_group_ids                = [aws_security_group.this.id]
  parameter_group_name                  = local.common.parameter_group_name
  publicly_accessible                   = local.common.publicly_accessible
  iam_database_authentication_enabled   = local.common.iam_database_authentication_enabled
  auto_minor_version_upgrade            = local.common.auto_minor_version_upgrade
  copy_tags_to_snapshot                 = local.common.copy_tags_to_snapshot
  deletion_protection                   = local.common.deletion_protection
  performance_insights_enabled          = local.common.performance_insights_enabled
  performance_insights_kms_key_id       = local.common.performance_insights_kms_key_id
  performance_insights_retention_period = local.common.performance_insights_retention_period
  monitoring_interval                   = local.common.monitoring_interval
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  enabled_cloudwatch_logs_exports       = local.common.enabled_cloudwatch_logs_exports

  tags = merge(var.tags, { Role = "analytics-${var.role}" })

  lifecycle {
    ignore_changes = [replicate_source_db]
  }
}
