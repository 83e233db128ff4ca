"""A `helm` for the offline commands of docs/deployment.md, on the real Helm
library (helm-python-sdk): `helm template`, `helm lint`, and - only when
VALIDATE_DEPLOY_OFFLINE_INSTALL=1 - `helm install` / `helm upgrade --install`
rendered as the equivalent `helm template` (nothing is installed). Anything
else needs a cluster and fails."""
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import merge, render  # noqa: E402

import helm_python as helm  # noqa: E402

VALUE_FLAGS = {"-f", "--values", "--set", "--set-string", "--set-json", "-n", "--namespace",
               "--kube-version", "-a", "--api-versions", "--timeout", "--kube-context", "--version", "--repo"}
IGNORED = {"--wait", "--atomic", "--create-namespace", "--strict", "--install", "--rollback-on-failure",
           "--wait-for-jobs", "--debug"}


def parse(args):
    pos, opts = [], {"values": [], "api": [], "ns": "default", "kube": "v1.32.0", "strict": False}
    it = iter(range(len(args)))
    i = 0
    while i < len(args):
        a = args[i]
        name, _, inline = a.partition("=") if a.startswith("--") else (a, "", "")
        if name in VALUE_FLAGS:
            v = inline if inline else args[i + 1]
            i += 1 if inline else 2
            if name in ("-f", "--values"):
                with open(v) as fh:
                    opts["values"].append(yaml.safe_load(fh) or {})
            elif name == "--set":
                opts["values"].append(helm.parse_set_string(v))
            elif name == "--set-string":
                opts["values"].append(helm.parse_set_string_values(v))
            elif name == "--set-json":
                opts["values"].append(helm.parse_set_json(v))
            elif name in ("-n", "--namespace"):
                opts["ns"] = v
            elif name == "--kube-version":
                opts["kube"] = v if v.startswith("v") else "v" + v
            elif name in ("-a", "--api-versions"):
                opts["api"].extend(v.split(","))
            continue
        if a in IGNORED or name in IGNORED:
            opts["strict"] |= a == "--strict"
            i += 1
            continue
        if a.startswith("-"):
            sys.exit(f"helm (offline): unsupported flag {a}")
        pos.append(a)
        i += 1
    values = {}
    for v in opts["values"]:
        values = merge(values, v)
    return pos, values, opts


def main(argv):
    if not argv:
        sys.exit("helm (offline): no command")
    cmd, rest = argv[0], argv[1:]
    offline_install = os.environ.get("VALIDATE_DEPLOY_OFFLINE_INSTALL") == "1"
    if cmd == "upgrade" and "--install" in rest and offline_install:
        cmd = "template"
    elif cmd == "install" and offline_install:
        cmd = "template"
    if cmd == "template":
        pos, values, o = parse(rest)
        if len(pos) != 2:
            sys.exit(f"helm (offline): template NAME CHART, got {pos}")
        out = render(values, o["api"], o["kube"], chart=pos[1], name=pos[0], namespace=o["ns"])
        for path, text in sorted(out.items()):
            if path.endswith((".yaml", ".yml")) and text.strip():
                sys.stdout.write(f"---\n# Source: {path}\n{text.strip()}\n")
        return
    if cmd == "lint":
        pos, values, o = parse(rest)
        report = helm.lint(pos[0], values, strict=o["strict"], namespace=o["ns"], kube_version=o["kube"])
        bad = [m for m in report["messages"] if m["severity"] >= (2 if o["strict"] else 3)] + report["errors"]
        for m in report["messages"]:
            print(f"[{m['severity']}] {m.get('path', '')}: {m['error']}")
        if bad:
            sys.exit(f"helm lint: {len(bad)} finding(s)")
        print("1 chart(s) linted, 0 chart(s) failed")
        return
    sys.exit(f"helm (offline): `helm {cmd}` needs a cluster")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except helm.HelmError as e:
        sys.exit(f"helm (offline): {e}")
