#!/usr/bin/env bash
# Files side by side, interleaved: keyconsole file encrypt/decrypt against age (as it is, and
# followed by an fsync of its output, since keyconsole makes its output durable before renaming
# it into place), rage, gpg (symmetric AES-256, no compression) and the I/O floor
# `dd bs=64K conv=fsync`. Every round runs every tool once on the same warm-cache input, in turn,
# so a slow minute of the machine hits all of them; the table gives medians and peak RSS, then the
# ratios the README quotes.
# Usage: benches/files.sh [SIZE_MIB] [ROUNDS]   (defaults 1024 and 5; KC_BASELINE=path/to/keyconsole
# adds an older build's encrypt and decrypt to every round, for an A/B of a change). Installs age, gpg and GNU
# time with apt-get when missing (as root) and rage with `cargo install` into target/peers.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
rounds=${2:-5}
need=()
command -v age >/dev/null || need+=(age)
command -v gpg >/dev/null || need+=(gpg)
[[ -x /usr/bin/time ]] || need+=(time)
if [[ ${#need[@]} -gt 0 ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[[ -x target/peers/bin/rage ]] || cargo install --quiet --locked --root target/peers rage
rage=target/peers/bin/rage
cargo build --release --quiet
bin=target/release/keyconsole
work=$(mktemp -d "${TMPDIR:-/tmp}/kc-files.XXXXXX")
trap 'rm -rf "$work"' EXIT
export KEYCONSOLE_KEYSTORE=$work/keystore.kcks KEYCONSOLE_PASSWORD=benchmark-password
# An 8 MiB KDF, so peak memory shows the file work; the default keystore's unlock adds 64 MiB of
# Argon2id once (reported apart below).
$bin init --kdf-memory-mib 8 >/dev/null 2>&1
$bin key create --alias bench >/dev/null
age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg_pass=(--batch --yes --quiet --pinentry-mode loopback --passphrase benchmark-password)

head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/input"
# The encrypted inputs of the decrypt runs, made once.
$bin file encrypt --key bench "$work/input" "$work/input.kc"
age -r "$recipient" -o "$work/input.age" "$work/input"
gpg "${gpg_pass[@]}" --symmetric --cipher-algo AES256 -z 0 -o "$work/input.gpg" "$work/input"
cat "$work/input" "$work/input.kc" "$work/input.age" "$work/input.gpg" >/dev/null

# name | input | output | command (run by sh -c; $W is the work folder)
tools=(
  "dd bs=64K conv=fsync|$work/input|$work/out.dd|dd if=\$W/input of=\$W/out.dd bs=64K conv=fsync status=none"
  "keyconsole file encrypt|$work/input|$work/out.kc|$bin file encrypt --key bench \$W/input \$W/out.kc"
  "age -r|$work/input|$work/out.age|age -r $recipient -o \$W/out.age \$W/input"
  "age -r + fsync|$work/input|$work/out.age|age -r $recipient -o \$W/out.age \$W/input && sync \$W/out.age"
  "rage -r|$work/input|$work/out.rage|$rage -r $recipient -o \$W/out.rage \$W/input"
  "gpg --symmetric|$work/input|$work/out.gpg|gpg ${gpg_pass[*]} --symmetric --cipher-algo AES256 -z 0 -o \$W/out.gpg \$W/input"
  "keyconsole file decrypt|$work/input.kc|$work/out.plain|$bin file decrypt \$W/input.kc \$W/out.plain"
  "age -d|$work/input.age|$work/out.plain|age -d -i \$W/age.key -o \$W/out.plain \$W/input.age"
  "age -d + fsync|$work/input.age|$work/out.plain|age -d -i \$W/age.key -o \$W/out.plain \$W/input.age && sync \$W/out.plain"
  "rage -d|$work/input.age|$work/out.plain|$rage -d -i \$W/age.key -o \$W/out.plain \$W/input.age"
  "gpg --decrypt|$work/input.gpg|$work/out.plain|gpg ${gpg_pass[*]} --decrypt -o \$W/out.plain \$W/input.gpg"
)
if [[ -n ${KC_BASELINE:-} ]]; then
  tools+=(
    "baseline file encrypt|$work/input|$work/out.kc|$KC_BASELINE file encrypt --key bench \$W/input \$W/out.kc"
    "baseline file decrypt|$work/input.kc|$work/out.plain|$KC_BASELINE file decrypt \$W/input.kc \$W/out.plain"
  )
fi
for ((round = 1; round <= rounds; round++)); do
  for tool in "${tools[@]}"; do
    IFS='|' read -r name input out command <<<"$tool"
    rm -f "$out"
    sync
    # Warm for every run, not only at the start: this VM's kernel pages out file pages left
    # unused for a minute (DAMON), which hit the inputs read once a round (keyconsole's .kc,
    # gpg's) and spared the one six tools read (the plaintext).
    cat "$input" >/dev/null
    W=$work /usr/bin/time -f "%e %U %S %M" -o "$work/time" sh -c "$command" >/dev/null 2>&1 ||
      { echo "$name failed" >&2; exit 1; }
    echo "$name|$(cat "$work/time")" >>"$work/results"
  done
done
$bin file decrypt "$work/input.kc" "$work/check" && cmp "$work/input" "$work/check"

echo "$size_mib MiB, warm cache, $rounds interleaved rounds on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo
echo "| tool | median s | user s | sys s | peak MiB | runs (s) |"
echo "|---|---|---|---|---|---|"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A med
for tool in "${tools[@]}"; do
  name=${tool%%|*}
  rows=$(awk -F'|' -v n="$name" '$1 == n { print $2 }' "$work/results")
  med[$name]=$(awk '{print $1}' <<<"$rows" | median)
  printf '| %s | %.2f | %.2f | %.2f | %d | %s |\n' "$name" "${med[$name]}" \
    "$(awk '{print $2}' <<<"$rows" | median)" "$(awk '{print $3}' <<<"$rows" | median)" \
    "$(($(awk '{print $4}' <<<"$rows" | sort -n | tail -1) / 1024))" "$(awk '{printf "%s ", $1}' <<<"$rows")"
done
echo
awk -v e="${med[keyconsole file encrypt]}" -v d="${med[keyconsole file decrypt]}" \
  -v ae="${med[age -r + fsync]}" -v ad="${med[age -d + fsync]}" -v dd="${med[dd bs=64K conv=fsync]}" 'BEGIN {
  printf "encrypt: %.2fx faster than age + fsync (goal >= 1.5), %.2fx dd conv=fsync (goal <= 1.25)\n", ae / e, e / dd
  printf "decrypt: %.2fx faster than age + fsync (goal >= 1.5), %.2fx dd conv=fsync (goal <= 1.25)\n", ad / d, d / dd
  printf "decrypt / encrypt: %.2f (goal <= 1)\n", d / e
}'
