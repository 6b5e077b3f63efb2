#!/usr/bin/env python3
"""Checks what schemas cannot: that deploy/ agrees with itself, with the Dockerfile and with the server's contract.

    python3 deploy/check-policy.py [REPO_ROOT]

Kubernetes: CPU requests = limits = SERESNET_THREADS; memory requests = limits; readiness on /readyz,
liveness on /healthz, a startup probe; terminationGracePeriodSeconds above preStop pause + shutdown delay + drain deadline;
non-root with the image's uid, read-only root, no privilege escalation, all capabilities dropped and
requests = limits (Guaranteed QoS) in every container; weights mounted read-only at SERESNET_MODEL_DIR; Service, HPA, PDB and Prometheus annotations
pointing at the Deployment's pods and port. Compose: the same uid, read-only root, weights read-only at the
image's model path, healthcheck `seresnet healthcheck`, stop grace above the drain deadline. systemd: the stop
timeout above the drain deadline. Prints one line per failed rule and exits 1 if any failed.
"""
import pathlib
import re
import sys

import yaml

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1])
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def duration_seconds(text):
    """Compose/systemd durations such as 40s, 1m30s, 45."""
    text = str(text).strip()
    if text.isdigit():
        return int(text)
    parts = re.findall(r"(\d+)\s*(h|min|m|s)", text)
    check(parts and "".join(n + u for n, u in parts) == text.replace(" ", ""), f"unreadable duration {text!r}")
    return sum(int(n) * {"h": 3600, "min": 60, "m": 60, "s": 1}[u] for n, u in parts)


def cpu_cores(value):
    value = str(value)
    return int(value[:-1]) / 1000 if value.endswith("m") else float(value)


dockerfile = (root / "Dockerfile").read_text()
image_user = re.search(r"^USER\s+(\d+):(\d+)\s*$", dockerfile, re.M)
check(image_user, "Dockerfile: no numeric USER uid:gid")
uid, gid = (int(image_user[1]), int(image_user[2])) if image_user else (None, None)
model_dir = re.search(r"SERESNET_MODEL_DIR=(\S+)", dockerfile)
check(model_dir, "Dockerfile: SERESNET_MODEL_DIR not set")
image_model_dir = model_dir[1] if model_dir else None
check(re.search(r'^EXPOSE 8080\s*$', dockerfile, re.M), "Dockerfile: EXPOSE 8080 missing")
check(re.search(r'^HEALTHCHECK .*CMD \["seresnet", "healthcheck"\]', dockerfile, re.M), "Dockerfile: HEALTHCHECK is not `seresnet healthcheck`")
check(re.search(r'^ENTRYPOINT \["seresnet", "serve"\]', dockerfile, re.M), "Dockerfile: ENTRYPOINT is not seresnet serve")

resources = {}
for path in sorted((root / "deploy" / "kubernetes").glob("*.yaml")):
    for document in yaml.safe_load_all(path.read_text()):
        if document:
            resources[document["kind"]] = document
for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
    check(kind in resources, f"kubernetes: no {kind}")

deployment = resources.get("Deployment", {})
template = deployment.get("spec", {}).get("template", {})
pod = template.get("spec", {})
labels = template.get("metadata", {}).get("labels", {})
check(deployment.get("spec", {}).get("selector", {}).get("matchLabels", {}).items() <= labels.items(),
      "Deployment: selector does not match the pod labels")
containers = {c["name"]: c for c in pod.get("containers", [])}
server = containers.get("seresnet", {})
env = {e["name"]: e.get("value") for e in server.get("env", [])}
limits, requests = server.get("resources", {}).get("limits", {}), server.get("resources", {}).get("requests", {})
threads = int(env.get("SERESNET_THREADS", 0))
check(threads >= 1, "Deployment: SERESNET_THREADS not set")
check(cpu_cores(requests.get("cpu", 0)) == cpu_cores(limits.get("cpu", -1)) == threads,
      f"Deployment: CPU requests {requests.get('cpu')} / limits {limits.get('cpu')} / SERESNET_THREADS {threads} differ")
check(requests.get("memory") and requests.get("memory") == limits.get("memory"),
      "Deployment: memory requests and limits must be set and equal")

