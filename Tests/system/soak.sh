#!/usr/bin/env bash
# Soak: one seresnet instance under mixed traffic (every valid and bad fixture, raw and multipart, keep-alive
# and not, slow uploads, oversized bodies, bursts above --max-queue, /metrics scrapes) for N minutes, sampling
# resident memory, descriptors, threads and client latency once a second (Tests/system/soak.py says what passes; latency is reported, never judged).
#
# Usage: Tests/system/soak.sh [--minutes N] [--model DIR] [--out DIR] [--png FILE]
#   --minutes N  default 10 (CI: 3, the fewest that compare a minute with minute 2)
#   --model DIR  default Tests/Fixtures/tiny-seresnet (any timm-layout model directory, e.g. one made by
#                `seresnet synth-weights --out DIR`)
#   --out DIR    where soak.csv, soak.png and server.log go (default: a new temporary directory)
#   --png FILE   the plot's path instead (e.g. docs/soak.png)
# Environment: SERESNET_BIN (default .build/release/seresnet).
# Needs python3 with matplotlib. Ends with `soak: PASS` or `soak: FAIL`.
set -euo pipefail
cd "$(dirname "$0")/../.."
. Tests/fixtures.sh
bin=${SERESNET_BIN:-.build/release/seresnet}
minutes=10
model=$(fixture tiny-seresnet)
out=
png=
while (($#)); do
    case $1 in
        --minutes) minutes=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --png) png=$2; shift 2 ;;
        -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "soak: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ -x $bin ]] || { echo "soak: FAIL: no executable $bin (swift build -c release, or set SERESNET_BIN)"; exit 1; }
python3 -c 'import matplotlib' 2>/dev/null || { echo "soak: FAIL: python3 has no matplotlib (pip install matplotlib)"; exit 1; }
[[ -n $out ]] || out=$(mktemp -d /tmp/seresnet-soak-XXXXXX)
mkdir -p "$out"
png=${png:-$out/soak.png}

echo "soak: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs: $(lscpu | sed -n 's/^Model name: *//p' | head -1), binary $bin, output in $out"
python3 Tests/system/soak.py --minutes "$minutes" --bin "$bin" --model "$model" --csv "$out/soak.csv" --png "$png" \
    --log "$out/server.log" &
soak=$!
trap 'kill -TERM "$soak" 2>/dev/null; wait "$soak"; exit 143' TERM INT
wait "$soak"
