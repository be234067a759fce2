#!/usr/bin/env bash
# Issue 12: the module inside the event loops where Lua is embedded, tested in the real
# hosts against kube-testserver with faults while a timer keeps ticking:
#   luv and cqueues on Lua 5.4, 5.1 and LuaJIT; Neovim (headless, vim.loop);
#   Debian's nginx + ngx_lua (OpenResty's API) with kube.ngx;
#   the Neovim exit-time abort (issue 12) stays gone; the examples run.
# Prints "hosts: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/server/target/release:$PATH"
pass=0; fail=0
run() { # label, command...: counts the "N passed, N failed" line of a check script
  local label=$1; shift
  local out; out=$("$@" 2>&1); local rc=$?
  out=$(printf '%s\n' "$out" | tr '\r' '\n')
  echo "$out" | grep -E "^(ok|not ok|figures)" | sed "s/^/  /"
  local line; line=$(echo "$out" | grep -oE "[0-9]+ passed, [0-9]+ failed" | tail -1)
  if [ -n "$line" ]; then
    pass=$((pass + $(echo "$line" | cut -d' ' -f1))); fail=$((fail + $(echo "$line" | cut -d' ' -f3)))
  else
    echo "$out" | tail -20; fail=$((fail + 1))
  fi
  [ $rc -eq 0 ] || echo "  $label: exit $rc"
  [ $rc -eq 0 ] || [ -z "$line" ] || { [ "$(echo "$line" | cut -d' ' -f3)" != 0 ] || fail=$((fail + 1)); }
}
single() { # label, command...: a pass/fail step without its own count
  local label=$1; shift
  if out=$("$@" 2>&1); then pass=$((pass + 1)); echo "  ok - $label"
  else fail=$((fail + 1)); echo "  not ok - $label"; echo "$out" | tail -15; fi
}


with() { local v=$1; shift; ( . scripts/env.sh "$v" >/dev/null; timeout 180 "$@" ); }

for b in luv cqueues; do
  run "lua5.4 $b" with 5.4 lua5.4 spec/hosts/loop_check.lua $b
  run "lua5.1 $b" with 5.1 lua5.1 spec/hosts/loop_check.lua $b
  run "luajit $b" with 5.1 luajit spec/hosts/loop_check.lua $b
done
run "nvim" with 5.1 env KUBE_LOOP=nvim nvim --headless -u NONE -c "luafile spec/hosts/loop_check.lua"
single "neovim exits cleanly after using the module on the main thread and in a new_work thread (was SIGABRT, rc 134)" \
  with 5.1 nvim --headless -u NONE -c "luafile spec/hosts/nvim_exit.lua"
# The Lua state closed at exit with a watch and a pending call in flight (issue 12):
# rc 0, the "in flight" line printed, nothing panicked or aborted.
exits_clean() {
  local out; out=$("$@" 2>&1); local rc=$?
  echo "$out" | tail -5
  [ $rc -eq 0 ] && grep -q "^in flight" <<<"$out" && ! grep -qiE "panic|abort|core dumped" <<<"$out"
}
single "os.exit(0, true) closes the state (5.4) while a watch and a held call are in flight: rc 0, no panic" \
  exits_clean with 5.4 lua5.4 spec/hosts/exit_close.lua plain
single "os.exit(0, true) from a luv timer while a kube.luv task waits (5.4): rc 0, no panic" \
  exits_clean with 5.4 lua5.4 spec/hosts/exit_close.lua luv
single "os.exit(0, true) from a luv timer while a kube.luv task waits (LuaJIT): rc 0, no panic" \
  exits_clean with 5.1 luajit spec/hosts/exit_close.lua luv
single "Neovim :qa! with a VimLeavePre handler starting a call and closing a watch: rc 0, no panic" \
  exits_clean with 5.1 nvim --headless -u NONE -c "luafile spec/hosts/exit_close.lua"
run "nginx" timeout 300 python3 spec/hosts/nginx_check.py --tree .luarocks/5.1
single "example: luv program" with 5.4 lua5.4 examples/eventloop/luv.lua
single "example: cqueues program" with 5.4 lua5.4 examples/eventloop/cqueues.lua
single "example: Neovim script" with 5.1 nvim --headless -u NONE -c "luafile examples/eventloop/nvim.lua"
single "example: OpenResty server" timeout 120 python3 examples/eventloop/openresty/run.py --tree .luarocks/5.1
echo "hosts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
