#!/usr/bin/env bash
# Fetch real test media for Compressor's integration tests and benchmarks.
#
# Usage: tests/media/fetch.sh [DEST]
#   DEST defaults to $COMPRESSOR_MEDIA, else ~/.cache/compressor-media.
#   Only DEST is printed on stdout (as the last and only line), progress goes to stderr, so
#   `media=$(tests/media/fetch.sh)` works. Idempotent: once DEST/.complete exists a re-run
#   just prints DEST and exits.
#
# Needs a Debian/Ubuntu machine with apt-get. The media come out of ordinary Debian packages:
# they are downloaded with `apt-get download` (not installed) and only the listed files are
# extracted with dpkg-deb. The only package installed is `imagemagick` (for /usr/bin/convert),
# and only when /usr/bin/convert is missing; that needs root or sudo.
#
# Layout of DEST (licences: see tests/fixtures/README.md):
#   jpeg/   EveningGlow FallenLeaf ColorfulCups Kite Path .jpg   2560x1600  plasma-workspace-wallpapers
#   png/    astronaut coffee chelsea camera .png                              python3-skimage
#   pdf/    GS9_Color_Management.pdf                                          ghostscript-doc
#   video/  Megamind.avi vtest.avi                                            opencv-doc
#   audio/  Front_Center.wav Noise.wav (alsa-utils), complete.oga (sound-theme-freedesktop)
#   icc/    DisplayP3.icm (public domain, Graeme Gill)                        argyll-ref
#   large/  big-photo.jpg  5640x3172, 12-18 MB: jpeg/Path.jpg upscaled with ImageMagick,
#           light seeded Gaussian grain, quality 97 (adjusted to land in 12-18 MB), 4:4:4
set -euo pipefail

dest=${1:-${COMPRESSOR_MEDIA:-$HOME/.cache/compressor-media}}
if [ -f "$dest/.complete" ]; then echo "$dest"; exit 0; fi

log() { echo "fetch.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

command -v apt-get >/dev/null || die "apt-get not found: this script needs Debian or Ubuntu"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"

# Run a command as root: directly when root, else through sudo (non-interactive if possible).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else return 1
  fi
}
apt_opts=(-o DPkg::Lock::Timeout=600)
# As root apt drops to user _apt for downloads and warns when _apt cannot write the target dir.
dl_opts=()
[ "$(id -u)" -eq 0 ] && dl_opts=(-o APT::Sandbox::User=root)

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

log "apt-get update"
as_root apt-get "${apt_opts[@]}" update -qq >&2 || log "warning: apt-get update failed; using existing package lists"

pkgs=(plasma-workspace-wallpapers python3-skimage ghostscript-doc opencv-doc alsa-utils
      sound-theme-freedesktop argyll-ref)
log "apt-get download ${pkgs[*]}"
apt-get "${dl_opts[@]}" download -qq "${pkgs[@]}" >&2

