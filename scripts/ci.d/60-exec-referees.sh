#!/usr/bin/env bash
# Referees for exec, attach, cp and port-forward against kube-testserver:
# kubectl (exec with and without -i/-t, attach, cp both ways) and the official
# Python client (stream() exec, port-forward). A fresh server with its own
# kubeconfig and exec directory. Prints "ok NAME" / "FAIL NAME" per check and
# "N passed, N failed"; exits non-zero when a check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
REFEREES=$ROOT/server/tests/referees
LABEL=exec-referees
. "$REFEREES/harness.sh"

# An HTTP server for port-forward to reach (the pod's port annotation names it).
mkdir -p "$TMP/www"
echo "served through the tunnel" >"$TMP/www/index.html"
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$TMP/www" >/dev/null 2>&1 &
PIDS+=($!)
# A port nothing listens on (bound, read, released).
CLOSED_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/seed.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, annotations: {"kube-testserver/port.8080": "127.0.0.1:$HTTP_PORT"}}
spec:
  containers:
  - {name: app, image: nginx}
---
apiVersion: v1
kind: Pod
metadata: {name: closed, namespace: default, annotations: {"kube-testserver/port.80": "127.0.0.1:$CLOSED_PORT"}}
spec:
  containers:
  - {name: app, image: nginx}
---
apiVersion: v1
kind: Pod
metadata: {name: two, namespace: default}
spec:
  containers:
  - {name: a, image: busybox}
  - {name: b, image: busybox}
---
apiVersion: v1
kind: Pod
metadata: {name: att, namespace: default}
spec:
  containers:
  - {name: main, image: busybox, stdin: true, command: ["sh", "-c", "echo started; cat"]}
---
apiVersion: v1
kind: Pod
metadata: {name: ticker, namespace: default}
spec:
  containers:
  - {name: main, image: busybox, command: ["sh", "-c", "while true; do echo tick; sleep 0.2; done"]}
YAML
start_server --seed "$TMP/seed.yaml" --exec-dir "$TMP/exec"
export KUBECONFIG=$TMP/kubeconfig HOME=$TMP/home
mkdir -p "$HOME"

