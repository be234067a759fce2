#!/usr/bin/env bash
# kube-rs as referee of kube-testserver's metadata-only answers
# (PartialObjectMetadata / PartialObjectMetadataList, as kube-apiserver 1.32
# sends them): Api::list_metadata, get_metadata, watch_metadata and
# runtime::watcher of PartialObjectMeta (kube 5's metadata watcher) of pods and of a custom resource, through the
# bench's kube-rs peer (bench/peers/kube-rs, `check_metadata`), built here
# with cargo into build/kube-rs-peer when needed (crates.io). Prints
# "metadata-referee: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LABEL=metadata-referee
. "$ROOT/server/tests/referees/harness.sh"

PEER=$ROOT/build/kube-rs-peer/release/kube-rs-peer
cargo build --release -q --manifest-path bench/peers/kube-rs/Cargo.toml \
  --target-dir "$ROOT/build/kube-rs-peer" >"$OUT" 2>&1 || { fail "kube-rs peer builds"; finish; }
if [ ! -x "$SERVER" ]; then
  echo "no $SERVER: run scripts/setup.sh first" >"$OUT"
  fail "server binary present"
  finish
fi
"$SERVER" --port 0 --kubeconfig "$TMP/kubeconfig" --controllers none >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^ready ' "$TMP/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready ' "$TMP/server.out" || { cp "$TMP/server.err" "$OUT"; fail "server starts"; finish; }

export KUBECONFIG=$TMP/kubeconfig HOME=$TMP
kubectl create namespace meta >"$OUT" 2>&1 || { fail "namespace created"; finish; }
kubectl -n meta run web --image=nginx:1.27 --labels=app=web >"$OUT" 2>&1 || { fail "pod created"; finish; }

# The peer prints its own ok/FAIL lines and the closing line; an error before
# that (no closing line) counts as one failure.
timeout 120 "$PEER" "$KUBECONFIG" check_metadata meta >"$TMP/peer.out" 2>&1
rc=$?
cat "$TMP/peer.out"
if ! grep -q "^$LABEL: [0-9]* passed" "$TMP/peer.out"; then
  cp "$TMP/peer.out" "$OUT"
  fail "kube-rs check_metadata ran to the end (exit $rc)"
  finish
fi
[ $rc -eq 0 ] || { echo "--- server stderr (tail)"; tail -5 "$TMP/server.err"; }
exit $rc
