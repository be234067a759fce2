#!/usr/bin/env bash
# Referee tests: real clients — kubectl and the official Python client —
# against kube-testserver. Uses the release binary (built by scripts/setup.sh),
# a fresh server per run with its own kubeconfig, and a temporary HOME and
# kubectl cache. Prints "ok NAME" / "FAIL NAME" per check and ends with one
# line "N passed, N failed"; exits non-zero when a check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
REFEREES=$ROOT/server/tests/referees
SERVER=$ROOT/server/target/release/kube-testserver

passed=0
failed=0
pass() { echo "ok $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $1"
  [ -s "$OUT" ] && sed 's/^/    | /' "$OUT" | head -n 15
  failed=$((failed + 1))
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

TMP=$(mktemp -d)
OUT=$TMP/out
SERVER_PID=""
BACKGROUND=()
cleanup() {
  for pid in "${BACKGROUND[@]}" $SERVER_PID; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -x "$SERVER" ]; then
  echo "no $SERVER: run scripts/setup.sh first" >"$OUT"
  fail "server binary present"
  finish
fi

# Start the server and wait for its "ready URL" line.
"$SERVER" --kubeconfig "$TMP/kubeconfig" --seed "$REFEREES/seed.yaml" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q '^ready ' "$TMP/server.log" && break; sleep 0.1; done
if ! grep -q '^ready ' "$TMP/server.log"; then
  cp "$TMP/server.log" "$OUT"
  fail "server starts"
  finish
fi

export KUBECONFIG=$TMP/kubeconfig HOME=$TMP/home
mkdir -p "$HOME"
# Every kubectl call has its own time limit so a hang fails one check only.
k() { timeout 30 kubectl --cache-dir "$TMP/cache" "$@"; }

# check NAME COMMAND...: the command's success decides; its output is in $OUT.
check() {
  local name=$1
  shift
  if "$@" >"$OUT" 2>&1; then pass "$name"; else fail "$name"; fi
}
# A ConfigMap manifest (NAMESPACE NAME) for kubectl create -f -. kubectl's
# generators (create configmap --from-literal) send protobuf, which the
# stand-in server does not decode.
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {a: "1"}\n' "$2" "$1"; }
export -f cm
# Helpers for checks: run kubectl and look for text in what it printed.
has() { # has TEXT COMMAND...
  local text=$1
  shift
  "$@" >"$TMP/has" 2>&1
  local rc=$?
  cat "$TMP/has"
  [ $rc -eq 0 ] && grep -qF -- "$text" "$TMP/has"
}
fails_with() { # fails_with TEXT COMMAND...: the command must fail saying TEXT
  local text=$1
  shift
  "$@" >"$TMP/has" 2>&1
  local rc=$?
  cat "$TMP/has"
  [ $rc -ne 0 ] && grep -qF -- "$text" "$TMP/has"
}
jsonpath_is() { # jsonpath_is EXPECTED RESOURCE NAME JSONPATH [kubectl args]
  local want=$1 res=$2 name=$3 path=$4
  shift 4
  local got
  got=$(k get "$res" "$name" -o "jsonpath=$path" "$@") || return 1
  echo "got: $got, want: $want"
  [ "$got" = "$want" ]
}

# --- discovery -------------------------------------------------------------
check "kubectl version reports server 1.32" \
  has '"minor": "32"' k version -o json
check "kubectl api-versions lists every group" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" api-versions) || exit 1
  echo "$out"
  for gv in v1 apps/v1 autoscaling/v1 autoscaling/v2 batch/v1 rbac.authorization.k8s.io/v1 \
    coordination.k8s.io/v1 events.k8s.io/v1 policy/v1 storage.k8s.io/v1 apiextensions.k8s.io/v1 \
    discovery.k8s.io/v1 certificates.k8s.io/v1 admissionregistration.k8s.io/v1 scheduling.k8s.io/v1 \
    node.k8s.io/v1 flowcontrol.apiserver.k8s.io/v1 networking.k8s.io/v1; do
    grep -qx "$gv" <<<"$out" || { echo "missing $gv"; exit 1; }
  done' _ "$TMP/cache"
check "kubectl api-resources shows short names, scope and kind" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" api-resources --no-headers) || exit 1
  echo "$out" | head -5
  grep -Eq "^deployments +deploy +apps/v1 +true +Deployment$" <<<"$out" &&
  grep -Eq "^customresourcedefinitions +crd,crds +apiextensions.k8s.io/v1 +false +CustomResourceDefinition$" <<<"$out" &&
  grep -Eq "^horizontalpodautoscalers +hpa +autoscaling/v2 +true +HorizontalPodAutoscaler$" <<<"$out" &&
  [ "$(wc -l <<<"$out")" -ge 50 ]' _ "$TMP/cache"
check "kubectl api-resources filters by verb and group" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" api-resources --api-group=rbac.authorization.k8s.io --verbs=list -o name) || exit 1
  echo "$out"
  [ "$(sort <<<"$out" | tr "\n" " ")" = "clusterrolebindings.rbac.authorization.k8s.io clusterroles.rbac.authorization.k8s.io rolebindings.rbac.authorization.k8s.io roles.rbac.authorization.k8s.io " ]' _ "$TMP/cache"
check "kubectl api-resources --categories=all" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" api-resources --categories=all -o name) || exit 1
  echo "$out"
  for r in pods services replicationcontrollers deployments.apps statefulsets.apps daemonsets.apps \
    replicasets.apps jobs.batch cronjobs.batch horizontalpodautoscalers.autoscaling; do
    grep -qx "$r" <<<"$out" || { echo "missing $r"; exit 1; }
  done' _ "$TMP/cache"
check "aggregated discovery answered in its own media type" bash -c '
  timeout 30 kubectl --cache-dir "$1" get --raw /apis -v=8 2>&1 | grep -i "content-type" | head -3
  timeout 30 kubectl --cache-dir "$1" api-resources -v=8 2>&1 |
    grep -q "Content-Type: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"' _ "$TMP/cache"

# --- create and validation ---------------------------------------------------
check "kubectl create -f: a manifest of every kind passes client-side validation" \
  has 'flowschema.flowcontrol.apiserver.k8s.io/referee created' k create -f "$REFEREES/every-kind.yaml"
check "kubectl get by short names across groups" \
  has 'storageclass.storage.k8s.io/fast' k get sc,pc,crd,netpol,pdb,hpa,sts,ds,cj,ing,ev -n referee -o name
check "kubectl get all (category) in a namespace" \
  has 'cronjob.batch/nightly' k get all -n referee -o name
cat >"$TMP/unknown-top.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: bogus}
bogus: true
data: {a: "1"}
EOF
check "kubectl create rejects an unknown top-level field (--validate=strict)" \
  fails_with 'unknown field "bogus"' k create -f "$TMP/unknown-top.yaml"
sed 's/^bogus: true$/spec: {replicas: 1}/' "$TMP/unknown-top.yaml" >"$TMP/unknown-spec.yaml"
check "kubectl create rejects spec on a ConfigMap" \
  fails_with 'unknown field "spec"' k create -f "$TMP/unknown-spec.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bogus, colour: red}\n' >"$TMP/unknown-meta.yaml"
check "kubectl create rejects an unknown metadata field" \
  fails_with 'unknown field "colour"' k create -f "$TMP/unknown-meta.yaml"
check "kubectl create rejects a misspelt container field" bash -c '
  sed "s/image: nginx:1.27/imagee: nginx:1.27/" "$2" | timeout 30 kubectl --cache-dir "$1" create -f - 2>&1 |
    tee /dev/stderr | grep -q "unknown field \"imagee\" in io.k8s.api.core.v1.Container"' _ "$TMP/cache" "$REFEREES/web.yaml"
check "kubectl create accepts what its own generators print (every kind)" bash -c '
  k() { timeout 30 kubectl --cache-dir "$1" "${@:2}"; }
  gen() { k "$1" create "${@:2}" -n generated --dry-run=client -o yaml; }
  {
    k "$1" create namespace generated --dry-run=client -o yaml; echo ---
    gen "$1" deployment gen --image=nginx:1.27 --replicas=2 --port=80; echo ---
    gen "$1" job gen --image=busybox -- echo hi; echo ---
    gen "$1" cronjob gen --image=busybox --schedule="*/5 * * * *"; echo ---
    gen "$1" service clusterip gen --tcp=80:8080; echo ---
    gen "$1" configmap gen --from-literal=a=1; echo ---
    gen "$1" secret generic gen --from-literal=p=s; echo ---
    gen "$1" serviceaccount gen; echo ---
    gen "$1" role gen --verb=get --resource=pods; echo ---
    gen "$1" rolebinding gen --role=gen --serviceaccount=generated:gen; echo ---
    gen "$1" clusterrole gen-cr --verb=list --resource=nodes; echo ---
    gen "$1" poddisruptionbudget gen --selector=app=gen --min-available=1; echo ---
    gen "$1" priorityclass gen-pc --value=10; echo ---
    gen "$1" quota gen --hard=pods=4; echo ---
    gen "$1" ingress gen --rule="example.com/=gen:80"; echo ---
    k "$1" run gen --image=nginx -n generated --labels=app=gen --env=A=1 --port=80 --dry-run=client -o yaml
  } >"$2" || exit 1
  k "$1" create -f "$2"' _ "$TMP/cache" "$TMP/generated.yaml"
check "kubectl create --validate=false lets it through" \
  has 'configmap/bogus created' k create --validate=false -f "$TMP/unknown-top.yaml"
check "kubectl create --dry-run=server stores nothing" bash -c '
  cm "$2" dry | timeout 30 kubectl --cache-dir "$1" create -f - --dry-run=server -o name &&
  ! timeout 30 kubectl --cache-dir "$1" get configmap dry' _ "$TMP/cache" default

# --- apply -------------------------------------------------------------------
check "kubectl apply -f creates" has 'deployment.apps/web created' k apply -f "$REFEREES/web.yaml"
check "kubectl apply -f again is unchanged" has 'deployment.apps/web unchanged' k apply -f "$REFEREES/web.yaml"
sed -e 's/replicas: 2/replicas: 3/' -e 's/nginx:1.27/nginx:1.28/' "$REFEREES/web.yaml" >"$TMP/web2.yaml"
check "kubectl apply -f with changes configures" has 'deployment.apps/web configured' k apply -f "$TMP/web2.yaml"
check "kubectl apply changed replicas and image, kept the rest" bash -c '
  got=$(timeout 30 kubectl --cache-dir "$1" get deploy web -o jsonpath="{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value} {.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}")
  echo "$got"
  [[ $got == "3 nginx:1.28 fast {"* ]]' _ "$TMP/cache"
cat >"$TMP/ssa.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, labels: {owner: referee}}
data: {a: "1", b: "2"}
EOF
check "kubectl apply --server-side creates" \
  has 'configmap/ssa serverside-applied' k apply --server-side --field-manager=referee -f "$TMP/ssa.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "1"}\n' >"$TMP/ssa2.yaml"
check "kubectl apply --server-side removes a field its manager dropped" bash -c '
  timeout 30 kubectl --cache-dir "$1" apply --server-side --field-manager=referee -f "$2" || exit 1
  got=$(timeout 30 kubectl --cache-dir "$1" get cm ssa -o jsonpath="{.data}|{.metadata.managedFields[0].manager}")
  echo "$got"
  [ "$got" = "{\"a\":\"1\"}|referee" ]' _ "$TMP/cache" "$TMP/ssa2.yaml"
check "kubectl apply --server-side reports a conflict with another manager" bash -c '
  printf "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: \"other\"}\n" |
    timeout 30 kubectl --cache-dir "$1" apply --server-side --field-manager=intruder -f - 2>&1 | tee /dev/stderr |
    grep -q "conflict"' _ "$TMP/cache"

# --- get ---------------------------------------------------------------------
check "kubectl get -o json" bash -c '
  timeout 30 kubectl --cache-dir "$1" get deploy web -o json |
    python3 -c "import json,sys; d=json.load(sys.stdin); print(d[\"kind\"], d[\"metadata\"][\"name\"]); sys.exit(d[\"kind\"] != \"Deployment\" or d[\"apiVersion\"] != \"apps/v1\")"' _ "$TMP/cache"
check "kubectl get -o yaml" has 'image: nginx:1.28' k get deploy web -o yaml
check "kubectl get list -o json has items" bash -c '
  timeout 30 kubectl --cache-dir "$1" get cm -n referee -o json |
    python3 -c "import json,sys; d=json.load(sys.stdin); n=[i[\"metadata\"][\"name\"] for i in d[\"items\"]]; print(n); sys.exit(\"settings\" not in n)"' _ "$TMP/cache"
check "kubectl get -l label selector" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" get pods,deploy -l app=web -o name) || exit 1
  echo "$out"
  [ "$out" = "deployment.apps/web" ]' _ "$TMP/cache"
check "kubectl get a missing object says NotFound" \
  fails_with 'Error from server (NotFound): configmaps "nope" not found' k get cm nope
check "kubectl get --chunk-size pages through a list" bash -c '
  for i in 1 2 3 4 5; do cm referee "page-$i" | timeout 30 kubectl --cache-dir "$1" create -f - -o name >/dev/null || exit 1; done
  out=$(timeout 30 kubectl --cache-dir "$1" get cm -n referee --chunk-size=2 -o name -v=6 2>&1) || exit 1
  echo "$out" | grep -E "limit=2|configmap/page" | head -8
  [ "$(grep -c "configmap/page-" <<<"$out")" -eq 5 ] && grep -q "continue=" <<<"$out"' _ "$TMP/cache"

# --- watch ---------------------------------------------------------------------
check "kubectl get -w sees a configmap created while watching" bash -c '
  timeout 8 kubectl --cache-dir "$1" get cm -w --output-watch-events >"$2" 2>&1 &
  watcher=$!
  sleep 2
  cm default watched | timeout 30 kubectl --cache-dir "$1" create -f - >/dev/null
  sleep 2
  timeout 30 kubectl --cache-dir "$1" delete cm watched >/dev/null
  wait $watcher
  cat "$2"
  grep -Eq "^ADDED +watched " "$2" && grep -Eq "^DELETED +watched " "$2"' _ "$TMP/cache" "$TMP/watch.out"

# --- patch, label, annotate, scale ---------------------------------------------
check "kubectl patch (strategic) merges containers by name" bash -c '
  timeout 30 kubectl --cache-dir "$1" patch deploy web -p "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.29\"}]}}}}" || exit 1
  got=$(timeout 30 kubectl --cache-dir "$1" get deploy web -o jsonpath="{.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}")
  echo "$got"
  [ "$got" = "nginx nginx:1.29 80" ]' _ "$TMP/cache"
check "kubectl patch (strategic) \$patch: delete removes a list entry" bash -c '
  timeout 30 kubectl --cache-dir "$1" patch deploy web -p "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"sidecar\",\"image\":\"busybox\"}]}}}}" || exit 1
  timeout 30 kubectl --cache-dir "$1" patch deploy web -p "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"\$patch\":\"delete\"}]}}}}" || exit 1
  got=$(timeout 30 kubectl --cache-dir "$1" get deploy web -o jsonpath="{.spec.template.spec.containers[*].name}")
  echo "$got"
  [ "$got" = "sidecar" ]' _ "$TMP/cache"
check "kubectl patch --type=merge" bash -c '
  timeout 30 kubectl --cache-dir "$1" patch cm settings -n referee --type=merge -p "{\"data\":{\"mode\":null,\"extra\":\"x\"}}" || exit 1
  got=$(timeout 30 kubectl --cache-dir "$1" get cm settings -n referee -o jsonpath="{.data.mode}|{.data.extra}")
  echo "$got"
  [ "$got" = "|x" ]' _ "$TMP/cache"
check "kubectl patch --type=json" bash -c '
  timeout 30 kubectl --cache-dir "$1" patch cm settings -n referee --type=json -p "[{\"op\":\"add\",\"path\":\"/data/j\",\"value\":\"y\"},{\"op\":\"remove\",\"path\":\"/data/extra\"}]" || exit 1
  got=$(timeout 30 kubectl --cache-dir "$1" get cm settings -n referee -o jsonpath="{.data.j}|{.data.extra}")
  echo "$got"
  [ "$got" = "y|" ]' _ "$TMP/cache"
check "kubectl patch --type=json with a failing test op changes nothing" bash -c '
  ! timeout 30 kubectl --cache-dir "$1" patch cm settings -n referee --type=json \
    -p "[{\"op\":\"replace\",\"path\":\"/data/j\",\"value\":\"z\"},{\"op\":\"test\",\"path\":\"/data/j\",\"value\":\"no\"}]" || exit 1
  [ "$(timeout 30 kubectl --cache-dir "$1" get cm settings -n referee -o jsonpath={.data.j})" = y ]' _ "$TMP/cache"
check "kubectl label adds, overwrites and removes" bash -c '
  k() { timeout 30 kubectl --cache-dir "$1" "${@:2}"; }
  k "$1" label cm settings -n referee tier=a || exit 1
  ! k "$1" label cm settings -n referee tier=b 2>/dev/null || exit 1
  k "$1" label cm settings -n referee tier=b --overwrite || exit 1
  [ "$(k "$1" get cm settings -n referee -o jsonpath={.metadata.labels.tier})" = b ] || exit 1
  k "$1" label cm settings -n referee tier- || exit 1
  [ -z "$(k "$1" get cm settings -n referee -o jsonpath={.metadata.labels.tier})" ]' _ "$TMP/cache"
check "kubectl annotate" bash -c '
  timeout 30 kubectl --cache-dir "$1" annotate deploy web note="hello world" || exit 1
  [ "$(timeout 30 kubectl --cache-dir "$1" get deploy web -o jsonpath={.metadata.annotations.note})" = "hello world" ]' _ "$TMP/cache"
check "kubectl scale deployment" bash -c '
  timeout 30 kubectl --cache-dir "$1" scale deploy web --replicas=5 || exit 1
  [ "$(timeout 30 kubectl --cache-dir "$1" get deploy web -o jsonpath={.spec.replicas})" = 5 ]' _ "$TMP/cache"

# --- logs ----------------------------------------------------------------------
check "kubectl logs" has 'second line' k logs logger
check "kubectl logs --tail=1" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" logs logger -c main --tail=1) || exit 1
  echo "$out"
  [ "$out" = "second line" ]' _ "$TMP/cache"
check "kubectl logs -f streams lines appended later" bash -c '
  timeout 6 kubectl --cache-dir "$1" logs -f logger >"$2" 2>&1 &
  follower=$!
  sleep 2
  echo "appended while following" >"$2.line"
  timeout 30 kubectl --cache-dir "$1" create --raw /testserver/logs/default/logger/main -f "$2.line" >/dev/null
  wait $follower
  cat "$2"
  grep -q "second line" "$2" && grep -q "appended while following" "$2"' _ "$TMP/cache" "$TMP/follow.out"

# --- explain -------------------------------------------------------------------
check "kubectl explain lists a kind's fields" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" explain deployment) || exit 1
  echo "$out"
  grep -q "KIND: *Deployment" <<<"$out" && grep -q "^  spec" <<<"$out" && grep -q "^  metadata" <<<"$out"' _ "$TMP/cache"
check "kubectl explain a nested workload field" bash -c '
  out=$(timeout 30 kubectl --cache-dir "$1" explain deployment.spec.template.spec.containers) || exit 1
  echo "$out"
  grep -q "FIELD: containers <\[\]Container>" <<<"$out" && grep -q "^  image" <<<"$out" && grep -q "^  volumeMounts" <<<"$out"' _ "$TMP/cache"
check "kubectl explain a field of another group" has 'FIELD: rules' k explain role.rules
check "kubectl explain an unknown field fails" fails_with 'field "nope" does not exist' k explain configmap.nope

# --- delete --------------------------------------------------------------------
check "kubectl delete" has 'deployment.apps "web" deleted' k delete deploy web
check "kubectl delete leaves it gone" fails_with 'NotFound' k get deploy web
# The namespace comes first in the file: deleting it may already have taken
# its objects with it, as the namespace controller does on a real cluster.
check "kubectl delete -f removes every kind" bash -c '
  timeout 60 kubectl --cache-dir "$1" delete -f "$2" --ignore-not-found --wait=false >/dev/null || exit 1
  out=$(timeout 30 kubectl --cache-dir "$1" get sc,pc,crd,clusterrole,csidriver,flowschema -o name 2>&1)
  echo "$out"
  ! grep -qE "fast|high|widgets|referee-aggregate|hostpath|flowschema.*referee" <<<"$out" || exit 1
  left=$(timeout 30 kubectl --cache-dir "$1" get deploy,sts,ds,cm,secret,role,lease,hpa -n referee -o name 2>&1)
  echo "$left"
  ! grep -qE "statefulset|daemonset|configmap/settings|secret/creds|role|lease|horizontalpodautoscaler" <<<"$left"' _ "$TMP/cache" "$REFEREES/every-kind.yaml"

# --- the official Python client --------------------------------------------------
if bash "$REFEREES/python_venv.sh" >"$OUT" 2>&1; then
  "$ROOT/build/venv/bin/python" "$REFEREES/python_client.py" "$KUBECONFIG" >"$TMP/python.out" 2>&1
  cat "$TMP/python.out"
  p=$(grep -c '^ok ' "$TMP/python.out")
  f=$(grep -c '^FAIL ' "$TMP/python.out")
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    cp "$TMP/python.out" "$OUT"
    fail "python client ran"
  fi
else
  fail "python venv with the kubernetes client"
fi

finish
