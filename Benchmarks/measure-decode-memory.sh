#!/usr/bin/env bash
# Peak resident memory of `seresnet serve` decoding the largest photos it accepts: a 7000×7000 (49 MP, under the
# 50 MP --max-pixels default) progressive 4:2:0 JPEG with EXIF orientation 6 (so the upright copy is made too),
# posted by two clients at once, three times — at full resolution (the default) and with --jpeg-dct-scaling.
#
#   Benchmarks/measure-decode-memory.sh [MODEL_DIR]     (default: a synthetic SE-ResNet-50 made in a temp dir)
# Needs .build/release/seresnet, curl, python3 with Pillow.
set -euo pipefail
cd "$(dirname "$0")/.."
. Tests/fixtures.sh
binary=.build/release/seresnet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=${1:-$work/model}
[[ -n ${1:-} ]] || "$binary" synth-weights --out "$model" --preset seresnet50 >/dev/null
python3 - "$(fixture images/astronaut-large-4096x4096.jpg)" "$work/big.jpg" <<'PY'
import sys
from PIL import Image
img = Image.open(sys.argv[1]).convert("RGB").resize((7000, 7000))
exif = Image.Exif()
exif[0x0112] = 6
img.save(sys.argv[2], "JPEG", quality=85, progressive=True, exif=exif.tobytes())
PY
echo "image: 7000×7000 progressive, EXIF 6, $(stat -c %s "$work/big.jpg") bytes"
measure() {
    PORT=0 SERESNET_HOST=127.0.0.1 "$binary" serve --model "$model" "$@" 2>"$work/log" &
    local pid=$! port=""
    for _ in $(seq 1 200); do
        port=$(grep -o '"port":"\?[0-9]*' "$work/log" 2>/dev/null | grep -o '[0-9]*$' | head -1 || true)
        [[ -n $port ]] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
        sleep 0.1
    done
    local base; base=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    local codes=""
    for _ in 1 2 3; do
        local clients=()
        for _ in 1 2; do
            curl -s -o /dev/null -w "%{http_code} " --data-binary @"$work/big.jpg" "http://127.0.0.1:$port/classify" >>"$work/codes" &
            clients+=($!)
        done
        wait "${clients[@]}"
    done
    echo "serve $*: baseline $base KiB, peak $(awk '/VmHWM/ {print $2}' /proc/$pid/status) KiB, after $(awk '/VmRSS/ {print $2}' /proc/$pid/status) KiB; answers: $(cat "$work/codes")"
    rm -f "$work/codes"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
}
measure
measure --jpeg-dct-scaling
