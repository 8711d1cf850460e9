#!/usr/bin/env bash
# Fuzzes our parsers with cargo-fuzz (libFuzzer, nightly Rust): format detection and option
# JSON, the whole engine on any bytes (images, PDFs, zips, gzip), and the API's request
# parsing (JSON bodies, and multipart uploads through the server's router).
#   scripts/fuzz.sh [SECONDS per target, default 60]
# Seeds are in fuzz/corpus/TARGET (committed); what the fuzzer finds goes to a scratch
# corpus, and a crash is saved under fuzz/artifacts/TARGET/ and fails the script. Each
# crash found is fixed and its input added to tests/fixtures/fuzz/ as a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
seconds="${1:-60}"

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet

cd fuzz
for target in detect_and_options compress api_request; do
  scratch=$(mktemp -d)
  echo "== fuzzing $target for ${seconds}s"
  log="$scratch.log"
  status=0
  cargo +nightly fuzz run "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 ||
    status=$?
  grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|thread .* panicked|.*Test unit written)" "$log" || true
  rm -rf "$scratch" "$log"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $target found a crash (see fuzz/artifacts/$target/)" >&2
    exit 1
  fi
done
