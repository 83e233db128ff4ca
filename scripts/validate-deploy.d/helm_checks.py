"""The chart: lint --strict and render every value set (on a cluster without
and with the operators' CRDs), then the contract checks, one per promise."""
import json
import os
import re

import yaml

from common import (CHART, CRD_APIS, GIT_SHA, NAMESPACE, OUT, READYZ_WORST_MS, RELEASE, ROOT, SETS,
                    check, docs_of, find, finish, load_values, pod_specs, render)

import helm_python as helm

KUBE = "v1.32.0"
renders = {}   # set -> {"bare": [...], "full": [...]}
values_of = {}


def lint_and_render():
    problems = []
    os.makedirs(os.path.join(OUT, "helm"), exist_ok=True)
    for name, (files, sets) in SETS.items():
        values = load_values(files, sets)
        values_of[name] = values
        report = helm.lint(os.path.join(ROOT, CHART), values, strict=True, namespace=NAMESPACE, kube_version=KUBE)
        bad = [m for m in report["messages"] if m["severity"] >= 2] + [{"error": e} for e in report["errors"]]
        for m in bad:
            problems.append(f"lint {name}: {m.get('path', '')}: {m['error']}")
        try:
            bare = docs_of(render(values, (), KUBE))
            full = docs_of(render(values, CRD_APIS, KUBE))
        except helm.HelmError as e:
            problems.append(f"render {name}: {' '.join(str(e).split())[-300:]}")
            continue
        renders[name] = {"bare": bare, "full": full}
        d = os.path.join(OUT, "helm", name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "manifests.yaml"), "w") as fh:
            yaml.safe_dump_all(full, fh, sort_keys=False)
        print(f"  rendered {name}: {len(bare)} objects without the operators' CRDs, {len(full)} with them")
    with open(os.path.join(OUT, "renders.json"), "w") as fh:
        json.dump(renders, fh)
    return problems


def api_container(docs):
    dep = find(docs, "Deployment", "-api")[0]
    return dep["spec"]["template"], dep["spec"]["template"]["spec"]["containers"][0]


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def config_of(docs):
    return find(docs, "ConfigMap")[0]["data"]


