#!/usr/bin/env bash
# Builds Benchmarks/GEMM/bench-gemm.c against the engine's kernels (Sources/CKernels, -O3, no -march: the kernels pick
# their instruction sets at run time, as in the service) and runs it: each kernel table's product on SE-ResNet-50's
# shapes, one thread, multiply-adds per second; then each table's Winograd transforms per layer, in microseconds.
#
#   Benchmarks/GEMM/bench-gemm.sh [rounds] [cold]    (default 5; `cold`: the products' weights and outputs not in cache)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${BENCH_OUT:-$ROOT/.build/bench-gemm}"
mkdir -p "$OUT"
"${CC:-clang}" -O3 -std=c11 -D_POSIX_C_SOURCE=200809L -I "$ROOT/Sources/CKernels/include" "$ROOT"/Sources/CKernels/*.c \
    "$ROOT/Benchmarks/GEMM/bench-gemm.c" -lm -o "$OUT/bench-gemm"
grep -m1 "model name" /proc/cpuinfo
"$OUT/bench-gemm" "${1:-5}" "${2:-hot}"
