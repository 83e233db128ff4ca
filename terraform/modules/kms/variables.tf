variable "name" {
  description = "Name prefix, e.g. pastebin-prod-a; the alias becomes alias/<name>."
  type        = string
}

variable "create_autoscaling_service_linked_role" {
  description = "Create AWSServiceRoleForAutoScaling (the key policy names it). true in exactly one region's root of an account that does not have it yet (`aws iam get-role --role-name AWSServiceRoleForAutoScaling` fails); false everywhere else."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
