#!/usr/bin/env bash
# The official Python client's own upstream end-to-end suite (kubernetes/e2e_test,
# unmodified copy in ../shared/python-client-e2e, see its ORIGIN.md) as referee
# of kube-testserver. It imports kubernetes.e2e_test.base, so it is copied into
# the kubernetes package of build/venv-e2e (kubernetes 37.x and pytest, made by
# scripts/python-e2e.sh) and run with pytest from the package's parent folder
# (test_utils reads kubernetes/e2e_test/test_yaml/ relative to the working
# directory) against a fresh server with one node. Prints
# "python-e2e: N passed, N failed" (skipped tests are neither).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LABEL=python-e2e
. "$ROOT/server/tests/referees/harness.sh"

# Tests that need a real process inside a container, excluded by name:
EXCLUDE=(
  # port-forward to nginx serving HTTP on port 80 inside the pod: the simulated
  # kubelet runs no image, so nothing answers behind the tunnel.
  test_portforward_http
  # port-forward to `nc` listeners the pod's busybox script starts on ports
  # 1234/1235 and reads back: needs the container's shell and netcat running.
  test_portforward_raw
)
SHARED=${SHARED_DIR:-$ROOT/../shared}
[ -d "$SHARED/python-client-e2e" ] || SHARED=/work/shared
E2E=$SHARED/python-client-e2e/kubernetes/e2e_test

bash scripts/python-e2e.sh >"$OUT" 2>&1 || { fail "build/venv-e2e with kubernetes and pytest"; finish; }
[ -d "$E2E" ] || { echo "no $E2E" >"$OUT"; fail "upstream e2e_test copy present"; finish; }
PY=$ROOT/build/venv-e2e/bin/python
PKG=$("$PY" -c 'import kubernetes, os; print(os.path.dirname(kubernetes.__file__))')
rm -rf "$PKG/e2e_test"
cp -r "$E2E" "$PKG/e2e_test"

start_server --nodes 1

expr=$(printf ' and not %s' "${EXCLUDE[@]}")
(cd "$(dirname "$PKG")" && KUBECONFIG=$TMP/kubeconfig HOME=$TMP timeout 600 \
  "$PY" -m pytest -p no:cacheprovider -rfE -o console_output_style=classic --timeout 60 \
  -k "${expr# and }" kubernetes/e2e_test -v) >"$TMP/pytest.log" 2>&1
grep -E ' (PASSED|FAILED|ERROR|SKIPPED)' "$TMP/pytest.log" | sed -E 's/^kubernetes\/e2e_test\///'
passed=$(grep -cE ' PASSED' "$TMP/pytest.log")
failed=$(grep -cE ' (FAILED|ERROR)$' "$TMP/pytest.log")
if [ "$failed" -gt 0 ] || ! grep -qE '^=+ .*passed' "$TMP/pytest.log"; then
  grep -E '^(E  |FAILED|ERROR)' "$TMP/pytest.log" | head -40
  [ "$failed" -gt 0 ] || failed=1
fi
finish
