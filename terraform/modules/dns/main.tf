# Route 53 failover: the public name answers with the PRIMARY region while its
# health check passes, else with the SECONDARY region.
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

resource "aws_route53_health_check" "region" {
  for_each          = var.regions
  fqdn              = each.value.health_check_fqdn
  type              = "HTTPS"
  port              = 443
  resource_path     = local.health_check_path[each.value.failover_role]
  request_interval  = 10
  failure_threshold = 3
  measure_latency   = true
  enable_sni        = true
  tags              = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_route53_record" "failover" {
  #checkov:skip=CKV2_AWS_23:The alias target is the ingress controller's load balancer, created by Kubernetes outside Terraform
  for_each        = var.regions
  zone_id         = var.zone_id
  name            = var.record_name
  type            = "A"
  set_identifier  = "${var.name}-${each.key}"
  health_check_id = aws_route53_health_check.region[each.key].id

  failover_routing_policy {
    type = each.value.failover_role
  }

  alias {
    name                   = each.value.lb_dns_name
    zone_id                = each.value.lb_zone_id
    evaluate_target_health = true
  }
}

# The regional names the health checks probe (and operators use to reach one
# region directly).
resource "aws_route53_record" "regional" {
  #checkov:skip=CKV2_AWS_23:The alias target is the ingress controller's load balancer, created by Kubernetes outside Terraform
  for_each = var.regions
  zone_id  = var.zone_id
  name     = each.value.health_check_fqdn
  type     = "A"

  alias {
    name                   = each.value.lb_dns_name
    zone_id                = each.value.lb_zone_id
    evaluate_target_health = true
  }
}
