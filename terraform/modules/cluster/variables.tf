variable "name" {
  description = "Cluster name, e.g. pastebin-prod-a."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version; one of the versions scripts/validate-deploy validates the chart against (EKS_KUBE_VERSIONS)."
  type        = string
  default     = "1.35"
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the control plane ENIs and the nodes."
  type        = list(string)
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (restricted to public_access_cidrs). Off: reach it through a VPN or bastion."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach a public API endpoint."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "KMS key for Kubernetes Secrets envelope encryption, node volumes and logs."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the control plane logs."
  type        = number
  default     = 365
}

variable "node_instance_types" {
  description = "Instance types of the default node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_disk_gib" {
  description = "Root volume size of each node."
  type        = number
  default     = 50
}

variable "node_min_size" {
  description = "Minimum node count."
  type        = number
  default     = 2
}

variable "node_desired_size" {
  description = "Initial node count."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Maximum node count."
  type        = number
  default     = 10
}

variable "app_namespace" {
  description = "Namespace of the pastebin release."
  type        = string
  default     = "pastebin"
}

variable "app_service_account" {
  description = "ServiceAccount of the pastebin pods (the chart's fullname)."
  type        = string
  default     = "pastebin"
}

variable "app_bucket_arns" {
  description = "Buckets the application may read and write (its regional bucket)."
  type        = list(string)
}

variable "app_kms_key_arns" {
  description = "KMS keys encrypting those buckets."
  type        = list(string)
}

variable "admin_role_arns" {
  description = "IAM roles given cluster-admin access entries (AmazonEKSClusterAdminPolicy), e.g. the operators' SSO role and the CI deploy role. The identity that runs `terraform apply` is admin as well (bootstrap_cluster_creator_admin_permissions)."
  type        = list(string)
  default     = []
}

variable "extra_addons" {
  description = "More EKS add-ons by name (configuration_values JSON or null, IRSA role_arn or null), merged over the defaults."
  type = map(object({
    configuration_values = string
    role_arn             = string
  }))
  default = {}
}

variable "secrets_prefix" {
  description = "Secrets Manager name prefix the External Secrets Operator may read."
  type        = string
  default     = "pastebin/"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
