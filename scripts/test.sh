#!/usr/bin/env bash
# The test command: installs what the tests need, fetches the real test media, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

export COMPRESSOR_MEDIA="${COMPRESSOR_MEDIA:-$HOME/.cache/compressor-media}"
tests/media/fetch.sh "$COMPRESSOR_MEDIA" >/dev/null

cargo test --workspace --locked "$@"