# Extract only the files we need (patterns are tar wildcards on the .deb's data members).
extract() { # extract PACKAGE PATTERN...
  local deb
  deb=$(ls "$work"/"$1"_*.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || die "no .deb downloaded for $1"
  shift
  mkdir -p "$work/x"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards --no-anchored "$@" 2>/dev/null || true
}
extract plasma-workspace-wallpapers 'usr/share/wallpapers/*/contents/images/2560x1600.jpg'
extract python3-skimage 'skimage/data/astronaut.png' 'skimage/data/coffee.png' \
  'skimage/data/chelsea.png' 'skimage/data/camera.png'
extract ghostscript-doc 'usr/share/doc/ghostscript/GS9_Color_Management.pdf*'
extract opencv-doc 'examples/data/Megamind.avi' 'examples/data/vtest.avi'
extract alsa-utils 'usr/share/sounds/alsa/Front_Center.wav' 'usr/share/sounds/alsa/Noise.wav'
extract sound-theme-freedesktop 'usr/share/sounds/freedesktop/stereo/complete.oga'
extract argyll-ref 'usr/share/color/argyll/ref/DisplayP3.icm'
x=$work/x

mkdir -p "$dest"/{jpeg,png,pdf,video,audio,icc,large}

# jpeg/: five KDE wallpapers; if a newer Plasma renamed some, fill up with other 2560x1600 ones.
n=0
for w in EveningGlow FallenLeaf ColorfulCups Kite Path; do
  f=$x/usr/share/wallpapers/$w/contents/images/2560x1600.jpg
  if [ -s "$f" ]; then cp "$f" "$dest/jpeg/$w.jpg"; n=$((n + 1)); else log "warning: wallpaper $w not in package"; fi
done
if [ "$n" -lt 5 ]; then
  for f in "$x"/usr/share/wallpapers/*/contents/images/2560x1600.jpg; do
    [ "$n" -ge 5 ] && break
    [ -s "$f" ] || continue
    w=$(basename "$(dirname "$(dirname "$(dirname "$f")")")")
    [ -e "$dest/jpeg/$w.jpg" ] && continue
    cp "$f" "$dest/jpeg/$w.jpg"; n=$((n + 1)); log "using wallpaper $w instead"
  done
fi
[ "$n" -ge 1 ] || die "no 2560x1600 wallpapers found in plasma-workspace-wallpapers"

for p in astronaut coffee chelsea camera; do
  f=$(find "$x" -path "*/skimage/data/$p.png" | head -n1)
  [ -n "$f" ] || die "skimage $p.png not found"
  cp "$f" "$dest/png/"
done

f=$(find "$x" -name 'GS9_Color_Management.pdf*' | head -n1)
[ -n "$f" ] || die "GS9_Color_Management.pdf not found in ghostscript-doc"
case $f in
  *.gz) gzip -dc "$f" > "$dest/pdf/GS9_Color_Management.pdf" ;;
  *) cp "$f" "$dest/pdf/GS9_Color_Management.pdf" ;;
esac

for v in Megamind.avi vtest.avi; do
  f=$(find "$x" -path "*/examples/data/$v" | head -n1)
  [ -n "$f" ] || die "$v not found in opencv-doc"
  cp "$f" "$dest/video/"
done

for f in usr/share/sounds/alsa/Front_Center.wav usr/share/sounds/alsa/Noise.wav \
         usr/share/sounds/freedesktop/stereo/complete.oga; do
  [ -s "$x/$f" ] || die "$f not found"
  cp "$x/$f" "$dest/audio/"
done

[ -s "$x/usr/share/color/argyll/ref/DisplayP3.icm" ] || die "DisplayP3.icm not found in argyll-ref"
cp "$x/usr/share/color/argyll/ref/DisplayP3.icm" "$dest/icc/"

# large/big-photo.jpg needs the real ImageMagick. /usr/bin/convert is called by full path on
# purpose: another `convert` earlier on PATH may not be ImageMagick.
convert=/usr/bin/convert
if ! { [ -x "$convert" ] && "$convert" -version 2>/dev/null | grep -q ImageMagick; }; then
  log "installing imagemagick"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq \
    --no-install-recommends imagemagick >&2 || die "could not install imagemagick (need root or sudo)"
  [ -x "$convert" ] || die "/usr/bin/convert still missing after installing imagemagick"
fi

src=$dest/jpeg/Path.jpg
[ -f "$src" ] || src=$(ls "$dest"/jpeg/*.jpg | head -n1)
big=$dest/large/big-photo.jpg
min=$((12 * 1000 * 1000)) max=$((18 * 1000 * 1000))
# Upscaling alone gives a too-smooth image (~7 MB at q97); a little fixed-seed grain makes it
# look and compress like a real ~18 MP camera photo, and keeps the output reproducible.
size=0
for q in 97 98 96 99 95 100 94 93 92 90; do
  log "making large/big-photo.jpg (quality $q)"
  "$convert" "$src" -seed 42 -resize '5640x3172!' -attenuate 0.2 +noise Gaussian \
    -sampling-factor 4:4:4 -quality "$q" "$work/big.jpg"
  size=$(stat -c %s "$work/big.jpg")
  if [ "$size" -ge "$min" ] && [ "$size" -le "$max" ]; then break; fi
  log "quality $q gave $size bytes, outside 12-18 MB"
done
[ "$size" -ge "$min" ] && [ "$size" -le "$max" ] || log "warning: big-photo.jpg is $size bytes, outside 12-18 MB"
mv "$work/big.jpg" "$big"

touch "$dest/.complete"
log "done"
echo "$dest"
