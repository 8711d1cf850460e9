#!/usr/bin/env bash
# Big files in bounded memory: raw 1080p AVIs of about 1 GB and 2 GB (ffmpeg's testsrc2 and a
# tone), compressed by our release CLI and by the ffmpeg CLI with the same settings our report
# names (H.264 CRF 28, x264 medium, AAC 96 kbit/s, MP4 with faststart); then a ZIP of about
# 2 GB of photos and incompressible data; then `compressor serve` taking a 2 GB upload as an
# async job and serving a 2 GB result. Peak resident memory of each whole process tree
# (scripts/peak.py) and wall time. The inputs are generated, used and deleted; they need
# about 6 GB free in BENCH_DIR (default /tmp). BENCH_ONLY=video stops after the videos.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# BENCH_PROFILE=dev measures the test build instead (its dependencies are optimised as in
# release; video time is FFmpeg's own C code either way).
if [ "${BENCH_PROFILE:-release}" = dev ]; then
  cargo build --locked -p compressor-cli -p compressor-media
  bin="$CARGO_TARGET_DIR/debug"
else
  cargo build --release --locked -p compressor-cli -p compressor-media
  bin="$CARGO_TARGET_DIR/release"
fi
work=$(mktemp -d -p "${BENCH_DIR:-/tmp}" compressor-bench-big.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
peak() { python3 scripts/peak.py "$@"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

echo "| input | ours: peak RSS, time | ffmpeg CLI: peak RSS, time | RSS ratio | time ratio |"
echo "|---|---:|---:|---:|---:|"
for seconds in 11 22; do # 3.1 MB a frame at 30 fps: about 1 GB and 2 GB
  ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
    -t "$seconds" -c:v rawvideo -pix_fmt yuv420p -c:a pcm_s16le "$work/raw.avi"
  size=$(stat -c %s "$work/raw.avi")
  read -r ours_mb ours_s < <(peak "$bin/compressor" compress --suffix -ours "$work/raw.avi")
  read -r ff_mb ff_s < <(peak ffmpeg -v error -y -i "$work/raw.avi" -c:v libx264 -preset medium -crf 28 \
    -pix_fmt yuv420p -c:a aac -b:a 96k -movflags +faststart "$work/raw-ffmpeg.mp4")
  echo "| raw 1080p AVI, $((size / 1000000)) MB | $ours_mb MB, $ours_s s | $ff_mb MB, $ff_s s | $(ratio "$ours_mb" "$ff_mb") | $(ratio "$ours_s" "$ff_s") |"
  rm -f "$work"/raw*
done
[ "${BENCH_ONLY:-}" = video ] && exit 0

# A ZIP of about 2 GB: every photo of the test media, then 1.9 GB of random data in 100 MB members.
mkdir -p "$work/zip"
media=$(tests/media/fetch.sh)
cp "$media"/jpeg/*.jpg "$media"/png/*.png "$work/zip/"
for n in $(seq -w 1 19); do head -c 100000000 /dev/urandom >"$work/zip/random-$n.bin"; done
(cd "$work/zip" && zip -q -r ../photos.zip .)
rm -rf "$work/zip"
size=$(stat -c %s "$work/photos.zip")
read -r zip_mb zip_s < <(peak "$bin/compressor" compress --max-expanded-mb 4096 --suffix -ours "$work/photos.zip")
echo
echo "ZIP of $((size / 1000000)) MB (photos and random data): peak RSS $zip_mb MB, $zip_s s"
rm -f "$work"/photos*

# compressor serve: a 2 GB upload as an async job (a raw video, compressed) and a 2 GB
# result downloaded (a ZIP of random data, which cannot be made smaller: the result is itself).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "bench-key-$$" >"$work/keys"
COMPRESSOR_CONFIG_DIR="$work/config" "$bin/compressor" serve --listen "127.0.0.1:$port" --api-key-file "$work/keys" \
  --data-dir "$work/data" --max-size-mb 4096 2>/dev/null &
server=$!
python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); break
    except OSError:
        time.sleep(0.1)
PY
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server/status"; }
hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$server/status"; }
ffmpeg -v error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -t 22 -c:v rawvideo -pix_fmt yuv420p "$work/upload.avi"
head -c 2000000000 /dev/urandom >"$work/random.bin" && (cd "$work" && zip -q -0 random.zip random.bin) && rm "$work/random.bin"
# Uploads FILE as an async job and waits for its answer (in $work/job.json).
upload() {
  local job id
  job=$(curl -sf -u "bench-key-$$:" -F "file=@$1" -F 'options={"async": true}' "http://127.0.0.1:$port/1.0/upload")
  id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$job")
  until curl -sf -u "bench-key-$$:" "http://127.0.0.1:$port/1.0/jobs/$id?wait=60" -o "$work/job.json" -w '%{http_code}' |
    grep -q 200; do :; done
}
before=$(rss)
upload "$work/upload.avi"
echo
echo "compressor serve: RSS $before MB at rest"
echo "- a 2 GB video uploaded as an async job and compressed: peak $(hwm) MB (rise $(($(hwm) - before)) MB)"
upload "$work/random.zip"
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$work/job.json")
curl -sf "$url" -o /dev/null
echo "- then a 2 GB ZIP uploaded, and its 2 GB result downloaded: peak $(hwm) MB (rise $(($(hwm) - before)) MB)"
