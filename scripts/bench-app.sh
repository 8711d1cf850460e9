#!/usr/bin/env bash
# Desktop app start-up and idle memory (a benchmark, not a test). Launches the release build
# under Xvfb: the UI calls `ui_ready` once presets, settings and listeners are in place, and
# with COMPRESSOR_EXIT_WHEN_READY=1 the app prints the time since its process started and
# quits. Idle memory is the proportional set size of the app and its WebKit processes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
app="$CARGO_TARGET_DIR/release/compressor-desktop"
[ -x "$app" ] || { echo "build it first: scripts/package.sh or scripts/app.sh" >&2; exit 1; }
export COMPRESSOR_CONFIG_DIR="$(mktemp -d)"

run_xvfb() { xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$@"; }

echo "| run | process start → interactive window (ms) |"
echo "|---:|---:|"
for run in 1 2 3 4 5; do
  ms=$(COMPRESSOR_EXIT_WHEN_READY=1 run_xvfb "$app" 2>&1 | sed -n 's/.*interactive after \([0-9]*\) ms.*/\1/p' || true)
  echo "| $run | ${ms:-failed} |"
done

report=$(mktemp)
run_xvfb bash -c '
  "$1" & pid=$!
  sleep 6
  total=0
  for p in $pid $(pgrep -P "$pid" || true); do
    # PSS: shared libraries are split between the processes that map them, not counted thrice.
    pss=$(awk "/^Pss:/ {print \$2}" /proc/$p/smaps_rollup 2>/dev/null || echo 0)
    total=$((total + pss))
    echo "| $(cat /proc/$p/comm) | $((pss / 1024)) |" >> "$2"
  done
  kill $pid
  echo "| all | $((total / 1024)) |" >> "$2"' _ "$app" "$report" >/dev/null 2>&1
echo
echo "Idle memory 6 s after start (proportional set size, MB):"
echo
echo "| process | MB |"
echo "|---|---:|"
cat "$report"
