#!/usr/bin/env bash
# Builds the binary rock build/rocks/luakube-rs-<version>-1.linux-x86_64.rock:
# `luarocks pack` of a tree where the Lua files and one stripped native module
# per Lua ABI are installed (kube/core_lua51.so for Lua 5.1, LuaJIT and
# OpenResty; core_lua52.so; core_lua53.so; core_lua54.so) with the loader
# rockspec/binary/core.lua as kube.core, which loads the one for the running Lua.
# One file installs with `luarocks install ./FILE` on every Lua version, without
# cargo or Lua headers, and can be the one binary rock luarocks.org holds for a
# version and platform.
#
# The native modules are the ones scripts/setup.sh built into .luarocks/<v>
# when they are newer than every source file (CI reuses them); otherwise each
# is built here the same way (`luarocks make` of the scm rockspec into
# .luarocks/<v>). --rebuild builds them all again. The version is Cargo.toml's.
#
#   bash scripts/build-rocks.sh [--rebuild]      # prints the rock's path last
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REBUILD=${1:-}

VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ -n "$VERSION" ] || { echo "build-rocks: no version in Cargo.toml" >&2; exit 1; }
ABIS="5.1 5.2 5.3 5.4"
# Newest glibc symbol version the modules may need: Debian 12's glibc.
GLIBC_MAX=2.36

# Baseline x86-64: no CPU-specific code generation (runtime-dispatched SIMD in
# ring and memchr is fine, it checks the CPU first).
for flags in "${RUSTFLAGS:-}" "${CARGO_ENCODED_RUSTFLAGS:-}" "${CARGO_BUILD_RUSTFLAGS:-}"; do
  case "$flags" in *target-cpu*|*target-feature*)
    echo "build-rocks: unset target-cpu/target-feature flags: the rock must run on any x86-64" >&2; exit 1;;
  esac
done
if grep -qsE 'target-(cpu|feature)' .cargo/config.toml .cargo/config "$HOME/.cargo/config.toml" "$HOME/.cargo/config"; then
  echo "build-rocks: a cargo config sets target-cpu/target-feature: the rock must run on any x86-64" >&2; exit 1
fi

# Newest input of the native module.
newest_src=$(find src model Cargo.toml Cargo.lock Makefile -type f -printf '%T@\n' | sort -n | tail -n 1)

STAGE=build/rocks/stage
rm -rf build/rocks
mkdir -p "$STAGE/lib" "$STAGE/tree"

for v in $ABIS; do
  abi="lua${v/./}"
  so=".luarocks/$v/lib/lua/$v/kube/core.so"
  fresh=no
  if [ -f "$so" ] && [ "$REBUILD" != --rebuild ]; then
    so_time=$(stat -c '%Y' "$so")
    awk -v a="$so_time" -v b="$newest_src" 'BEGIN { exit !(a >= b) }' && fresh=yes
  fi
  if [ $fresh = yes ]; then
    echo "== $abi: reusing $so (newer than the sources)"
  else
    echo "== $abi: building (luarocks make into .luarocks/$v)"
    luarocks --lua-version="$v" --tree=".luarocks/$v" make rockspec/luakube-rs-scm-1.rockspec >".luarocks-$v.log" 2>&1 \
      || { cat ".luarocks-$v.log"; exit 1; }
  fi
  strip --strip-unneeded -o "$STAGE/lib/core_$abi.so" "$so"
  # The entry point must survive stripping, and no symbol may need a newer glibc.
  objdump -T "$STAGE/lib/core_$abi.so" | grep -q ' luaopen_kube_core$' \
    || { echo "build-rocks: $abi: luaopen_kube_core is not exported" >&2; exit 1; }
  need=$(objdump -T "$STAGE/lib/core_$abi.so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
  if [ "$(printf '%s\n%s\n' "$need" "$GLIBC_MAX" | sort -V | tail -n 1)" != "$GLIBC_MAX" ]; then
    echo "build-rocks: $abi needs GLIBC_$need, newer than Debian 12's $GLIBC_MAX" >&2; exit 1
  fi
  printf '   %s: %s bytes stripped (from %s), needs GLIBC_%s\n' "$abi" \
    "$(stat -c %s "$STAGE/lib/core_$abi.so")" "$(stat -c %s "$so")" "$need"
done

# The rockspec inside the rock: the release rockspec's metadata with an install
# of the files staged above (type "none": nothing is compiled, not even here).
URL=$(bash scripts/make-rockspec.sh --print-url)
SPEC="$STAGE/luakube-rs-$VERSION-1.rockspec"
{
  echo "-- Binary rock of luakube-rs $VERSION (made by scripts/build-rocks.sh from the"
  echo "-- files it staged); the source rockspec is rockspec/luakube-rs-$VERSION-1.rockspec."
  sed -n '/^rockspec_format/,/^dependencies/p' "rockspec/luakube-rs.rockspec.in" | sed '$d' \
    | sed -e "s|\\\$modrev|$VERSION|g" -e "s|\\\$specrev|1|g" -e "s|\\\$repo_url|$URL|g" -e "s|\\\$git_ref|v$VERSION|g"
  echo 'dependencies = {'
  echo '   "lua >= 5.1, < 5.5",'
  echo '}'
  echo 'build = {'
  echo '   type = "none",'
  echo '   install = {'
  echo '      lua = {'
  echo '         ["kube"] = "lua/kube.lua",'
  for f in lua/kube/*.lua lua/kube/api/*.lua; do
    mod=${f#lua/}; mod=${mod%.lua}; mod=${mod//\//.}
    echo "         [\"$mod\"] = \"$f\","
  done
  echo "         [\"kube.core\"] = \"rockspec/binary/core.lua\","
  echo '      },'
  echo '      lib = {'
  for v in $ABIS; do
    abi="lua${v/./}"
    echo "         [\"kube.core_$abi\"] = \"$STAGE/lib/core_$abi.so\","
  done
  echo '      },'
  echo '   },'
  echo '}'
} >"$SPEC"
luarocks lint "$SPEC"

# Install with one luarocks (any version: the rock's files do not depend on
# it), then pack the installed tree. A private config keeps user settings out.
PACKV=$(for v in 5.4 5.3 5.2 5.1; do command -v "lua$v" >/dev/null && { echo $v; break; }; done)
luarocks --lua-version="$PACKV" --tree="$STAGE/tree" make "$SPEC" >"$STAGE/make.log" 2>&1 \
  || { cat "$STAGE/make.log"; exit 1; }
( cd build/rocks && luarocks --lua-version="$PACKV" --tree="$ROOT/$STAGE/tree" pack luakube-rs "$VERSION-1" >/dev/null )
ROCK="build/rocks/luakube-rs-$VERSION-1.linux-x86_64.rock"
[ -f "$ROCK" ] || { echo "build-rocks: luarocks pack made no $ROCK" >&2; ls build/rocks >&2; exit 1; }
echo "== $ROCK: $(stat -c %s "$ROCK") bytes"
unzip -l "$ROCK" | awk 'NR > 3 && $4 != "" && $1 ~ /^[0-9]+$/ { print "   " $1 "\t" $4 }' | grep -v '^   [0-9]*\t-*$' || true
echo "$ROCK"
