#!/usr/bin/env bash
# Installs @kubernetes/client-node (the JavaScript referee, informer_node.mjs)
# into build/node. Safe to run again: does nothing when the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CLIENT_NODE_VERSION=1.4.0   # 1.x: ESM, fetch-based; needs node >= 18
dir=build/node
# node and npm from Debian (18 in bookworm, enough for client-node 1.x) when none is installed.
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
have=$(node -p "require('./$dir/node_modules/@kubernetes/client-node/package.json').version" 2>/dev/null || true)
[ "$have" = "$CLIENT_NODE_VERSION" ] && exit 0
echo "== installing @kubernetes/client-node@$CLIENT_NODE_VERSION into $dir"
mkdir -p "$dir"
npm install --prefix "$dir" --no-audit --no-fund --no-save --silent "@kubernetes/client-node@$CLIENT_NODE_VERSION"
