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
LABEL=""
. "$REFEREES/harness.sh"

# --- helpers the checks use (and same, has, fails_with from harness.sh) ----------
jp() { # jp RESOURCE JSONPATH [kubectl args]: one object's fields via jsonpath
  k get "$1" -o "jsonpath=$2" "${@:3}"
}
# A ConfigMap manifest (NAMESPACE NAME) for kubectl create -f -.
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\ndata: {a: "1"}\n' "$2" "$1"; }
each_line_in() { # each_line_in TEXT LINE...: every LINE is a whole line of TEXT
  local text=$1
  shift
  for line in "$@"; do grep -qxF -- "$line" <<<"$text" || { echo "missing: $line"; return 1; }; done
}

# --- the server ------------------------------------------------------------------
start_server --seed "$REFEREES/seed.yaml"
export KUBECONFIG=$TMP/kubeconfig HOME=$TMP/home
mkdir -p "$HOME"

# --- discovery -------------------------------------------------------------------
api_versions() {
  local out
  out=$(k api-versions) || return 1
  echo "$out"
  each_line_in "$out" v1 apps/v1 autoscaling/v1 autoscaling/v2 batch/v1 \
    rbac.authorization.k8s.io/v1 coordination.k8s.io/v1 events.k8s.io/v1 policy/v1 \
    storage.k8s.io/v1 apiextensions.k8s.io/v1 discovery.k8s.io/v1 certificates.k8s.io/v1 \
    admissionregistration.k8s.io/v1 scheduling.k8s.io/v1 node.k8s.io/v1 \
    flowcontrol.apiserver.k8s.io/v1 networking.k8s.io/v1
}
api_resources() {
  local out
  out=$(k api-resources --no-headers) || return 1
  echo "$out" | head -5
  grep -Eq "^deployments +deploy +apps/v1 +true +Deployment$" <<<"$out" &&
    grep -Eq "^customresourcedefinitions +crd,crds +apiextensions.k8s.io/v1 +false +CustomResourceDefinition$" <<<"$out" &&
    grep -Eq "^horizontalpodautoscalers +hpa +autoscaling/v2 +true +HorizontalPodAutoscaler$" <<<"$out" &&
    [ "$(wc -l <<<"$out")" -ge 50 ]
}
api_resources_filtered() {
  local out
  out=$(k api-resources --api-group=rbac.authorization.k8s.io --verbs=list -o name) || return 1
  same "$(sort <<<"$out" | tr '\n' ' ')" "clusterrolebindings.rbac.authorization.k8s.io clusterroles.rbac.authorization.k8s.io rolebindings.rbac.authorization.k8s.io roles.rbac.authorization.k8s.io "
}
api_resources_category() {
  local out
  out=$(k api-resources --categories=all -o name) || return 1
  echo "$out"
  each_line_in "$out" pods services replicationcontrollers deployments.apps statefulsets.apps \
    daemonsets.apps replicasets.apps jobs.batch cronjobs.batch horizontalpodautoscalers.autoscaling
}
aggregated_discovery() {
  # A cache of its own: kubectl asks the server only when it has no copy.
  local out
  out=$(timeout 30 kubectl --cache-dir "$TMP/fresh-cache" api-resources -v=8 2>&1) || return 1
  grep -i "content-type: application/json;g=" <<<"$out" | head -3
  grep -q "Content-Type: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" <<<"$out"
}
check "kubectl version reports server 1.32" has '"minor": "32"' k version -o json
check "kubectl api-versions lists every group" api_versions
check "kubectl api-resources shows short names, scope and kind" api_resources
check "kubectl api-resources filters by verb and group" api_resources_filtered
check "kubectl api-resources --categories=all" api_resources_category
check "aggregated discovery answered in its own media type" aggregated_discovery