def contract():
    """What the chart always promised (kept from the first version of this script)."""
    p = []
    for name, r in renders.items():
        docs = r["full"]
        pod, c = api_container(docs)
        if c["args"][0] != "serve":
            p.append(f"{name}: api runs `pastebin serve`")
        if c["livenessProbe"]["httpGet"]["path"] != "/healthz":
            p.append(f"{name}: liveness on /healthz")
        if not pod["spec"]["terminationGracePeriodSeconds"] > c["lifecycle"]["preStop"]["sleep"]["seconds"]:
            p.append(f"{name}: grace period longer than the preStop sleep")
        if "checksum/config" not in pod["metadata"]["annotations"]:
            p.append(f"{name}: config checksum annotation")
        sc = c["securityContext"]
        if not (sc["readOnlyRootFilesystem"] and sc["runAsNonRoot"] and sc["capabilities"]["drop"] == ["ALL"]):
            p.append(f"{name}: hardened container securityContext")
        env = env_of(c)
        for var in ("PASTEBIN_DATABASE_URL", "PASTEBIN_ANALYTICS_DATABASE_URL", "PASTEBIN_JWT_SECRET"):
            if var not in env:
                p.append(f"{name}: api gets {var}")
        names = [e["name"] for e in c["env"]]
        for i, e in enumerate(c["env"]):  # $(VAR) must refer to an earlier variable
            for ref in re.findall(r"\$\(([A-Z0-9_]+)\)", e.get("value", "")):
                if ref not in names[:i]:
                    p.append(f"{name}: {e['name']} refers to $({ref}) defined after it")
        cm = config_of(docs)
        if cm["PASTEBIN_ADDR"] != "0.0.0.0:8080":
            p.append(f"{name}: PASTEBIN_ADDR listens on all interfaces")
        if cm.get("PASTEBIN_METRICS_ADDR") != "0.0.0.0:9090":
            p.append(f"{name}: /metrics on its own port (PASTEBIN_METRICS_ADDR), refused on the public one")
        for ing in find(docs, "Ingress"):
            for rule in ing["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    if path["backend"]["service"]["port"].get("name") != "http":
                        p.append(f"{name}: Ingress {ing['metadata']['name']} routes only to the http port, never metrics")
        for d in docs:
            if d["kind"] == "Secret":
                p.append(f"{name}: chart renders no Secret")
            text = json.dumps(d)
            for needle in ('PASTEBIN_JWT_SECRET": "', "password="):
                if needle in text:
                    p.append(f"{name}: {d['kind']}/{d['metadata']['name']} carries no inline secret")
        for j in find(docs, "Job"):
            if "helm.sh/hook-delete-policy" not in j["metadata"]["annotations"]:
                p.append(f"{name}: migrate hook has a delete policy")
    a = config_of(renders["region-a"]["full"])
    b = config_of(renders["region-b"]["full"])
    if a["PASTEBIN_READ_ONLY"] != "false" or b["PASTEBIN_READ_ONLY"] != "true":
        p.append("region-a takes writes, region-b runs read-only")
    if find(renders["default"]["full"], "Job")[0]["metadata"]["annotations"]["helm.sh/hook"] != "pre-install,pre-upgrade":
        p.append("external mode: migrate is a pre-install,pre-upgrade hook")
    cn = renders["cloudnativepg"]["full"]
    clusters = find(cn, "Cluster")
    main = [c for c in clusters if c["metadata"]["name"].endswith("-db") and "analytics" not in c["metadata"]["name"]]
    if len(clusters) != 2 or not main:
        p.append("cloudnativepg: main and analytics Cluster")
    else:
        spec = main[0]["spec"]
        if spec["instances"] < 2:
            p.append("cloudnativepg: at least two instances")
        if spec["postgresql"]["synchronous"] != {"method": "any", "number": 1, "dataDurability": "preferred"}:
            p.append("cloudnativepg: synchronous replication as configured")
    _, c = api_container(cn)
    env = env_of(c)
    if "-db-rw." not in env["PASTEBIN_DATABASE_URL"]["value"] or "-db-ro." not in env["PASTEBIN_REPLICA_DATABASE_URL"]["value"]:
        p.append("cloudnativepg: writes through -rw, reads through -ro")
    if not env["PB_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"].endswith("-db-app"):
        p.append("cloudnativepg: credentials from the operator's app Secret")
    if find(cn, "Job")[0]["metadata"]["annotations"]["helm.sh/hook"] != "post-install,pre-upgrade":
        p.append("cloudnativepg: migrate runs after the Cluster exists")
    return p


# --- issue 12, one check per defect ----------------------------------------------

def readiness_timeouts():
    """Every value set: readiness on /readyz ("can serve reads"), and every probe
    that reaches /readyz allows more than the app's worst answer time."""
    p = []
    for name, r in renders.items():
        _, c = api_container(r["full"])
        rp = c["readinessProbe"]
        if rp["httpGet"]["path"] != "/readyz":
            p.append(f"{name}: readiness probe path is {rp['httpGet']['path']}, not /readyz")
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(kind)
            if not probe:
                continue
            timeout_ms = 1000 * probe.get("timeoutSeconds", 1)  # Kubernetes' default is 1 s
            if timeout_ms <= READYZ_WORST_MS:
                p.append(f"{name}: {kind} timeout {timeout_ms} ms <= the app's worst /readyz time {READYZ_WORST_MS} ms")
        for t in find(r["full"], "Pod"):
            for cc in t["spec"].get("initContainers", []) + t["spec"]["containers"]:
                for m in re.findall(r"--max-time (\d+)[^\n]*readyz", "\n".join(cc.get("args", []))):
                    if int(m) * 1000 <= READYZ_WORST_MS:
                        p.append(f"{name}: helm test waits only {m} s for /readyz")
    return p


def region_b_local_writes():
    """Region B's write URL lists only region B's own instance: no VPC link exists
    to region A, and a region must not depend on the other."""
    p = []
    vals = values_of["region-b"]["postgresql"]["external"]
    region = values_of["region-b"]["config"].get("PASTEBIN_S3_REGION", "us-west-2")
    for key, hosts in (("hosts", vals["hosts"]), ("replica.hosts", vals["replica"]["hosts"]),
                       ("analytics.hosts", vals["analytics"]["hosts"])):
        for h in hosts:
            if f".{region}.rds.amazonaws.com" not in h:
                p.append(f"region-b postgresql.external.{key} lists {h}, outside {region}")
    return p


def cnpg_tls():
    p = []
    docs = renders["cloudnativepg"]["full"]
    main = [c for c in find(docs, "Cluster") if "analytics" not in c["metadata"]["name"]][0]["metadata"]["name"]
    ca_secret = f"{main}-ca"
    for kind_name, spec in pod_specs(docs):
        if kind_name.startswith("Pod/"):
            continue  # the helm test talks HTTP only
        c = spec["containers"][0]
        env = env_of(c)
        for var in ("PASTEBIN_DATABASE_URL", "PASTEBIN_REPLICA_DATABASE_URL", "PASTEBIN_ANALYTICS_DATABASE_URL"):
            if var in env and "sslmode=require" not in env[var].get("value", ""):
                p.append(f"{kind_name}: {var} lacks sslmode=require (CNPG serves TLS only with its own CA)")
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        ca_vols = [v for v in vols.values() if v.get("secret", {}).get("secretName") == ca_secret]
        if not ca_vols:
            p.append(f"{kind_name}: does not mount the {ca_secret} Secret")
            continue
        items = ca_vols[0]["secret"].get("items")
        if not items or {i["key"] for i in items} != {"ca.crt"}:
            p.append(f"{kind_name}: must project only ca.crt of {ca_secret} (never ca.key)")
        mount = [m for m in c.get("volumeMounts", []) if m["name"] == ca_vols[0]["name"]]
        ca_file = env.get("PASTEBIN_DB_CA_FILE", {}).get("value") or config_of(docs).get("PASTEBIN_DB_CA_FILE")
        if not mount or not ca_file or ca_file != f"{mount[0]['mountPath']}/{items[0]['path'] if items else 'ca.crt'}":
            p.append(f"{kind_name}: PASTEBIN_DB_CA_FILE ({ca_file}) is not the mounted CA")
    ana = [c for c in find(docs, "Cluster") if "analytics" in c["metadata"]["name"]]
    if ana and ana[0]["spec"].get("certificates", {}).get("serverCASecret") != ca_secret:
        p.append("the analytics Cluster's server certificate must come from the same CA (certificates.serverCASecret)")
    return p


def image_reference():
    p = []
    app_version = yaml.safe_load(open(os.path.join(ROOT, CHART, "Chart.yaml")))["appVersion"]
    for name, r in renders.items():
        dev = values_of[name].get("config", {}).get("PASTEBIN_PROFILE") == "development"
        repo = values_of[name].get("image", {}).get("repository") or "ghcr.io/example/pastebin"
        for kind_name, spec in pod_specs(r["full"]):
            for c in spec.get("initContainers", []) + spec["containers"]:
                if c["image"] == f"{repo}:{app_version}" and not dev:
                    p.append(f"{name}: {kind_name} runs the bare chart default {c['image']}")
    for region in ("region-a", "region-b"):
        files, sets = SETS[region]
        values = load_values(files, {})
        try:
            render(values)
            p.append(f"{region} renders without image.tag or image.digest; it must fail")
        except helm.HelmError:
            pass
        repo = values.get("image", {}).get("repository", "")
        if ".dkr.ecr." not in repo:
            p.append(f"{region}: image.repository {repo!r} is not the region's ECR repository")
    return p


def crd_gating():
    p = []
    for name, r in renders.items():
        for d in r["bare"]:
            if d["apiVersion"].startswith("monitoring.coreos.com/"):
                p.append(f"{name}: renders {d['kind']} on a cluster without the Prometheus operator's CRD")
    for region in ("region-a", "region-b"):
        if not find(renders[region]["full"], "ServiceMonitor"):
            p.append(f"{region}: serviceMonitor.enabled but no ServiceMonitor where the CRD exists")
    return p


def s3_object_store():
    p = []
    default = config_of(renders["default"]["full"])
    if default.get("PASTEBIN_S3_BUCKET"):
        p.append(f"default values set PASTEBIN_S3_BUCKET={default['PASTEBIN_S3_BUCKET']!r}: the object store would be on everywhere")
    for region, aws_region in (("region-a", "us-east-1"), ("region-b", "us-west-2")):
        docs = renders[region]["full"]
        cm = config_of(docs)
        if cm.get("PASTEBIN_S3_BUCKET") != f"pastebin-prod-{aws_region}":
            p.append(f"{region}: PASTEBIN_S3_BUCKET is {cm.get('PASTEBIN_S3_BUCKET')!r}, not Terraform's pastebin-prod-{aws_region}")
        if cm.get("PASTEBIN_S3_REGION") != aws_region:
            p.append(f"{region}: PASTEBIN_S3_REGION is {cm.get('PASTEBIN_S3_REGION')!r}")
        if cm.get("PASTEBIN_S3_ENDPOINT"):
            p.append(f"{region}: PASTEBIN_S3_ENDPOINT set; AWS needs none")
        for kind_name, spec in pod_specs(docs):
            names = {e["name"] for c in spec["containers"] for e in c.get("env", [])}
            if names & {"PASTEBIN_S3_ACCESS_KEY", "PASTEBIN_S3_SECRET_KEY"}:
                p.append(f"{region}: {kind_name} gets static S3 keys; IRSA must be used")
        sa = [s for s in find(docs, "ServiceAccount") if s["metadata"]["name"] == RELEASE]
        role = (sa[0]["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn", "") if sa else ""
        if not re.fullmatch(rf"arn:aws:iam::\d{{12}}:role/pastebin-prod-{region[-1]}-app", role):
            p.append(f"{region}: ServiceAccount lacks the IRSA role of Terraform (pastebin-prod-{region[-1]}-app): {role!r}")
    try:
        render(load_values([], {"image": {"tag": GIT_SHA}, "secrets": {"s3": {"existingSecret": "keys"}}}))
        p.append("static S3 keys without a bucket rendered; it must fail (the store would be off)")
    except helm.HelmError:
        pass
    return p


def ingress_body_size():
    p = []
    for name, r in renders.items():
        cm = config_of(r["full"])
        need = 2 * int(cm.get("PASTEBIN_MAX_BYTES", 10485760)) + 65536
        for ing in find(r["full"], "Ingress"):
            v = (ing["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/proxy-body-size", "1m")
            m = re.fullmatch(r"(\d+)([kKmMgG]?)", v)
            size = int(m.group(1)) * {"": 1, "k": 1024, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()] if m else 0
            if size < need:
                p.append(f"{name}: Ingress {ing['metadata']['name']} body limit {v} < 2 x PASTEBIN_MAX_BYTES + 64 KiB = {need}")
    return p


def websocket_timeouts():
    p = []
    for name, r in renders.items():
        ings = find(r["full"], "Ingress")
        if not ings:
            continue
        cm = config_of(r["full"])
        keepalive = int(cm.get("PASTEBIN_WS_KEEPALIVE_SECS", "0") or 0)
        if not 0 < keepalive < 60:
            p.append(f"{name}: PASTEBIN_WS_KEEPALIVE_SECS={keepalive}: the app must ping well inside 60 s")
        ws = [i for i in ings for rule in i["spec"]["rules"] for path in rule["http"]["paths"]
              if path["path"] == "/graphql/ws"]
        if not ws:
            p.append(f"{name}: no Ingress for /graphql/ws with its own timeouts")
        for i in ws:
            ann = i["metadata"].get("annotations") or {}
            for a in ("proxy-read-timeout", "proxy-send-timeout"):
                v = int(ann.get(f"nginx.ingress.kubernetes.io/{a}", "60"))
                if v < 3600 or v <= keepalive:
                    p.append(f"{name}: /graphql/ws {a} is {v} s (want >= 3600 and above the keepalive)")
    return p


def pdb_drain():
    """Every budget allows at least one eviction at the smallest replica count."""
    p = []
    for name, r in renders.items():
        docs = r["full"]
        replicas = {}
        for dep in find(docs, "Deployment"):
            comp = dep["metadata"]["labels"]["app.kubernetes.io/component"]
            replicas[comp] = dep["spec"].get("replicas")
        for hpa in find(docs, "HorizontalPodAutoscaler"):
            replicas["api"] = hpa["spec"]["minReplicas"]
        for pdb in find(docs, "PodDisruptionBudget"):
            comp = pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
            n = replicas.get(comp) or 1
            spec = pdb["spec"]
            if "minAvailable" in spec:
                allowed = n - int(str(spec["minAvailable"]).rstrip("%")) if "%" not in str(spec["minAvailable"]) \
                    else n - -(-n * int(str(spec["minAvailable"]).rstrip("%")) // 100)
            else:
                mu = str(spec["maxUnavailable"])
                allowed = int(mu) if "%" not in mu else n * int(mu.rstrip("%")) // 100
            if allowed < 1:
                p.append(f"{name}: PDB {pdb['metadata']['name']} allows {allowed} evictions with {n} replica(s): node drains hang")
    return p


def client_ip_header():
    p = []
    for region in ("region-a", "region-b"):
        h = config_of(renders[region]["full"]).get("PASTEBIN_TRUSTED_PROXY_HEADER", "")
        if h.lower() != "x-real-ip":
            p.append(f"{region}: PASTEBIN_TRUSTED_PROXY_HEADER is {h!r}; behind the documented ingress-nginx "
                     "(NLB, externalTrafficPolicy Local, use-forwarded-headers off) it must be X-Real-IP")
    return p


def helm_test():
    p = []
    for name, r in renders.items():
        tests = [d for d in r["full"] if (d["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"]
        if not tests:
            p.append(f"{name}: no `helm test` hook")
            continue
        cm = config_of(r["full"])
        script = "\n".join(a for t in tests for c in t["spec"].get("initContainers", []) + t["spec"]["containers"]
                           for a in c.get("args", []) + c.get("command", []))
        svc = f"{find(r['full'], 'Service')[0]['metadata']['name']}.{NAMESPACE}.svc"
        if svc not in script:
            p.append(f"{name}: the test does not go through the Service {svc}")
        if cm.get("PASTEBIN_READ_ONLY") == "true":
            if "/readyz/write" not in script or "503" not in script:
                p.append(f"{name}: read-only test must check that writes are refused")
            continue
        if "--data-binary" not in script or "/raw/" not in script:
            p.append(f"{name}: the test must create a paste (POST /) and read it raw")
        m = re.search(r"head -c (\d+) /dev/urandom", script)
        inline = int(cm.get("PASTEBIN_INLINE_MAX", 65536))
        if not m or int(m.group(1)) <= inline:
            p.append(f"{name}: the test's paste must be larger than PASTEBIN_INLINE_MAX ({inline}) to reach the bucket")
        if cm.get("PASTEBIN_S3_BUCKET"):
            if "list-objects-v2" not in script or 'pastes/$id/' not in script:
                p.append(f"{name}: the test must list {{prefix}}pastes/{{id}}/ in the bucket")
            sa = {t["spec"].get("serviceAccountName") for t in tests}
            if sa != {RELEASE}:
                p.append(f"{name}: the test must use the release's ServiceAccount (IRSA), not {sa}")
    # The api NetworkPolicy must let the test reach the pods.
    for name, r in renders.items():
        for np in find(r["full"], "NetworkPolicy", "-api"):
            peers = [f for rule in np["spec"].get("ingress", []) for f in rule.get("from", [])]
            if peers and not any(f.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "test"
                                 for f in peers):
                p.append(f"{name}: NetworkPolicy {np['metadata']['name']} blocks the test Pod")
    return p


def readyz_public():
    """/readyz and /readyz/write stay reachable through the Ingress (Route 53)."""
    p = []
    for name in ("region-a", "region-b"):
        for ing in find(renders[name]["full"], "Ingress"):
            ann = " ".join((ing["metadata"].get("annotations") or {}).values())
            if "readyz" in ann or "deny" in ann:
                p.append(f"{name}: Ingress {ing['metadata']['name']} restricts /readyz")
        paths = [path["path"] for ing in find(renders[name]["full"], "Ingress")
                 for rule in ing["spec"]["rules"] for path in rule["http"]["paths"]]
        if "/" not in paths:
            p.append(f"{name}: no Ingress path routes /readyz")
    return p


NEGATIVE = {
    "negative replica count": {"api": {"replicas": -1}},
    "unknown top-level key": {"replica": 3},
    "secret in the ConfigMap": {"config": {"PASTEBIN_JWT_SECRET": "hunter2"}},
    "non-PASTEBIN config key": {"config": {"DATABASE_URL": "x"}},
    "single-instance CloudNativePG": {"postgresql": {"mode": "cloudnativepg", "cloudnativepg": {"instances": 1}}},
    "unknown durability": {"postgresql": {"cloudnativepg": {"synchronous": {"dataDurability": "sometimes"}}}},
    "bad database mode": {"postgresql": {"mode": "sqlite"}},
    "production without JWT secret": {"secrets": {"jwt": {"existingSecret": ""}}},
}


def negative():
    p = []
    bad = yaml.safe_load(open(os.path.join(ROOT, CHART, "ci/bad-values.yaml")))
    for label, values in list(NEGATIVE.items()) + [("ci/bad-values.yaml", bad)]:
        values = json.loads(json.dumps(values))
        values.setdefault("image", {})["tag"] = GIT_SHA
        try:
            render(values)
            p.append(f"values {label!r} were accepted; the schema or a render guard must reject them")
        except helm.HelmError as e:
            print(f"  rejected as expected ({label}): {' '.join(str(e).split())[-140:]}")
    return p


if __name__ == "__main__":
    check("helm lint --strict and render (every value set, without and with the operators' CRDs)", lint_and_render)
    if set(renders) != set(SETS):
        print("  (later checks need every render)")
        finish()
    check("chart contract (probes, shutdown, hardening, URLs, hooks, metrics port, no secrets)", contract)
    check("negative values rejected (schema and render guards)", negative)
    check("#1 readiness: /readyz probe, every probe timeout above the app's 300 ms worst /readyz", readiness_timeouts)
    check("#1 region B's write URL lists only region B's own database", region_b_local_writes)
    check("#2 CloudNativePG: sslmode=require and the operator CA mounted as PASTEBIN_DB_CA_FILE", cnpg_tls)
    check("#3 image: never the bare chart default outside development; region files need a tag", image_reference)
    check("#4 ServiceMonitor only where its CRD exists (region files render on a bare cluster)", crd_gating)
    check("#8 S3: off by default, on in each region (bucket, region, no endpoint, no keys, IRSA)", s3_object_store)
    check("#9 ingress body size >= 2 x PASTEBIN_MAX_BYTES + 64 KiB", ingress_body_size)
    check("#9 WebSocket: /graphql/ws timeouts >= 3600 s and app keepalive pings", websocket_timeouts)
    check("#9 client address: trusted proxy header matches the documented ingress", client_ip_header)
    check("#9 disruption budgets never block a node drain", pdb_drain)
    check("#9 /readyz stays public through the Ingress", readyz_public)
    check("helm test: create through the Service, read raw, object in the bucket", helm_test)
    finish()
