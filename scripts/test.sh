#!/usr/bin/env bash
# The project's test command (README): installs what the tests need on a fresh Debian machine,
# then runs every test. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  util-linux                                    # setsid: the CLI run without a terminal
  mesa-vulkan-drivers libvulkan1                # software Vulkan for the wgpu snapshot tests
  xvfb xdotool imagemagick                      # the smoke test of the real window
  libgl1-mesa-dri libegl1 libxkbcommon-x11-0    # software OpenGL and X11 keyboard for that window
  mariadb-server postgresql                     # private database servers for the rotation tests
  openssh-client                                # ssh-keygen: the outside check of SSH key pairs
  openssl                                       # OpenSSL 3: the outside check of signatures and ciphertexts
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "scripts/test.sh: please install: ${missing[*]} (sudo apt-get install ...)" >&2
    exit 1
  fi
  echo "scripts/test.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# wgpu and winit look for a session directory; give them a private one when there is none.
if [[ -z ${XDG_RUNTIME_DIR:-} || ! -d ${XDG_RUNTIME_DIR:-} ]]; then
  XDG_RUNTIME_DIR=$(mktemp -d)
  chmod 700 "$XDG_RUNTIME_DIR"
  export XDG_RUNTIME_DIR
fi

cargo test --all-targets "$@"

# The loopback API against the official Tencent Cloud SDK for Python (uses the binary cargo test built).
scripts/sdk_test.sh target/debug/keyconsole

# The .deb: built, installed, started as the desktop entry starts it (installing needs root).
if [[ $(id -u) -eq 0 ]]; then
  scripts/package.sh
else
  echo "scripts/test.sh: skipped the package test (it installs the .deb): run sudo scripts/package.sh" >&2
fi