# --- create and client-side validation ---------------------------------------------
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bogus}\nbogus: true\ndata: {a: "1"}\n' >"$TMP/unknown-top.yaml"
sed 's/^bogus: true$/spec: {replicas: 1}/' "$TMP/unknown-top.yaml" >"$TMP/unknown-spec.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bogus, colour: red}\n' >"$TMP/unknown-meta.yaml"
sed 's/image: nginx:1.27/imagee: nginx:1.27/' "$REFEREES/web.yaml" >"$TMP/misspelt.yaml"
generated_manifests() {
  local gen="k create -n generated --dry-run=client -o yaml"
  {
    k create namespace generated --dry-run=client -o yaml && echo ---
    $gen deployment gen --image=nginx:1.27 --replicas=2 --port=80 && echo ---
    $gen job gen --image=busybox -- echo hi && echo ---
    $gen cronjob gen --image=busybox --schedule="*/5 * * * *" && echo ---
    $gen service clusterip gen --tcp=80:8080 && echo ---
    $gen configmap gen --from-literal=a=1 && echo ---
    $gen secret generic gen --from-literal=p=s && echo ---
    $gen serviceaccount gen && echo ---
    $gen role gen --verb=get --resource=pods && echo ---
    $gen rolebinding gen --role=gen --serviceaccount=generated:gen && echo ---
    $gen clusterrole gen-cr --verb=list --resource=nodes && echo ---
    $gen poddisruptionbudget gen --selector=app=gen --min-available=1 && echo ---
    $gen priorityclass gen-pc --value=10 && echo ---
    $gen quota gen --hard=pods=4 && echo ---
    $gen ingress gen --rule="example.com/=gen:80" && echo ---
    k run gen -n generated --image=nginx --labels=app=gen --env=A=1 --port=80 --dry-run=client -o yaml
  } >"$TMP/generated.yaml" || return 1
  k create -f "$TMP/generated.yaml"
}
dry_run_server() {
  cm default dry | k create -f - --dry-run=server -o name || return 1
  ! k get configmap dry
}
check "kubectl create -f: a manifest of every kind passes client-side validation" \
  has 'flowschema.flowcontrol.apiserver.k8s.io/referee created' k create -f "$REFEREES/every-kind.yaml"
check "kubectl get by short names across groups" \
  has 'storageclass.storage.k8s.io/fast' k get sc,pc,crd,netpol,pdb,hpa,sts,ds,cj,ing,ev -n referee -o name
check "kubectl get all (category) in a namespace" has 'cronjob.batch/nightly' k get all -n referee -o name
check "kubectl create rejects an unknown top-level field (--validate=strict)" \
  fails_with 'unknown field "bogus"' k create -f "$TMP/unknown-top.yaml"
check "kubectl create rejects spec on a ConfigMap" \
  fails_with 'unknown field "spec"' k create -f "$TMP/unknown-spec.yaml"
check "kubectl create rejects an unknown metadata field" \
  fails_with 'unknown field "colour"' k create -f "$TMP/unknown-meta.yaml"
check "kubectl create rejects a misspelt container field" \
  fails_with 'unknown field "imagee" in io.k8s.api.core.v1.Container' k create -f "$TMP/misspelt.yaml"
check "kubectl create accepts what its own generators print (every kind)" generated_manifests
check "kubectl create --validate=false lets it through" \
  has 'configmap/bogus created' k create --validate=false -f "$TMP/unknown-top.yaml"
check "kubectl create --dry-run=server stores nothing" dry_run_server

# --- kubectl's generators send protobuf bodies ---------------------------------------
check "kubectl create namespace (protobuf)" has 'namespace/demo created' k create namespace demo
check "kubectl create configmap --from-literal (protobuf)" has 'configmap/gen-cm created' k create configmap gen-cm -n demo --from-literal=a=1
check "kubectl create deployment (protobuf)" has 'deployment.apps/gen-web created' k create deployment gen-web -n demo --image=nginx:1.27
check "kubectl create secret generic (protobuf)" has 'secret/gen-s created' k create secret generic gen-s -n demo --from-literal=p=s
check "kubectl create job (protobuf)" has 'job.batch/gen-job created' k create job gen-job -n demo --image=busybox -- echo hi
check "kubectl run (protobuf)" has 'pod/gen-pod created' k run gen-pod -n demo --image=nginx --port=80
check "kubectl expose (protobuf)" has 'service/gen-web exposed' k expose deployment gen-web -n demo --port=80
check "kubectl scale" has 'deployment.apps/gen-web scaled' k scale deployment gen-web -n demo --replicas=2
check "kubectl set image" has 'image updated' k set image deployment/gen-web -n demo nginx=nginx:1.28
check "kubectl auth can-i (admin)" has 'yes' k auth can-i delete pods
check "kubectl auth can-i (read-only user says no)" fails_with 'no' k auth can-i delete pods --context testserver-readonly
check "kubectl auth whoami" has 'admin' k auth whoami
check "kubectl create token" has 'eyJ' k create token default -n demo

