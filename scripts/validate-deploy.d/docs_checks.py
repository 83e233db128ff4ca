"""docs/deployment.md as a user runs it: every shell block is marked as
offline (`<!-- validate-deploy: run -->`, executed here) or as needing the cloud
(`<!-- validate-deploy: cloud -->`, checked here: namespaces, timeouts, the
install commands rendered offline, the runbook never touching region A).

Usage: docs_checks.py SHIM_BIN_DIR"""
import os
import re
import subprocess
import sys

import yaml

from common import (CHART, GIT_SHA, ROOT, check, duration_seconds, finish, flag, load_values, shell_words, text)

DOC = "docs/deployment.md"
OTHER_DOCS = ["README.md", "helm/pastebin/README.md", "terraform/README.md"]
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"<!--\s*validate-deploy:\s*(run|cloud)\s*-->")
REGION_ROOTS = {"region-a": "us-east-1", "region-b": "us-west-2"}


def blocks(path):
    """[(marker or None, lang, code, line, heading)] of the fenced blocks (also
    indented ones, inside list items)."""
    out, lines = [], text(path).splitlines()
    i, heading, pending = 0, "", None
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        m = MARK.search(line)
        f = FENCE.match(line.strip())
        if m:
            pending = m.group(1)
        elif f:
            indent = len(line) - len(line.lstrip())
            start, code = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            out.append((pending, f.group(1), "\n".join(code), start, heading))
            pending = None
        elif line.strip():
            pending = None
        i += 1
    return out


def shell(b):
    return b[1] in ("sh", "bash", "shell", "console")


def commands(code):
    """Simple commands of a block: continuations joined, split at ; && || | $( do then."""
    joined = re.sub(r"\\\n\s*", " ", code)
    out = []
    for line in joined.splitlines():
        line = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        for seg in re.split(r"&&|\|\||;|\||\$\(|`|\bdo\b|\bthen\b|\belse\b", line):
            words = shell_words(seg.strip().rstrip(")"))
            while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
                words = words[1:]
            if words:
                out.append(words)
    return out


def all_commands(paths):
    """Commands of the shell blocks, and of inline code that runs kubectl or helm
    with options (a command to copy, not a name in a sentence)."""
    for path in paths:
        for b in blocks(path):
            if shell(b):
                for words in commands(b[2]):
                    yield path, b, words
        src = re.sub(r"```.*?```", "", text(path), flags=re.S)
        for m in re.finditer(r"`([^`]*\b(?:kubectl|helm) [^`]*)`", re.sub(r"\n\s*", " ", src)):
            for words in commands(m.group(1)):
                if words[0] in ("kubectl", "helm") and any(w.startswith("-") for w in words):
                    yield path, (None, "inline", m.group(1), 0, "inline code"), words


def marked():
    p = []
    for b in blocks(DOC):
        if shell(b) and b[0] is None:
            p.append(f"{DOC}:{b[3]} ({b[4]}): shell block without <!-- validate-deploy: run|cloud -->")
    if not any(b[0] == "run" for b in blocks(DOC)):
        p.append(f"{DOC}: no offline block to run")
    return p


def run_offline(shim):
    code = "\n".join(f"# --- {DOC}:{b[3]} ({b[4]})\n{b[2]}" for b in blocks(DOC) if shell(b) and b[0] == "run")
    if not code:
        return [f"{DOC}: no offline block"]
    env = dict(os.environ, PATH=f"{shim}:{os.environ['PATH']}")
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    if r.returncode:
        tail = (r.stdout + r.stderr).strip().splitlines()[-15:]
        return [f"the offline blocks of {DOC} failed (exit {r.returncode}):"] + tail
    print(f"  ran {sum(1 for b in blocks(DOC) if shell(b) and b[0] == 'run')} offline blocks of {DOC}")
    return []


NAMESPACED_VERBS = {"create", "apply", "delete", "get", "describe", "logs", "rollout", "wait", "run", "exec",
                    "scale", "label", "annotate", "patch", "port-forward", "cp", "edit", "set"}
CLUSTER_SCOPED = {"namespace", "ns", "nodes", "node", "clusterrole", "clusterrolebinding", "crd",
                  "customresourcedefinition", "clustersecretstore", "storageclass", "pv"}


