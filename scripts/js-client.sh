#!/usr/bin/env bash
# Installs @kubernetes/client-node (pinned) into build/js-client for the
# referee suite scripts/ci.d/40-js-client.sh. Safe to run again: does nothing
# when the pinned version is there. Needs node 20 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.4.0
dir=build/js-client
pkg=$dir/node_modules/@kubernetes/client-node/package.json
if [ -f "$pkg" ] && grep -q "\"version\": \"$VERSION\"" "$pkg"; then exit 0; fi
command -v npm >/dev/null || { echo "npm is missing (node 20 with npm is needed)"; exit 1; }
echo "== installing @kubernetes/client-node@$VERSION into $dir"
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{"private": true}' >"$dir/package.json"
(cd "$dir" && npm install --no-audit --no-fund --silent "@kubernetes/client-node@$VERSION")
