# Route 53 failover, one region's half: its health check, its failover record
# for the public name and its own regional name. Each region's Terraform root
# applies its half, so neither needs the other's state. The public name answers
# with the PRIMARY region while its health check passes, else with the SECONDARY.
# Route 53's data plane (health checks, answers) keeps working when a region is
# lost; nothing in the runbook needs its control plane.
#
# The application serves two readiness answers (DESIGN.md section 13), both from
# component state refreshed in the background, within 300 ms whatever the stores
# do (Route 53 allows 4 s to connect and 2 s for the answer, fixed):
#   /readyz        "can serve reads": 200 for ok and degraded, 503 for down.
#   /readyz/write  "can take writes": 200 only while a writable primary is
#                  reachable and PASTEBIN_READ_ONLY is off, else 503.
# The PRIMARY region is checked on /readyz/write: when it cannot take writes
# (its database or its whole region is gone) traffic moves to the SECONDARY,
# which serves reads at once and writes once the operator has promoted it
# (terraform/README.md, region-loss runbook) - no DNS change needed then.
# The SECONDARY is checked on /readyz: a read-only standby always answers 503 on
# /readyz/write, and with both records unhealthy Route 53 answers with the
# PRIMARY, so checking it for writes would keep traffic on a dead region.

locals {
  health_check_path = {
    PRIMARY   = "/readyz/write"
    SECONDARY = "/readyz"
  }
}

resource "aws_route53_health_check" "this" {
  fqdn              = var.regional_hostname
  type              = "HTTPS"
  port              = 443
  resource_path     = local.health_check_path[var.failover_role]
  request_interval  = 10
  failure_threshold = 3
  measure_latency   = true
  enable_sni        = true
  tags              = merge(var.tags, { Name = var.name })
}

resource "aws_route53_record" "failover" {
  #checkov:skip=CKV2_AWS_23:The alias target is the ingress controller's load balancer, created by Kubernetes outside Terraform
  zone_id         = var.zone_id
  name            = var.record_name
  type            = "A"
  set_identifier  = var.name
  health_check_id = aws_route53_health_check.this.id

  failover_routing_policy {
    type = var.failover_role
  }

  alias {
    name                   = var.load_balancer.dns_name
    zone_id                = var.load_balancer.zone_id
    evaluate_target_health = true
  }
}

# The regional name the health check probes (and operators use to reach this
# region directly).
resource "aws_route53_record" "regional" {
  #checkov:skip=CKV2_AWS_23:The alias target is the ingress controller's load balancer, created by Kubernetes outside Terraform
  zone_id = var.zone_id
  name    = var.regional_hostname
  type    = "A"

  alias {
    name                   = var.load_balancer.dns_name
    zone_id                = var.load_balancer.zone_id
    evaluate_target_health = true
  }
}
