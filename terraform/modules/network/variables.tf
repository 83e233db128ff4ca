variable "name" {
  description = "Name prefix for every resource, e.g. pastebin-prod-a."
  type        = string
}

variable "cidr" {
  description = "VPC CIDR block (a /16 leaves room for 16 subnets of /20). Regions must not overlap, so they can be peered."
  type        = string
}

variable "azs" {
  description = "Availability zones to spread subnets over (at least two, for Multi-AZ RDS and ElastiCache)."
  type        = list(string)
  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 8
    error_message = "Give between two and eight availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, but a zone outage cuts egress of the others)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow-log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the VPC flow logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
