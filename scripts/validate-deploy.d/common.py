"""Shared helpers of scripts/validate-deploy's checks: results, value sets, Helm
rendering (with Kubernetes version and API versions, like `helm template
--kube-version --api-versions`), and HCL parsing."""
import glob
import json
import os
import re
import sys
import traceback

import yaml

ROOT = os.environ.get("VALIDATE_DEPLOY_ROOT", os.getcwd())
OUT = os.environ.get("VALIDATE_DEPLOY_OUT", os.path.join(ROOT, ".tools", "deploy-validate"))
CHART = "helm/pastebin"
RELEASE = NAMESPACE = "pastebin"
# A git SHA as the build tags images (docs/deployment.md); fixtures only.
GIT_SHA = "0123456789ab"
# The app's contract (DESIGN.md section 13, issue 12): /readyz and /readyz/write
# answer from background state within this time whatever the stores do.
READYZ_WORST_MS = 300
# Route 53 HTTP(S) health checks: 4 s to connect, then 2 s for the answer; fixed.
ROUTE53_ANSWER_MS = 2000
# APIs of the operators the chart can use (helm --api-versions), as a cluster
# with the Prometheus operator and CloudNativePG installed serves them.
CRD_APIS = [
    "monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor",
    "postgresql.cnpg.io/v1", "postgresql.cnpg.io/v1/Cluster",
]

# name -> (value files relative to the chart, values given like --set)
SETS = {
    "default": ([], {"image": {"tag": GIT_SHA}}),
    "development": ([], {"config": {"PASTEBIN_PROFILE": "development"}}),
    "region-a": (["values-region-a.yaml", "ci/tfvalues-region-a.json"], {"image": {"tag": GIT_SHA}}),
    "region-b": (["values-region-b.yaml", "ci/tfvalues-region-b.json"], {"image": {"tag": GIT_SHA}}),
    "cloudnativepg": (["ci/cloudnativepg-values.yaml"], {"image": {"tag": GIT_SHA}}),
}

_results = {"pass": 0, "fail": 0}


def check(name, fn, *args):
    """Runs one named check: fn returns a list of problems (empty = pass) or raises."""
    try:
        problems = fn(*args) or []
    except Exception as e:  # a check that crashes on old files is a failing check
        problems = [f"{type(e).__name__}: {e}"]
        if os.environ.get("VALIDATE_DEPLOY_DEBUG"):
            traceback.print_exc()
    if problems:
        _results["fail"] += 1
        print(f"FAIL: {name}")
        for p in problems[:25]:
            print(f"  - {p}")
        if len(problems) > 25:
            print(f"  - ... and {len(problems) - 25} more")
    else:
        _results["pass"] += 1
        print(f"PASS: {name}")
    sys.stdout.flush()


def finish():
    sys.exit(1 if _results["fail"] else 0)


def merge(a, b):
    """Like `helm -f a -f b`: later wins, maps merge deeply."""
    for k, v in b.items():
        a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return a


def load_values(files, sets=None, base=CHART):
    values = {}
    for f in files:
        path = f if os.path.isabs(f) or f.startswith(base) else os.path.join(base, f)
        if not os.path.exists(os.path.join(ROOT, path)):
            print(f"  note: {path} does not exist; rendering without it")
            continue
        with open(os.path.join(ROOT, path)) as fh:
            values = merge(values, yaml.safe_load(fh) or {})
    return merge(values, json.loads(json.dumps(sets or {})))


def render(values, api_versions=(), kube_version="v1.32.0", chart=CHART, name=RELEASE, namespace=NAMESPACE):
    """Renders like `helm template NAME CHART -n NS --kube-version --api-versions`,
    hooks and tests included. Returns {template path: text}; raises HelmError."""
    import helm_python as helm
    from helm_python import _native
    from helm_python.chart import _dumps

    opts = {"name": name, "namespace": namespace, "is_install": True,
            "kube_version": kube_version, "api_versions": list(api_versions)}
    with helm.Chart.load(os.path.join(ROOT, chart)) as c:
        return json.loads(_native.call_string("helm_render", c._raw(), _dumps(values), json.dumps(opts)))


def docs_of(manifests):
    out = []
    for path, text in sorted(manifests.items()):
        if path.endswith((".yaml", ".yml")):
            out.extend(d for d in yaml.safe_load_all(text) if d)
    return out


def find(docs, kind, suffix=None):
    return [d for d in docs if d.get("kind") == kind
            and (suffix is None or d["metadata"]["name"].endswith(suffix))]


def pod_specs(docs):
    """(kind/name, pod spec) of every workload, test Pods included."""
    out = []
    for d in docs:
        k = d.get("kind")
        if k in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            out.append((f"{k}/{d['metadata']['name']}", d["spec"]["template"]["spec"]))
        elif k == "Pod":
            out.append((f"Pod/{d['metadata']['name']}", d["spec"]))
    return out


def load_rendered():
    """The renders written by `checks.py helm`: {set: {"bare": docs, "full": docs}}."""
    with open(os.path.join(OUT, "renders.json")) as fh:
        return json.load(fh)


# --- HCL -------------------------------------------------------------------------

def _unquote(x):
    if isinstance(x, str):
        return x[1:-1] if len(x) >= 2 and x[0] == '"' and x[-1] == '"' else x
    if isinstance(x, list):
        return [_unquote(i) for i in x]
    if isinstance(x, dict):
        return {_unquote(k): _unquote(v) for k, v in x.items() if not k.startswith("__")}
    return x


def hcl(path):
    """One .tf file (or every .tf file of a folder) as plain data, quotes removed."""
    import hcl2

    files = sorted(glob.glob(os.path.join(ROOT, path, "*.tf"))) if os.path.isdir(os.path.join(ROOT, path)) \
        else [os.path.join(ROOT, path)]
    merged = {}
    for f in files:
        with open(f) as fh:
            d = _unquote(hcl2.load(fh))
        for k, v in d.items():
            merged.setdefault(k, []).extend(v)
    return merged


def tf_items(doc, block, type_=None):
    """[(type, name, body)] of resource/data blocks, or [(name, body)] of module/variable/output."""
    out = []
    for entry in doc.get(block, []):
        for t, inner in entry.items():
            if block in ("resource", "data"):
                for n, body in inner.items():
                    if type_ is None or t == type_:
                        out.append((t, n, body))
            else:
                out.append((t, inner))
    return out


def text(path):
    with open(os.path.join(ROOT, path)) as fh:
        return fh.read()


def first(x):
    """hcl2 gives nested blocks as lists."""
    return x[0] if isinstance(x, list) and x else x


def shell_words(line):
    import shlex
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()


def flag(words, *names):
    """Value of --flag X / --flag=X / -n X in a word list, or None."""
    for i, w in enumerate(words):
        for n in names:
            if w == n and i + 1 < len(words):
                return words[i + 1]
            if w.startswith(n + "="):
                return w[len(n) + 1:]
    return None


def duration_seconds(s):
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", s or "")
    if not m or not any(m.groups()):
        return None
    h, mi, se = (int(g or 0) for g in m.groups())
    return h * 3600 + mi * 60 + se
