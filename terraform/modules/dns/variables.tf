variable "name" {
  description = "Name prefix for health checks and record set identifiers."
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

variable "regions" {
  description = <<-EOT
    Per region: failover_role (PRIMARY or SECONDARY), health_check_fqdn (the
    region's own name, e.g. paste-a.example.com, served by the same ingress),
    and the load balancer created by the ingress controller (lb_dns_name,
    lb_zone_id: its canonical hosted zone).
  EOT
  type = map(object({
    failover_role     = string
    health_check_fqdn = string
    lb_dns_name       = string
    lb_zone_id        = string
  }))
  validation {
    condition     = length([for r in values(var.regions) : r if r.failover_role == "PRIMARY"]) == 1 && length([for r in values(var.regions) : r if r.failover_role == "SECONDARY"]) == 1
    error_message = "Exactly one PRIMARY and one SECONDARY region."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
