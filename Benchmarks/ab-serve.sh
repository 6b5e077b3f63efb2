#!/usr/bin/env bash
# Alternating A/B of two `seresnet serve` variants (two binaries, or one binary with two flag sets), end to end:
# per round, each variant is started, warmed up, loaded with `hey` for S seconds at concurrency C, and stopped.
# Prints req/s, p50 and the mean batch size (from /metrics) per round, then medians per variant.
#
#   Benchmarks/ab-serve.sh 8 8 4 "/tmp/seresnet-old" ".build/release/seresnet"
#   Benchmarks/ab-serve.sh 8 8 4 ".build/release/seresnet --max-batch-delay-ms 2" ".build/release/seresnet --max-batch-delay-ms 30"
#
# Environment: SERESNET_MODEL_DIR (default weights/synthetic-seresnet50), IMAGE (default the 451×300 cat),
# AB_PORT (default 24555). Needs hey and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 5 ] || { sed -n '2,10p' "$0"; exit 2; }
concurrency=$1 seconds=$2 rounds=$3
variants=("$4" "$5")
model=${SERESNET_MODEL_DIR:-weights/synthetic-seresnet50}
. Tests/fixtures.sh
image=${IMAGE:-$(fixture images/cat-baseline-420.jpg)}
port=${AB_PORT:-24555}
url=http://127.0.0.1:$port
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
    for v in 0 1; do
        read -r binary flags <<<"${variants[$v]}"
        # shellcheck disable=SC2086  # the flags are words
        "$binary" serve --model "$model" --host 127.0.0.1 --port "$port" ${flags:-} 2>/dev/null &
        pid=$!
        until curl -sf "$url/readyz" >/dev/null; do
            kill -0 "$pid" 2>/dev/null || { echo "variant ${variants[$v]} did not start" >&2; exit 1; }
            sleep 0.1
        done
        hey -c "$concurrency" -n $((concurrency * 2)) -m POST -D "$image" "$url/classify" >/dev/null
        out=$(hey -c "$concurrency" -z "${seconds}s" -m POST -D "$image" "$url/classify")
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        p50=$(awk '/50% in/ {printf "%.1f", $3 * 1000}' <<<"$out")
        batch=$(curl -s "$url/metrics" | awk '/^seresnet_batch_size_sum/ {s=$2} /^seresnet_batch_size_count/ {n=$2} END {printf "%.2f", n ? s / n : 0}')
        kill "$pid"; wait "$pid" 2>/dev/null || true
        label=$([ "$v" = 0 ] && echo A || echo B)
        echo "round $round $label  req/s $rps  p50 ${p50} ms  mean batch $batch"
        echo "$label $rps $p50 $batch" >>"$results"
    done
done
for label in A B; do
    variant=${variants[$([ "$label" = A ] && echo 0 || echo 1)]}
    awk -v l="$label" -v name="$variant" '
        function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                           return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
        $1 == l { n++; r[n] = $2; p[n] = $3; b[n] = $4 }
        END { printf "%s (%s): median req/s %.2f, p50 %.1f ms, mean batch %.2f over %d rounds\n", l, name, median(r, n), median(p, n), median(b, n), n }' "$results"
done
