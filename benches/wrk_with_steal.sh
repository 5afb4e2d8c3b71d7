# Sourced by the API benchmarks: `wrk_with_steal ARGS…` runs wrk, then prints the share of CPU time
# the host took from this VM meanwhile (steal), which slows every server alike and so tells a
# noisy minute from a slow server.
cpu_times() { awk '/^cpu / {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
wrk_with_steal() {
  local steal_before total_before steal_after total_after
  read -r steal_before total_before < <(cpu_times)
  wrk "$@"
  read -r steal_after total_after < <(cpu_times)
  awk -v s=$((steal_after - steal_before)) -v t=$((total_after - total_before)) \
    'BEGIN {printf "cpu steal during the run: %.1f%%\n", t ? 100 * s / t : 0}'
}
