# Route 53 failover: the public name answers with region A while its health
# check on /readyz passes, else with region B.
#
# /readyz answers 200 for "ok" and for "degraded" (no primary database
# reachable, reads still served), so a region whose database is failing over
# keeps its traffic: reads go on and writes get SERVICE_UNAVAILABLE until the
# write pool finds the new primary. Only "down" (503) or no answer moves
# traffic; promoting region B's database stays an operator decision
# (terraform/README.md).

resource "aws_route53_health_check" "region" {
  for_each          = var.regions
  fqdn              = each.value.health_check_fqdn
  type              = "HTTPS"
  port              = 443
  resource_path     = "/readyz"
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
