#!/usr/bin/env bash
# The project's test command (README): installs what the tests need on a fresh Debian machine,
# then runs every test. Safe to run again; installs nothing that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v setsid >/dev/null || need+=(util-linux)   # the CLI test runs the binary without a terminal
if [[ ${#need[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "scripts/test.sh: please install: ${need[*]}" >&2
    exit 1
  fi
fi

cargo test --all-targets "$@"
