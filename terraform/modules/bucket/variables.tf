variable "name" {
  description = "Bucket name, e.g. pastebin-prod-us-east-1 (PASTEBIN_S3_BUCKET of the region)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of this region."
  type        = string
}

variable "replication" {
  description = "Replicate every object (and delete markers) to the other region's bucket: its region, bucket ARN and KMS key ARN (outputs of that region's root). null = no replication (the standby region, or before the other bucket exists)."
  type = object({
    region      = string
    bucket_arn  = string
    kms_key_arn = string
  })
  default = null
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
