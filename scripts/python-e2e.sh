#!/usr/bin/env bash
# Makes build/venv-e2e: the official Python client at the version its upstream
# e2e suite (../shared/python-client-e2e) belongs to, with pytest, for
# scripts/ci.d/41-python-e2e.sh. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
KUBERNETES_CLIENT_VERSION=37.0.2
venv=build/venv-e2e
if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c "import kubernetes, pytest, pytest_timeout, sys; sys.exit(kubernetes.__version__ != '$KUBERNETES_CLIENT_VERSION')" 2>/dev/null; then
  exit 0
fi
echo "== making $venv (kubernetes==$KUBERNETES_CLIENT_VERSION, pytest)"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes==$KUBERNETES_CLIENT_VERSION" "pytest==9.2.0" "pytest-timeout==2.4.0"
