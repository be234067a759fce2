#!/usr/bin/env bash
# The binary rock (scripts/build-rocks.sh) installs and works without a Rust
# toolchain: for Lua 5.1, LuaJIT, 5.2, 5.3 and 5.4, in a fresh tree, with
# cargo/rustc off PATH, no Lua headers visible to luarocks (its include
# variables point at an empty directory) and a private luarocks config and HOME,
# `luarocks install ./ROCK` and then scripts/rock-smoke.lua against
# kube-testserver over HTTPS; then the LuaJIT tree inside the real hosts, set up
# as README's Install section says: nginx + ngx_lua (lua_package_path/cpath) and
# Neovim (package.path/cpath). Also `luarocks lint` of the scm and release
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
SRV_PID=
trap '[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
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
# The loader's error when the module for this Lua is not on package.cpath.
t54="$TMP/lua5.4/tree"
if msg=$(env -i PATH="$CLEANPATH" lua5.4 -e "package.path = '$t54/share/lua/5.4/?.lua'
    package.cpath = '$TMP/nowhere/?.so'
    local ok, err = pcall(require, 'kube.core')
    assert(not ok and err:find('kube/core_lua54.so', 1, true) and err:find('$TMP/nowhere/kube/core_lua54.so', 1, true), err)
    print(err)" 2>&1); then
  ok "loader error names the missing module: $(echo "$msg" | head -n 1)"
else
  echo "$msg"; bad "loader error when the module is not on package.cpath"
fi

# The hosts, with the LuaJIT tree installed above and a server started here.
tree="$TMP/luajit/tree"
if [ ! -f "$tree/lib/lua/5.1/kube/core_lua51.so" ]; then bad "hosts: no LuaJIT tree"; finish; fi
"$SERVER_BIN" --port 0 --kubeconfig "$TMP/kc" >"$TMP/srv.out" 2>"$TMP/srv.err" &
SRV_PID=$!
for _ in $(seq 100); do grep -q '^ready ' "$TMP/srv.out" && break; sleep 0.1; done
grep -q '^ready ' "$TMP/srv.out" || { cat "$TMP/srv.err"; bad "kube-testserver did not start"; finish; }

# nginx + ngx_lua (Debian's, on OpenResty's luajit2): a request handler uses the rock.
ND="$TMP/nginx"; mkdir -p "$ND/logs"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$ND/nginx.conf" <<CONF
load_module /usr/share/nginx/modules/ndk_http_module.so;
load_module /usr/share/nginx/modules/ngx_http_lua_module.so;
daemon off; master_process off; worker_processes 1; pid $ND/nginx.pid; error_log $ND/logs/error.log;
events { worker_connections 64; }
http {
  access_log off; client_body_temp_path $ND; proxy_temp_path $ND; fastcgi_temp_path $ND;
  uwsgi_temp_path $ND; scgi_temp_path $ND;
  lua_package_path  "$tree/share/lua/5.1/?.lua;$tree/share/lua/5.1/?/init.lua;;";
  lua_package_cpath "$tree/lib/lua/5.1/?.so;;";
  server {
    listen 127.0.0.1:$PORT;
    location /smoke { content_by_lua_block {
      local core, json, api = require "kube.core", require "kube.json", require "kube.api"
      local conf = require("kube.config").from_kube_config("$TMP/kc")
      local cms = api.Client:new(conf):corev1():configmaps("default")
      local _, _, code = cms:create({metadata = {name = "nginx-smoke"}})
      local got, _, code_get = cms:get("nginx-smoke")
      ngx.say("nginx smoke: ", code, " ", code_get, " ", got.metadata.name, " ",
        json.encode(json.array()), " ", core.native_path)
    } }
  }
}
CONF
nginx -p "$ND" -c "$ND/nginx.conf" 2>"$ND/stderr" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
answer=$(curl -s "http://127.0.0.1:$PORT/smoke")
kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null
echo "$answer"
if [ "$answer" = "nginx smoke: 201 200 nginx-smoke [] $tree/lib/lua/5.1/kube/core_lua51.so" ]; then
  ok "nginx + ngx_lua: the rock's tree on lua_package_path/cpath, a create and a get over HTTPS"
else
  cat "$ND/stderr" "$ND/logs/error.log" 2>/dev/null | tail -20; bad "nginx + ngx_lua with the rock"
fi

# Neovim: package.path/cpath set in Lua, as README shows.
cat >"$TMP/nvim-smoke.lua" <<'LUA'
local tree = os.getenv("KUBE_ROCK_TREE")
package.path = tree .. "/share/lua/5.1/?.lua;" .. tree .. "/share/lua/5.1/?/init.lua;" .. package.path
package.cpath = tree .. "/lib/lua/5.1/?.so;" .. package.cpath
local ok, err = pcall(function()
  local core, json, api = require "kube.core", require "kube.json", require "kube.api"
  local conf = require("kube.config").from_kube_config(os.getenv("KUBE_SMOKE_KUBECONFIG"))
  local cms = api.Client:new(conf):corev1():configmaps("default")
  local _, _, code = cms:create({metadata = {name = "nvim-smoke"}})
  local got, _, code_get = cms:get("nvim-smoke")
  assert(code == 201 and code_get == 200 and got.metadata.name == "nvim-smoke",
    "create/get: " .. tostring(code) .. " " .. tostring(code_get))
  assert(core.native_path:sub(1, #tree) == tree, core.native_path)
  io.stdout:write("nvim smoke ok: ", json.encode(json.array()), " ", core.native_path, "\n")
end)
if not ok then io.stdout:write("nvim smoke FAILED: ", tostring(err), "\n") end
LUA
nv=$(KUBE_ROCK_TREE="$tree" KUBE_SMOKE_KUBECONFIG="$TMP/kc" HOME="$TMP/luajit/home" timeout 60 \
  nvim --headless -u NONE -i NONE -n -c "luafile $TMP/nvim-smoke.lua" -c 'qa!' 2>&1)
echo "$nv"
if grep -q '^nvim smoke ok' <<<"$nv"; then
  ok "Neovim: the rock's tree on package.path/cpath, a create and a get over HTTPS"
else
  bad "Neovim with the rock"
fi
kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; SRV_PID=
finish
