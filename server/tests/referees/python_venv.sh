#!/usr/bin/env bash
# Makes build/venv with the official Python Kubernetes client the referee
# tests drive. Safe to run again: does nothing when the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/../../.."
KUBERNETES_CLIENT_VERSION=31.0.0   # supports Python 3.8–3.12
venv=build/venv
if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c "import kubernetes, sys; sys.exit(kubernetes.__version__ != '$KUBERNETES_CLIENT_VERSION')" 2>/dev/null; then
  exit 0
fi
echo "== making $venv (kubernetes==$KUBERNETES_CLIENT_VERSION)"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes==$KUBERNETES_CLIENT_VERSION"
