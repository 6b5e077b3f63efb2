#!/usr/bin/env bash
# Two builds of Benchmarks/HTTPBenchServer side by side: keep-alive requests/s of the trivial handler with wrk
# (2 threads, 16 connections), alternating A and B each round; medians and the ratio B/A.
#
#   Benchmarks/ab-http.sh BINARY_A BINARY_B [rounds] [seconds]     (defaults: 6 rounds of 8 s)
set -euo pipefail
A=$1 B=$2 ROUNDS="${3:-6}" DURATION="${4:-8}"
LOCK="${SWIFT_LOCK:-/tmp/swift-build.lock}"
"$A" 18191 >/dev/null 2>&1 & pa=$!
"$B" 18192 >/dev/null 2>&1 & pb=$!
trap 'kill $pa $pb 2>/dev/null || true' EXIT
for port in 18191 18192; do
    for attempt in $(seq 50); do
        curl -sf "http://127.0.0.1:$port/" >/dev/null && break
        [ "$attempt" -eq 50 ] && { echo "ab-http: the server on :$port never answered" >&2; exit 1; }
        sleep 0.1
    done
done
exec 9>"$LOCK"
flock 9
ra=() rb=()
run() { wrk -t2 -c16 -d"${DURATION}s" "http://127.0.0.1:$1/" | awk '/^Requests\/sec/ {print $2}'; }
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then ra+=("$(run 18191)"); rb+=("$(run 18192)"); else rb+=("$(run 18192)"); ra+=("$(run 18191)"); fi
    echo "round $round: A ${ra[-1]} B ${rb[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
ma=$(median "${ra[@]}") mb=$(median "${rb[@]}")
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs): A $A ${ma} req/s, B $B ${mb} req/s, B/A $(echo "$mb / $ma" | bc -l | cut -c1-5)"
