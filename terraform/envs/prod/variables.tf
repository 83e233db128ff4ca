variable "environment" {
  description = "Environment name, part of every resource name."
  type        = string
  default     = "prod"
}

variable "region_a" {
  description = "Primary region (takes writes)."
  type        = string
  default     = "us-east-1"
}

variable "region_b" {
  description = "Standby region (read-only until promoted)."
  type        = string
  default     = "us-west-2"
}

variable "azs_a" {
  description = "Availability zones used in region A."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]
}

variable "azs_b" {
  description = "Availability zones used in region B."
  type        = list(string)
  default     = ["us-west-2a", "us-west-2b", "us-west-2c"]
}

variable "vpc_cidr_a" {
  description = "VPC CIDR of region A (must not overlap region B's)."
  type        = string
  default     = "10.10.0.0/16"
}

variable "vpc_cidr_b" {
  description = "VPC CIDR of region B."
  type        = string
  default     = "10.20.0.0/16"
}

variable "kubernetes_version" {
  description = "EKS version of both clusters."
  type        = string
  default     = "1.33"
}

variable "admin_cidrs" {
  description = "CIDRs allowed to reach the Kubernetes API endpoints publicly. Empty = private endpoints only (VPN/bastion)."
  type        = list(string)
  default     = []
}

variable "app_namespace" {
  description = "Namespace the Helm release is installed in (IRSA trust)."
  type        = string
  default     = "pastebin"
}

variable "postgres_version" {
  description = "Postgres engine version of the primary."
  type        = string
  default     = "17.4"
}

variable "db_instance_class" {
  description = "Instance class of the main database (both regions: B must carry A's load after failover)."
  type        = string
  default     = "db.m6g.large"
}

variable "db_read_replicas" {
  description = "In-region read replicas in region A for the read pool."
  type        = number
  default     = 1
}

variable "cross_region_db_access" {
  description = "Admit the other region's VPC CIDR on 5432 (needs VPC peering or a transit gateway, not created here)."
  type        = bool
  default     = false
}

variable "cache_node_type" {
  description = "ElastiCache node type in both regions."
  type        = string
  default     = "cache.m7g.large"
}

variable "redis_auth_token_a" {
  description = "Redis AUTH token for region A. No default: pass TF_VAR_redis_auth_token_a from the secret store."
  type        = string
  sensitive   = true
}

variable "redis_auth_token_b" {
  description = "Redis AUTH token for region B. No default."
  type        = string
  sensitive   = true
}

variable "route53_zone_id" {
  description = "Hosted zone of public_hostname."
  type        = string
  default     = ""
}

variable "public_hostname" {
  description = "Public name of the service (failover record)."
  type        = string
  default     = "paste.example.com"
}

variable "regional_hostnames" {
  description = "Each region's own name: target of its health check on /readyz."
  type = object({
    a = string
    b = string
  })
  default = {
    a = "paste-a.example.com"
    b = "paste-b.example.com"
  }
}

variable "load_balancers" {
  description = "Load balancers of the ingress controllers (dns_name and canonical zone_id per region); null until the chart is installed, which skips the DNS module."
  type = object({
    a = object({ dns_name = string, zone_id = string })
    b = object({ dns_name = string, zone_id = string })
  })
  default = null
}
