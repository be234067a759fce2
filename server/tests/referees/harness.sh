# Sourced by the referee scripts (server/tests/run_referees.sh,
# scripts/ci.d/50-cluster-kubectl.sh, scripts/ci.d/60-exec-referees.sh): one
# temporary directory, cleanup of the processes they start, pass/fail counting,
# check NAME COMMAND... and kubectl with a time limit of its own.
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
# Every kubectl call has its own time limit so a hang fails one check only.
k() { timeout "${KUBECTL_TIMEOUT:-30}" kubectl --cache-dir "$TMP/cache" "$@"; }
