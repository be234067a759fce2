#!/usr/bin/env bash
# kubectl as referee for the commands a user types daily that the other
# kubectl batteries do not cover: the remaining `create` generators (protobuf
# bodies), `set env|resources|serviceaccount`, `annotate --overwrite` and
# removal, `wait` (condition, jsonpath, delete), `delete --cascade`
# (orphan, foreground, background), `replace`, `diff --server-side`, moving from
# client-side to server-side apply, and the real server's validation and
# immutability errors as kubectl prints them. A fresh server with one node
# (simulated time 10x faster); prints "ok NAME" / "FAIL NAME" per check and
# "kubectl-daily: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LABEL=kubectl-daily FAIL_END=tail FAIL_LINES=20 KUBECTL_TIMEOUT=40
. "$ROOT/server/tests/referees/harness.sh"
jp() { k get "$1" -n daily -o "jsonpath=$2" "${@:3}"; }

start_server --nodes 1 --speed 0.1
export KUBECONFIG=$TMP/kubeconfig HOME=$TMP/home
mkdir -p "$HOME"

# --- create generators --------------------------------------------------------------
check "create namespace" has 'namespace/daily created' k create namespace daily
check "create serviceaccount" has 'serviceaccount/robot created' k create serviceaccount robot -n daily
check "create cronjob" has 'cronjob.batch/tick created' k create cronjob tick -n daily --image=busybox --schedule='*/5 * * * *' -- echo hi
check "create job --from=cronjob" has 'job.batch/tick-now created' k create job tick-now -n daily --from=cronjob/tick
check "create role" has 'role.rbac.authorization.k8s.io/reader created' k create role reader -n daily --verb=get,list --resource=pods
check "create rolebinding" has 'rolebinding.rbac.authorization.k8s.io/reader created' k create rolebinding reader -n daily --role=reader --serviceaccount=daily:robot
check "create clusterrole" has 'clusterrole.rbac.authorization.k8s.io/daily-view created' k create clusterrole daily-view --verb=get --resource=configmaps
check "create quota" has 'resourcequota/small created' k create quota small -n daily --hard=pods=10,cpu=4
check "create priorityclass" has 'priorityclass.scheduling.k8s.io/daily-high created' k create priorityclass daily-high --value=1000 --description=daily
check "create poddisruptionbudget" has 'poddisruptionbudget.policy/web created' k create pdb web -n daily --selector=app=web --min-available=1
check "create ingress" has 'ingress.networking.k8s.io/web created' k create ingress web -n daily --rule='example.com/=web:80'
check "create service clusterip" has 'service/plain created' k create service clusterip plain -n daily --tcp=80:8080
check "create secret docker-registry" has 'secret/pull created' \
  k create secret docker-registry pull -n daily --docker-server=r.example --docker-username=u --docker-password=p
check "create deployment" has 'deployment.apps/web created' k create deployment web -n daily --image=nginx:1.27 --replicas=2
check "kubectl create records its own field manager" \
  same "$(jp deployment/web '{.metadata.managedFields[0].manager}' --show-managed-fields)" kubectl-create

# --- wait -------------------------------------------------------------------------
check "wait --for=condition=Available" has 'deployment.apps/web condition met' \
  k wait -n daily --for=condition=Available deployment/web --timeout=30s
check "wait --for=condition=complete on a job" has 'job.batch/tick-now condition met' \
  k wait -n daily --for=condition=complete job/tick-now --timeout=30s
check "wait --for=jsonpath" has 'condition met' \
  k wait -n daily --for=jsonpath='{.status.readyReplicas}'=2 deployment/web --timeout=30s
check "wait times out on a condition that never comes" fails_with 'timed out waiting for the condition' \
  k wait -n daily --for=condition=Nope deployment/web --timeout=1s

# --- set and annotate ----------------------------------------------------------------
check "set env" has 'deployment.apps/web env updated' k set env deployment/web -n daily GREETING=hello
check "set env stored the variable" same "$(jp deployment/web '{.spec.template.spec.containers[0].env[0].value}')" hello
check "set resources" has 'resource requirements updated' k set resources deployment web -n daily --limits=cpu=200m,memory=128Mi
check "set resources stored the limits" same "$(jp deployment/web '{.spec.template.spec.containers[0].resources.limits.cpu}')" 200m
check "set serviceaccount" has 'serviceaccount updated' k set serviceaccount deployment web -n daily robot
check "set image" has 'image updated' k set image deployment/web -n daily nginx=nginx:1.28
check "rollout status after the changes" has 'successfully rolled out' k rollout status deployment/web -n daily --timeout=30s
annotations() {
  k annotate deployment web -n daily team=a >/dev/null &&
    fails_with "already has a value (a)" k annotate deployment web -n daily team=b &&
    k annotate deployment web -n daily team=b --overwrite >/dev/null &&
    same "$(jp deployment/web '{.metadata.annotations.team}')" b &&
    k annotate deployment web -n daily team- >/dev/null &&
    same "$(jp deployment/web '{.metadata.annotations.team}')" ""
}
check "annotate, --overwrite and removal" annotations

# --- validation and immutability as kubectl shows them ---------------------------------
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: empty, namespace: daily}\nspec: {containers: []}\n' >"$TMP/empty.yaml"
check "a pod without containers is invalid" fails_with \
  'The Pod "empty" is invalid: spec.containers: Required value' k create -f "$TMP/empty.yaml" --validate=false
check "a bad label value is invalid" fails_with 'metadata.labels: Invalid value: "a b"' \
  k patch deployment web -n daily --type=merge -p '{"metadata":{"labels":{"x":"a b"}}}'
