#!/usr/bin/env bash
# Installs what building and testing need (Debian packages, Python venv for the
# referee tests) and builds the rock for Lua 5.4, 5.3, 5.2 and 5.1/LuaJIT into
# .luarocks/<version>. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Hosts the event-loop adapters are tested in: nginx with ngx_lua (which pulls
# OpenResty's libluajit2 and replaces Debian's luajit: luajit2 is the interpreter),
# luv, cqueues, Neovim.
PKGS="lua5.1 lua5.2 lua5.3 lua5.4 luajit2 liblua5.1-0-dev liblua5.2-dev liblua5.3-dev liblua5.4-dev libluajit2-5.1-dev nginx libnginx-mod-http-lua lua-resty-core lua-luv lua-cqueues neovim luarocks lua-busted lua-cjson pkg-config curl time python3 python3-venv openssl iproute2"
bash scripts/need-debs.sh $PKGS

for v in ${LUA_VERSIONS:-5.4 5.3 5.2 5.1}; do
  echo "== luarocks make (Lua $v)"
  luarocks --lua-version="$v" --tree=".luarocks/$v" make rockspec/luakube-rs-scm-1.rockspec >".luarocks-$v.log" 2>&1 \
    || { cat ".luarocks-$v.log"; exit 1; }
done

if [ -f server/Cargo.toml ]; then
  echo "== building kube-testserver"
  cargo build --release --quiet --manifest-path server/Cargo.toml
fi

# The official Python client for the referee tests (server/tests/run_referees.sh).
# Without it only those checks fail (the referee script tries again), not the build.
bash server/tests/referees/python_venv.sh ||
  echo "warning: could not make build/venv with the kubernetes client; the Python referee checks will fail"

# @kubernetes/client-node, pinned, for the JavaScript referees (scripts/ci.d/40-js-client.sh,
# 55-cluster-informers.sh) and bench/run.py's peer.
bash server/tests/referees/node_client.sh ||
  echo "warning: could not install @kubernetes/client-node into build/node; the JavaScript referee checks will fail"
# The Python client's upstream e2e suite (scripts/ci.d/41-python-e2e.sh).
bash scripts/python-e2e.sh || echo "warning: could not make build/venv-e2e; the python-e2e suite will fail"
