#!/usr/bin/env python3
"""Validates custom resources against their CustomResourceDefinition's OpenAPI v3 schema, strictly, the way the API
server's strict field validation (kubectl --validate=strict) does: an unknown field is an error (every object schema
with `properties` is closed unless it says x-kubernetes-preserve-unknown-fields), `x-kubernetes-int-or-string` accepts
both, and apiVersion/kind must be the CRD's. Exit 0 when every document is valid.

    Tests/system/validate-crd.py CRD.yaml[.gz] RESOURCE.yaml...
"""
import gzip
import sys

import jsonschema
import yaml


def strict(schema):
    """A copy of a structural schema with unknown fields refused and Kubernetes' extensions made JSON Schema."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def main(crd_path, resources):
    opener = gzip.open if crd_path.endswith(".gz") else open
    with opener(crd_path, "rt") as f:
        crd = yaml.safe_load(f)
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    versions = {f"{group}/{v['name']}": v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v.get("served")}
    failures = 0
    for path in resources:
        with open(path) as f:
            for index, document in enumerate(d for d in yaml.safe_load_all(f) if d):
                where = f"{path}[{index}]"
                if document.get("kind") != kind or document.get("apiVersion") not in versions:
                    print(f"{where}: expected kind {kind} with apiVersion in {sorted(versions)}")
                    failures += 1
                    continue
                schema = strict(versions[document["apiVersion"]])
                # metadata is validated by the API server itself, not the CRD: keep it open.
                schema["properties"]["metadata"] = {"type": "object"}
                errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
                for error in errors:
                    print(f"{where}: {'.'.join(map(str, error.path)) or '(root)'}: {error.message}")
                failures += len(errors)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