exec_plain() {
  local out
  out=$(k exec web -- sh -c 'echo out; echo err >&2' 2>/dev/null) || return 1
  same "$out" "out"
}
exec_stderr() {
  local err
  err=$(k exec web -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null) || return 1
  same "$err" "err"
}
exec_exit_code() {
  k exec web -- sh -c 'exit 3'
  local rc=$?
  same "$rc" 3
}
exec_cwd() {
  local out
  out=$(k exec web -- pwd) || return 1
  same "$out" "$TMP/exec/default/web/app"
}
exec_stdin() {
  local out
  out=$(printf 'one\ntwo\n' | k exec -i web -- sh -c 'wc -l') || return 1
  same "$(echo $out)" 2
}
exec_tty() {
  # script(1) gives kubectl a terminal; the shell inside sees one too.
  local out
  out=$(printf 'tty; exit\n' | timeout 30 script -qec "kubectl --cache-dir $TMP/cache exec -it web -- sh" /dev/null) || return 1
  echo "$out"
  grep -q '/dev/pts/' <<<"$out"
}
exec_unknown_container() {
  local out
  out=$(k exec web -c nope -- true 2>&1) && return 1
  echo "$out"
  grep -qF 'container nope is not valid for pod web' <<<"$out"
}
exec_choose_container() {
  local out
  out=$(k exec two -c b -- pwd) || return 1
  same "$out" "$TMP/exec/default/two/b"
}
exec_unknown_pod() {
  local out
  out=$(k exec nope -- true 2>&1) && return 1
  echo "$out"
  grep -qF 'pods "nope" not found' <<<"$out"
}
no_upgrade() {
  local server token out
  server=$(k config view --raw -o 'jsonpath={.clusters[0].cluster.server}')
  token=$(k config view --raw -o 'jsonpath={.users[?(@.name=="admin")].user.token}')
  k config view --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca.crt"
  out=$(curl -s --cacert "$TMP/ca.crt" -H "Authorization: Bearer $token" "$server/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true")
  echo "$out"
  grep -qF '"message":"Upgrade request required"' <<<"$out" && grep -qF '"code":400' <<<"$out"
}
attach_stdin() {
  local out
  out=$( (sleep 1; echo through-attach; sleep 1) | timeout 5 kubectl --cache-dir "$TMP/cache" attach -i att 2>/dev/null)
  echo "$out"
  grep -qx 'through-attach' <<<"$out"
}
attach_output() {
  # Without -i: only the container's output, until kubectl is stopped.
  local out
  out=$(timeout 3 kubectl --cache-dir "$TMP/cache" attach ticker 2>/dev/null)
  echo "$out" | head -5
  [ "$(grep -cx tick <<<"$out")" -ge 3 ]
}
cp_to_and_from() {
  echo "a file to copy $RANDOM" >"$TMP/f.txt"
  k cp "$TMP/f.txt" web:copied.txt || return 1
  cmp "$TMP/f.txt" "$TMP/exec/default/web/app/copied.txt" || return 1
  k cp web:copied.txt "$TMP/back.txt" || return 1
  cmp "$TMP/f.txt" "$TMP/back.txt"
}
cp_directory_out() {
  mkdir -p "$TMP/exec/default/web/app/dir/sub"
  echo deep >"$TMP/exec/default/web/app/dir/sub/x"
  k cp web:dir "$TMP/dir-back" || return 1
  same "$(cat "$TMP/dir-back/sub/x")" deep
}
cp_directory_in() {
  mkdir -p "$TMP/dir-in/sub"
  echo top >"$TMP/dir-in/x"
  echo inner >"$TMP/dir-in/sub/y"
  k cp "$TMP/dir-in" web:dir-in || return 1
  same "$(cat "$TMP/exec/default/web/app/dir-in/x") $(cat "$TMP/exec/default/web/app/dir-in/sub/y")" "top inner"
}
# The module's cp and kubectl's read each other's copies: pods:cp_to, then kubectl cp
# out; kubectl cp in, then pods:cp_from.
cp_module_and_kubectl() {
  echo "from the module $RANDOM" >"$TMP/m.txt"
  echo "from kubectl $RANDOM" >"$TMP/k.txt"
  k cp "$TMP/k.txt" web:k.txt || return 1
  ( . scripts/env.sh 5.4 >/dev/null
    lua5.4 - "$TMP" <<'LUA' ) || return 1
local tmp = ...
local api, config = require "kube.api", require "kube.config"
local pods = api.Client:new(config.from_kube_config(os.getenv("KUBECONFIG"))):corev1():pods("default")
assert(pods:cp_to("web", tmp .. "/m.txt", "m.txt"))
assert(pods:cp_from("web", "k.txt", tmp .. "/k-back.txt"))
LUA
  k cp web:m.txt "$TMP/m-back.txt" || return 1
  cmp "$TMP/m.txt" "$TMP/m-back.txt" && cmp "$TMP/k.txt" "$TMP/k-back.txt"
}
# port_forward MODE: kubectl port-forward to web:8080 (the HTTP server), then
# curl through it: one page, a 4 MB file compared byte for byte, and 10
# connections at once. MODE websocket: kubectl 1.32's default (SPDY/3.1
# tunnelled in WebSocket); spdy: its fallback (Upgrade: SPDY/3.1).
port_forward() {
  local port pf out i
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  [ -f "$TMP/www/big.bin" ] || head -c 4194304 /dev/urandom >"$TMP/www/big.bin"
  local ws=true
  [ "$1" = spdy ] && ws=false
  KUBECTL_PORT_FORWARD_WEBSOCKETS=$ws timeout 30 kubectl --cache-dir "$TMP/cache" -v=4 port-forward pod/web "$port:8080" >"$TMP/pf-$1.log" 2>&1 &
  pf=$!
  for _ in $(seq 50); do grep -q Forwarding "$TMP/pf-$1.log" && break; sleep 0.1; done
  out=$(curl -s -m 5 "http://127.0.0.1:$port/index.html")
  curl -s -m 10 -o "$TMP/big-$1.bin" "http://127.0.0.1:$port/big.bin"
  local curls=()
  for i in $(seq 10); do curl -s -m 10 -o "$TMP/par-$1-$i.html" "http://127.0.0.1:$port/index.html" & curls+=($!); done
  wait "${curls[@]}"
  kill $pf 2>/dev/null
  wait $pf 2>/dev/null
  grep -iE "forward|tunnel|spdy|websocket|error" "$TMP/pf-$1.log" | head -20
  same "$out" "served through the tunnel" || return 1
  cmp "$TMP/www/big.bin" "$TMP/big-$1.bin" || return 1
  for i in $(seq 10); do same "$(cat "$TMP/par-$1-$i.html")" "served through the tunnel" >/dev/null || return 1; done
  # kubectl logs (at -v=4) when it falls back from the WebSocket tunnel to SPDY.
  if [ "$1" = websocket ] && grep -qi fallback "$TMP/pf-$1.log"; then return 1; fi
  return 0
}
# A pod port nobody listens on: kubectl reports the server's error for that connection.
port_forward_refused() {
  local port pf
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  timeout 20 kubectl --cache-dir "$TMP/cache" port-forward pod/closed "$port:80" >"$TMP/pf-refused.log" 2>&1 &
  pf=$!
  for _ in $(seq 50); do grep -q Forwarding "$TMP/pf-refused.log" && break; sleep 0.1; done
  curl -s -m 5 "http://127.0.0.1:$port/" && return 1
  sleep 0.5
  kill $pf 2>/dev/null
  wait $pf 2>/dev/null
  cat "$TMP/pf-refused.log"
  grep -q "error forwarding port 80 to pod" "$TMP/pf-refused.log"
}

