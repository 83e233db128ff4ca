"""Terraform: the structure issue 12 asks for, read from the HCL itself."""
import glob
import json
import os
import re

from common import READYZ_WORST_MS, ROOT, ROUTE53_ANSWER_MS, check, finish, first, hcl, tf_items, text

MODULES = "terraform/modules"
ROOTS = ["terraform/envs/prod/region-a", "terraform/envs/prod/region-b"]
REGION_OF = {"terraform/envs/prod/region-a": "us-east-1", "terraform/envs/prod/region-b": "us-west-2"}


def all_tf():
    return sorted(glob.glob(os.path.join(ROOT, "terraform", "**", "*.tf"), recursive=True))


def eks_access():
    p = []
    doc = hcl(f"{MODULES}/cluster")
    clusters = tf_items(doc, "resource", "aws_eks_cluster")
    ac = first(clusters[0][2].get("access_config", [{}]))
    if ac.get("bootstrap_cluster_creator_admin_permissions") is not True:
        p.append("aws_eks_cluster: bootstrap_cluster_creator_admin_permissions is not true: nobody can reach the API after apply")
    entries = tf_items(doc, "resource", "aws_eks_access_entry")
    assoc = tf_items(doc, "resource", "aws_eks_access_policy_association")
    if not entries or not any("AmazonEKSClusterAdminPolicy" in a[2].get("policy_arn", "") for a in assoc):
        p.append("no access entries with AmazonEKSClusterAdminPolicy for the admin roles")
    for r in ROOTS:
        if not os.path.isdir(os.path.join(ROOT, r)):
            p.append(f"{r} missing")
            continue
        if "admin_role_arns" not in text(f"{r}/variables.tf"):
            p.append(f"{r}: no admin_role_arns variable")
    return p


def kms_autoscaling():
    p = []
    doc = hcl(f"{MODULES}/kms")
    policy = [b for t, n, b in tf_items(doc, "data", "aws_iam_policy_document") if n == "key"][0]
    slr = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    locals_text = json.dumps(doc.get("locals", []))
    use, grant = set(), False
    for st in policy.get("statement", []):
        ids = [i for pr in st.get("principals", []) for i in pr.get("identifiers", [])]
        if not any(slr in i or ("local.autoscaling_role_arn" in i and slr in locals_text) for i in ids):
            continue
        use |= set(st.get("actions", []))
        for c in st.get("condition", []):
            if c.get("variable") == "kms:GrantIsForAWSResource" and c.get("values") == ["true"] \
                    and "kms:CreateGrant" in st.get("actions", []):
                grant = True
    need = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}
    if not need <= use:
        p.append(f"key policy gives AWSServiceRoleForAutoScaling {sorted(use) or 'nothing'}; needs {sorted(need)}")
    if not grant:
        p.append("key policy lacks kms:CreateGrant for AWSServiceRoleForAutoScaling with kms:GrantIsForAWSResource = true")
    return p


def per_region_roots():
    p = []
    envs = sorted(d for d in glob.glob(os.path.join(ROOT, "terraform/envs/*/*")) if os.path.isdir(d))
    roots = [os.path.relpath(d, ROOT) for d in envs if glob.glob(os.path.join(d, "*.tf"))]
    if sorted(roots) != ROOTS:
        p.append(f"Terraform roots are {roots or 'none'}; want one per region: {ROOTS}")
    if glob.glob(os.path.join(ROOT, "terraform/envs/prod/*.tf")):
        p.append("terraform/envs/prod itself is still a root spanning both regions")
    for f in all_tf():
        if "terraform_remote_state" in open(f).read():
            p.append(f"{os.path.relpath(f, ROOT)} reads another root's state (terraform_remote_state)")
    for r in ROOTS:
        if not os.path.isdir(os.path.join(ROOT, r)):
            continue
        doc = hcl(r)
        tf = [b for blk in doc.get("terraform", []) for b in [blk]]
        if not any("s3" in json.dumps(t.get("backend", "")) for t in tf):
            p.append(f"{r}: no S3 backend of its own")
        providers = [pv for blk in doc.get("provider", []) for name, pv in blk.items()]
        if len(providers) != 1 or any("alias" in pv for pv in providers):
            p.append(f"{r}: {len(providers)} provider blocks; one (its own region) expected")
        region_default = [b for n, b in tf_items(doc, "variable") if n == "region"]
        if not region_default or region_default[0].get("default") != REGION_OF[r]:
            p.append(f"{r}: region default is not {REGION_OF[r]}")
        other = os.path.basename([x for x in ROOTS if x != r][0])
        if f"../{other}" in json.dumps(doc):  # comments are not part of the parse
            p.append(f"{r} refers to ../{other}")
    return p


