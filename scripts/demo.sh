#!/usr/bin/env bash
# The main job on the bundled samples: builds the CLI and compresses samples/ into a
# temporary folder, printing before/after sizes. Pass other paths to compress those instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# The CLI opens the media module (FFmpeg) beside it when the first video or audio file comes.
cargo build --locked -p compressor-cli -p compressor-media
out="${COMPRESSOR_DEMO_OUT:-$(mktemp -d)/compressed}"
if (($#)); then inputs=("$@"); else inputs=(samples); fi
"$CARGO_TARGET_DIR/debug/compressor" compress "${inputs[@]}" --out "$out"
echo "Results are in $out"
