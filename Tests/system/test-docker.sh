#!/usr/bin/env bash
# Container test: builds the Dockerfile with Tests/system/oci-local.sh (buildah/podman; no Docker engine
# needed), starts the image the way deploy/ runs it (read-only root, no capabilities, non-root, weights mounted
# read-only at /models/seresnet50: full-size synthetic SE-ResNet-50 weights made by the host's release binary;
# a 1-CPU quota and a 2 GiB memory limit), then checks: the image size (<= 250 MB), the user, GET /readyz, one
# POST /classify of a fixture JPEG (raw body and multipart), GET /healthz, /metrics and /v1/model (the thread
# pool sized from the container's CPU quota), the image's HEALTHCHECK (`seresnet healthcheck`, and that it
# fails on a non-200 answer), a graceful stop on SIGTERM (exit status 0, access log on stderr); then
# deploy/compose.yaml brought up with podman-compose (/readyz, /classify, down).
# Prints "test-docker: PASS" or "test-docker: FAIL: <why>".
#
#   Tests/system/test-docker.sh            (root; first run also sets up the base images, ~4 minutes)
#
# Needs: .build/release/seresnet (swift build -c release), curl, python3, podman-compose (Debian package).
# Env: OCI_LOCAL (another oci-local.sh), SERESNET_BINARY, IMAGE_TAG (default
# localhost/seresnet:test), KEEP_IMAGE=1 (do not remove the image afterwards), MAX_IMAGE_MB (default 250).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. Tests/fixtures.sh
started=$SECONDS
oci=${OCI_LOCAL:-$root/Tests/system/oci-local.sh}
binary=${SERESNET_BINARY:-$root/.build/release/seresnet}
tag=${IMAGE_TAG:-localhost/seresnet:test}
max_image_mb=${MAX_IMAGE_MB:-250}
name=seresnet-test-$$
image=$(fixture images/cat-baseline-420.jpg)
work=$(mktemp -d /tmp/seresnet-test-docker.XXXXXX)

