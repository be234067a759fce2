#!/usr/bin/env bash
# kubectl as referee of the simulated cluster (kube-testserver's controllers):
# rollouts, scaling, undo, cascading deletes, Jobs, Services' endpoints,
# readiness waits, events, namespaces, scheduling failures and crash loops.
# A fresh server (3 nodes, simulated time 10x faster) with its own kubeconfig;
# prints "ok NAME" / "FAIL NAME" per check and "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LABEL=cluster-kubectl FAIL_END=tail FAIL_LINES=20 KUBECTL_TIMEOUT=40
. "$ROOT/server/tests/referees/harness.sh"
# Until the server decodes protobuf bodies, kubectl's generators (create
# deployment/job, expose) fall back to the same object sent as YAML.
gen() {
  local out
  if out=$(k "$@" 2>&1); then
    echo "$out"
  elif grep -q "got application/vnd.kubernetes.protobuf" <<<"$out"; then
    k "$@" --dry-run=client -o yaml | k create -f -
  else
    echo "$out"
    return 1
  fi
}
count() { k get "$@" -o name | grep -c .; }
# kubectl's output is matched with `grep -c`, never `grep -q`: -q stops reading
# at the first match, and under pipefail a kubectl still writing then dies of
# SIGPIPE (141) and fails the check (the Indexed Job check did, 2 runs of 3).

start_server --nodes 3 --speed 0.1
export KUBECONFIG=$TMP/kubeconfig

# --- nodes and namespaces ---------------------------------------------------------
check "three Ready nodes with pod CIDRs" \
  same "$(k get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')" \
  "node-1 10.244.0.0/24 True
node-2 10.244.1.0/24 True
node-3 10.244.2.0/24 True"
new_namespace() {
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n' | k create -f - &&
    eventually 5 k get sa default -n team && eventually 5 k get cm kube-root-ca.crt -n team &&
    k get cm kube-root-ca.crt -n team -o jsonpath='{.data.ca\.crt}' | grep -c "BEGIN CERTIFICATE"
}
check "a new namespace gets the default ServiceAccount and kube-root-ca.crt" new_namespace

# --- a Deployment's life ----------------------------------------------------------
check "create deployment, then rollout status completes" \
  eval 'gen create deployment web --image=nginx:1.27 --replicas=3 && k rollout status deploy/web --timeout=30s'
pods_running() {
  local phases ips
  phases=$(k get pods -l app=web -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | sort -u)
  ips=$(k get pods -l app=web -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}')
  echo "$phases"; echo "$ips"
  [ "$phases" = Running ] && [ "$(grep -cE '^10\.244\.[0-2]\.[0-9]+$' <<<"$ips")" -eq 3 ]
}
check "the pods run on the nodes with IPs from their pod CIDRs" pods_running
rs_of_deploy() {
  local hash
  hash=$(k get rs -l app=web -o jsonpath='{.items[0].metadata.labels.pod-template-hash}')
  echo "hash $hash"
  [ -n "$hash" ] && k get rs "web-$hash" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}' | grep -cx 1 &&
    [ "$(k get deploy web -o jsonpath='{.status.observedGeneration} {.status.conditions[*].type}')" = "1 Available Progressing" ]
}
check "the ReplicaSet is web-HASH with revision 1; status has observedGeneration and conditions" rs_of_deploy
check "wait --for=condition=Ready pod -l app=web" k wait --for=condition=Ready pod -l app=web --timeout=30s
check "wait --for=condition=Available deploy/web" k wait --for=condition=Available deploy/web --timeout=30s
check "kubectl scale deploy --replicas=5 rolls out 5 ready pods" \
  eval 'k scale deploy web --replicas=5 && k rollout status deploy/web --timeout=30s && [ "$(k get deploy web -o jsonpath={.status.readyReplicas})" = 5 ]'
