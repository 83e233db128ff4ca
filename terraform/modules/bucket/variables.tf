variable "name_prefix" {
  description = "Bucket names are <name_prefix>-<region>, e.g. pastebin-prod-us-east-1."
  type        = string
}

variable "primary_region" {
  description = "Region of the aws.primary provider (used in the bucket name)."
  type        = string
}

variable "replica_region" {
  description = "Region of the aws.replica provider."
  type        = string
}

variable "primary_kms_key_arn" {
  description = "KMS key in the primary region."
  type        = string
}

variable "replica_kms_key_arn" {
  description = "KMS key in the replica region."
  type        = string
}

variable "noncurrent_days" {
  description = "Days before overwritten or deleted object versions are removed for good."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
