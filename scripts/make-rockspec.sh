#!/usr/bin/env bash
# Makes the release rockspec rockspec/luakube-rs-VERSION-1.rockspec from
# rockspec/luakube-rs.rockspec.in: source is the git repository named in
# Cargo.toml (`repository`) at tag vVERSION. The template's placeholders
# ($modrev, $specrev, $repo_url, $git_ref) are the ones luarocks-tag-release
# fills, so a release workflow can use the template as it is.
#   bash scripts/make-rockspec.sh [VERSION [SPECREV]]   # default: Cargo.toml's version, 1
#   bash scripts/make-rockspec.sh --print-url
set -euo pipefail
cd "$(dirname "$0")/.."
URL=$(sed -n 's/^repository *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
URL=${URL%/}; URL=${URL%.git}
case "$URL" in https://*) ;; *) echo "make-rockspec: Cargo.toml has no https repository URL" >&2; exit 1;; esac
if [ "${1:-}" = --print-url ]; then echo "$URL"; exit 0; fi
VERSION=${1:-$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)}
SPECREV=${2:-1}
case "$VERSION" in [0-9]*.[0-9]*) ;; *) echo "make-rockspec: version must look like 1.2.3, got '$VERSION'" >&2; exit 1;; esac
case "$SPECREV" in *[!0-9]*|'') echo "make-rockspec: spec revision must be a number" >&2; exit 1;; esac
OUT="rockspec/luakube-rs-$VERSION-$SPECREV.rockspec"
sed -e "s|\\\$modrev|$VERSION|g" -e "s|\\\$specrev|$SPECREV|g" \
    -e "s|\\\$repo_url|$URL|g" -e "s|\\\$git_ref|v$VERSION|g" \
    rockspec/luakube-rs.rockspec.in >"$OUT"
luarocks lint "$OUT" >&2
echo "$OUT"