set_image() {
  k set image deploy/web nginx=nginx:1.28 && k rollout status deploy/web --timeout=30s || return 1
  k get rs -l app=web
  [ "$(count rs -l app=web)" -eq 2 ] &&
    [ "$(k get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" = nginx:1.28 ] &&
    [ "$(k get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 2 ]
}
check "set image rolls out a new ReplicaSet (revision 2), old one scaled to 0" set_image
undo() {
  k rollout undo deploy/web && k rollout status deploy/web --timeout=30s || return 1
  [ "$(k get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:1.27 ] &&
    [ "$(k get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" = nginx:1.27 ] &&
    k rollout history deploy/web | grep -cE '^3 '
}
check "rollout undo goes back to nginx:1.27 as revision 3" undo
pause_resume() {
  k rollout pause deploy/web || return 1
  k set image deploy/web nginx=nginx:1.29 || return 1
  sleep 1
  [ "$(count rs -l app=web)" -eq 2 ] || { echo "a paused Deployment rolled"; return 1; }
  k rollout resume deploy/web && k rollout status deploy/web --timeout=30s &&
    [ "$(count rs -l app=web)" -eq 3 ]
}
check "rollout pause holds a template change, resume rolls it out" pause_resume
check "rollout restart rolls out a new ReplicaSet" \
  eval 'k rollout restart deploy/web && k rollout status deploy/web --timeout=30s && [ "$(count rs -l app=web)" -eq 4 ]'
describe_events() {
  local d p
  d=$(k describe deploy web) && p=$(k describe pod "$(k get pods -l app=web -o name | head -1 | cut -d/ -f2)") || return 1
  echo "$d" | tail -5; echo "$p" | tail -6
  grep -q "ScalingReplicaSet .*Scaled up replica set web-" <<<"$d" &&
    grep -q "Scheduled .*default-scheduler .*Successfully assigned default/web-" <<<"$p" &&
    grep -q "Pulled " <<<"$p" && grep -q "Created " <<<"$p" && grep -q "Started .*Started container nginx" <<<"$p"
}
check "describe shows the controllers' and the kubelet's events" describe_events
check "kubectl events lists SuccessfulCreate from the replicaset-controller" \
  eval 'k events | grep -E "SuccessfulCreate +ReplicaSet/web-[a-z0-9]+ +Created pod: web-"'

progress_deadline() {
  printf '%s\n' 'apiVersion: apps/v1' 'kind: Deployment' 'metadata: {name: stuck}' \
    'spec: {replicas: 2, progressDeadlineSeconds: 2, selector: {matchLabels: {app: stuck}}, template: {metadata: {labels: {app: stuck}}, spec: {nodeSelector: {disk: none}, containers: [{name: c, image: busybox}]}}}' |
    k create -f - || return 1
  local out
  out=$(k rollout status deploy/stuck --timeout=30s 2>&1)
  echo "$out"
  grep -q 'deployment "stuck" exceeded its progress deadline' <<<"$out" &&
    same "$(k get deploy stuck -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason}')" \
      "False ProgressDeadlineExceeded" &&
    k get deploy stuck -o jsonpath='{.status.conditions[?(@.type=="Progressing")].message}' | grep -cE '^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing.$' &&
    k delete deploy stuck
}
check "no progress for progressDeadlineSeconds: rollout status fails, Progressing=False ProgressDeadlineExceeded" progress_deadline

# --- Services -----------------------------------------------------------------------
endpoints_match() {
  local want ep slice
  want=$(k get pods -l app=web -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort)
  ep=$(k get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | sort)
  slice=$(k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}{"\n"}{end}' | sort)
  echo "pods: $want"; echo "endpoints: $ep"; echo "slices: $slice"
  [ -n "$want" ] && [ "$want" = "$ep" ] && [ "$want" = "$slice" ]
}
check "expose: Endpoints and EndpointSlices list the pods' IPs" \
  eval 'gen expose deploy web --port=80 --target-port=8080 && eventually 10 endpoints_match'
check "the endpoints follow a scale-down" \
  eval 'k scale deploy web --replicas=2 && k rollout status deploy/web --timeout=30s && eventually 10 endpoints_match && [ "$(k get endpoints web -o jsonpath={.subsets[0].ports[0].port})" = 8080 ]'

# --- deletion ---------------------------------------------------------------------------
orphan() {
  gen create deployment keep --image=busybox --replicas=2 && k rollout status deploy/keep --timeout=30s || return 1
  k delete deploy keep --cascade=orphan || return 1
  eventually 10 eval '[ "$(k get rs -l app=keep -o jsonpath="{.items[*].metadata.ownerReferences}")" = "" ]' &&
    [ "$(count rs -l app=keep)" -eq 1 ] && [ "$(count pods -l app=keep)" -eq 2 ]
}
check "delete --cascade=orphan keeps the ReplicaSet and pods, without owner" orphan
gone() { ! k get "$@" -o name | grep -c .; }
check "delete deployment removes its ReplicaSets and pods" \
  eval 'k delete deploy web && eventually 10 gone rs -l app=web && eventually 10 gone pods -l app=web'
check "delete --cascade=foreground waits for the pods" \
  eval 'k delete rs -l app=keep --cascade=foreground && gone pods -l app=keep'

# --- Jobs -----------------------------------------------------------------------------------
check "create job → Complete, its pod Succeeded" \
  eval 'gen create job pi --image=busybox && k wait --for=condition=Complete job/pi --timeout=30s && [ "$(k get pods -l job-name=pi -o jsonpath={.items[0].status.phase})" = Succeeded ]'
failing_job() {
  printf '%s\n' 'apiVersion: batch/v1' 'kind: Job' 'metadata: {name: boom}' \
    'spec: {backoffLimit: 1, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox, command: [sh, -c, "echo failing; exit 3"]}]}}}' |
    k create -f - && k wait --for=condition=Failed job/boom --timeout=30s || return 1
  [ "$(k get job boom -o jsonpath='{.status.failed}')" = 2 ] &&
    k logs "$(k get pods -l job-name=boom -o name | head -1)" | grep -cx failing
}
check "a Job whose pods exit 3 fails after backoffLimit, the pods' logs say so" failing_job

indexed_job() {
  printf '%s\n' 'apiVersion: batch/v1' 'kind: Job' 'metadata: {name: idx}' \
    'spec: {completions: 3, parallelism: 2, completionMode: Indexed, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox, command: [sh, -c, "echo done"]}]}}}' |
    k create -f - && k wait --for=condition=Complete job/idx --timeout=30s || return 1
  same "$(k get job idx -o jsonpath='{.status.completedIndexes} {.status.succeeded}')" "0-2 3" &&
    same "$(k get pods -l job-name=idx -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index} {.metadata.labels.batch\.kubernetes\.io/job-completion-index} {.spec.hostname} {.spec.containers[0].env[0].name}{"\n"}{end}' | sort)" \
      "0 0 idx-0 JOB_COMPLETION_INDEX
1 1 idx-1 JOB_COMPLETION_INDEX
2 2 idx-2 JOB_COMPLETION_INDEX" &&
    k get pods -l job-name=idx -o name | grep -cE '^pod/idx-[0-2]-[a-z0-9]{5}$'
}
check "an Indexed Job runs indexes 0..2 (annotation, label, hostname, JOB_COMPLETION_INDEX), completedIndexes 0-2" indexed_job
job_deadline() {
  printf '%s\n' 'apiVersion: batch/v1' 'kind: Job' 'metadata: {name: slow}' \
    'spec: {activeDeadlineSeconds: 2, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox, command: [sleep, "600"]}]}}}' |
    k create -f - && k wait --for=condition=Failed job/slow --timeout=30s || return 1
  same "$(k get job slow -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}')" DeadlineExceeded &&
    eventually 10 eval '[ -z "$(k get pods -l job-name=slow -o name)" ]' &&
    k describe job slow | grep -c "DeadlineExceeded .*Job was active longer than specified deadline"
}
check "a Job past activeDeadlineSeconds fails (DeadlineExceeded), its pods deleted" job_deadline

# --- StatefulSets, DaemonSets, CronJobs -------------------------------------------------
# (updateStrategy is written out: kubectl rollout status reads it, and the
# stand-in does not default it at create yet.)
statefulset() {
  printf '%s\n' 'apiVersion: apps/v1' 'kind: StatefulSet' 'metadata: {name: db}' \
    'spec: {replicas: 3, serviceName: db, updateStrategy: {type: RollingUpdate}, selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: postgres:16}]}}}' |
    k create -f - && k rollout status sts/db --timeout=30s || return 1
  same "$(k get pods -l app=db -o jsonpath='{range .items[*]}{.metadata.name} {.spec.hostname} {.status.phase}{"\n"}{end}')" \
    "db-0 db-0 Running
db-1 db-1 Running
db-2 db-2 Running" || return 1
  k set image sts/db c=postgres:17 && k rollout status sts/db --timeout=30s &&
    same "$(k get pods -l app=db -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" postgres:17
}
check "a StatefulSet makes db-0..2 in order and rolls a new image out" statefulset
daemonset() {
  printf '%s\n' 'apiVersion: apps/v1' 'kind: DaemonSet' 'metadata: {name: agent}' \
    'spec: {updateStrategy: {type: RollingUpdate}, selector: {matchLabels: {app: agent}}, template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: c, image: fluentd}]}}}' |
    k create -f - && k rollout status ds/agent --timeout=30s || return 1
  same "$(k get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort)" "node-1
node-2
node-3"
}
check "a DaemonSet runs one pod on each node" daemonset
sts_history() {
  local h
  h=$(k rollout history sts/db) && echo "$h" || return 1
  grep -qE '^1 ' <<<"$h" && grep -qE '^2 ' <<<"$h" &&
    same "$(k get controllerrevisions -l app=db -o jsonpath='{range .items[*]}{.revision} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}{"\n"}{end}' | sort)" \
      "1 StatefulSet/db
2 StatefulSet/db" || return 1
  k rollout undo sts/db && k rollout status sts/db --timeout=30s || return 1
  same "$(k get pods -l app=db -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" postgres:16 &&
    k rollout history sts/db | grep -cE '^3 ' &&
    [ "$(k get sts db -o jsonpath='{.status.updateRevision}')" = "$(k get pods db-0 -o jsonpath='{.metadata.labels.controller-revision-hash}')" ]
}
check "StatefulSet ControllerRevisions: rollout history lists 1 and 2, rollout undo goes back to postgres:16 as 3" sts_history
ds_history() {
  k set image ds/agent c=fluentd:2 && k rollout status ds/agent --timeout=30s || return 1
  k rollout history ds/agent | grep -cE '^2 ' || return 1
  k rollout undo ds/agent && k rollout status ds/agent --timeout=30s || return 1
  same "$(k get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" fluentd &&
    k rollout history ds/agent | grep -cE '^3 '
}
check "DaemonSet ControllerRevisions: set image, rollout history, rollout undo back to the first image" ds_history
cronjob() {
  printf '%s\n' 'apiVersion: batch/v1' 'kind: CronJob' 'metadata: {name: tick}' \
    'spec: {schedule: "*/5 * * * *", jobTemplate: {spec: {template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}}}}}' |
    k create -f - || return 1
  sleep 0.5
  if k get jobs -o name | grep -cE "tick-[0-9]+$"; then echo "ran before the clock moved"; return 1; fi
  echo '{"advanceSeconds": 600}' | k create --raw /testserver/clock -f - || return 1
  eventually 10 eval 'k get jobs -o name | grep -cE "^job.batch/tick-[0-9]+$"' || return 1
  local job
  job=$(k get jobs -o name | grep -E "tick-[0-9]+$" | head -1)
  k wait --for=condition=Complete "$job" --timeout=30s &&
    k get cronjob tick -o jsonpath='{.status.lastScheduleTime}' | grep -cE '^[0-9-]+T[0-9:]+Z$'
}
check "a CronJob runs a Job once the clock is moved past its schedule" cronjob

# --- scheduling and the kubelet ------------------------------------------------------------
unschedulable() {
  printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: nowhere}' \
    'spec: {nodeSelector: {disk: ssd}, containers: [{name: c, image: busybox}]}' | k create -f - || return 1
  eventually 10 eval 'k describe pod nowhere | grep -c "FailedScheduling .*0/3 nodes are available: 3 node(s) didn.t match Pod.s node affinity/selector"' || return 1
  k label node node-2 disk=ssd && k wait --for=condition=Ready pod/nowhere --timeout=30s &&
    [ "$(k get pod nowhere -o jsonpath={.spec.nodeName})" = node-2 ]
}
check "a pod no node matches is Pending with FailedScheduling, then runs where a label lets it" unschedulable
taints() {
  k taint node node-1 dedicated=gpu:NoSchedule && k taint node node-3 dedicated=gpu:NoSchedule || return 1
  printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: tolerant}' \
    'spec: {nodeSelector: {kubernetes.io/hostname: node-1}, tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}], containers: [{name: c, image: busybox}]}' | k create -f - &&
    printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: plain}' \
      'spec: {containers: [{name: c, image: busybox}]}' | k create -f - &&
    k wait --for=condition=Ready pod/tolerant pod/plain --timeout=30s &&
    [ "$(k get pod tolerant -o jsonpath={.spec.nodeName}) $(k get pod plain -o jsonpath={.spec.nodeName})" = "node-1 node-2" ]
}
check "taints keep pods away unless tolerated" taints
crash_loop() {
  printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: crashy, annotations: {kube-testserver/crash-loop: "true", kube-testserver/run-seconds: "0.5"}}' \
    'spec: {tolerations: [{operator: Exists}], containers: [{name: c, image: busybox}]}' | k create -f - || return 1
  eventually 20 eval 'k get pod crashy | grep -E "crashy +0/1 +CrashLoopBackOff +[1-9]"' &&
    k describe pod crashy | grep -c "BackOff .*Back-off restarting failed container c"
}
check "a crash-looping pod shows CrashLoopBackOff, restarts and BackOff events" crash_loop

