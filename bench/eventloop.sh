#!/usr/bin/env bash
# Issue 12's figures: the module inside event loops (prints them; never a CI gate).
#   bash bench/eventloop.sh            (RUNS=3 bash bench/eventloop.sh: each figure 3 times)
# - nginx, 1 worker: p99 of a plain location while 10 calls held 2 s + 1 watch are in flight,
#   the 10 slow calls' total time, 100 concurrent vs sequential GETs through kube.ngx
# - luv / cqueues on Lua 5.4, 5.1, LuaJIT and Neovim: a 100 ms timer's largest gap during a
#   2 s slow call, a watch across a 410, a reset, a slow reconnect and a server restart, and
#   a list, a watch and a re-list of 3,000 configmaps; event delivery latency (from the
#   create to the Lua callback)
# - idle CPU of a waiting watch + informer, and the cost of draining a handle with nothing
# Every line ends with the load average (1, 5, 15 min) when it was measured: the machine
# is shared, and a gap measured at load 8 on 2 cores is mostly the scheduler's.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/server/target/release:$PATH"
with() { local v=$1; shift; ( . scripts/env.sh "$v" >/dev/null; "$@" ); }
load() { sed "s/\$/  [load $(cut -d' ' -f1-3 /proc/loadavg)]/"; }
for run in $(seq 1 "${RUNS:-1}"); do
  [ "${RUNS:-1}" -gt 1 ] && echo "# run $run"
  python3 spec/hosts/nginx_check.py --tree .luarocks/5.1 | grep figures | load
  for b in luv cqueues; do
    with 5.4 lua5.4 spec/hosts/loop_check.lua $b | grep figures | sed 's/^/lua5.4 /' | load
    with 5.1 lua5.1 spec/hosts/loop_check.lua $b | grep figures | sed 's/^/lua5.1 /' | load
    with 5.1 luajit spec/hosts/loop_check.lua $b | grep figures | sed 's/^/luajit /' | load
  done
  with 5.1 env KUBE_LOOP=nvim nvim --headless -u NONE -c "luafile spec/hosts/loop_check.lua" 2>&1 | tr '\r' '\n' | grep -o "figures.*events" | sed 's/^/nvim /' | load
  with 5.4 lua5.4 bench/eventloop_idle.lua | sed 's/^/lua5.4 /' | load
  with 5.1 luajit bench/eventloop_idle.lua | sed 's/^/luajit /' | load
  with 5.1 lua5.1 bench/eventloop_idle.lua | sed 's/^/lua5.1 /' | load
done