check "kubectl exec: stdout" exec_plain
check "kubectl exec: stderr apart" exec_stderr
check "kubectl exec: exit code" exec_exit_code
check "kubectl exec: per-container working directory" exec_cwd
check "kubectl exec -i: stdin, closed at its end" exec_stdin
check "kubectl exec -it: a terminal" exec_tty
check "kubectl exec -c: picks the container" exec_choose_container
check "kubectl exec: unknown container" exec_unknown_container
check "kubectl exec: unknown pod" exec_unknown_pod
check "exec without upgrade headers: 400 Upgrade request required" no_upgrade
check "kubectl attach -i" attach_stdin
check "kubectl attach (no -i): the container's output" attach_output
check "kubectl cp into and out of a container" cp_to_and_from
check "kubectl cp a directory out" cp_directory_out
check "kubectl cp a directory in" cp_directory_in
check "the module's cp and kubectl cp read each other's copies" cp_module_and_kubectl
check "kubectl port-forward (SPDY in WebSocket), then curl through it" port_forward websocket
check "kubectl port-forward (SPDY upgrade fallback), then curl through it" port_forward spdy
check "kubectl port-forward to a refused port: the server's error" port_forward_refused

if bash "$REFEREES/python_venv.sh" >"$OUT" 2>&1; then
  py() { timeout 30 "$ROOT/build/venv/bin/python" "$REFEREES/python_streams.py" "$@"; }
  check "python stream(connect_get_namespaced_pod_exec)" py exec web
  check "python exec: exit code from the Status" py exit-code web
  check "python exec: stdin" py stdin web
  check "python portforward: echo" py portforward att 9000
  check "python portforward: to the annotated address" py portforward-http web 8080
else
  fail "python venv with the kubernetes client"
fi
finish