# --- apply -----------------------------------------------------------------------
sed -e 's/replicas: 2/replicas: 3/' -e 's/nginx:1.27/nginx:1.28/' "$REFEREES/web.yaml" >"$TMP/web2.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, labels: {owner: referee}}\ndata: {a: "1", b: "2"}\n' >"$TMP/ssa.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "1"}\n' >"$TMP/ssa2.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "other"}\n' >"$TMP/ssa-other.yaml"
apply_kept_the_rest() {
  local got
  got=$(jp deploy/web '{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value}') || return 1
  same "$got" "3 nginx:1.28 fast" &&
    [ -n "$(jp deploy/web '{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}')" ]
}
ssa_drops_field() {
  k apply --server-side --field-manager=referee -f "$TMP/ssa2.yaml" || return 1
  same "$(jp cm/ssa '{.data}|{.metadata.managedFields[0].manager}')" '{"a":"1"}|referee'
}
diff_shows_change() {
  sed 's/replicas: 3/replicas: 4/' "$TMP/web2.yaml" >"$TMP/web4.yaml"
  k diff -f "$TMP/web4.yaml" >"$TMP/diff.out" 2>&1
  local rc=$?
  cat "$TMP/diff.out"
  # diff exits 1 when there are differences; the dry run changes nothing.
  [ $rc -eq 1 ] && grep -q '^+  replicas: 4$' "$TMP/diff.out" && same "$(jp deploy/web '{.spec.replicas}')" "3"
}
edit_in_editor() {
  EDITOR="sed -i s/replicas:\ 3/replicas:\ 6/" k edit deploy web || return 1
  same "$(jp deploy/web '{.spec.replicas}')" "6" || return 1
  k apply -f "$TMP/web2.yaml" >/dev/null
}
check "kubectl apply -f creates" has 'deployment.apps/web created' k apply -f "$REFEREES/web.yaml"
check "kubectl apply -f again is unchanged" has 'deployment.apps/web unchanged' k apply -f "$REFEREES/web.yaml"
check "kubectl apply -f with changes configures" has 'deployment.apps/web configured' k apply -f "$TMP/web2.yaml"
check "kubectl apply changed replicas and image, kept the rest" apply_kept_the_rest
check "kubectl diff shows what apply would change" diff_shows_change
check "kubectl edit saves what the editor changed" edit_in_editor
check "kubectl apply --server-side creates" \
  has 'configmap/ssa serverside-applied' k apply --server-side --field-manager=referee -f "$TMP/ssa.yaml"
check "kubectl apply --server-side removes a field its manager dropped" ssa_drops_field
check "kubectl apply --server-side reports a conflict with another manager" \
  fails_with 'conflict' k apply --server-side --field-manager=intruder -f "$TMP/ssa-other.yaml"

# --- custom resources (the CRD widgets.example.com comes from every-kind.yaml) --------
printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: referee}\nspec: {size: 3, colour: blue}\n' >"$TMP/widget.yaml"
crd_discovered() {
  local out
  out=$(k api-resources --api-group=example.com --no-headers) || return 1
  echo "$out"
  grep -Eq "^widgets +wd +example.com/v1 +true +Widget$" <<<"$out"
}
check "kubectl api-resources lists a CRD's resource" crd_discovered
check "kubectl create -f a custom resource" has 'widget.example.com/w1 created' k create -f "$TMP/widget.yaml"
check "kubectl get a custom resource by short name" has 'widget.example.com/w1' k get wd -n referee -o name

# --- get -------------------------------------------------------------------------
json_field() { # json_field EXPR: evaluates EXPR on the JSON document read from stdin as d
  python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}
get_json() {
  same "$(k get deploy web -o json | json_field 'd["apiVersion"], d["kind"], d["metadata"]["name"]')" \
    "apps/v1 Deployment web"
}
get_list_json() {
  local names
  names=$(k get cm -n referee -o json | json_field '" ".join(i["metadata"]["name"] for i in d["items"])') || return 1
  echo "$names"
  grep -qw settings <<<"$names"
}
label_selector() {
  # On a cluster the Deployment's pods carry its labels too.
  local got
  got=$(k get pods,deploy -l app=web -o name) || return 1
  echo "$got"
  grep -qx "deployment.apps/web" <<<"$got" &&
    ! grep -v -e '^pod/web-' -e '^deployment.apps/web$' <<<"$got" | grep -q . &&
    same "$(k get pods,deploy -l app=logger -o name)" "pod/logger"
}
chunked_list() {
  for i in 1 2 3 4 5; do cm referee "page-$i" | k create -f - -o name >/dev/null || return 1; done
  local out
  out=$(k get cm -n referee --chunk-size=2 -o name -v=6 2>&1) || return 1
  grep -E "limit=2|configmap/page" <<<"$out" | head -8
  [ "$(grep -c "configmap/page-" <<<"$out")" -eq 5 ] && grep -q "continue=" <<<"$out"
}
check "kubectl get -o json" get_json
check "kubectl get -o yaml" has 'image: nginx:1.28' k get deploy web -o yaml
check "kubectl get list -o json has items" get_list_json
check "kubectl get -l label selector" label_selector
check "kubectl get a missing object says NotFound" \
  fails_with 'Error from server (NotFound): configmaps "nope" not found' k get cm nope
