#!/usr/bin/env bash
# The project's test command (README "Tests"): release build, unit and integration tests, oracles, fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."
export SHARED_FIXTURES=${SHARED_FIXTURES:-$(cd .. && pwd)/shared/fixtures}

step() { printf '\n== %s\n' "$*"; }

step "formatting (swift format lint --strict, configuration in .swift-format)"
swift format lint --strict --recursive Package.swift Sources Tests Fuzz Benchmarks scripts/*.swift

step "release build"
swift build -c release

step "swift test (unit, golden and in-process tests)"
swift test

step "Python tier (independent oracles, real clients against the release binary)"
python3 -m pytest -q Tests/python

step "fuzzing: JPEG decode + preprocess (libFuzzer + ASan, 60 s)"
scripts/fuzz-imaging.sh 60

step "fuzzing: HTTP request parser, multipart parser, inference request readers (libFuzzer + ASan, 60 s each)"
scripts/fuzz-http.sh 60

step "load balancers: HAProxy and nginx in front of two instances; rolling restarts, 10 MB uploads, crash, overload (~3 min)"
scripts/test-loadbalancer.sh

step "soak: one instance under mixed traffic for 3 minutes (minute 3 against minute 2)"
scripts/soak.sh --minutes 3

step "deployment files (kubernetes-validate --strict, compose spec, systemd-analyze, hadolint)"
scripts/test-deploy.sh

step "container image: build with buildah, run with podman, probe (first run sets up base images, ~4 min)"
scripts/test-docker.sh
