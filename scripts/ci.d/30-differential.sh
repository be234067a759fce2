#!/usr/bin/env bash
# Drop-in proof, call by call (issue 19): the calls generated from luakube's own
# tables (tests/differential/gen.lua) run through luakube 0.1 itself
# (../shared/luakube-0.1, its dependencies from Debian; base64 and luafun
# stand-ins live in tests/differential/stubs, never in the product) and through
# this module in mock mode; tests/differential/compare.lua compares them request
# by request against the allow-list tests/differential/allow.lua.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. scripts/luakube-0.1.sh

# luakube's dependencies, from Debian (lua-json has no 5.4 build: its pure-Lua
# files for 5.3 are put on the path; lpeg is built for 5.4).
bash scripts/need-debs.sh lua5.4 lua-yaml lua-json lua-lpeg lua-socket lua-sec lua-cjson

OUT=$ROOT/build/differential
mkdir -p "$OUT"
D=$ROOT/tests/differential
JSON53="/usr/share/lua/5.3/?.lua;/usr/share/lua/5.3/?/init.lua"

LUA_PATH="$D/stubs/?.lua;$LUAKUBE/src/?.lua;$LUAKUBE/src/?/init.lua;$JSON53;;" \
  lua5.4 "$D/run.lua" luakube "$OUT/calls.lua" "$OUT/luakube.lua" || { echo "0 passed, 1 failed"; exit 1; }

eval "$(luarocks --lua-version=5.4 --tree="$ROOT/.luarocks/5.4" path)"
LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$LUA_PATH" \
  lua5.4 "$D/run.lua" module "$OUT/calls.lua" "$OUT/module.lua" || { echo "0 passed, 1 failed"; exit 1; }

lua5.4 "$D/compare.lua" "$OUT/calls.lua" "$OUT/luakube.lua" "$OUT/module.lua" --show "${SHOW:-40}"
