#!/usr/bin/env bash
# Two seresnet instances (the tiny test model) behind HAProxy and then nginx, each run with the shipped
# configuration (deploy/haproxy/haproxy.cfg, deploy/nginx/seresnet.conf; only the ports substituted), under
# constant load: rolling restarts (light; at capacity with 10 MB uploads in flight; HAProxy with
# `http-reuse always`) with zero failed requests, a SIGKILL (failed requests and detection time), and overload
# (only the instances' 503 + Retry-After, /readyz truthful). The scenarios are in Tests/system/lb_load.py.
#
# Usage: Tests/system/test-loadbalancer.sh [haproxy|nginx]...   (default: both)
# Environment: SERESNET_BIN (default .build/release/seresnet),
# LB_SCENARIOS (default rolling,hard,reuse,crash,overload), LB_JSON_DIR (write each balancer's figures there).
# Needs haproxy and nginx (Debian packages) and python3. Prints every figure and the settings it relied on;
# ends with `test-loadbalancer: PASS` or `test-loadbalancer: FAIL`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${SERESNET_BIN:-.build/release/seresnet}
scenarios=${LB_SCENARIOS:-rolling,hard,reuse,crash,overload}
balancers=("$@")
((${#balancers[@]})) || balancers=(haproxy nginx)

for tool in haproxy nginx python3; do
    command -v "$tool" >/dev/null || { echo "test-loadbalancer: FAIL: $tool not installed (apt-get install haproxy nginx)"; exit 1; }
done
[[ -x $bin ]] || { echo "test-loadbalancer: FAIL: no executable $bin (swift build -c release, or set SERESNET_BIN)"; exit 1; }
haproxy -c -q -f deploy/haproxy/haproxy.cfg

echo "binary $bin; $(haproxy -v | head -1); $(nginx -v 2>&1); $(nproc) CPUs: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "instances: --shutdown-delay-s 4 (HAProxy's worst-case detection: inter 1 s + (fall 2 - 1) x fastinter 0.5 s"
echo "  + timeout check 1 s = 2.5 s < 4 s), --drain-timeout-s 30, --threads 1 each"

status=0
start=$SECONDS
for balancer in "${balancers[@]}"; do
    json=()
    [[ -n ${LB_JSON_DIR:-} ]] && json=(--json "$LB_JSON_DIR/loadbalancer-$balancer.json")
    python3 Tests/system/lb_load.py --balancer "$balancer" --bin "$bin" --scenarios "$scenarios" "${json[@]}" &
    harness=$!
    trap 'kill -TERM "$harness" 2>/dev/null; wait "$harness"; exit 143' TERM INT
    wait "$harness" || status=1
    trap - TERM INT
done
echo "($((SECONDS - start)) s)"
if ((status)); then
    echo "test-loadbalancer: FAIL"
else
    echo "test-loadbalancer: PASS"
fi
exit "$status"
