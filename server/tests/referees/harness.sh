# Sourced by the referee scripts (server/tests/run_referees.sh and
# scripts/ci.d/4*, 5*, 60-*): one temporary directory, a fresh server
# (start_server), cleanup of the processes they start, pass/fail counting,
# check NAME COMMAND..., the conditions checks use (same, has, fails_with,
# eventually) and kubectl with a time limit of its own.
# Set before sourcing: LABEL (closing line's prefix, may be empty),
# FAIL_LINES and FAIL_END (how many lines of a failed check's output are shown,
# from its head or its tail), KUBECTL_TIMEOUT (seconds).
# Scripts add the pids to stop at exit to PIDS.
SERVER=$ROOT/server/target/release/kube-testserver
TMP=$(mktemp -d)
OUT=$TMP/out
SERVER_PID=""
PIDS=()
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

passed=0
failed=0
pass() { echo "ok $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $1"
  [ -s "$OUT" ] && sed 's/^/    | /' "$OUT" | "${FAIL_END:-head}" -n "${FAIL_LINES:-15}"
  failed=$((failed + 1))
}
finish() {
  echo "${LABEL:+$LABEL: }$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
# check NAME COMMAND...: the command's status decides; what it printed is
# shown when it fails.
check() {
  local name=$1
  shift
  if "$@" >"$OUT" 2>&1; then pass "$name"; else fail "$name"; fi
}
# same GOT WANT: the two strings are equal (both are shown).
same() { echo "got:  $1"; echo "want: $2"; [ "$1" = "$2" ]; }
# has TEXT COMMAND...: the command succeeds and its output contains TEXT.
has() {
  local text=$1 out
  shift
  out=$("$@" 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  grep -qF -- "$text" <<<"$out"
}
# fails_with TEXT COMMAND...: the command fails and its output contains TEXT.
fails_with() {
  local text=$1 out
  shift
  if out=$("$@" 2>&1); then echo "succeeded: $out"; return 1; fi
  echo "$out"
  grep -qF -- "$text" <<<"$out"
}
# eventually SECONDS COMMAND...: the command succeeds within SECONDS (tried
# every 0.2 s).
eventually() {
  local until=$((SECONDS + $1))
  shift
  while ! "$@"; do
    [ $SECONDS -ge $until ] && return 1
    sleep 0.2
  done
}
# Every kubectl call has its own time limit so a hang fails one check only.
k() { timeout "${KUBECTL_TIMEOUT:-30}" kubectl --cache-dir "$TMP/cache" "$@"; }

# start_server ARGS...: a fresh kube-testserver on a free port with its own
# $TMP/kubeconfig and ARGS (--nodes, --speed, --seed ...), stdout in
# $TMP/server.out and stderr in $TMP/server.err; waits up to 10 s for its
# "ready" line. When the binary is missing or the server does not get ready,
# that check fails (with the reason) and the script finishes there.
start_server() {
  if [ ! -x "$SERVER" ]; then
    echo "no $SERVER: run scripts/setup.sh first" >"$OUT"
    fail "server binary present"
    finish
  fi
  "$SERVER" --kubeconfig "$TMP/kubeconfig" "$@" >"$TMP/server.out" 2>"$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q '^ready ' "$TMP/server.out" 2>/dev/null && break; sleep 0.1; done
  if ! grep -q '^ready ' "$TMP/server.out" 2>/dev/null; then
    cat "$TMP/server.out" "$TMP/server.err" >"$OUT" 2>/dev/null
    fail "server starts"
    finish
  fi
}
