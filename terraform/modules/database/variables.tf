variable "name" {
  description = "Name prefix, e.g. pastebin-prod-a."
  type        = string
}

variable "role" {
  description = "primary (region A: new Multi-AZ instances) or replica (region B: cross-region read replicas of region A's)."
  type        = string
  validation {
    condition     = contains(["primary", "replica"], var.role)
    error_message = "role must be primary or replica."
  }
}

variable "source_main_arn" {
  description = "role = replica: ARN of the main primary instance in the other region."
  type        = string
  default     = null
}

variable "source_analytics_arn" {
  description = "role = replica: ARN of the analytics instance in the other region."
  type        = string
  default     = null
}

variable "engine_version" {
  description = "Postgres engine version of both roles, e.g. \"17\" (major only: minor versions follow auto_minor_version_upgrade). Also picks the parameter group family. No default: both regions must name the same version."
  type        = string
}

variable "instance_class" {
  description = "Instance class of the main database and its read replicas."
  type        = string
  default     = "db.m6g.large"
}

variable "analytics_instance_class" {
  description = "Instance class of the analytics database."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gib" {
  description = "Initial storage of the main database."
  type        = number
  default     = 100
}

variable "analytics_allocated_storage_gib" {
  description = "Initial storage of the analytics database."
  type        = number
  default     = 50
}

variable "max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling."
  type        = number
  default     = 1000
}

variable "read_replica_count" {
  description = "role = primary: in-region read replicas for the read pool (0 = reads go to the primary)."
  type        = number
  default     = 1
}

variable "backup_retention_days" {
  description = "Automated backup retention (point-in-time recovery window)."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Refuse to delete the instances."
  type        = bool
  default     = true
}

variable "require_tls" {
  description = "rds.force_ssl: refuse unencrypted connections. The application connects with TLS when its URLs say sslmode=require (the chart's region values do) and verifies the server against PASTEBIN_DB_CA_FILE (the RDS CA bundle)."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key of this region (storage, Performance Insights, master secret)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the instances."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two zones."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups admitted on 5432 (the EKS cluster security group)."
  type        = list(string)
  default     = []
}

variable "allowed_cidrs" {
  description = "CIDRs admitted on 5432 (e.g. the other region's VPC for cross-region writes before failover)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
