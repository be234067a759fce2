#!/usr/bin/env bash
# Informers as referees of the simulated cluster: the official Python client's
# watch (kubernetes.watch.Watch, build/venv) and @kubernetes/client-node's
# makeInformer (build/node) follow Deployments, ReplicaSets and Pods of a
# namespace while kubectl creates a Deployment of 3 and then sets a new image.
# Each must see the whole rollout (server/tests/referees/informer_check.py):
# both ReplicaSets, every pod Pending then Running and Ready with an IP, the
# old pods deleted, availableReplicas 3 at generations 1 and 2.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LABEL=cluster-informers FAIL_END=tail FAIL_LINES=25 KUBECTL_TIMEOUT=40
. "$ROOT/server/tests/referees/harness.sh"
REF=$ROOT/server/tests/referees
NS=informers

bash "$REF/python_venv.sh" >/dev/null 2>&1
bash "$REF/node_client.sh" >/dev/null 2>&1
start_server --nodes 3 --speed 0.1
export KUBECONFIG=$TMP/kubeconfig
k create namespace "$NS" >/dev/null

# The referees list and watch before anything is created.
"$ROOT/build/venv/bin/python" "$REF/informer_python.py" "$KUBECONFIG" "$NS" "$TMP/python.log" 2>"$TMP/python.err" &
PIDS+=($!)
node "$REF/informer_node.mjs" "$ROOT/build/node" "$KUBECONFIG" "$NS" "$TMP/node.log" 2>"$TMP/node.err" &
PIDS+=($!)
synced() { [ "$(grep -c '^synced ' "$1" 2>/dev/null)" = 3 ]; }
for _ in $(seq 200); do synced "$TMP/python.log" && synced "$TMP/node.log" && break; sleep 0.1; done

rollout() {
  k create deployment roll -n "$NS" --image=nginx:1.27 --replicas=3 &&
    k rollout status deploy/roll -n "$NS" --timeout=30s &&
    k set image deploy/roll -n "$NS" nginx=nginx:1.28 &&
    k rollout status deploy/roll -n "$NS" --timeout=30s || return 1
  # until the old pods are gone
  for _ in $(seq 100); do
    [ "$(k get pods -n "$NS" -o name | wc -l)" = 3 ] && return 0
    sleep 0.2
  done
  k get pods -n "$NS"
  return 1
}
check "kubectl: create deployment, rollout status, set image, rollout status" rollout
sleep 1 # the last events reach the referees

for client in python node; do
  # the referee's checks, one result each
  while read -r verdict what; do
    echo "$what" >"$OUT"
    [ -s "$TMP/$client.err" ] && tail -5 "$TMP/$client.err" >>"$OUT"
    case $verdict in
    ok) pass "$client: $what" ;;
    *) grep -v '^LISTED' "$TMP/$client.log" | tail -15 >>"$OUT"; fail "$client: $what" ;;
    esac
  done < <(python3 "$REF/informer_check.py" "$TMP/$client.log" roll 2>&1 || true)
done
finish
