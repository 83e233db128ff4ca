variable "name" {
  description = "Health check name and record set identifier, e.g. pastebin-prod-a."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone of record_name (managed outside this stack)."
  type        = string
}

variable "record_name" {
  description = "Public name of the service, e.g. paste.example.com."
  type        = string
}

variable "regional_hostname" {
  description = "This region's own name (e.g. paste-a.example.com), served by the same ingress: target of the health check."
  type        = string
}

variable "failover_role" {
  description = "PRIMARY (checked on /readyz/write) or SECONDARY (checked on /readyz)."
  type        = string
  validation {
    condition     = contains(["PRIMARY", "SECONDARY"], var.failover_role)
    error_message = "failover_role must be PRIMARY or SECONDARY."
  }
}

variable "load_balancer" {
  description = "The load balancer of this region's ingress controller: dns_name and its canonical hosted zone_id."
  type = object({
    dns_name = string
    zone_id  = string
  })
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
