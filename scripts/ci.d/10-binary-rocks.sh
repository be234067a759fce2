#!/usr/bin/env bash
# The binary rock (scripts/build-rocks.sh) installs and works without a Rust
# toolchain: for Lua 5.1, LuaJIT, 5.2, 5.3 and 5.4, in a fresh tree, with
# cargo/rustc off PATH, no Lua headers visible to luarocks (its include
# variables point at an empty directory) and a private luarocks config and HOME,
# `luarocks install ./ROCK` and then scripts/rock-smoke.lua against
# kube-testserver over HTTPS. Also `luarocks lint` of the scm and release
# rockspecs and of a release rockspec freshly made from the template.
# Reuses the native modules scripts/setup.sh built (.luarocks/<v>).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
passed=0; failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAILED: $*"; failed=$((failed + 1)); }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
finish() { echo "binary-rocks: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

# Rockspecs: lint the scm one, the committed release one, and one made now.
for spec in rockspec/luakube-rs-scm-1.rockspec rockspec/luakube-rs-[0-9]*.rockspec; do
  if luarocks lint "$spec"; then ok "luarocks lint $spec"; else bad "luarocks lint $spec"; fi
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if out=$(bash scripts/make-rockspec.sh 9.8.7 2) && grep -q 'tag = "v9.8.7"' "$out" && grep -q '^version = "9.8.7-2"' "$out" \
   && grep -q 'url = "git+https://' "$out"; then
  ok "make-rockspec.sh 9.8.7 2 -> $out (lint passed)"
else
  bad "make-rockspec.sh 9.8.7 2"
fi
rm -f rockspec/luakube-rs-9.8.7-2.rockspec

t0=$(date +%s.%N)
if ! bash scripts/build-rocks.sh >"$TMP/build.log" 2>&1; then
  cat "$TMP/build.log"; bad "scripts/build-rocks.sh"; finish
fi
ROCK=$(tail -n 1 "$TMP/build.log")
grep -E '^   lua5[0-9]: ' "$TMP/build.log"
size=$(stat -c %s "$ROCK")
echo "built $ROCK in $(since "$t0") s: $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }') MiB)"
ok "build-rocks.sh made $ROCK"

# A PATH without cargo or rustc: system directories only, checked.
CLEANPATH=$(echo "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" | tr ':' '\n' \
  | while read -r d; do [ -e "$d/cargo" ] || [ -e "$d/rustc" ] || printf '%s:' "$d"; done)
CLEANPATH=${CLEANPATH%:}
if PATH=$CLEANPATH command -v cargo >/dev/null || PATH=$CLEANPATH command -v rustc >/dev/null; then
  bad "a PATH without cargo/rustc"; finish
fi
SERVER_BIN="$ROOT/server/target/release/kube-testserver"
[ -x "$SERVER_BIN" ] || { bad "no $SERVER_BIN (scripts/setup.sh builds it)"; finish; }

for lua in lua5.1 luajit lua5.2 lua5.3 lua5.4; do
  case $lua in luajit) v=5.1;; *) v=${lua#lua};; esac
  command -v "$lua" >/dev/null || { bad "$lua is not installed"; continue; }
  d="$TMP/$lua"; mkdir -p "$d/home" "$d/no-headers"
  tree="$d/tree"
  cat >"$d/config.lua" <<CFG
rocks_trees = { { name = "fresh", root = "$tree" } }
variables = { LUA_INCDIR = "$d/no-headers", LUA_INCDIR_OK = false }
CFG
  rock_abs="$ROOT/$ROCK"
  t0=$(date +%s.%N)
  if ! (cd "$d" && env -i PATH="$CLEANPATH" HOME="$d/home" LUAROCKS_CONFIG="$d/config.lua" \
        luarocks --lua-version="$v" --tree="$tree" install "$rock_abs") >"$d/install.log" 2>&1; then
    cat "$d/install.log"; bad "$lua: luarocks install ./$(basename "$ROCK")"; continue
  fi
  t_install=$(since "$t0")
  # Nothing was compiled: no cargo output, and the installed module is the rock's stripped one.
  if grep -qiE 'cargo|rustc|compil' "$d/install.log"; then
    cat "$d/install.log"; bad "$lua: install compiled something"; continue
  fi
  paths=$(env -i PATH="$CLEANPATH" HOME="$d/home" LUAROCKS_CONFIG="$d/config.lua" \
    luarocks --lua-version="$v" --tree="$tree" path)
  t0=$(date +%s.%N)
  if (cd "$d" && env -i PATH="$CLEANPATH" HOME="$d/home" KUBE_TESTSERVER="$SERVER_BIN" \
        bash -c "eval \"\$1\"; exec $lua \"\$2\" \"\$3\"" _ "$paths" "$ROOT/scripts/rock-smoke.lua" "$tree") >"$d/smoke.log" 2>&1 \
     && grep -q '^rock smoke ok' "$d/smoke.log"; then
    echo "$lua: installed in $t_install s, smoke $(since "$t0") s: $(tail -n 1 "$d/smoke.log")"
    ok "$lua: luarocks install of the binary rock, then HTTPS smoke"
  else
    cat "$d/smoke.log"; bad "$lua: smoke script against kube-testserver"
  fi
done
finish
