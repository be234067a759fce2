#!/usr/bin/env bash
# @kubernetes/client-node as referee of kube-testserver: the battery in
# server/tests/referees/js_client.mjs (CRUD on core/apps/batch, selectors,
# paging, watch, the patch types, logs, ApiException codes, an informer, the
# generic object API) against a fresh server with one node. The client is
# installed by scripts/setup.sh into build/node (server/tests/referees/node_client.sh, pinned version); this step
# installs it too when it is missing. Prints "js-client: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LABEL=js-client
. "$ROOT/server/tests/referees/harness.sh"

bash server/tests/referees/node_client.sh >"$OUT" 2>&1 || { fail "@kubernetes/client-node installed"; finish; }
start_server --nodes 1 --speed 0.1 --watch-history 20

# The battery prints its own ok/FAIL lines and closing line.
KUBECONFIG=$TMP/kubeconfig HOME=$TMP \
  K8S_CLIENT=$ROOT/build/node/node_modules/@kubernetes/client-node/dist/index.js \
  timeout 300 node server/tests/referees/js_client.mjs
rc=$?
[ $rc -eq 0 ] || { echo "--- server stderr (tail)"; tail -5 "$TMP/server.err"; }
exit $rc