def namespaces():
    """#5: every kubectl command on namespaced objects names the namespace, and
    the CA ConfigMap step is in the deployment doc and the chart README."""
    p = []
    for path, b, w in all_commands([DOC] + OTHER_DOCS):
        if w[0] == "kubectl" and len(w) > 1:
            args = [x for x in w[1:] if not x.startswith("--context") and x != flag(w, "--context")]
            verb = next((x for x in args if not x.startswith("-")), "")
            obj = next((x for x in args[args.index(verb) + 1:] if not x.startswith("-")), "") if verb else ""
            if verb in NAMESPACED_VERBS and obj.split("/")[0].lower() not in CLUSTER_SCOPED:
                if "-f" in w and any(x.startswith("http") for x in w) and verb == "apply":
                    continue  # an operator's published manifest names its own namespaces
                if not (flag(w, "-n", "--namespace") or "-A" in w or "--all-namespaces" in w):
                    p.append(f"{path}:{b[3]}: `{' '.join(w)[:110]}` creates or reads objects without -n")
        if w[0] == "helm" and len(w) > 1 and w[1] in ("install", "upgrade", "test", "uninstall", "status"):
            if not flag(w, "-n", "--namespace"):
                p.append(f"{path}:{b[3]}: `{' '.join(w)[:110]}` without -n/--namespace")
    for path in (DOC, "helm/pastebin/README.md"):
        ok = any(w[0] == "kubectl" and "configmap" in w and "rds-ca-bundle" in w and flag(w, "-n", "--namespace")
                 for _, _, w in all_commands([path]))
        if not ok:
            p.append(f"{path}: no `kubectl -n <namespace> create configmap rds-ca-bundle` step (the migrate pod waits for it)")
    return p


def migrate_window():
    v = load_values([], {})
    m = v.get("migrate", {})
    return int(m.get("activeDeadlineSeconds", 900)), int(m.get("backoffLimit", 6))


def chart_installs():
    out = []
    for path, b, w in all_commands([DOC]):
        if w[0] == "helm" and len(w) > 2 and (w[1] == "install" or (w[1] == "upgrade" and "--install" in w)):
            chart = [x for x in w[2:] if not x.startswith("-")]
            if CHART in " ".join(w):
                out.append((b, w))
    return out


def helm_installs(shim):
    """#9: every documented install of the chart waits longer than the migrate
    Job may retry, names the namespace, and renders offline as written."""
    p = []
    deadline, backoff = migrate_window()
    # A Job stops at activeDeadlineSeconds whatever its retries; Helm must wait
    # for that plus scheduling and image pulls.
    need = deadline + 120
    installs = chart_installs()
    if len(installs) < 2:
        p.append(f"{DOC}: expected an install of {CHART} per region, found {len(installs)}")
    for b, w in installs:
        where = f"{DOC}:{b[3]}"
        t = duration_seconds(flag(w, "--timeout"))
        if t is None or t < need:
            p.append(f"{where}: --timeout {flag(w, '--timeout')} < migrate window ({deadline} s deadline, "
                     f"{backoff} retries) + 120 s; Helm's default 5m gives up first")
        if "--wait" not in w:
            p.append(f"{where}: without --wait the install 'succeeds' before the pods are ready")
        if flag(w, "-n", "--namespace") != "pastebin":
            p.append(f"{where}: namespace is not pastebin (Terraform's IRSA trust names it)")
        if not any(x.startswith("image.tag=") or x.startswith("image.digest=") for x in w):
            p.append(f"{where}: no image.tag/image.digest")
        # Render it as written, with the Terraform output replaced by its fixture.
        args = []
        for x in w[1:]:
            m = re.fullmatch(r"(region-[ab])\.tfvalues\.json", x)
            args.append(f"{CHART}/ci/tfvalues-{m.group(1)}.json" if m else x)
        env = dict(os.environ, PATH=f"{shim}:{os.environ['PATH']}", VALIDATE_DEPLOY_OFFLINE_INSTALL="1", GIT_SHA=GIT_SHA)
        args = [os.path.expandvars(x) for x in args]
        r = subprocess.run(["helm"] + args, cwd=ROOT, env=env, capture_output=True, text=True)
        if r.returncode:
            p.append(f"{where}: does not render: {r.stderr.strip()[-300:]}")
    tests = [w for _, _, w in all_commands([DOC]) if w[:2] == ["helm", "test"]]
    if len(tests) < 2:
        p.append(f"{DOC}: expected `helm test` after each region's install, found {len(tests)}")
    return p


