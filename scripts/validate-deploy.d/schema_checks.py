"""Every rendered object against the real schemas: built-in kinds with
kubernetes-validate (strict: unknown fields refused) for each pinned Kubernetes
version, custom resources against the operators' CRDs vendored in
helm/pastebin/ci/schemas (unknown fields refused there too).

Usage: schema_checks.py VERSION...   (e.g. 1.32.0 1.33.0)"""
import copy
import glob
import os
import sys

import jsonschema
import yaml

from common import CHART, ROOT, check, finish, load_rendered

SCHEMAS = os.path.join(ROOT, CHART, "ci", "schemas")


def crd_schemas():
    """(apiVersion, kind) -> openAPIV3Schema, with unknown fields refused."""
    out = {}
    for f in sorted(glob.glob(os.path.join(SCHEMAS, "*.yaml"))):
        for crd in yaml.load_all(open(f), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for v in crd["spec"]["versions"]:
                if v.get("served", True):
                    out[(f"{group}/{v['name']}", kind)] = strict(copy.deepcopy(v["schema"]["openAPIV3Schema"]))
    return out


def strict(schema):
    """additionalProperties: false on every object schema that lists its
    properties and neither allows nor preserves unknown fields: the API server
    prunes such fields (kubectl --validate=strict refuses them), so a typo in the
    chart would silently do nothing."""
    if isinstance(schema, dict):
        if (schema.get("type") == "object" and "properties" in schema
                and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")
                and not schema.get("x-kubernetes-embedded-resource")):
            schema["additionalProperties"] = False
        for k, v in schema.items():
            if k != "enum":
                strict(v)
    elif isinstance(schema, list):
        for v in schema:
            strict(v)
    return schema


def docs_manifests():
    """Kubernetes objects the install applies next to the chart (docs/deploy/)."""
    out = []
    for f in sorted(glob.glob(os.path.join(ROOT, "docs", "deploy", "*.yaml"))):
        for d in yaml.safe_load_all(open(f).read().replace("REGION", "us-east-1")):
            if d and "apiVersion" in d and "kind" in d:
                out.append(d)
    return out


def custom_resources(renders):
    schemas = crd_schemas()
    problems, seen = [], set()
    sources = dict(renders)
    sources["docs/deploy"] = {"full": docs_manifests()}
    for name, r in sources.items():
        for d in r["full"]:
            key = (d["apiVersion"], d["kind"])
            if "/" not in d["apiVersion"] or "." not in d["apiVersion"].split("/")[0] \
                    or d["apiVersion"].split("/")[0].endswith("k8s.io"):
                continue  # built-in
            if key not in schemas:
                problems.append(f"{name}: {d['kind']} ({d['apiVersion']}) has no vendored CRD in {CHART}/ci/schemas")
                continue
            seen.add(key)
            body = d
            for e in jsonschema.Draft4Validator(schemas[key]).iter_errors(body):
                problems.append(f"{name}: {d['kind']}/{d['metadata']['name']}: {e.message} at {'/'.join(map(str, e.absolute_path))}")
    for k in sorted(seen):
        print(f"  validated {k[1]} ({k[0]}) against its CRD")
    # The validator must refuse an unknown field (else the check proves nothing).
    for name, r in sources.items():
        for d in r["full"]:
            key = (d["apiVersion"], d["kind"])
            if key in schemas and key in seen:
                bad = copy.deepcopy(d)
                bad.setdefault("spec", {})["notAField"] = True
                if jsonschema.Draft4Validator(schemas[key]).is_valid(bad):
                    problems.append(f"{d['kind']}: an unknown spec field was accepted")
                seen.discard(key)
    return problems


def builtin(renders, versions):
    import kubernetes_validate as kv

    problems = []
    for version in versions:
        ok = 0
        for name, r in renders.items():
            for d in r["full"]:
                group = d["apiVersion"].split("/")[0] if "/" in d["apiVersion"] else ""
                if "." in group and not group.endswith("k8s.io"):
                    continue  # custom resource: checked against its CRD
                try:
                    kv.validate(d, version, strict=True)
                    ok += 1
                except kv.ValidationError as e:
                    problems.append(f"{name} {d['kind']}/{d['metadata']['name']} @ {version}: {e.message} at {'/'.join(map(str, e.path))}")
                except (kv.SchemaNotFoundError, kv.VersionNotSupportedError) as e:
                    problems.append(f"{name} {d['kind']}/{d['metadata']['name']} @ {version}: no schema: {e}")
        print(f"  Kubernetes {version}: {ok} objects valid")
    return problems


if __name__ == "__main__":
    renders = load_rendered()
    versions = sys.argv[1:]
    check(f"#10 custom resources valid against the vendored CRDs (unknown fields refused)", custom_resources, renders)
    check(f"#10 built-in objects valid for Kubernetes {', '.join(versions)} (kubernetes-validate --strict)",
          builtin, renders, versions)
    finish()
