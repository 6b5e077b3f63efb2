#!/usr/bin/env bash
# Builds the libFuzzer target over JPEG decode + preprocess (Fuzz/Imaging) with AddressSanitizer and
# runs it for the given number of seconds (default 60), seeded with the fixture images (Tests/Fixtures/images).
# Exits non-zero on any crash, sanitizer report, leak or per-input timeout; the reproducer is written
# to Fuzz/artifacts/. On a shared machine run it under the build lock:
#   flock /tmp/swift-build.lock Fuzz/fuzz-imaging.sh 60
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/.."
root=$(pwd)
. Tests/fixtures.sh
seeds=$(fixture images)
swiftc=${SWIFTC:-$(command -v swiftc)}
# The clang that ships with the Swift toolchain, so the C shim and Swift share one libFuzzer/ASan runtime.
clang=${CLANG:-$(dirname "$(readlink -f "$swiftc")")/clang}
build=$root/.build/fuzz-imaging
corpus=$root/Fuzz/corpus-imaging
artifacts=$root/Fuzz/artifacts
mkdir -p "$build/modules/CJPEG" "$corpus" "$artifacts"

# swiftc outside SwiftPM needs a module map for the shim's header.
cat > "$build/modules/CJPEG/module.modulemap" <<MAP
module CJPEG {
    header "$root/Sources/CJPEG/include/cjpeg.h"
    export *
}
MAP

"$clang" -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CJPEG/include \
    -c Sources/CJPEG/cjpeg.c -o "$build/cjpeg.o"
"$swiftc" -O -g -sanitize=fuzzer,address -parse-as-library -module-name ImagingFuzz \
    -I "$build/modules/CJPEG" \
    Sources/Imaging/*.swift Fuzz/Imaging/*.swift "$build/cjpeg.o" -ljpeg \
    -o "$build/imaging-fuzzer"

# New inputs go to the first (git-ignored) corpus directory; the fixtures are read-only seeds.
"$build/imaging-fuzzer" "$corpus" "$seeds" \
    -max_total_time="$seconds" -max_len=262144 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1
