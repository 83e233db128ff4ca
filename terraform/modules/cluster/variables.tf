variable "name" {
  description = "Cluster name, e.g. pastebin-prod-a."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (the chart supports 1.31 and later)."
  type        = string
  default     = "1.33"
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

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