http_port = {p["name"]: p["containerPort"] for p in server.get("ports", [])}.get("http")
check(http_port == 8080, "Deployment: container port 'http' is not 8080")
for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", None)):
    spec = server.get(probe, {}).get("httpGet", {})
    check(spec, f"Deployment: no HTTP {probe}")
    if path:
        check(spec.get("path") == path, f"Deployment: {probe} path is {spec.get('path')}, expected {path}")

drain = int(env.get("SERESNET_DRAIN_TIMEOUT_S", 30))
pre_stop = server.get("lifecycle", {}).get("preStop", {})
pause = int(pre_stop["exec"]["command"][-1]) if "exec" in pre_stop else int(pre_stop.get("sleep", {}).get("seconds", 0))
check(pause > 0, "Deployment: no preStop pause")
delay = int(env.get("SERESNET_SHUTDOWN_DELAY_S", 0))
grace = pod.get("terminationGracePeriodSeconds", 30)
check(grace > pause + delay + drain,
      f"Deployment: terminationGracePeriodSeconds {grace} is not above preStop {pause} s + shutdown delay {delay} s + drain {drain} s")

pod_security = pod.get("securityContext", {})
check(pod_security.get("runAsNonRoot") is True, "Deployment: runAsNonRoot is not true")
check(pod_security.get("runAsUser") == uid, f"Deployment: runAsUser {pod_security.get('runAsUser')} is not the image's uid {uid}")
for container in pod.get("initContainers", []) + pod.get("containers", []):
    security = container.get("securityContext", {})
    name = container["name"]
    check(security.get("readOnlyRootFilesystem") is True, f"Deployment/{name}: readOnlyRootFilesystem is not true")
    check(security.get("allowPrivilegeEscalation") is False, f"Deployment/{name}: allowPrivilegeEscalation is not false")
    check(security.get("capabilities", {}).get("drop") == ["ALL"], f"Deployment/{name}: capabilities are not all dropped")
    check(container.get("resources", {}).get("limits", {}).get("memory"), f"Deployment/{name}: no memory limit")
    check(container.get("resources", {}).get("requests") == container.get("resources", {}).get("limits"),
          f"Deployment/{name}: requests differ from limits (the pod would not be Guaranteed QoS)")

mounts = {m["mountPath"]: m for m in server.get("volumeMounts", [])}
weights_mount = mounts.get(env.get("SERESNET_MODEL_DIR"))
check(weights_mount and weights_mount.get("readOnly") is True,
      f"Deployment: no read-only volume at SERESNET_MODEL_DIR {env.get('SERESNET_MODEL_DIR')}")
check(env.get("SERESNET_MODEL_DIR") == image_model_dir, "Deployment: SERESNET_MODEL_DIR differs from the image's")
volumes = {v["name"]: v for v in pod.get("volumes", [])}
check(weights_mount and weights_mount["name"] in volumes, "Deployment: the weights mount has no volume")
for container in pod.get("initContainers", []):
    for mount in container.get("volumeMounts", []):
        check(mount["name"] in volumes, f"Deployment/{container['name']}: volume {mount['name']} is not defined")

annotations = template.get("metadata", {}).get("annotations", {})
check(annotations.get("prometheus.io/scrape") == "true" and annotations.get("prometheus.io/path") == "/metrics"
      and annotations.get("prometheus.io/port") == str(http_port), "Deployment: Prometheus annotations missing or not on the http port")

service = resources.get("Service", {}).get("spec", {})
check(service.get("selector", {}).items() <= labels.items() and service.get("selector"), "Service: selector does not match the pods")
check(any(p.get("targetPort") in ("http", http_port) for p in service.get("ports", [])), "Service: no port targets the pods' http port")
hpa = resources.get("HorizontalPodAutoscaler", {}).get("spec", {})
check(hpa.get("scaleTargetRef", {}).get("name") == deployment.get("metadata", {}).get("name")
      and hpa.get("scaleTargetRef", {}).get("kind") == "Deployment", "HPA: does not target the Deployment")
check(any(m.get("resource", {}).get("name") == "cpu" for m in hpa.get("metrics", [])), "HPA: no CPU metric")
check(hpa.get("minReplicas", 1) >= 2, "HPA: minReplicas below 2 leaves the PDB nothing to spare")
pdb = resources.get("PodDisruptionBudget", {}).get("spec", {})
check(pdb.get("selector", {}).get("matchLabels", {}).items() <= labels.items() and pdb.get("selector"), "PDB: selector does not match the pods")

