#!/usr/bin/env bash
# Builds the libFuzzer targets for the HTTP request parser, the multipart parser, the Open Inference Protocol /
# KServe v1 body readers (seeds in Fuzz/Service/seeds) and the W3C trace context reader (Fuzz/Telemetry/seeds), then
# runs each for
# SECONDS (default 60) from the seed corpora in Fuzz/HTTP/seeds (the parser test table, the llhttp corpus and
# the multipart cases; kept in sync by the fuzzSeedCorporaMatchTheTables test). Exits non-zero on any crash,
# leak, timeout or broken invariant; the failing input is left in $OUT/artifacts.
#
#   Fuzz/fuzz-http.sh [seconds]
#
# Compiles and fuzzes under the shared build lock (SWIFT_LOCK, default /tmp/swift-build.lock) because the
# machine is shared with other builds.
set -euo pipefail

SECONDS_PER_TARGET="${1:-60}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${FUZZ_OUT:-$ROOT/.build/fuzz-http}"
LOCK="${SWIFT_LOCK:-/tmp/swift-build.lock}"
SWIFTC="${SWIFTC:-swiftc}"
mkdir -p "$OUT/artifacts"

locked() { flock "$LOCK" "$@"; }

# The HTTP target imports two C shims (COpenSSL for TLS, CEpoll for the event loop): outside SwiftPM, swiftc needs a
# module map for each header and the shims compiled by the toolchain's clang (one libFuzzer/ASan runtime for C and
# Swift).
CLANG="${CLANG:-$(dirname "$(readlink -f "$(command -v "$SWIFTC")")")/clang}"
shim() { # module header source
    mkdir -p "$OUT/modules/$1"
    printf 'module %s {\n    header "%s"\n    export *\n}\n' "$1" "$ROOT/Sources/$1/include/$2" >"$OUT/modules/$1/module.modulemap"
    locked "$CLANG" -O1 -g -fsanitize=fuzzer-no-link,address -I "$ROOT/Sources/$1/include" -c "$ROOT/Sources/$1/$3" -o "$OUT/$1.o"
}
shim COpenSSL copenssl.h shim.c
shim CEpoll cepoll.h cepoll.c

build() { # name entry-file
    echo "== building $1"
    # ld.gold warns once per ASan helper symbol; keep the log, show it only if the build fails.
    if ! locked "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -O -module-name HTTP -I "$OUT/modules/COpenSSL" \
        -I "$OUT/modules/CEpoll" "$ROOT"/Sources/HTTP/*.swift "$ROOT/Fuzz/HTTP/$2" "$OUT/COpenSSL.o" "$OUT/CEpoll.o" \
        -lssl -lcrypto -o "$OUT/$1" >"$OUT/$1.build.log" 2>&1; then
        cat "$OUT/$1.build.log" >&2
        exit 1
    fi
}

fuzz() { # name seed-dir max-len
    local corpus="$OUT/corpus-$1"
    mkdir -p "$corpus"
    echo "== fuzzing $1 for ${SECONDS_PER_TARGET}s (seeds: $2)"
    # New inputs go to the work corpus; the checked-in seeds are read only.
    local status=0
    locked "$OUT/$1" -max_total_time="$SECONDS_PER_TARGET" -max_len="$3" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$OUT/artifacts/$1-" -print_final_stats=1 "$corpus" "$2" >"$OUT/$1.log" 2>&1 || status=$?
    grep -E "INITED|DONE|^Done|stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|deadly signal" "$OUT/$1.log" || true
    if [ "$status" -ne 0 ]; then
        echo "!! $1 failed (exit $status); see $OUT/$1.log and $OUT/artifacts" >&2
        exit "$status"
    fi
}

build fuzz-request-parser RequestParserFuzz.swift
build fuzz-multipart MultipartFuzz.swift
# The Open Inference Protocol / KServe v1 body readers are self-contained files of the Service target.
echo "== building fuzz-inference-request"
if ! locked "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -O -module-name Service \
    "$ROOT/Sources/Service/OpenInferenceTypes.swift" "$ROOT/Sources/Service/KServeV1Types.swift" \
    "$ROOT/Fuzz/Service/InferenceRequestFuzz.swift" -o "$OUT/fuzz-inference-request" >"$OUT/fuzz-inference-request.build.log" 2>&1; then
    cat "$OUT/fuzz-inference-request.build.log" >&2
    exit 1
fi
# The trace context reader is a self-contained file of the Telemetry target.
echo "== building fuzz-trace-context"
if ! locked "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -O -module-name Telemetry \
    "$ROOT/Sources/Telemetry/TraceContext.swift" "$ROOT/Fuzz/Telemetry/TraceContextFuzz.swift" \
    -o "$OUT/fuzz-trace-context" >"$OUT/fuzz-trace-context.build.log" 2>&1; then
    cat "$OUT/fuzz-trace-context.build.log" >&2
    exit 1
fi
fuzz fuzz-request-parser "$ROOT/Fuzz/HTTP/seeds/request" 8192
fuzz fuzz-multipart "$ROOT/Fuzz/HTTP/seeds/multipart" 65536
fuzz fuzz-inference-request "$ROOT/Fuzz/Service/seeds/inference" 65536
fuzz fuzz-trace-context "$ROOT/Fuzz/Telemetry/seeds/tracecontext" 1024
echo "== no crashes"
