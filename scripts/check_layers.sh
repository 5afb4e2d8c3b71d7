#!/usr/bin/env bash
# Fails when a module uses one above it. The layers, lowest first (see src/lib.rs):
#   0 crypto, util   1 store   2 kms   3 api, cli, ui (the faces)   4 testing
# A face may use the layers below it; of the other faces, only the API server (started by the
# console and by `keyconsole serve`) may be used. `testing` is compiled only for tests and benches.
# Usage: scripts/check_layers.sh [ROOT]   (ROOT holds src/; the repository by default)
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

rank() {
  case "$1" in
    crypto | util) echo 0 ;;
    store) echo 1 ;;
    kms) echo 2 ;;
    api | cli | ui) echo 3 ;;
    testing) echo 4 ;;
    *) echo -1 ;;
  esac
}

failures=0
for file in $(find src -name '*.rs' | sort); do
  relative=${file#src/}
  module=${relative%%/*}
  module=${module%.rs}
  [[ $module == lib || $module == main ]] && continue
  own=$(rank "$module")
  if [[ $own -lt 0 ]]; then
    echo "check_layers: $file is in no layer; add its module to scripts/check_layers.sh and src/lib.rs" >&2
    failures=$((failures + 1))
    continue
  fi
  # Every `crate::NAME` a file names: in `use` lines, paths in code, and `use crate::{a, b::{c}}`
  # groups over any number of lines (perl balances the braces; nested groups are dropped, so
  # what is left is the group's top-level names).
  used=$(perl -0777 -ne '
    while (/crate::([a-z_]+)/g) { print "$1\n" }
    while (/crate::(\{((?:[^{}]++|(?1))*)\})/g) {
      my $group = $2;
      1 while $group =~ s/\{[^{}]*\}//g;
      for my $item (split /,/, $group) {
        print "$1\n" if $item =~ /^\s*([a-z_]+)/;
      }
    }' "$file" | sort -u || true)
  for target in $used; do
    # `testing` exists only under cfg(test) or the `testing` feature: unit tests may use it.
    [[ -z $target || $target == "$module" || $target == testing ]] && continue
    theirs=$(rank "$target")
    [[ $theirs -lt 0 ]] && continue
    if [[ $theirs -gt $own ]] || { [[ $theirs -eq 3 && $own -eq 3 ]] && [[ $target != api ]]; }; then
      line=$(grep -nE "crate::(\{[^}]*)?$target\b|^\s*$target(::|,|\s*$)" "$file" | head -1 | cut -d: -f1 || true)
      echo "check_layers: $file:$line: $module uses $target, which is not below it" >&2
      failures=$((failures + 1))
    fi
  done
done
# `super::` cannot climb out of a layer's folder unnoticed: top-level files have no `super`.
for file in $(find src -maxdepth 1 -name '*.rs' ! -name lib.rs ! -name main.rs) $(find src -mindepth 2 -maxdepth 2 -name mod.rs); do
  if grep -nE '^\s*(pub )?use super::' "$file" >/dev/null; then
    echo "check_layers: $file uses super:: from the top of its layer" >&2
    failures=$((failures + 1))
  fi
done
if [[ $failures -gt 0 ]]; then
  echo "check_layers: $failures upward use(s)" >&2
  exit 1
fi
echo "check_layers: every module uses only the layers below it"
