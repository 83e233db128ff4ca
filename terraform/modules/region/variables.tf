variable "name" {
  description = "Name prefix of this region's resources, e.g. pastebin-prod-a."
  type        = string
}

variable "role" {
  description = "primary: the region that takes writes (new Multi-AZ databases). replica: the standby (cross-region read replicas of source_database_arns). Keep a promoted replica's role as it is: changing it would replace its databases."
  type        = string
  validation {
    condition     = contains(["primary", "replica"], var.role)
    error_message = "role must be primary or replica."
  }
}

variable "azs" {
  description = "Availability zones of this region (at least two)."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "VPC CIDR (must not overlap the other region's)."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS version."
  type        = string
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach the Kubernetes API publicly. Empty = private endpoint only (VPN or bastion)."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM roles with cluster-admin access entries (besides the identity that applies)."
  type        = list(string)
  default     = []
}

variable "app_namespace" {
  description = "Namespace of the Helm release (IRSA trust)."
  type        = string
  default     = "pastebin"
}

variable "app_service_account" {
  description = "ServiceAccount of the pastebin pods: the chart's fullname (the release name `pastebin` gives `pastebin`)."
  type        = string
  default     = "pastebin"
}

variable "image_name" {
  description = "ECR repository name."
  type        = string
  default     = "pastebin"
}

variable "bucket_name" {
  description = "Bucket of this region (PASTEBIN_S3_BUCKET)."
  type        = string
}

variable "bucket_replication" {
  description = "Replicate this region's bucket to the other's (region, bucket_arn, kms_key_arn), or null."
  type = object({
    region      = string
    bucket_arn  = string
    kms_key_arn = string
  })
  default = null
}

variable "postgres_version" {
  description = "Postgres engine version of every database in this region, the same in both regions (e.g. \"17\")."
  type        = string
}

variable "source_database_arns" {
  description = "role = replica: ARNs of the other region's main and analytics instances."
  type = object({
    main      = string
    analytics = string
  })
  default = null
}

variable "db_instance_class" {
  description = "Instance class of the main database (the standby must carry the primary's load after a failover)."
  type        = string
}

variable "db_read_replicas" {
  description = "role = primary: in-region read replicas for the read pool."
  type        = number
  default     = 1
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "redis_auth_token" {
  description = "Redis AUTH token of this region (no default: from the secret store at apply time)."
  type        = string
  sensitive   = true
}

variable "create_autoscaling_service_linked_role" {
  description = "Create AWSServiceRoleForAutoScaling (see modules/kms)."
  type        = bool
  default     = false
}

variable "dns" {
  description = "Route 53: hosted zone, public name, this region's own name, its failover role (PRIMARY or SECONDARY), and the load balancer of its ingress controller (null until it exists: no DNS records then)."
  type = object({
    zone_id           = string
    record_name       = string
    regional_hostname = string
    failover_role     = string
    load_balancer = object({
      dns_name = string
      zone_id  = string
    })
  })
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
