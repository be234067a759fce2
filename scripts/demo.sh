#!/usr/bin/env bash
# Sets up (packages, the rock for Lua 5.4, the stand-in server) and runs
# examples/demo.lua against the stand-in API server over verified HTTPS.
set -euo pipefail
cd "$(dirname "$0")/.."
LUA_VERSIONS=5.4 bash scripts/setup.sh
. scripts/env.sh 5.4
lua5.4 examples/demo.lua
