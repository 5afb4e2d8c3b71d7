#!/usr/bin/env bash
# What the audit trail costs the API: two `keyconsole serve` side by side, one with the trail and
# one without (KEYCONSOLE_AUDIT=off), each given benches/api.sh's Encrypt of 1 KB by wrk in turn,
# SECONDS at a time, ROUNDS times, the order swapped every round so neither always goes first (the
# other server is idle meanwhile). A round during which the host stole more than 1% of the CPU is
# left out. This VM's speed wanders by a fifth from one minute to the next; two runs seconds apart
# share it, so the figure is the median of each round's on/off ratio of requests/s. Also prints
# the medians of requests/s and of the server's CPU time per request.
# Usage: benches/audit_cost.sh [ROUNDS] [SECONDS] [CONNECTIONS...]   (defaults 15, 3, "8 32")
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-15}
seconds=${2:-3}
shift $(($# < 2 ? $# : 2))
connections=("$@")
[[ ${#connections[@]} -eq 0 ]] && connections=(8 32)
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
# KC_BIN: a binary built before (say, to compare two builds); otherwise this tree, built now.
[[ -n ${KC_BIN:-} ]] || cargo build --release --quiet
bin=${KC_BIN:-target/release/keyconsole}
keys=1 action=Encrypt scheme=http tls_args=()
unset KEYCONSOLE_AUDIT
work_on=$(mktemp -d "${TMPDIR:-/tmp}/kc-audit-on.XXXXXX")
work_off=$(mktemp -d "${TMPDIR:-/tmp}/kc-audit-off.XXXXXX")
log=$work_on/rounds.log
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null && wait "$p"; done; rm -rf "$work_on" "$work_off"' EXIT
source benches/api_server.sh
source benches/wrk_with_steal.sh
start_api_server "$work_on"
server_on=$server endpoint_on=$endpoint
servers+=("$server")
KEYCONSOLE_AUDIT=off start_api_server "$work_off"
server_off=$server endpoint_off=$endpoint
servers+=("$server")

# One run of wrk against one server: prints "CONNECTIONS MODE ROUND requests/s steal% CPUus".
run() {
  local c=$1 mode=$2 round=$3 pid endpoint work before after out
  if [[ $mode == on ]]; then pid=$server_on endpoint=$endpoint_on work=$work_on; else
    pid=$server_off endpoint=$endpoint_off work=$work_off; fi
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk_with_steal -t1 -c"$c" -d"${seconds}s" -s "$work/encrypt.lua" "http://$endpoint/")
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  if ! grep -q "answers without a CiphertextBlob: 0$" <<<"$out"; then
    echo "$mode: some answers were not a ciphertext:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -v c="$c" -v m="$mode" -v r="$round" -v hz="$(getconf CLK_TCK)" -v cpu=$((after - before)) \
    -v n="$(awk '/requests in/ {print $1}' <<<"$out")" \
    -v rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    -v steal="$(grep -o '[0-9.]*%' <<<"$(grep 'cpu steal' <<<"$out")" | tr -d %)" \
    'BEGIN {printf "%s %s %s %s %s %.2f\n", c, m, r, rps, steal, 1e6 * cpu / hz / n}'
}

for c in "${connections[@]}"; do
  run "$c" on 0 >/dev/null # warm both up (first connections, page cache, the trail's first segment)
  run "$c" off 0 >/dev/null
  for round in $(seq "$rounds"); do
    if ((round % 2)); then order=(on off); else order=(off on); fi
    for mode in "${order[@]}"; do run "$c" "$mode" "$round" | tee -a "$log"; done
  done
done

python3 - "$log" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    c, mode, rnd, rps, steal, cpu = line.split()
    runs[(int(c), int(rnd), mode)] = (float(rps), float(steal), float(cpu))
dropped = 0
for c in sorted({k[0] for k in runs}):
    ratios, on, off = [], [], []
    for rnd in sorted({k[1] for k in runs if k[0] == c}):
        a, b = runs.get((c, rnd, "on")), runs.get((c, rnd, "off"))
        if not a or not b:
            continue
        if a[1] > 1.0 or b[1] > 1.0:
            dropped += 1
            continue
        ratios.append(a[0] / b[0])
        on.append(a)
        off.append(b)
    if not ratios:
        print(f"{c} connections: every round had steal over 1%")
        continue
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    print(f"{c} connections, {len(ratios)} rounds: with the trail {statistics.median(ratios):.1%} of "
          f"without (median of the rounds' ratios; quartiles {q[0]:.1%}-{q[2]:.1%}); "
          f"{med(on, 0):,.0f} vs {med(off, 0):,.0f} requests/s; "
          f"server CPU per request {med(on, 2):.2f} vs {med(off, 2):.2f} us")
print(f"rounds left out for steal over 1%: {dropped}")
PY
