#!/usr/bin/env bash
# The project's one test command (README "Tests"; .ci/run calls it). On a fresh Debian bookworm with Swift 6.3 it
# installs what the tests need — Debian packages with apt, Python packages into a virtual environment of its own
# (.venv-test/, git-ignored) — then runs every tier. Both installs are idempotent: a second run installs nothing.
#
#   scripts/test.sh                 everything (about 20 minutes on 2 cores; the first run also installs)
#   scripts/test.sh --install-only  only the installs
#
# Not root: apt runs through sudo; without sudo it names the missing packages and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# Build: the C libraries. Tests: curl (a real client), python3 with venv, Chromium and its WebDriver (the web page's
# browser test), systemd (systemd-analyze verify for the unit), podman-compose and the OCI tools for the container
# test (Tests/system/oci-local.sh), HAProxy and nginx for the load-balancer test, libb64 for Triton's perf_analyzer.
apt_packages=(libopenblas-dev libjpeg-dev libssl-dev curl python3 python3-venv systemd podman-compose buildah podman runc
    debootstrap chromium chromium-driver fonts-liberation haproxy nginx libb64-0d)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
    step "installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "scripts/test.sh: these Debian packages are missing and this user is not root and has no sudo:" >&2
        echo "  ${missing[*]}" >&2
        echo "Install them as root (apt-get install ${missing[*]}), then run scripts/test.sh again." >&2
        exit 1
    fi
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python packages in .venv-test (a Debian python refuses system-wide pip installs, PEP 668); reinstalled only when
# Tests/requirements.txt changes.
venv=.venv-test
stamp=$venv/requirements.sha256
want=$(sha256sum Tests/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python3" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "installing Python packages into $venv (Tests/requirements.txt)"
    [ -x "$venv/bin/python3" ] || python3 -m venv "$venv"
    "$venv/bin/python3" -m pip install -q --disable-pip-version-check -r Tests/requirements.txt
    echo "$want" >"$stamp"
fi
# Every python3 the tiers start — pytest, the system tests, swift test's photo goldens — is the environment's.
export PATH=$PWD/$venv/bin:$PATH
export VIRTUAL_ENV=$PWD/$venv

[ "${1:-}" = --install-only ] && exit 0

step "the repository stands alone (fixtures against Tests/Fixtures/SHA256SUMS, nothing outside it named)"
python3 -m pytest -q Tests/python/test_repository.py

step "formatting (swift format lint --strict, configuration in .swift-format)"
swift format lint --strict --recursive Package.swift Sources Tests Fuzz Benchmarks

step "release build"
swift build -c release

step "swift test (unit, golden and in-process tests)"
swift test

step "Python tier (independent oracles, real clients against the release binary)"
python3 -m pytest -q Tests/python --ignore=Tests/python/test_repository.py

step "fuzzing: JPEG decode + preprocess (libFuzzer + ASan, 60 s)"
Fuzz/fuzz-imaging.sh 60

step "fuzzing: HTTP request parser, multipart parser, inference request readers, trace context (libFuzzer + ASan, 60 s each)"
Fuzz/fuzz-http.sh 60

step "load balancers: HAProxy and nginx in front of two instances; rolling restarts, 10 MB uploads, crash, overload (~3 min)"
Tests/system/test-loadbalancer.sh

step "soak: one instance under mixed traffic for 3 minutes (memory, descriptors, threads, answers; latency reported)"
Tests/system/soak.sh --minutes 3

step "memory limit: serve in a 700 MiB cgroup under 32 clients uploading 50-MP JPEGs and 16 MiB bodies for a minute"
Tests/system/test-memory-limit.py

step "deployment files (kubernetes-validate --strict, compose spec, systemd-analyze, hadolint)"
Tests/system/test-deploy.sh

step "container image: build with buildah, run with podman, probe (first run sets up base images, ~4 min)"
Tests/system/test-docker.sh
