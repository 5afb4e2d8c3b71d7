#!/usr/bin/env bash
# Time from starting the release binary to its first frame, under Xvfb with software OpenGL.
# The first frame sets the window title to "keyconsole — <file> (locked)"; we poll for it every 2 ms.
# Usage: benches/startup.sh [RUNS]   (needs Xvfb and xdotool: scripts/test.sh installs them)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
cargo build --release --quiet
display=:$((200 + RANDOM % 50))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
tmp=$(mktemp -d)
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  DISPLAY=$display XDG_CONFIG_HOME=$tmp XDG_DATA_HOME=$tmp target/release/keyconsole --keystore "$tmp/none.kcks" >/dev/null 2>&1 &
  app=$!
  while :; do
    win=$(DISPLAY=$display xdotool search --pid "$app" 2>/dev/null | head -n 1 || true)
    if [[ -n $win ]] && DISPLAY=$display xdotool getwindowname "$win" 2>/dev/null | grep -q "(locked)"; then
      break
    fi
    sleep 0.002
  done
  end=$(date +%s%N)
  kill "$app"; wait "$app" 2>/dev/null || true
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "first frame after start, $runs runs (ms): ${times[*]}"
echo "median: ${sorted[$((runs / 2))]} ms"
