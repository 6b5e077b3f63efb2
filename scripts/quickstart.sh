#!/usr/bin/env bash
# Quick start on a fresh Debian/Ubuntu machine with Swift 6.3: install the system libraries, build, get
# weights, and serve on $PORT (default 8080).
#
# Weights: weights/seresnet50 if it already holds model.safetensors; otherwise weights/fetch.py downloads
# timm/seresnet50.a1_in1k from the Hugging Face hub. Where the hub cannot be reached, it falls back to
# seeded random weights (`seresnet synth-weights`) in weights/synthetic-seresnet50 and says so: the service
# then works end to end, but its predictions are meaningless.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for package in libopenblas-dev libjpeg-dev libssl-dev; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if ((${#missing[@]})); then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

swift build -c release --product seresnet

model=${SERESNET_MODEL_DIR:-weights/seresnet50}
if [ ! -f "$model/model.safetensors" ]; then
    if ! python3 weights/fetch.py --out "$model" --retries 1; then
        model=weights/synthetic-seresnet50
        echo "quickstart: the Hugging Face hub is not reachable; serving seeded RANDOM weights from $model" >&2
        echo "quickstart: (predictions are meaningless; fetch real weights with weights/fetch.py when online)" >&2
        [ -f "$model/model.safetensors" ] || .build/release/seresnet synth-weights --out "$model" --preset seresnet50
    fi
fi

exec .build/release/seresnet serve --model "$model" "$@"
