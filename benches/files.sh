#!/usr/bin/env bash
# Side by side on the same file: cp (the I/O floor), keyconsole file encrypt/decrypt, and age.
# Wall time (median of 3 runs, each after `sync`) and peak memory (RSS). keyconsole fsyncs its output
# before renaming it into place (crash safety); cp and age do not, so "cp + sync" is shown too.
# Usage: benches/files.sh [SIZE_MIB]   (default 1024; installs age and GNU time if missing, as root)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
need=()
command -v age >/dev/null || need+=(age)
[[ -x /usr/bin/time ]] || need+=(time)
if [[ ${#need[@]} -gt 0 ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --quiet
bin=target/release/keyconsole
work=$(mktemp -d "${TMPDIR:-/tmp}/kc-files.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KEYCONSOLE_KEYSTORE=$work/keystore.kcks KEYCONSOLE_PASSWORD=benchmark-password
# A keystore with an 8 MiB KDF, so peak memory shows the file pipeline rather than the 64 MiB
# Argon2id of the default keystore (which any command's unlock costs once).
$bin init --kdf-memory-mib 8 >/dev/null 2>&1
$bin key create --alias bench >/dev/null
age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")

head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/input"
cat "$work/input" > /dev/null

measure() { # name, output file, command...
  local name=$1 out=$2; shift 2
  local runs=()
  for _ in 1 2 3; do
    rm -f "$out"; sync
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
    read -r secs kib < "$work/time"
    runs+=("$secs")
  done
  secs=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
  printf '| %-32s | %8.2f s | %6d MiB | %s |\n' "$name" "$secs" $((kib / 1024)) "${runs[*]}"
  echo "$secs" > "$work/last"
}

echo "File of $size_mib MiB on $(nproc) cores; wall time and peak RSS, one run each."
echo
echo "| what | median time | peak memory | runs (s) |"
echo "|---|---|---|---|"
measure "cp" "$work/copy" cp "$work/input" "$work/copy"; cp_s=$(cat "$work/last")
measure "cp + sync" "$work/copy" sh -c "cp '$work/input' '$work/copy' && sync"
measure "keyconsole file encrypt" "$work/input.kc" $bin file encrypt --key bench "$work/input" "$work/input.kc"; enc_s=$(cat "$work/last")
measure "keyconsole file decrypt" "$work/output" $bin file decrypt "$work/input.kc" "$work/output"; dec_s=$(cat "$work/last")
measure "age -r (encrypt)" "$work/input.age" age -r "$recipient" -o "$work/input.age" "$work/input"; age_enc_s=$(cat "$work/last")
measure "age -d (decrypt)" "$work/output.age" age -d -i "$work/age.key" -o "$work/output.age" "$work/input.age"; age_dec_s=$(cat "$work/last")
$bin file decrypt "$work/input.kc" "$work/output" --force
cmp "$work/input" "$work/output" && echo && echo "keyconsole's output is byte-identical to the input."
echo
awk -v c="$cp_s" -v e="$enc_s" -v d="$dec_s" -v ae="$age_enc_s" -v ad="$age_dec_s" 'BEGIN {
  printf "encrypt: %.2f x cp, %.2f x faster than age\n", e / c, ae / e
  printf "decrypt: %.2f x cp, %.2f x faster than age\n", d / c, ad / d
}'
