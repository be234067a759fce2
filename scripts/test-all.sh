#!/usr/bin/env bash
# Sets up and runs every test: cargo tests of the module and the stand-in
# server, busted specs on Lua 5.4, 5.3, 5.1 and LuaJIT (mock mode and over
# HTTPS against the stand-in server), the kubectl / Python referees and the
# kubectl PATCH referee.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
count_cargo() { # sums "test result: ok. X passed; Y failed" lines
  local p f
  p=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$1")
  f=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$1")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}
run_step() { # name, log, command...: a step that fails without counts counts as one failure
  local name=$1 log=$2; shift 2
  echo "== $name"
  if "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
  tail -n 5 "$log"
  return $rc
}

mkdir -p build/test-logs
L=build/test-logs

run_step "cargo test (module, Lua 5.4 linked)" $L/cargo-module.log cargo test --features lua54
rc=$?; count_cargo $L/cargo-module.log
[ $rc -ne 0 ] && ! grep -q '^test result' $L/cargo-module.log && failed=$((failed + 1))

if [ -f server/Cargo.toml ]; then
  run_step "cargo test (kube-testserver)" $L/cargo-server.log cargo test --manifest-path server/Cargo.toml
  rc=$?; count_cargo $L/cargo-server.log
  [ $rc -ne 0 ] && ! grep -q '^test result' $L/cargo-server.log && failed=$((failed + 1))
fi

for lua in lua5.4 lua5.3 lua5.2 lua5.1 luajit; do
  case $lua in lua5.4) v=5.4;; lua5.3) v=5.3;; lua5.2) v=5.2;; *) v=5.1;; esac
  log=$L/busted-$lua.log
  echo "== busted on $lua"
  ( . scripts/env.sh $v; $lua /usr/bin/busted -o TAP spec/ ) >"$log" 2>&1
  p=$(grep -cE '^ok ' "$log"); f=$(grep -cE '^not ok ' "$log")
  grep -E '^not ok|^# ' "$log" | head -20
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then tail -20 "$log"; f=1; fi
  echo "   $lua: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
done

if [ -x server/tests/run_referees.sh ]; then
  log=$L/referees.log
  run_step "kubectl and Python referees" "$log" bash server/tests/run_referees.sh
  rc=$?
  p=$(awk '/^[0-9]+ passed, [0-9]+ failed/ { s += $1 } END { print s + 0 }' "$log")
  f=$(awk '/^[0-9]+ passed, [0-9]+ failed/ { s += $3 } END { print s + 0 }' "$log")
  [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
  passed=$((passed + p)); failed=$((failed + f))
fi

if [ -f server/tests/kubectl_patch.sh ]; then
  log=$L/kubectl-patch.log
  run_step "kubectl PATCH referee (apply, apply --server-side, patch, label)" "$log" \
    bash server/tests/kubectl_patch.sh
  rc=$?
  p=$(awk '/^[0-9]+ passed, [0-9]+ failed/ { s += $1 } END { print s + 0 }' "$log")
  f=$(awk '/^[0-9]+ passed, [0-9]+ failed/ { s += $3 } END { print s + 0 }' "$log")
  [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
  passed=$((passed + p)); failed=$((failed + f))
fi

# Fuzz smoke (scripts/fuzz-smoke.sh): the corpus replay, then every target
# fuzzed for FUZZ_SECONDS (20 s; 0 skips it) with cargo-fuzz, installed when missing.
log=$L/fuzz-smoke.log
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
[ "$FUZZ_SECONDS" = 0 ] && FUZZ_SECONDS=
export FUZZ_SECONDS
run_step "fuzz smoke (corpus replay, ${FUZZ_SECONDS:-0} s a target)" "$log" bash scripts/fuzz-smoke.sh
rc=$?
p=$(awk '/^[0-9]+ passed, [0-9]+ failed/ { s += $1 } END { print s + 0 }' "$log")
f=$(awk '/^[0-9]+ passed, [0-9]+ failed/ { s += $3 } END { print s + 0 }' "$log")
[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
passed=$((passed + p)); failed=$((failed + f))

# Drop-in test steps: every scripts/ci.d/*.sh runs in name order with its output
# in build/test-logs/ci.d-NAME.log; each prints one or more "N passed, N failed"
# lines (summed here). A step that exits non-zero without a failure counted
# counts as one failure. New suites add a file here instead of editing this one.
for step in scripts/ci.d/*.sh; do
  [ -f "$step" ] || continue
  name=$(basename "$step" .sh)
  log=$L/ci.d-$name.log
  run_step "$name" "$log" bash "$step"
  rc=$?
  p=$(awk '/^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed/ { sub(/^[A-Za-z0-9_.-]+: /, ""); s += $1 } END { print s + 0 }' "$log")
  f=$(awk '/^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed/ { sub(/^[A-Za-z0-9_.-]+: /, ""); s += $3 } END { print s + 0 }' "$log")
  [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
  echo "   $name: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
done

# The benchmark harness, tiny sizes, so it does not rot (its figures are not judged here).
log=$L/bench-smoke.log
run_step "benchmark smoke run" "$log" python3 bench/run.py --smoke
rc=$?
p=$(awk '/^bench smoke: [0-9]+ passed/ { print $3 }' "$log"); p=${p:-0}
[ $rc -ne 0 ] && failed=$((failed + 1))
passed=$((passed + p))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