# The HTTPS variant: the base Deployment with the pair from a TLS Secret, served on 8443, probed over HTTPS.
https = {}
for path in sorted((root / "deploy" / "kubernetes-https").glob("*.yaml")):
    for document in yaml.safe_load_all(path.read_text()):
        if document:
            https[document["kind"]] = document
tls_pod = https.get("Deployment", {}).get("spec", {}).get("template", {}).get("spec", {})
tls_server = {c["name"]: c for c in tls_pod.get("containers", [])}.get("seresnet", {})
tls_env = {e["name"]: e.get("value") for e in tls_server.get("env", [])}
tls_port = {p["name"]: p["containerPort"] for p in tls_server.get("ports", [])}.get("https")
check(tls_port and str(tls_port) == tls_env.get("PORT"), "kubernetes-https: container port 'https' is not PORT")
for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
    spec = tls_server.get(probe, {}).get("httpGet", {})
    check(spec.get("scheme") == "HTTPS" and spec.get("port") == "https", f"kubernetes-https: {probe} is not HTTPS on the https port")
tls_mounts = {m["mountPath"]: m for m in tls_server.get("volumeMounts", [])}
tls_volumes = {v["name"]: v for v in tls_pod.get("volumes", [])}
for variable in ("SERESNET_TLS_CERT", "SERESNET_TLS_KEY"):
    directory = str(pathlib.PurePosixPath(tls_env.get(variable, "/")).parent)
    mount = tls_mounts.get(directory, {})
    check(mount.get("readOnly") is True and "secret" in tls_volumes.get(mount.get("name"), {}) and not mount.get("subPath"),
          f"kubernetes-https: {variable} is not in a read-only Secret volume mounted as a directory (a subPath never sees rotations)")
check(tls_pod.get("securityContext", {}).get("fsGroup") == gid, "kubernetes-https: fsGroup is not the image's gid (the key would be unreadable)")
check(any(p.get("targetPort") == "https" for p in https.get("Service", {}).get("spec", {}).get("ports", [])),
      "kubernetes-https: the Service does not target the https port")

compose = yaml.safe_load((root / "deploy" / "compose.yaml").read_text())
service = compose["services"]["seresnet"]
check(service.get("user") == f"{uid}:{gid}", f"compose: user {service.get('user')} is not the image's {uid}:{gid}")
check(service.get("read_only") is True, "compose: read_only is not true")
check(service.get("restart") in ("always", "unless-stopped", "on-failure"), "compose: no restart policy")
check(service.get("healthcheck", {}).get("test") == ["CMD", "seresnet", "healthcheck"], "compose: healthcheck is not seresnet healthcheck")
check(any(v.get("target") == image_model_dir and v.get("read_only") is True for v in service.get("volumes", []) if isinstance(v, dict)),
      f"compose: no read-only weights volume at {image_model_dir}")
compose_drain = int(service.get("environment", {}).get("SERESNET_DRAIN_TIMEOUT_S", 30))
check(duration_seconds(service.get("stop_grace_period", "10s")) > compose_drain, "compose: stop_grace_period is not above the drain deadline")
check(str(service.get("environment", {}).get("SERESNET_THREADS")) == str(int(float(service.get("cpus", 0)))),
      "compose: SERESNET_THREADS differs from cpus")

unit = (root / "deploy" / "systemd" / "seresnet.service").read_text()
settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
unit_drain = int(dict(re.findall(r"^Environment=(\w+)=(.*)$", unit, re.M)).get("SERESNET_DRAIN_TIMEOUT_S", 30))
check(duration_seconds(settings.get("TimeoutStopSec", "90s")) > unit_drain, "systemd: TimeoutStopSec is not above the drain deadline")
for key, value in (("DynamicUser", "yes"), ("ProtectSystem", "strict"), ("NoNewPrivileges", "yes")):
    check(settings.get(key) == value, f"systemd: {key}={value} missing")

for failure in failures:
    print(f"policy: FAIL: {failure}")
print(f"policy: {'FAIL' if failures else 'OK'} ({len(failures)} problem(s))")
sys.exit(1 if failures else 0)
