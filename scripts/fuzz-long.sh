#!/usr/bin/env bash
# The long fuzz runs behind the hardening claims (not part of CI): fuzzes each
# named target (default: all) until RUNS executions (default 10,000,000), new
# inputs in build/fuzz-long/<target>/ (merge them into fuzz/corpus/ on purpose,
# e.g. with the target binary's -merge=1 into a fresh directory). Prints each target's last libFuzzer status
# line and ends with "N passed, N failed".
#   bash scripts/fuzz-long.sh [--runs N] [target ...]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=10000000
if [ "${1:-}" = --runs ]; then runs=$2; shift 2; fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(kubeconfig json_to_lua lua_to_json line_framer query)
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
mkdir -p build/fuzz-long
passed=0; failed=0
for target in "${targets[@]}"; do
  mkdir -p "build/fuzz-long/$target"
  log="build/fuzz-long/$target.log"
  start=$(date +%s)
  if (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O "$target" \
      "../build/fuzz-long/$target" "corpus/$target" -- \
      -runs="$runs" -max_len=16384 -timeout=10 -print_final_stats=1) >"$log" 2>&1; then
    passed=$((passed + 1)); verdict=ok
  else
    failed=$((failed + 1)); verdict="FAILED (see $log and fuzz/artifacts/$target/)"
  fi
  echo "$target: $(grep -E '^#[0-9]+' "$log" | tail -1) in $(( $(date +%s) - start )) s: $verdict"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
