#!/usr/bin/env bash
# The newer picture formats against their peers (crates/bench/src/formats.rs): HEIC in against
# heif-convert, JPEG XL out against our own JPEG and cjxl, lossless JPEG → JPEG XL against cjxl,
# with SSIMULACRA2 and djxl's rebuild of the original. The peers (libheif-examples,
# libjxl-tools) come with scripts/setup.sh. BENCH_PROFILE=dev uses the test build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
media=$(tests/media/fetch.sh)
profile="${BENCH_PROFILE:-release}"
if [ "$profile" = dev ]; then
  cargo build --locked --workspace
  bin="$CARGO_TARGET_DIR/debug"
else
  cargo build --release --locked -p compressor-cli -p compressor-media -p compressor-bench
  bin="$CARGO_TARGET_DIR/release"
fi
"$bin/format-bench" "$media" "$bin/compressor"