log() { printf '[test-docker %3ds] %s\n' "$((SECONDS - started))" "$*" >&2; }
fail() {
    log "FAIL: $*"
    if podman_ container exists "$name" 2>/dev/null; then
        log "container log (last 40 lines):"; podman_ logs --tail 40 "$name" >&2 || true
    fi
    echo "test-docker: FAIL: $*"
    exit 1
}
podman_() { bash "$oci" podman "$@"; }
cleanup() {
    podman_ rm -f -t 0 "$name" >/dev/null 2>&1 || true
    [ "${KEEP_IMAGE:-0}" = 1 ] || podman_ rmi -f "$tag" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

[ -f "$oci" ] || fail "$oci not found (set OCI_LOCAL)"
[ -x "$binary" ] || fail "$binary not found: run 'swift build -c release' first"
command -v curl >/dev/null || fail "curl is not installed"
command -v podman-compose >/dev/null || fail "podman-compose is not installed (apt-get install podman-compose)"

log "base images (first run: debootstrap + toolchain image, ~4 minutes)"
bash "$oci" setup >"$work/setup.log" 2>&1 || { tail -20 "$work/setup.log" >&2; fail "oci-local.sh setup failed"; }

# The package manager fetches https://github.com/ dependencies; on machines without GitHub access, the local
# copies under /opt/swift-packages are mounted into the build and used as a mirror (Dockerfile build argument).
build_args=()
if [ -d /opt/swift-packages ]; then
    build_args+=(-v /opt/swift-packages:/opt/swift-packages:ro --build-arg SWIFTPM_GITHUB_MIRROR=/opt/swift-packages/)
fi
log "building $tag"
build_started=$SECONDS
podman_ build --pull=never --isolation chroot --format docker "${build_args[@]}" -t "$tag" . >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log" >&2; fail "image build failed"; }
build_seconds=$((SECONDS - build_started))
log "built in $build_seconds s"

size=$(podman_ image inspect "$tag" --format '{{.Size}}')
size_mb=$(( (size + 999999) / 1000000 ))
log "image size: $size bytes ($size_mb MB)"
(( size_mb <= max_image_mb )) || fail "image is $size_mb MB, more than $max_image_mb MB"
user=$(podman_ image inspect "$tag" --format '{{.Config.User}}')
[ "$user" = "10001:10001" ] || fail "image user is '$user', expected 10001:10001"
healthcheck=$(podman_ image inspect "$tag" --format '{{json .Config.Healthcheck}}')
[[ $healthcheck == *seresnet*healthcheck* ]] || fail "image has no 'seresnet healthcheck' HEALTHCHECK: $healthcheck"

log "synthetic full-size weights"
mkdir -p "$work/seresnet50"
"$binary" synth-weights --out "$work/seresnet50" --preset seresnet50 --seed 1 >/dev/null
chmod 755 "$work" "$work/seresnet50"; chmod 644 "$work/seresnet50"/*

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log "starting container $name on 127.0.0.1:$port"
podman_ run -d --pull=never --name "$name" -p "127.0.0.1:$port:8080" --cpus 1 --memory 2g \
    --read-only --cap-drop ALL --security-opt no-new-privileges \
    -v "$work/seresnet50:/models/seresnet50:ro" "$tag" >/dev/null ||
    fail "podman run failed"
run_started=$SECONDS

base=http://127.0.0.1:$port
ready=""
for _ in $(seq 1 120); do
    state=$(podman_ inspect "$name" --format '{{.State.Status}}' 2>/dev/null || echo gone)
    [ "$state" = running ] || fail "container is $state before becoming ready"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/readyz" || true)
    if [ "$code" = 200 ]; then ready=1; break; fi
    sleep 0.5
done
[ -n "$ready" ] || fail "/readyz did not answer 200 within 60 s (last: $code)"
log "/readyz: 200, $((SECONDS - run_started)) s after start"

code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/healthz")
[ "$code" = 200 ] || fail "/healthz answered $code"

check_top5() {  # $1: response file; the body must hold 5 predictions whose labels are ImageNet-1k labels
    python3 - "$1" "$root/weights/imagenet-1k-labels.txt" <<'EOF'
import json, sys
body = json.load(open(sys.argv[1]))
labels = set(open(sys.argv[2]).read().splitlines())
def lists(value):
    if isinstance(value, list):
        yield value
        for item in value: yield from lists(item)
    elif isinstance(value, dict):
        for item in value.values(): yield from lists(item)
found = [l for l in lists(body) if len(l) == 5 and all(isinstance(p, dict) and p.get("label") in labels for p in l)]
if not found: sys.exit(1)
print(" | ".join(f'{p["label"]}' for p in found[0]))
EOF
}
code=$(curl -s -o "$work/raw.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: image/jpeg' --data-binary "@$image" "$base/classify")
[ "$code" = 200 ] || fail "POST /classify (raw JPEG) answered $code: $(head -c 300 "$work/raw.json")"
top5=$(check_top5 "$work/raw.json") || fail "unexpected /classify answer: $(head -c 600 "$work/raw.json")"
log "/classify (raw): 200, top-5: $top5"
code=$(curl -s -o "$work/form.json" -w '%{http_code}' --max-time 30 -F "image=@$image;type=image/jpeg" "$base/classify")
[ "$code" = 200 ] || fail "POST /classify (multipart) answered $code: $(head -c 300 "$work/form.json")"
check_top5 "$work/form.json" >/dev/null || fail "unexpected /classify answer: $(head -c 600 "$work/form.json")"
log "/classify (multipart): 200"

code=$(curl -s -o "$work/metrics.txt" -w '%{http_code}' --max-time 5 "$base/metrics")
[ "$code" = 200 ] && grep -q '^# TYPE ' "$work/metrics.txt" || fail "/metrics answered $code without Prometheus text"

threads=$(curl -s --max-time 5 "$base/v1/model" | python3 -c 'import json, sys; print(json.load(sys.stdin)["serving"]["threads"])') ||
    fail "/v1/model has no serving.threads"
[ "$threads" = 1 ] || fail "server uses $threads threads under a 1-CPU quota"
log "/v1/model: $threads inference thread under --cpus 1"
log "memory in use after two classifications: $(podman_ stats --no-stream --format '{{.MemUsage}}' "$name")"

podman_ healthcheck run "$name" >"$work/health.txt" 2>&1 || fail "HEALTHCHECK failed: $(cat "$work/health.txt")"
log "HEALTHCHECK (seresnet healthcheck): healthy"
if podman_ exec "$name" seresnet healthcheck --path /no-such-path >/dev/null 2>&1; then
    fail "seresnet healthcheck exits 0 on a 404"
fi
uid=$(podman_ exec "$name" /usr/bin/id -u)
[ "$uid" = 10001 ] || fail "process runs as uid $uid"

log "stopping (SIGTERM)"
podman_ stop -t 40 "$name" >/dev/null || fail "podman stop failed"
status=$(podman_ inspect "$name" --format '{{.State.ExitCode}}')
[ "$status" = 0 ] || fail "exit status after SIGTERM is $status, expected 0"
podman_ logs "$name" 2>&1 | grep -q '"/classify"' || fail "no JSON access log line for /classify on stderr"

# deploy/compose.yaml, brought up by podman-compose against the same image store (oci-local.sh's configuration).
log "compose: podman-compose up (deploy/compose.yaml)"
compose_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
compose() {
    CONTAINERS_STORAGE_CONF=${OCI_WORK:-/tmp/oci}/storage.conf CONTAINERS_CONF=${OCI_WORK:-/tmp/oci}/containers.conf \
    SERESNET_IMAGE=$tag SERESNET_PUBLISH_PORT=$compose_port SERESNET_WEIGHTS_DIR=$work/seresnet50 \
        podman-compose -p "$name-compose" -f deploy/compose.yaml "$@" >>"$work/compose.log" 2>&1
}
compose_down() { compose down >/dev/null 2>&1 || true; podman_ network rm -f "$name-compose_default" >/dev/null 2>&1 || true; }
trap 'compose_down; cleanup' EXIT
compose up -d || { tail -20 "$work/compose.log" >&2; fail "podman-compose up failed"; }
ready=""
for _ in $(seq 1 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$compose_port/readyz" || true)
    if [ "$code" = 200 ]; then ready=1; break; fi
    sleep 0.5
done
[ -n "$ready" ] || { tail -20 "$work/compose.log" >&2; fail "compose service: /readyz did not answer 200 within 60 s"; }
code=$(curl -s -o "$work/compose.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: image/jpeg' --data-binary "@$image" "http://127.0.0.1:$compose_port/classify")
[ "$code" = 200 ] && check_top5 "$work/compose.json" >/dev/null || fail "compose service: POST /classify answered $code"
compose down || fail "podman-compose down failed"
podman_ network rm -f "$name-compose_default" >/dev/null 2>&1 || true
log "compose: /readyz and /classify OK, down OK"

log "total $((SECONDS - started)) s"
echo "test-docker: PASS (image $size_mb MB, build $build_seconds s, total $((SECONDS - started)) s)"
