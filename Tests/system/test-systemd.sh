#!/usr/bin/env bash
# Runs deploy/systemd/seresnet.service under a real systemd: a Debian bookworm container (built with
# Tests/system/oci-local.sh) whose PID 1 is systemd, holding the static binary, the labels and synthetic
# weights at the unit's paths. Checks that the unit starts with all its sandboxing, runs as its dynamic user,
# answers /readyz, /classify and `seresnet healthcheck`, has its CPU quota and memory limit, and stops on
# SIGTERM with exit status 0. Prints "test-systemd: PASS" or "test-systemd: FAIL: <why>".
#
#   swift build -c release --static-swift-stdlib --scratch-path .build-static --product seresnet
#   Tests/system/test-systemd.sh
#
# The container runs --privileged: systemd needs to create mount namespaces for ProtectSystem= and friends
# (in an unprivileged container the unit fails with status 226/NAMESPACE; on a host it needs nothing).
# Env: SERESNET_STATIC_BINARY (default .build-static/release/seresnet), OCI_LOCAL (another oci-local.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
. Tests/fixtures.sh
oci=${OCI_LOCAL:-$root/Tests/system/oci-local.sh}
binary=${SERESNET_STATIC_BINARY:-$root/.build-static/release/seresnet}
tag=localhost/seresnet-systemd-test
name=seresnet-systemd-test-$$
work=$(mktemp -d /tmp/seresnet-test-systemd.XXXXXX)
podman_() { bash "$oci" podman "$@"; }
fail() { echo "test-systemd: FAIL: $*"; exit 1; }
cleanup() { podman_ rm -f -t 0 "$name" >/dev/null 2>&1 || true; podman_ rmi -f "$tag" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
in_container() { timeout 60 bash "$oci" podman exec "$name" sh -c "$1"; }

[ -x "$binary" ] || fail "$binary missing: swift build -c release --static-swift-stdlib --scratch-path .build-static --product seresnet"
cp "$binary" "$work/seresnet"
cp weights/imagenet-1k-labels.txt deploy/systemd/seresnet.service "$work/"
cp "$(fixture images/cat-baseline-420.jpg)" "$work/cat.jpg"
"$binary" synth-weights --out "$work/seresnet50" --preset seresnet50 --seed 1 >/dev/null
cat >"$work/Containerfile" <<'EOF'
FROM localhost/debian:bookworm
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      systemd systemd-sysv dbus libopenblas0-pthread libjpeg62-turbo libssl3 curl && rm -rf /var/lib/apt/lists/*
COPY seresnet /usr/local/bin/seresnet
COPY imagenet-1k-labels.txt /usr/local/share/seresnet/imagenet-1k-labels.txt
COPY seresnet50/ /usr/local/share/seresnet/seresnet50/
COPY seresnet.service /etc/systemd/system/seresnet.service
COPY cat.jpg /root/cat.jpg
RUN systemctl enable seresnet
CMD ["/lib/systemd/systemd"]
EOF
bash "$oci" setup >"$work/setup.log" 2>&1 || fail "oci-local.sh setup failed"
podman_ build --pull=never --isolation chroot -t "$tag" "$work" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; fail "image build failed"; }
podman_ run -d --pull=never --privileged --systemd=always --name "$name" "$tag" >/dev/null || fail "podman run failed"

state=""
for _ in $(seq 1 60); do
    state=$(in_container 'systemctl is-active seresnet' 2>/dev/null || true)
    [ "$state" = active ] && in_container 'curl -sf -o /dev/null localhost:8080/readyz' 2>/dev/null && break
    sleep 0.5
done
[ "$state" = active ] || { in_container 'systemctl status seresnet --no-pager' || true; fail "seresnet.service is '$state'"; }
in_container 'curl -sf localhost:8080/readyz' >/dev/null || fail "/readyz is not 200"
in_container 'curl -sf -H "Content-Type: image/jpeg" --data-binary @/root/cat.jpg localhost:8080/classify' >"$work/classify.json" ||
    fail "/classify failed"
grep -q '"predictions"' "$work/classify.json" || fail "unexpected /classify answer: $(head -c 300 "$work/classify.json")"
in_container '/usr/local/bin/seresnet healthcheck' >/dev/null || fail "seresnet healthcheck failed"
props=$(in_container 'systemctl show seresnet -p User -p DynamicUser -p ProtectSystem -p MemoryMax -p CPUQuotaPerSecUSec -p NoNewPrivileges')
echo "$props"
for expected in User=seresnet DynamicUser=yes ProtectSystem=strict MemoryMax=2147483648 CPUQuotaPerSecUSec=2s NoNewPrivileges=yes; do
    grep -qx "$expected" <<<"$props" || fail "expected $expected"
done
uid=$(in_container 'stat -c %u /proc/$(systemctl show seresnet -p MainPID --value)')
[ "$uid" != 0 ] || fail "the service runs as root"
in_container 'systemctl stop seresnet' || fail "systemctl stop failed"
result=$(in_container 'systemctl show seresnet -p Result -p ExecMainStatus')
grep -qx 'Result=success' <<<"$result" && grep -qx 'ExecMainStatus=0' <<<"$result" || fail "stop: $result"
in_container 'journalctl -u seresnet --no-pager' | grep -q '"message":"draining"' || fail "no drain on SIGTERM in the journal"
echo "test-systemd: PASS (active as dynamic uid $uid, /readyz, /classify, healthcheck, limits, SIGTERM → exit 0)"