def engine_versions():
    p = []
    db_vars = [b for n, b in tf_items(hcl(f"{MODULES}/database"), "variable") if n == "engine_version"]
    if db_vars and "default" in db_vars[0]:
        p.append("modules/database: engine_version has a default, so a caller can forget it")
    calls = []
    for f in all_tf():
        rel = os.path.relpath(f, ROOT)
        for name, body in tf_items(hcl(rel), "module"):
            if body.get("source", "").rstrip("/").endswith("/database"):
                calls.append((rel, name, body))
    if not calls:
        p.append("nothing calls modules/database")
    for rel, name, body in calls:
        if "engine_version" not in body:
            p.append(f"{rel}: module {name} (a database) gets no engine_version")
    # Both region roots pass the same version into the shared module.
    vs = {}
    for r in ROOTS:
        if os.path.isdir(os.path.join(ROOT, r)):
            v = [b for n, b in tf_items(hcl(r), "variable") if n == "postgres_version"]
            vs[r] = v[0].get("default") if v else None
    if len(set(vs.values())) > 1 or None in vs.values():
        p.append(f"postgres_version differs between the region roots: {vs}")
    return p


def ecr():
    p = []
    repos = [b for f in all_tf() for t, n, b in tf_items(hcl(os.path.relpath(f, ROOT)), "resource", "aws_ecr_repository")]
    if not repos:
        return ["no aws_ecr_repository: the images have nowhere to go"]
    for b in repos:
        if b.get("image_tag_mutability") != "IMMUTABLE":
            p.append("ECR tags are mutable (the chart deploys by git SHA: a tag must name one image)")
        if first(b.get("image_scanning_configuration", [{}])).get("scan_on_push") is not True:
            p.append("ECR scan on push is off")
        enc = first(b.get("encryption_configuration", [{}]))
        if enc.get("encryption_type") != "KMS" or not enc.get("kms_key"):
            p.append("ECR is not encrypted with the region's KMS key")
    return p


def network_policy():
    doc = hcl(f"{MODULES}/cluster")
    blob = json.dumps(doc)
    if not tf_items(doc, "resource", "aws_eks_addon"):
        return ["no EKS add-ons managed: vpc-cni runs without network policy enforcement"]
    if not re.search(r'vpc-cni[^}]*enableNetworkPolicy\s*=\s*\\"true\\"', blob):
        return ["the vpc-cni add-on is not configured with enableNetworkPolicy = \"true\": NetworkPolicies are not enforced"]
    return []


def route53_paths():
    p = []
    src = text(f"{MODULES}/dns/main.tf")
    if not re.search(r'PRIMARY\s*=\s*"/readyz/write"', src) or not re.search(r'SECONDARY\s*=\s*"/readyz"', src):
        p.append("Route 53: the PRIMARY record must be checked on /readyz/write (can take writes), the SECONDARY on /readyz")
    hc = tf_items(hcl(f"{MODULES}/dns"), "resource", "aws_route53_health_check")
    if not hc or "health_check_path" not in str(hc[0][2].get("resource_path")):
        p.append("Route 53: the health check path is not chosen by failover role")
    # Route 53 waits a fixed 2 s for the answer; the app's worst is 300 ms.
    if not ROUTE53_ANSWER_MS > READYZ_WORST_MS:
        p.append("Route 53's answer timeout does not exceed the app's worst /readyz time")
    for _, _, body in hc:
        if body.get("type") not in ("HTTPS", "HTTP"):
            p.append("Route 53: the health check must be HTTP(S), reading the app's answer")
    return p


def helm_values_output():
    """The fixtures validate-deploy renders with have exactly the keys of
    Terraform's helm_values output (what docs/deployment.md passes to helm)."""
    p = []
    out = [b for n, b in tf_items(hcl(f"{MODULES}/region"), "output") if n == "helm_values"]
    if not out:
        return ["modules/region has no helm_values output"]

    def keys(d, pre=""):
        res = set()
        for k, v in d.items():
            res.add(pre + k)
            if isinstance(v, dict):
                res |= keys(v, pre + k + "/")
        return res
    want = keys(out[0]["value"])
    for region in ("a", "b"):
        fx = keys(json.load(open(os.path.join(ROOT, f"helm/pastebin/ci/tfvalues-region-{region}.json"))))
        if fx != want:
            p.append(f"ci/tfvalues-region-{region}.json keys differ from the output: {sorted(fx ^ want)}")
    return p


def kube_version(versions):
    p = []
    for f in all_tf():
        for name, body in tf_items(hcl(os.path.relpath(f, ROOT)), "variable"):
            if name == "kubernetes_version" and "default" in body:
                if f"{body['default']}.0" not in versions:
                    p.append(f"{os.path.relpath(f, ROOT)}: kubernetes_version {body['default']} is not one the chart is validated against ({', '.join(versions)})")
    return p


if __name__ == "__main__":
    import sys
    versions = sys.argv[1:]
    check("#6 EKS: creator admin + access entries for admin roles", eks_access)
    check("#7 KMS key policy: AWSServiceRoleForAutoScaling may use the key and create grants", kms_autoscaling)
    check("#9 one Terraform root and S3 state per region, no remote state between them", per_region_roots)
    check("#9 engine_version for every database, the same in both regions", engine_versions)
    check("#9 NetworkPolicies enforced: vpc-cni enableNetworkPolicy", network_policy)
    check("#1 Route 53: PRIMARY on /readyz/write, SECONDARY on /readyz", route53_paths)
    check("#3 ECR repository: immutable tags, scan on push, KMS", ecr)
    check("Terraform's kubernetes_version is a validated EKS version", kube_version, versions)
    check("Terraform helm_values output matches the chart fixtures", helm_values_output)
    finish()
