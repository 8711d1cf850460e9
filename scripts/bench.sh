#!/usr/bin/env bash
# Benchmark: installs the peer tools (jpegoptim, pngquant, cwebp, vips from apt; oxipng and Caesium's CLI
# from crates.io, into ~/.cache/compressor/bench-tools), builds our CLI in release mode, and
# prints a Markdown table of bytes, time, peak memory and SSIMULACRA2 per file and tool, then
# the watched-folder latency (close → output, p50/p95) and burst throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

for p in jpegoptim pngquant webp libvips-tools time fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=600 $missing >/dev/null
fi
tools="$HOME/.cache/compressor/bench-tools"
[ -x "$tools/bin/oxipng" ] || cargo install --locked --quiet --root "$tools" oxipng
[ -x "$tools/bin/caesiumclt" ] || cargo install --locked --quiet --root "$tools" caesiumclt

media=$(tests/media/fetch.sh)
# The larger photo set: every 2560x1600 photo in Plasma's wallpaper package (twelve; the test
# media holds five of them), downloaded, not installed.
if [ ! -f "$media/bench-photos/.complete" ]; then
  work=$(mktemp -d)
  dl_opts=(); [ "$(id -u)" -eq 0 ] && dl_opts=(-o APT::Sandbox::User=root)
  (cd "$work" && apt-get "${dl_opts[@]}" download -qq plasma-workspace-wallpapers)
  dpkg-deb --fsys-tarfile "$work"/plasma-workspace-wallpapers_*.deb |
    tar -x -C "$work" --wildcards --no-anchored 'usr/share/wallpapers/*/contents/images/2560x1600.jpg'
  mkdir -p "$media/bench-photos"
  for f in "$work"/usr/share/wallpapers/*/contents/images/2560x1600.jpg; do
    name=$(basename "$(dirname "$(dirname "$(dirname "$f")")")")
    [ -s "$f" ] && cp "$f" "$media/bench-photos/$name.jpg"
  done
  rm -rf "$work"
  touch "$media/bench-photos/.complete"
fi
cargo build --release --locked -p compressor-cli -p compressor-media -p compressor-bench
mkdir -p bench-results
"$CARGO_TARGET_DIR/release/compressor-bench" "$media" "$CARGO_TARGET_DIR/release/compressor" "$tools" bench-results |
  tee bench-results/table.md
echo
echo "Watched folder: latency from a file's close to its output, and a burst"
"$CARGO_TARGET_DIR/release/watch-latency" tests/fixtures/photo.jpg 40 1000
"$CARGO_TARGET_DIR/release/watch-latency" "$media/jpeg/Kite.jpg" 20 100