def image_build():
    """#3: the image is built once, tagged with the git SHA, pushed to each
    region's ECR repository; the installs deploy that tag."""
    p = []
    cmds = [w for _, _, w in all_commands([DOC])]
    src = text(DOC)
    if not re.search(r"GIT_SHA=\$\(git rev-parse", src):
        p.append("GIT_SHA is not taken from `git rev-parse`")
    if not any(w[0] in ("docker", "buildah", "podman") and ("build" in w or "buildx" in w) and "$GIT_SHA" in " ".join(w)
               or (w[0] in ("docker", "buildah", "podman") and any("$GIT_SHA" in x for x in w) and "build" in " ".join(w))
               for w in cmds):
        p.append("no image build tagged with $GIT_SHA")
    if not any(w[0] in ("docker", "podman", "buildah") and "push" in w and any("GIT_SHA" in x for x in w) for w in cmds):
        p.append("no push of the $GIT_SHA tag")
    if "ecr_repository_url" not in src:
        p.append("the push does not target Terraform's ECR repository (output ecr_repository_url)")
    for b, w in chart_installs():
        if not any(re.fullmatch(r"image\.tag=\"?\$\{?GIT_SHA\}?\"?", x) for x in w):
            p.append(f"{DOC}:{b[3]}: the install does not deploy image.tag=$GIT_SHA")
    return p


PREREQS = {
    "ingress controller with client-IP preservation": (r"ingress-nginx", r"helm upgrade --install ingress-nginx"),
    "metrics-server": (r"metrics-server", None),
    "cluster autoscaler": (r"cluster-autoscaler|Karpenter", r"helm upgrade --install cluster-autoscaler"),
    "External Secrets Operator": (r"[Ee]xternal [Ss]ecrets", r"helm upgrade --install external-secrets"),
    "Prometheus operator": (r"Prometheus operator|kube-prometheus-stack", r"helm upgrade --install kube-prometheus-stack"),
    "TLS certificate": (r"pastebin-tls", r"create secret tls"),
    "CloudNativePG operator (in-cluster Postgres)": (r"CloudNativePG", r"cnpg-1\.30\.0\.yaml"),
}


def prerequisites():
    """#9: each prerequisite listed with how it is installed (and done by
    Terraform where it can be)."""
    p = []
    src = text(DOC)
    m = re.search(r"^## [^\n]*[Pp]rerequisites[^\n]*$(.*?)(?=^## )", src, re.M | re.S)
    if not m:
        return [f"{DOC}: no prerequisites section"]
    section = m.group(1)
    joined = re.sub(r"\\\n\s*", " ", src)
    for what, (name, install) in PREREQS.items():
        if not re.search(name, section):
            p.append(f"prerequisites do not list the {what}")
        if install and not re.search(install, joined):
            p.append(f"no install command for the {what} ({install})")
    cluster = text("terraform/modules/cluster/main.tf")
    if '"metrics-server"' not in cluster:
        p.append("metrics-server is not an EKS add-on in Terraform")
    return p