check "kubectl get --chunk-size pages through a list" chunked_list

# --- get as a table (the server prints: kubectl asks for meta.k8s.io Tables) ---------
AGE='[0-9]+[smhdy][0-9smhdy]*'
prints() { # prints HEADER ROW KUBECTL_ARGS...: the header is the first line and ROW one of the others (extended regexes)
  local header=$1 row=$2 out
  shift 2
  out=$(k "$@") || return 1
  echo "$out"
  head -n 1 <<<"$out" | grep -Eq "^$header\$" && tail -n +2 <<<"$out" | grep -Eq "^$row\$"
}
check "kubectl get pods prints the pod columns" \
  prints 'NAME +READY +STATUS +RESTARTS +AGE' "logger +1/1 +Running +0 +$AGE" get pods
check "kubectl get pods -o wide adds IP, node, nominated node and readiness gates" \
  prints 'NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES' \
  "logger +1/1 +Running +0 +$AGE +10\.244\.0\.[0-9]+ +node-1 +<none> +<none>" get pods -o wide
check "kubectl get deploy prints the deployment columns" \
  prints 'NAME +READY +UP-TO-DATE +AVAILABLE +AGE' "web +[0-9]+/3 +[0-9]+ +[0-9]+ +$AGE" get deploy
check "kubectl get deploy -o wide adds containers, images and selector" \
  prints 'NAME +READY +UP-TO-DATE +AVAILABLE +AGE +CONTAINERS +IMAGES +SELECTOR' \
  "web +[0-9]+/3 +[0-9]+ +[0-9]+ +$AGE +nginx +nginx:1\.28 +app=web" get deploy -o wide
check "kubectl get svc prints type, addresses and ports" \
  prints 'NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE' "web +ClusterIP +[^ ]+ +<none> +80/TCP +$AGE" get svc -n referee
check "kubectl get ns prints each namespace's status" \
  prints 'NAME +STATUS +AGE' "default +Active +$AGE" get ns
check "kubectl get cm prints how many keys" \
  prints 'NAME +DATA +AGE' "settings +[0-9]+ +$AGE" get cm -n referee
check "kubectl get -A adds the namespace column" \
  prints 'NAMESPACE +NAME +DATA +AGE' "referee +settings +[0-9]+ +$AGE" get cm -A
check "kubectl get a custom resource without printer columns prints NAME and AGE" \
  prints 'NAME +AGE' "w1 +$AGE" get wd -n referee

# --- watch -----------------------------------------------------------------------
watch_sees_changes() {
  timeout 8 kubectl --cache-dir "$TMP/cache" get cm -w --output-watch-events >"$TMP/watch.out" 2>&1 &
  local watcher=$!
  sleep 2
  cm default watched | k create -f - >/dev/null
  sleep 1
  k delete cm watched >/dev/null
  wait $watcher
  cat "$TMP/watch.out"
  grep -Eq "^ADDED +watched " "$TMP/watch.out" && grep -Eq "^DELETED +watched " "$TMP/watch.out"
}
check "kubectl get -w sees a configmap created while watching" watch_sees_changes