# --- Event TTL (last: it moves the clock an hour on) ---------------------------------------
event_ttl() {
  local old
  old=$(k get events -o jsonpath='{range .items[?(@.reason=="ScalingReplicaSet")]}{.metadata.name}{"\n"}{end}')
  [ -n "$old" ] || { echo "no ScalingReplicaSet events to expire"; return 1; }
  echo '{"advanceSeconds": 3601}' | k create --raw /testserver/clock -f - >/dev/null || return 1
  printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: fresh}' \
    'spec: {containers: [{name: c, image: busybox}]}' | k create -f - || return 1
  expired() {
    local name
    for name in $old; do
      k get events "$name" >/dev/null 2>&1 && { echo "$name (v1) still there"; return 1; }
      k get events.v1.events.k8s.io "$name" >/dev/null 2>&1 && { echo "$name (events.k8s.io) still there"; return 1; }
    done
    return 0
  }
  eventually 10 expired && eventually 10 eval 'k get events --field-selector involvedObject.name=fresh | grep -c Scheduled'
}
check "Events expire an hour (--event-ttl) after their last write, on the simulated clock" event_ttl

# --- graceful termination ---------------------------------------------------------------------
graceful() {
  printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: slowstop, annotations: {kube-testserver/ignore-sigterm: "true"}}' \
    'spec: {terminationGracePeriodSeconds: 3, tolerations: [{operator: Exists}], containers: [{name: c, image: busybox}]}' |
    k create -f - && k wait --for=condition=Ready pod/slowstop --timeout=30s || return 1
  k delete pod slowstop --wait=false || return 1
  k get pod slowstop | tee /dev/stderr | grep -cE '^slowstop +1/1 +Terminating ' &&
    same "$(k get pod slowstop -o jsonpath='{.metadata.deletionGracePeriodSeconds}')" 3 &&
    k get pod slowstop -o jsonpath='{.metadata.deletionTimestamp}' | grep -cE '^[0-9-]+T[0-9:]+Z$' || return 1
  k wait --for=delete pod/slowstop --timeout=15s &&
    k get events --field-selector involvedObject.name=slowstop,reason=Killing | grep -c "Stopping container c"
}
check "a deleted pod is Terminating for its grace period while its containers stop, then gone" graceful
force() {
  printf '%s\n' 'apiVersion: v1' 'kind: Pod' 'metadata: {name: stubborn, annotations: {kube-testserver/ignore-sigterm: "true"}}' \
    'spec: {terminationGracePeriodSeconds: 600, tolerations: [{operator: Exists}], containers: [{name: c, image: busybox}]}' |
    k create -f - && k wait --for=condition=Ready pod/stubborn --timeout=30s || return 1
  k delete pod stubborn --wait=false && sleep 0.5 && k get pod stubborn | grep -c Terminating || return 1
  k delete pod stubborn --grace-period=0 --force && ! k get pod stubborn
}
check "delete --grace-period=0 --force ends a Terminating pod at once" force

# --- namespace termination ----------------------------------------------------------------
ns_delete() {
  gen create deployment app -n team --image=busybox && k rollout status deploy/app -n team --timeout=30s || return 1
  k delete ns team --timeout=30s && ! k get ns team
}
check "deleting a namespace ends its content, then the namespace" ns_delete

finish
