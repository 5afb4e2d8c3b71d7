#!/usr/bin/env bash
# The layers are the workspace's crates; a crate can only name the crates in its Cargo.toml, and
# Cargo refuses a cycle, so an upward import does not compile. This check keeps the manifests in
# order, which Cargo alone would not (it would let the CLI use the console, for example):
#   0 keyconsole-base   1 keyconsole-store   2 keyconsole-kms   3 keyconsole-api
#   4 keyconsole-cli, keyconsole-ui (neither uses the other)   5 keyconsole (binary, testing)
# Usage: scripts/check_layers.sh [ROOT]   (ROOT holds the workspace's Cargo.toml; this one by default)
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

cargo metadata --offline --no-deps --format-version 1 | python3 -c '
import json, sys
rank = {"keyconsole-base": 0, "keyconsole-store": 1, "keyconsole-kms": 2, "keyconsole-api": 3,
        "keyconsole-cli": 4, "keyconsole-ui": 4, "keyconsole": 5}
failures = 0
for package in json.load(sys.stdin)["packages"]:
    own = package["name"]
    if own not in rank:
        print(f"check_layers: {own} is in no layer; add it to scripts/check_layers.sh", file=sys.stderr)
        failures += 1
        continue
    for dep in package["dependencies"]:
        name = dep["name"]
        # The root crate turns its own `testing` feature on for its tests.
        if name not in rank or (name == own and dep["kind"] == "dev"):
            continue
        if rank[name] >= rank[own]:
            print(f"check_layers: {own} uses {name}, which is not below it", file=sys.stderr)
            failures += 1
if failures:
    print(f"check_layers: {failures} upward use(s)", file=sys.stderr)
    sys.exit(1)
print("check_layers: every crate uses only the layers below it")
'