# --- patch, label, annotate, scale -------------------------------------------------
containers_patch() { # a strategic merge patch of the web deployment's containers
  echo "{\"spec\":{\"template\":{\"spec\":{\"containers\":[$1]}}}}"
}
strategic_patch() {
  k patch deploy web -p "$(containers_patch '{"name":"nginx","image":"nginx:1.29"}')" || return 1
  same "$(jp deploy/web '{.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}')" \
    "nginx nginx:1.29 80"
}
strategic_delete() {
  k patch deploy web -p "$(containers_patch '{"name":"sidecar","image":"busybox"}')" || return 1
  k patch deploy web -p "$(containers_patch '{"name":"nginx","$patch":"delete"}')" || return 1
  same "$(jp deploy/web '{.spec.template.spec.containers[*].name}')" "sidecar"
}
merge_patch() {
  k patch cm settings -n referee --type=merge -p '{"data":{"mode":null,"extra":"x"}}' || return 1
  same "$(jp cm/settings '{.data.mode}|{.data.extra}' -n referee)" "|x"
}
json_patch() {
  k patch cm settings -n referee --type=json \
    -p '[{"op":"add","path":"/data/j","value":"y"},{"op":"remove","path":"/data/extra"}]' || return 1
  same "$(jp cm/settings '{.data.j}|{.data.extra}' -n referee)" "y|"
}
json_patch_failed_test() {
  ! k patch cm settings -n referee --type=json \
    -p '[{"op":"replace","path":"/data/j","value":"z"},{"op":"test","path":"/data/j","value":"no"}]' || return 1
  same "$(jp cm/settings '{.data.j}' -n referee)" "y"
}
labels() {
  k label cm settings -n referee tier=a || return 1
  ! k label cm settings -n referee tier=b || return 1
  k label cm settings -n referee tier=b --overwrite || return 1
  same "$(jp cm/settings '{.metadata.labels.tier}' -n referee)" "b" || return 1
  k label cm settings -n referee tier- || return 1
  same "$(jp cm/settings '{.metadata.labels.tier}' -n referee)" ""
}
annotate() {
  k annotate deploy web note="hello world" || return 1
  same "$(jp deploy/web '{.metadata.annotations.note}')" "hello world"
}
scale() {
  k scale deploy web --replicas=5 || return 1
  same "$(jp deploy/web '{.spec.replicas}')" "5"
}
check "kubectl patch (strategic) merges containers by name" strategic_patch
check "kubectl patch (strategic) \$patch: delete removes a list entry" strategic_delete
check "kubectl patch --type=merge" merge_patch
check "kubectl patch --type=json" json_patch
check "kubectl patch --type=json with a failing test op changes nothing" json_patch_failed_test
check "kubectl label adds, overwrites and removes" labels
check "kubectl annotate" annotate
check "kubectl scale deployment" scale

# --- logs ------------------------------------------------------------------------
logs_tail() {
  same "$(k logs logger -c main --tail=1)" "second line"
}
logs_follow() {
  timeout 6 kubectl --cache-dir "$TMP/cache" logs -f logger >"$TMP/follow.out" 2>&1 &
  local follower=$!
  sleep 2
  echo "appended while following" >"$TMP/line"
  k create --raw /testserver/logs/default/logger/main -f "$TMP/line" >/dev/null
  wait $follower
  cat "$TMP/follow.out"
  grep -q "second line" "$TMP/follow.out" && grep -q "appended while following" "$TMP/follow.out"
}
check "kubectl logs" has 'second line' k logs logger
check "kubectl logs --tail=1" logs_tail
check "kubectl logs -f streams lines appended later" logs_follow

# --- explain ---------------------------------------------------------------------
explain_kind() {
  local out
  out=$(k explain deployment) || return 1
  echo "$out"
  grep -q "KIND: *Deployment" <<<"$out" && grep -q "^  spec" <<<"$out" && grep -q "^  metadata" <<<"$out"
}
explain_nested() {
  local out
  out=$(k explain deployment.spec.template.spec.containers) || return 1
  echo "$out"
  grep -q "FIELD: containers <\[\]Container>" <<<"$out" && grep -q "^  image" <<<"$out" &&
    grep -q "^  volumeMounts" <<<"$out"
}
check "kubectl explain lists a kind's fields" explain_kind
check "kubectl explain a nested workload field" explain_nested
check "kubectl explain a field of another group" has 'FIELD: rules' k explain role.rules
check "kubectl explain an unknown field fails" fails_with 'field "nope" does not exist' k explain configmap.nope

# --- delete ----------------------------------------------------------------------
# The namespace comes first in the file: deleting it may already have taken
# its objects with it, as the namespace controller does on a real cluster.
delete_every_kind() {
  k delete -f "$REFEREES/every-kind.yaml" --ignore-not-found --wait=false >/dev/null || return 1
  local cluster namespaced
  cluster=$(k get sc,pc,crd,clusterrole,csidriver,flowschema -o name 2>&1)
  echo "$cluster"
  ! grep -qE "/(fast|high|widgets.example.com|referee-aggregate|hostpath.csi.k8s.io|referee)$" <<<"$cluster" || return 1
  namespaced=$(k get sts,ds,cm,secret,role,lease,hpa -n referee -o name 2>&1)
  echo "$namespaced"
  ! grep -qE "/(db|agent|settings|creds|reader|leader|web)$" <<<"$namespaced"
}
check "kubectl delete" has 'deployment.apps "web" deleted' k delete deploy web
check "kubectl delete leaves it gone" fails_with 'NotFound' k get deploy web
check "kubectl delete -f removes every kind" delete_every_kind

# --- the official Python client ------------------------------------------------------
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
