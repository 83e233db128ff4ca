variable "name" {
  description = "Replication group id, e.g. pastebin-prod-a."
  type        = string
}

variable "engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "parameter_group_family" {
  description = "Parameter group family matching engine_version."
  type        = string
  default     = "redis7"
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.m7g.large"
}

variable "replicas" {
  description = "Replicas per shard (at least one for Multi-AZ failover)."
  type        = number
  default     = 1
  validation {
    condition     = var.replicas >= 1
    error_message = "Multi-AZ needs at least one replica."
  }
}

variable "auth_token" {
  description = "Redis AUTH token (16-128 printable characters). No default: pass it at apply time from the secret store; the app gets it inside PASTEBIN_REDIS_URL (rediss://:token@host:6379)."
  type        = string
  sensitive   = true
}

variable "kms_key_arn" {
  description = "KMS key for encryption at rest."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the cache."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two zones."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups admitted on 6379 (the EKS cluster security group)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
