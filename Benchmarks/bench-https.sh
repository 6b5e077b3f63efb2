#!/usr/bin/env bash
# What TLS costs the HTTP layer: the trivial handler of Benchmarks/HTTPBenchServer over plain HTTP and HTTPS, in
# alternating rounds, wrk on the same machine (2 threads, 16 connections).
#
#   Benchmarks/bench-https.sh [rounds] [seconds]      (defaults: 5 rounds of 8 s)
#
# 1. keep-alive requests/s: HTTP vs HTTPS (ECDSA P-256 certificate), and the ratio (target ≥ 0.70);
# 2. new TLS handshakes per second: every request on a new connection (`Connection: close`), with an ECDSA P-256
#    and an RSA-2048 certificate (the plain-HTTP new-connection rate for reference).
# Certificates are made here with the openssl CLI (self-signed, nothing kept). Medians over rounds.
# BIN=path overrides the server binary (e.g. to compare builds). Needs wrk, openssl, curl.
set -euo pipefail
ROUNDS="${1:-5}"
DURATION="${2:-8}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${BENCH_OUT:-$ROOT/.build/bench-https}"
LOCK="${SWIFT_LOCK:-/tmp/swift-build.lock}"
mkdir -p "$OUT"
for tool in wrk openssl curl; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
if [ -z "${BIN:-}" ]; then
    (cd "$ROOT" && flock "$LOCK" swift build -c release --product http-bench-server >/dev/null)
    BIN="$(cd "$ROOT" && swift build -c release --show-bin-path)/http-bench-server"
fi

certs=$(mktemp -d)
servers=()
cleanup() { for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$certs"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
    -keyout "$certs/ec.key" -out "$certs/ec.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost -keyout "$certs/rsa.key" -out "$certs/rsa.pem" 2>/dev/null

start() { # port [cert key]
    local port=$1; shift
    "$BIN" "$port" 127.0.0.1 "$@" >"$OUT/server-$port.log" 2>&1 &
    servers+=($!)
    local scheme=http
    [ $# -gt 0 ] && scheme=https
    for _ in $(seq 50); do curl -skf "$scheme://127.0.0.1:$port/" >/dev/null && return; sleep 0.1; done
    echo "server on $port did not start" >&2; cat "$OUT/server-$port.log" >&2; exit 1
}
start 18180
start 18181 "$certs/ec.pem" "$certs/ec.key"
start 18182 "$certs/rsa.pem" "$certs/rsa.key"

# Hold the shared lock for all measurements: the machine has 2 cores and other builds would skew them.
exec 9>"$LOCK"
flock 9

rate() { # name url [wrk args…]: one round, requests/s appended to $OUT/name.txt
    local name=$1 url=$2; shift 2
    wrk -t2 -c16 -d"${DURATION}s" "$@" "$url" >"$OUT/wrk-$name.txt"
    grep -E "^Requests/sec" "$OUT/wrk-$name.txt" | awk '{print $2}' >>"$OUT/$name.txt"
    if grep -qE "Non-2xx|Socket errors" "$OUT/wrk-$name.txt"; then grep -E "Non-2xx|Socket errors" "$OUT/wrk-$name.txt" | sed "s/^/$name: /"; fi
}
rm -f "$OUT"/*.txt
for round in $(seq "$ROUNDS"); do
    echo "== round $round/$ROUNDS"
    names=(http https http-new https-ecdsa-new https-rsa-new)
    [ $((round % 2)) -eq 0 ] && names=(https http https-rsa-new https-ecdsa-new http-new)
    for name in "${names[@]}"; do
        case $name in
            http) rate http http://127.0.0.1:18180/ ;;
            https) rate https https://127.0.0.1:18181/ ;;
            http-new) rate http-new http://127.0.0.1:18180/ -H "Connection: close" ;;
            https-ecdsa-new) rate https-ecdsa-new https://127.0.0.1:18181/ -H "Connection: close" ;;
            https-rsa-new) rate https-rsa-new https://127.0.0.1:18182/ -H "Connection: close" ;;
        esac
    done
done
median() { sort -g "$OUT/$1.txt" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
{
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, wrk -t2 -c16, $ROUNDS × ${DURATION}s, medians"
    printf 'keep-alive requests/s: HTTP %.0f, HTTPS %.0f, ratio %.2f\n' "$(median http)" "$(median https)" "$(echo "$(median https) / $(median http)" | bc -l)"
    printf 'new connection per request: HTTP %.0f/s, HTTPS ECDSA P-256 %.0f handshakes/s, HTTPS RSA-2048 %.0f handshakes/s\n' \
        "$(median http-new)" "$(median https-ecdsa-new)" "$(median https-rsa-new)"
} | tee "$OUT/summary.txt"
