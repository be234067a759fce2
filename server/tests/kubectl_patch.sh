#!/usr/bin/env bash
# Referee check of the stand-in server's PATCH with the real kubectl:
# client-side `kubectl apply` (strategic merge with $setElementOrder and the
# last-applied annotation), `kubectl apply --server-side` (conflicts and
# --force-conflicts), `kubectl patch --type strategic|merge|json`,
# `kubectl label` and `kubectl annotate`. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v kubectl >/dev/null; then
  echo "kubectl not found"; echo "0 passed, 1 failed"; exit 1
fi
cargo build -q --manifest-path Cargo.toml || { echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d)
export KUBECONFIG=$work/kubeconfig
./target/debug/kube-testserver --kubeconfig "$KUBECONFIG" >"$work/server.out" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q '^ready ' "$work/server.out" && break; sleep 0.1; done
grep -q '^ready ' "$work/server.out" || { cat "$work/server.out"; echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
# expect NAME PATTERN CMD...: runs CMD and checks its output (stdout and
# stderr) contains PATTERN (a fixed string).
expect() {
  local name=$1 pattern=$2; shift 2
  local out
  out=$("$@" 2>&1)
  if grep -qF -- "$pattern" <<<"$out"; then
    echo "ok - $name"; passed=$((passed + 1))
  else
    echo "not ok - $name"; echo "   expected: $pattern"; sed 's/^/   got: /' <<<"$out" | head -20
    failed=$((failed + 1))
  fi
}
k() { timeout 30 kubectl --request-timeout=20s "$@"; }
# Until the server serves OpenAPI, kubectl cannot validate client-side.
apply() { k apply --validate=false "$@"; }

deployment() { # replicas image [extra container]
  cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: $1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: $2
        ports: [{containerPort: 80}]
EOF
  if [ -n "${3:-}" ]; then
    printf '      - name: %s\n        image: busybox\n' "$3"
  fi
}
field() { k get deployments web -o "jsonpath=$1"; }

# Client-side apply: create, change, drop a container.
deployment 2 nginx:1 log >"$work/d.yaml"
expect "kubectl apply creates" "deployment.apps/web created" apply -f "$work/d.yaml"
deployment 3 nginx:2 log >"$work/d.yaml"
expect "kubectl apply configures" "deployment.apps/web configured" apply -f "$work/d.yaml"
expect "client-side apply changed replicas and image" "3 nginx:2" \
  field '{.spec.replicas} {.spec.template.spec.containers[0].image}'
deployment 3 nginx:2 >"$work/d.yaml"
expect "kubectl apply without a container" "deployment.apps/web configured" apply -f "$work/d.yaml"
expect "client-side apply removes a dropped container" "containers=web;" \
  field 'containers={range .spec.template.spec.containers[*]}{.name};{end}'
expect "client-side apply keeps last-applied-configuration" '"replicas":3' \
  field '{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}'

# kubectl patch, each type.
expect "patch --type strategic merges containers by name" "deployment.apps/web patched" \
  k patch deployments web --type strategic \
  -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"envoy"}]}}}}'
expect "strategic patch kept the other container" "web;side;" \
  field '{range .spec.template.spec.containers[*]}{.name};{end}'
expect "patch --type merge" "deployment.apps/web patched" \
  k patch deployments web --type merge -p '{"spec":{"replicas":5}}'
expect "merge patch stored" "5" field '{.spec.replicas}'
expect "patch --type json" "deployment.apps/web patched" \
  k patch deployments web --type json -p '[{"op":"replace","path":"/spec/replicas","value":4}]'
expect "json patch failed test is Invalid" \
  "The request is invalid: the server rejected our request due to an error in our request" \
  k patch deployments web --type json -p '[{"op":"test","path":"/spec/replicas","value":99}]'
expect "label" "deployment.apps/web labeled" k label deployments web tier=frontend
expect "annotate" "deployment.apps/web annotated" k annotate deployments web note=hello
expect "label and annotation stored" "frontend hello" \
  field '{.metadata.labels.tier} {.metadata.annotations.note}'
expect "kubectl patch records its field manager" "kubectl-patch:Update" \
  field '{range .metadata.managedFields[*]}{.manager}:{.operation} {end}'

# Server-side apply.
cat >"$work/cm.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default}
data: {mode: fast, level: "1"}
EOF
expect "apply --server-side creates" "configmap/settings serverside-applied" \
  apply --server-side -f "$work/cm.yaml"
expect "server-side apply records an Apply entry" "kubectl:Apply" \
  k get configmaps settings -o 'jsonpath={range .metadata.managedFields[*]}{.manager}:{.operation} {end}'
expect "another manager takes a field" "configmap/settings patched" \
  k patch configmaps settings --type merge -p '{"data":{"mode":"slow"}}'
sed -i 's/mode: fast/mode: turbo/' "$work/cm.yaml"
expect "apply --server-side conflicts" \
  'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.mode' \
  apply --server-side -f "$work/cm.yaml"
expect "apply --server-side --force-conflicts" "configmap/settings serverside-applied" \
  apply --server-side --force-conflicts -f "$work/cm.yaml"
expect "forced value stored" "turbo" k get configmaps settings -o 'jsonpath={.data.mode}'
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {mode: turbo}\n' \
  >"$work/cm.yaml"
expect "apply --server-side without a field" "configmap/settings serverside-applied" \
  apply --server-side -f "$work/cm.yaml"
expect "fields no longer applied are removed" "level=;" \
  k get configmaps settings -o 'jsonpath=level={.data.level};'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
