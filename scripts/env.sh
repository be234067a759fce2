# Source with a Lua version (5.4, 5.3, 5.2 or 5.1; 5.1 also serves LuaJIT) to use the rock built by setup.sh:
#   . scripts/env.sh 5.4
_kube_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
eval "$(luarocks --lua-version="${1:-5.4}" --tree="$_kube_root/.luarocks/${1:-5.4}" path)"
export PATH="$_kube_root/server/target/release:$PATH"
