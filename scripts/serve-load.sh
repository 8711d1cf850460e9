#!/usr/bin/env bash
# Load on `compressor serve`, loopback only: a real JPEG uploaded at 110 requests/s (the
# hosted API's advertised sustained rate) for 60 s, then a burst of 200 past a limit of 50.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo build --release -p compressor-cli -p compressor-bench --bin compressor --bin serve-load
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
echo "load-key-$$" > "$work/keys"
serve() { COMPRESSOR_CONFIG_DIR="$work/config" "$bin/compressor" serve --api-key-file "$work/keys" --data-dir "$work/data-$1" --listen "127.0.0.1:$1" "${@:2}" 2>/dev/null & sleep 1; }
serve 18480
"$bin/serve-load" http://127.0.0.1:18480 "load-key-$$" tests/fixtures/photo.jpg 110 60
serve 18481 --rate-limit 50
"$bin/serve-load" http://127.0.0.1:18481 "load-key-$$" tests/fixtures/photo.jpg burst 200
