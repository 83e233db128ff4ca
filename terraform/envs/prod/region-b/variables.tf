variable "environment" {
  description = "Environment name, part of every resource name."
  type        = string
  default     = "prod"
}

variable "region" {
  description = "This root's region."
  type        = string
  default     = "us-west-2"
}

variable "azs" {
  description = "Availability zones used in this region."
  type        = list(string)
  default     = ["us-west-2a", "us-west-2b", "us-west-2c"]
}

variable "vpc_cidr" {
  description = "VPC CIDR of this region (must not overlap the other region's)."
  type        = string
  default     = "10.20.0.0/16"
}

variable "kubernetes_version" {
  description = "EKS version; one that scripts/validate-deploy validates the chart against (EKS_KUBE_VERSIONS)."
  type        = string
  default     = "1.35"
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach the Kubernetes API publicly. Empty = private endpoint only (VPN or bastion in the VPC)."
  type        = list(string)
  default     = []
}

variable "admin_role_arns" {
  description = "IAM roles given cluster-admin access entries, e.g. the operators' SSO role and the CI deploy role (the identity that applies is admin too)."
  type        = list(string)
  default     = []
}

variable "app_namespace" {
  description = "Namespace the Helm release is installed in (IRSA trust)."
  type        = string
  default     = "pastebin"
}

variable "postgres_version" {
  description = "Postgres engine version of every database, the same in both regions (major only: minor versions follow auto_minor_version_upgrade)."
  type        = string
  default     = "17"
}

variable "db_instance_class" {
  description = "Instance class of the main database (the same in both regions: B must carry A's load after a failover)."
  type        = string
  default     = "db.m6g.large"
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.m7g.large"
}

variable "redis_auth_token" {
  description = "Redis AUTH token of this region. No default: TF_VAR_redis_auth_token from the secret store."
  type        = string
  sensitive   = true
}

variable "create_autoscaling_service_linked_role" {
  description = "Create AWSServiceRoleForAutoScaling, which the KMS key policy names. true in one region only, and only where `aws iam get-role --role-name AWSServiceRoleForAutoScaling` finds nothing."
  type        = bool
  default     = false
}

variable "replicate_bucket_to" {
  description = "Replicate this region's bucket to the other region's: its region and the bucket_arn and kms_key_arn outputs of that region's root. null = no replication. Only after a failover (B -> A, once A is rebuilt)."
  type = object({
    region      = string
    bucket_arn  = string
    kms_key_arn = string
  })
  default = null
}

variable "route53_zone_id" {
  description = "Hosted zone of public_hostname and regional_hostname."
  type        = string
  default     = ""
}

variable "public_hostname" {
  description = "Public name of the service (the failover record)."
  type        = string
  default     = "paste.example.com"
}

variable "regional_hostname" {
  description = "This region's own name: target of its health check."
  type        = string
  default     = "paste-b.example.com"
}

variable "failover_role" {
  description = "PRIMARY (health check on /readyz/write) or SECONDARY (on /readyz). Swapped only on a planned fail-back."
  type        = string
  default     = "SECONDARY"
}

variable "load_balancer" {
  description = "The load balancer of this region's ingress controller (dns_name, canonical zone_id); null until it exists, which skips the DNS records."
  type = object({
    dns_name = string
    zone_id  = string
  })
  default = null
}

variable "source_region" {
  description = "Region of the primary databases this region replicates."
  type        = string
  default     = "us-east-1"
}

variable "source_name" {
  description = "Name prefix of the primary region's resources: its instances are <source_name>-main and <source_name>-analytics."
  type        = string
  default     = "pastebin-prod-a"
}

variable "source_database_arns" {
  description = "ARNs of the primary region's main and analytics instances; null = derived from source_region, this account and source_name (no call to the other region)."
  type = object({
    main      = string
    analytics = string
  })
  default = null
}
