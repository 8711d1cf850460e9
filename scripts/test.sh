#!/usr/bin/env bash
# The test command: installs what the tests need, fetches the real test media, and runs
# every test: the UI's unit tests, all Rust tests (storage ones against real S3 and Azure
# servers), then the desktop app end to end in a real
# window (Xvfb + WebKitWebDriver + tauri-driver, with a native drag-and-drop).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

export COMPRESSOR_MEDIA="${COMPRESSOR_MEDIA:-$HOME/.cache/compressor-media}"
tests/media/fetch.sh "$COMPRESSOR_MEDIA" >/dev/null

echo "== UI: build and unit tests"
npm_deps ui
npm --prefix ui run build
npm --prefix ui test

echo "== Rust tests"
# The storage tests start their own moto_server (pip, by setup.sh), Azurite (npm, here) and
# Secret Service (gnome-keyring on a private D-Bus session), each on a free loopback port.
npm_deps tests/servers
# Every program first: the tests run the CLI and the media worker from the target folder.
cargo build --workspace --locked
cargo test --workspace --locked "$@"

echo "== Desktop app end to end (real window under Xvfb)"
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --quiet
npm_deps tests/e2e
export COMPRESSOR_APP="$CARGO_TARGET_DIR/debug/compressor-desktop"
export COMPRESSOR_SCREENSHOTS="${COMPRESSOR_SCREENSHOTS:-$CARGO_TARGET_DIR/e2e-screenshots}"
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- npm --prefix tests/e2e test
echo "Screenshots: $COMPRESSOR_SCREENSHOTS"
