#!/usr/bin/env bash
# need-debs.sh PKG...: installs those of the Debian packages that are missing
# (apt-get, with sudo unless root); nothing when all are there. Used by
# setup.sh and by the ci.d steps that need packages of their own.
set -uo pipefail
missing=""
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
echo "== installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing >/dev/null