check "a deployment's selector is immutable" fails_with \
  'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable' \
  k patch deployment web -n daily --type=merge -p '{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}'
immutable_configmap() {
  k create configmap frozen -n daily --from-literal=a=1 >/dev/null &&
    k patch configmap frozen -n daily --type=merge -p '{"immutable":true}' >/dev/null &&
    fails_with 'data: Forbidden: field is immutable when `immutable` is set' \
      k patch configmap frozen -n daily --type=merge -p '{"data":{"a":"2"}}'
}
check "an immutable ConfigMap keeps its data" immutable_configmap
check "a service's cluster IP may not change" fails_with 'may not change once set' \
  k patch service plain -n daily --type=merge -p '{"spec":{"clusterIP":"10.96.250.250","clusterIPs":["10.96.250.250"]}}'
check "a pod's command may not change" fails_with 'pod updates may not change fields other than' \
  sh -c "kubectl --cache-dir '$TMP/cache' run still -n daily --image=busybox >/dev/null && kubectl --cache-dir '$TMP/cache' patch pod still -n daily --type=json -p '[{\"op\":\"add\",\"path\":\"/spec/containers/0/command\",\"value\":[\"sh\"]}]'"

printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"unk","namespace":"daily"},"data":{"a":"1"},"bogus":1}' >"$TMP/unknown.json"
check "fieldValidation=Strict refuses an unknown field" fails_with \
  'strict decoding error: unknown field "bogus"' k create --raw '/api/v1/namespaces/daily/configmaps?fieldValidation=Strict' -f "$TMP/unknown.json"
unknown_dropped() {
  has 'Warning: unknown field "bogus"' k create --raw /api/v1/namespaces/daily/configmaps -f "$TMP/unknown.json" &&
    ! k get configmap unk -n daily -o json --show-managed-fields | grep bogus
}
check "an unknown field is dropped with a warning (fieldValidation Warn, the default)" unknown_dropped

# --- replace, diff, apply both ways ------------------------------------------------------
cat >"$TMP/settings.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: daily}
data: {mode: fast, level: "1"}
YAML
check "apply (client-side) creates" has 'configmap/settings created' k apply -f "$TMP/settings.yaml"
sed 's/level: "1"/level: "2"/' "$TMP/settings.yaml" >"$TMP/settings2.yaml"
check "diff --server-side shows the change" has '+  level: "2"' sh -c "kubectl --cache-dir '$TMP/cache' diff --server-side -f '$TMP/settings2.yaml'; [ \$? -eq 1 ]"
check "apply --server-side after client-side apply" has 'configmap/settings serverside-applied' \
  k apply --server-side -f "$TMP/settings2.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: daily}\ndata: {level: "2"}\n' >"$TMP/settings3.yaml"
dropped_key() {
  k apply --server-side -f "$TMP/settings3.yaml" &&
    same "$(k get cm settings -n daily -o jsonpath='{.data}')" '{"level":"2"}' &&
    same "$(k get cm settings -n daily -o jsonpath='{.metadata.managedFields[?(@.manager=="kubectl")].operation}' --show-managed-fields)" Apply
}
check "the server-side manager took over the client-side fields (a dropped key goes)" dropped_key
sed 's/level: "1"/level: "3"/' "$TMP/settings.yaml" >"$TMP/settings4.yaml"
check "replace -f" has 'configmap/settings replaced' k replace -f "$TMP/settings4.yaml"

# --- delete --cascade ----------------------------------------------------------------
rs_count() { k get rs -n daily -l app="$1" -o name | grep -c .; }
cascade_orphan() {
  k create deployment keep -n daily --image=nginx >/dev/null &&
    eventually 20 sh -c "[ \$(kubectl --cache-dir '$TMP/cache' get rs -n daily -l app=keep -o name | grep -c .) -eq 1 ]" &&
    k delete deployment keep -n daily --cascade=orphan >/dev/null &&
    sleep 1 && same "$(rs_count keep)" 1 &&
    same "$(k get rs -n daily -l app=keep -o jsonpath='{.items[0].metadata.ownerReferences}')" ""
}
check "delete --cascade=orphan keeps the ReplicaSet, without its owner" cascade_orphan
cascade_foreground() {
  k delete deployment web -n daily --cascade=foreground >/dev/null &&
    ! k get deployment web -n daily >/dev/null 2>&1 &&
    same "$(rs_count web)" 0 &&
    eventually 20 sh -c "[ \$(kubectl --cache-dir '$TMP/cache' get pods -n daily -l app=web -o name | grep -c .) -eq 0 ]"
}
check "delete --cascade=foreground removes dependents first" cascade_foreground
cascade_background() {
  k delete rs -n daily -l app=keep --cascade=background >/dev/null &&
    eventually 20 sh -c "[ \$(kubectl --cache-dir '$TMP/cache' get pods -n daily -l app=keep -o name | grep -c .) -eq 0 ]"
}
check "delete --cascade=background removes the pods after" cascade_background
wait_for_delete() { # a finalizer holds the object until the wait has begun
  k create configmap held -n daily --from-literal=a=1 >/dev/null &&
    k patch configmap held -n daily --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null &&
    k delete configmap held -n daily --wait=false &&
    [ -n "$(k get configmap held -n daily -o jsonpath='{.metadata.deletionTimestamp}')" ] || return 1
  k wait -n daily --for=delete configmap/held --timeout=30s >"$TMP/waited" 2>&1 &
  local waiter=$!
  sleep 1
  k patch configmap held -n daily --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
  wait $waiter
  local rc=$?
  cat "$TMP/waited"
  [ $rc -eq 0 ] && grep -q 'condition met' "$TMP/waited"
}
check "wait --for=delete" wait_for_delete

finish
