#!/usr/bin/env bash
# What the audit trail costs the API: benches/api.sh's Encrypt of 1 KB, ROUNDS times with the trail
# and ROUNDS times without (KEYCONSOLE_AUDIT=off), interleaved so that a slow minute of the VM hits
# both alike. A round during which the host stole more than 1% of the CPU is left out (it says
# how many). Prints the medians of requests/s and of CPU time per request, and on/off as a ratio.
# Usage: benches/audit_cost.sh [ROUNDS] [SECONDS] [CONNECTIONS...]   (defaults 6, 6, "8 32")
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
seconds=${2:-6}
shift $(($# < 2 ? $# : 2))
connections=("$@")
[[ ${#connections[@]} -eq 0 ]] && connections=(8 32)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo build --release --quiet
for c in "${connections[@]}"; do
  for _ in $(seq "$rounds"); do
    for mode in on off; do
      if [[ $mode == off ]]; then
        line=$(KEYCONSOLE_AUDIT=off benches/api.sh "$seconds" "$c" Encrypt 2>&1 | grep -E "Requests/sec|steal|CPU per" | tr '\n' ' ')
      else
        line=$(env -u KEYCONSOLE_AUDIT benches/api.sh "$seconds" "$c" Encrypt 2>&1 | grep -E "Requests/sec|steal|CPU per" | tr '\n' ' ')
      fi
      echo "$c $mode $line" | tee -a "$log"
    done
  done
done
python3 - "$log" <<'PY'
import re, statistics, sys
runs, dropped = {}, 0
for line in open(sys.argv[1]):
    m = re.match(r"(\d+) (\w+) Requests/sec:\s+([\d.]+) cpu steal during the run: ([\d.]+)%"
                 r" CPU per request: server ([\d.]+) us, machine ([\d.]+) us", line)
    if not m:
        continue
    if float(m.group(4)) > 1.0:
        dropped += 1
        continue
    runs.setdefault((int(m.group(1)), m.group(2)), []).append(
        (float(m.group(3)), float(m.group(5)), float(m.group(6))))
for c in sorted({c for c, _ in runs}):
    on, off = runs.get((c, "on"), []), runs.get((c, "off"), [])
    if not on or not off:
        print(f"{c} connections: too few rounds without steal")
        continue
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    print(f"{c} connections ({len(on)} rounds on, {len(off)} off): "
          f"{med(on, 0):,.0f} vs {med(off, 0):,.0f} requests/s ({med(on, 0) / med(off, 0):.1%}); "
          f"CPU per request {med(on, 2):.2f} vs {med(off, 2):.2f} us "
          f"(without the trail's cost: {med(off, 2) / med(on, 2):.1%})")
print(f"rounds left out for steal over 1%: {dropped}")
PY
