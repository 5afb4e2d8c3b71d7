# Sourced by the side-by-side API benchmarks (audit_cost.sh, dialects.sh). Several `keyconsole
# serve` run at once, each made by start_api_server (benches/api_server.sh) and named with
# `add_variant NAME WORK`; `run_rounds LOG ROUNDS SECONDS CONNECTIONS…` gives each in turn wrk for
# SECONDS, ROUNDS times, the order rotated every round so none always goes first (the others are
# idle meanwhile); `summarize LOG BASELINE` prints, per number of connections, each variant's
# requests/s as a share of BASELINE's: the median over the rounds of the two runs' ratio, leaving
# out a pair during which the host stole more than 1% of the CPU. This VM's speed wanders by a
# fifth from one minute to the next; runs seconds apart share it, hence ratios per round.
source benches/wrk_with_steal.sh

# The scripts' arguments: ROUNDS SECONDS CONNECTIONS… into $rounds, $seconds and $connections
# (defaults 15, 3 and DEFAULT_CONNECTIONS, the first argument); wrk installed if missing; $bin the
# binary KC_BIN names (say, to compare two builds), else this tree's, built now.
read_round_arguments() {
  local default_connections=$1
  shift
  rounds=${1:-15}
  seconds=${2:-3}
  shift $(($# < 2 ? $# : 2))
  connections=("$@")
  [[ ${#connections[@]} -eq 0 ]] && read -r -a connections <<<"$default_connections"
  command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  [[ -n ${KC_BIN:-} ]] || cargo build --release --quiet
  bin=${KC_BIN:-target/release/keyconsole}
}

variants=() variant_pids=() variant_endpoints=() variant_works=()

# Names the server start_api_server just started ($server, $endpoint) with the folder it used.
add_variant() {
  variants+=("$1")
  variant_pids+=("$server")
  variant_endpoints+=("$endpoint")
  variant_works+=("$2")
}

# One run of wrk against variant I: prints "CONNECTIONS NAME ROUND requests/s steal% CPUus".
run_variant() {
  local i=$1 c=$2 round=$3 pid=${variant_pids[$1]} before after out
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(wrk_with_steal -t1 -c"$c" -d"${seconds}s" -s "${variant_works[$i]}/encrypt.lua" \
    "http://${variant_endpoints[$i]}/")
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  # encrypt.lua counts answers that are not the action's success; a benchmark of errors is none.
  if ! grep -q "^answers without a .*: 0$" <<<"$out"; then
    echo "${variants[$i]}: some answers were not a success:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk -v c="$c" -v m="${variants[$i]}" -v r="$round" -v hz="$(getconf CLK_TCK)" -v cpu=$((after - before)) \
    -v n="$(awk '/requests in/ {print $1}' <<<"$out")" \
    -v rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    -v steal="$(grep -o '[0-9.]*%' <<<"$(grep 'cpu steal' <<<"$out")" | tr -d %)" \
    'BEGIN {printf "%s %s %s %s %s %.2f\n", c, m, r, rps, steal, 1e6 * cpu / hz / n}'
}

run_rounds() {
  local log=$1 rounds=$2 c i round n=${#variants[@]}
  seconds=$3
  shift 3
  for c in "$@"; do
    # Warm each up first (its first connections, the page cache, the trail's first segment).
    for i in "${!variants[@]}"; do run_variant "$i" "$c" 0 >/dev/null; done
    for round in $(seq "$rounds"); do
      for ((k = 0; k < n; k++)); do run_variant $(((round + k) % n)) "$c" "$round" | tee -a "$log"; done
    done
  done
}

summarize() {
  python3 - "$1" "$2" <<'PY'
import statistics, sys
log, baseline = sys.argv[1], sys.argv[2]
runs = {}
for line in open(log):
    c, name, rnd, rps, steal, cpu = line.split()
    runs[(int(c), name, int(rnd))] = (float(rps), float(steal), float(cpu))
names = list(dict.fromkeys(k[1] for k in runs))
for c in sorted({k[0] for k in runs}):
    rounds = sorted({k[2] for k in runs if k[0] == c})
    med = lambda rows, i: statistics.median(r[i] for r in rows)
    for name in (n for n in names if n != baseline):
        ratios, mine, base, dropped = [], [], [], 0
        for rnd in rounds:
            a, b = runs.get((c, name, rnd)), runs.get((c, baseline, rnd))
            if not a or not b:
                continue
            if a[1] > 1.0 or b[1] > 1.0:
                dropped += 1
                continue
            ratios.append(a[0] / b[0])
            mine.append(a)
            base.append(b)
        if not ratios:
            print(f"{c} connections, {name}: every round had steal over 1%")
            continue
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        print(f"{c} connections, {len(ratios)} rounds ({dropped} left out for steal): {name} "
              f"{statistics.median(ratios):.1%} of {baseline} (median of the rounds' ratios; quartiles "
              f"{q[0]:.1%}-{q[2]:.1%}); {med(mine, 0):,.0f} vs {med(base, 0):,.0f} requests/s; "
              f"server CPU per request {med(mine, 2):.2f} vs {med(base, 2):.2f} us")
PY
}