def client_ip():
    """#9: the documented ingress keeps the client address and the region files
    trust the header it sets."""
    p = []
    path = "docs/deploy/ingress-nginx-values.yaml"
    if not os.path.exists(os.path.join(ROOT, path)):
        return [f"{path} missing: the ingress controller's client-IP setup is not documented"]
    v = yaml.safe_load(text(path))["controller"]
    cfg = {k: str(x).lower() for k, x in (v.get("config") or {}).items()}
    svc = v.get("service", {})
    proxy_protocol = cfg.get("use-proxy-protocol") == "true"
    if not proxy_protocol and svc.get("externalTrafficPolicy") != "Local":
        p.append(f"{path}: neither externalTrafficPolicy: Local nor proxy protocol: nginx sees node addresses")
    if proxy_protocol and "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol" not in (svc.get("annotations") or {}):
        p.append(f"{path}: use-proxy-protocol without the NLB's proxy-protocol annotation")
    if cfg.get("use-forwarded-headers") == "true":
        p.append(f"{path}: use-forwarded-headers lets clients choose their address")
    if not re.search(r"helm upgrade --install ingress-nginx[^\n]*(\\\n[^\n]*)*ingress-nginx-values\.yaml", text(DOC)):
        p.append(f"{DOC}: the ingress-nginx install does not use {path}")
    if not re.search(r"^##+ .*[Cc]lient address", text(DOC), re.M) or "X-Real-IP" not in text(DOC):
        p.append(f"{DOC}: no 'Client addresses' section naming X-Real-IP")
    for region in ("a", "b"):
        v = yaml.safe_load(text(f"{CHART}/values-region-{region}.yaml"))
        if (v.get("config") or {}).get("PASTEBIN_TRUSTED_PROXY_HEADER") != "X-Real-IP":
            p.append(f"values-region-{region}.yaml does not trust X-Real-IP")
    return p


def terraform_per_region():
    """#9: one init/apply per region root, each with its state bucket in its own region."""
    p = []
    inits = {}
    for _, b, w in all_commands([DOC]):
        if w[0] == "terraform" and "init" in w:
            root = (flag(w, "-chdir") or "").rstrip("/")
            cfg = dict(x.split("=", 1)[1].split("=", 1) for x in w if x.startswith("-backend-config="))
            if cfg:
                inits[root] = cfg
    for root, region in REGION_ROOTS.items():
        cfg = inits.get(f"terraform/envs/prod/{root}")
        if not cfg:
            p.append(f"{DOC}: no `terraform -chdir=terraform/envs/prod/{root} init -backend-config=...`")
            continue
        if cfg.get("region") != region:
            p.append(f"{root}: state bucket region {cfg.get('region')} is not the root's own {region}")
        if region not in cfg.get("bucket", "") and "$" not in cfg.get("bucket", ""):
            p.append(f"{root}: state bucket {cfg.get('bucket')} is not per region")
    buckets = {c.get("bucket") for c in inits.values()}
    if len(buckets) < 2:
        p.append("both roots share one state bucket")
    return p


def runbook():
    """The region-loss runbook works with region A's control plane gone: until
    its 'region A is back' part, no command touches region A."""
    p = []
    src = text(DOC)
    m = re.search(r"^## [^\n]*[Rr]egion[- ]loss[^\n]*$(.*?)(?=^## |\Z)", src, re.M | re.S)
    if not m:
        return [f"{DOC}: no region-loss runbook section"]
    body = m.group(1)
    cut = re.search(r"^###+ [^\n]*(back|[Ff]ail ?back)", body, re.M)
    during = body[:cut.start()] if cut else body
    if not cut:
        p.append("the runbook has no separate 'when region A is back' part")
    for code in re.findall(r"```(?:sh|bash)\n(.*?)```", during, re.S):
        for w in commands(code):
            line = " ".join(w)
            if re.search(r"us-east-1|region-a\b|pastebin-a\b|paste-a\.", line):
                p.append(f"runbook command touches region A while it is gone: `{line[:120]}`")
    for needed in ("promote-read-replica", "PASTEBIN_READ_ONLY=false"):
        if needed not in during:
            p.append(f"the runbook lacks `{needed}`")
    return p


if __name__ == "__main__":
    shim = sys.argv[1]
    check("#12 docs/deployment.md: every shell block marked offline or cloud", marked)
    check("#12 docs/deployment.md: the offline blocks run (helm lint/template, terraform validate per root)", run_offline, shim)
    check("#5 docs: kubectl/helm commands name the namespace; the CA ConfigMap step is listed", namespaces)
    check("#9 docs: chart installs wait past the migrate Job's window (--timeout, --wait) and render as written", helm_installs, shim)
    check("#3 docs: image built and pushed with the git SHA to each region's ECR, installs deploy it", image_build)
    check("#9 docs: prerequisites listed with how each is installed", prerequisites)
    check("#9 client address: documented ingress keeps it, region files trust X-Real-IP", client_ip)
    check("#9 docs: terraform init/apply per region root, state in its own region", terraform_per_region)
    check("#12 docs: region-loss runbook never needs region A", runbook)
    finish()
