#!/usr/bin/env bash
# Builds the .deb (cargo-deb: the `dist` build, stripped, its desktop entry and icon), checks
# the desktop entry, installs the package, runs the installed `keyconsole --version` and the smoke
# test of the real window against the binary the desktop entry starts, then removes the package
# again if it was not installed before. scripts/test.sh runs it when it runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/package.sh: installing the package needs root; run it with sudo" >&2
  exit 1
fi
need=()
for package in dpkg-dev desktop-file-utils; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need+=("$package")
done
if [[ ${#need[@]} -gt 0 ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
CARGO_DEB_VERSION=3.8.0
if [[ $(cargo deb --version 2>/dev/null || true) != *"$CARGO_DEB_VERSION"* ]]; then
  cargo install --quiet --locked cargo-deb --version "$CARGO_DEB_VERSION"
fi

desktop-file-validate assets/keyconsole.desktop
# Exactly the README's command: Cargo.toml has cargo-deb build the stripped `dist` profile.
deb=$(cargo deb | tail -1)
[[ -f $deb ]] || { echo "scripts/package.sh: cargo deb made no package" >&2; exit 1; }
built=target/dist/keyconsole
if readelf -S "$built" | grep -q '\.debug_\|\.symtab'; then
  echo "scripts/package.sh: $built still has debug sections or a symbol table" >&2
  exit 1
fi
dpkg-deb --info "$deb" | sed -n 's/^ *\(Package\|Version\|Depends\|Installed-Size\):/  &/p'

was_installed=$(dpkg-query -W -f='${Status}' keyconsole 2>/dev/null | grep -c "install ok installed" || true)
cleanup() { [[ $was_installed -eq 1 ]] || dpkg -r keyconsole >/dev/null 2>&1 || true; }
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(realpath "$deb")" >/dev/null

installed=$(command -v keyconsole)
echo "package: $deb ($(stat -c %s "$deb") bytes); $installed $(stat -c %s "$installed") bytes" \
  "installed, stripped (no debug sections, no symbol table)"
keyconsole --version
desktop-file-validate /usr/share/applications/keyconsole.desktop
test -f /usr/share/icons/hicolor/128x128/apps/keyconsole.png
# The binary the menu entry starts (its Exec line, found on PATH as the desktop does).
exec_line=$(sed -n 's/^Exec=//p' /usr/share/applications/keyconsole.desktop)
KEYCONSOLE_SMOKE_BIN=$(command -v "${exec_line%% *}") \
  cargo test --quiet --test faces smoke -- --test-threads=1
