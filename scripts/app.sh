#!/usr/bin/env bash
# Builds and opens the desktop app (release build; the first one takes several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
npm_deps ui
npm --prefix ui run build
# The app runs FFmpeg in compressor-media-worker, which must sit beside it.
cargo build --release --locked -p compressor-desktop -p compressor-media
exec "$CARGO_TARGET_DIR/release/compressor-desktop" "$@"
