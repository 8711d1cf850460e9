#!/usr/bin/env bash
# Builds the desktop app's Debian package with the npm Tauri CLI (release build).
# AppImage is not built: its tooling (linuxdeploy) is downloaded from outside the package
# registries, which this project's machines cannot reach.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
npm_deps ui
# The CLI would guess the frontend folder from the first package.json it finds (tests/e2e):
# name both folders, so its hooks (npm run build) run in ui/.
export TAURI_APP_PATH=. TAURI_FRONTEND_PATH=ui
# FFmpeg runs in compressor-media-worker, a program of its own: the package installs it in
# /usr/lib/compressor/, where the app looks for it (see the engine's media::worker). Its path
# depends on CARGO_TARGET_DIR, so it is given here rather than in tauri.conf.json.
cargo build --release -p compressor-media --bin compressor-media-worker
worker="$CARGO_TARGET_DIR/release/compressor-media-worker"
npx --prefix ui tauri build --bundles deb \
  --config "{\"bundle\":{\"linux\":{\"deb\":{\"files\":{\"/usr/lib/compressor/compressor-media-worker\":\"$worker\"}}}}}"
deb=$(ls "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb)
ls -l $deb
# The worker is in the package, where the app finds it. (The listing is read whole: grep -q
# closing the pipe early would fail the script under pipefail.)
contents=$(dpkg-deb --contents $deb)
grep -qE ' (\./)?usr/lib/compressor/compressor-media-worker$' <<<"$contents" ||
  { echo "the package lacks /usr/lib/compressor/compressor-media-worker" >&2; exit 1; }
