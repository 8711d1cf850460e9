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
npx --prefix ui tauri build --bundles deb
ls -l "$CARGO_TARGET_DIR"/release/bundle/deb/*.deb
