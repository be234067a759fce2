#!/usr/bin/env bash
# The fuzzers' CI smoke run: replays every stored corpus (fuzz/corpus/<target>/)
# through the fuzz targets' checks as a plain cargo test, which needs neither
# cargo-fuzz nor nightly (CI has neither). With FUZZ_SECONDS=N and cargo-fuzz
# installed it also fuzzes each target for N seconds (RUSTC_BOOTSTRAP=1 lets
# stable rustc take cargo-fuzz's flags; no sanitizer).
# Ends with one line "N passed, N failed" (one per corpus replayed or target fuzzed).
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0; failed=0
log=$(mktemp)
cargo test --features lua54 --test fuzz_corpus >"$log" 2>&1
grep -E '^test .*_corpus \.\.\.' "$log"
p=$(grep -cE '^test .*_corpus \.\.\. ok' "$log"); f=$(grep -cE '^test .*_corpus \.\.\. FAILED' "$log")
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then tail -20 "$log"; f=1; fi
passed=$((passed + p)); failed=$((failed + f))
rm -f "$log"

if [ -n "${FUZZ_SECONDS:-}" ] && cargo fuzz --version >/dev/null 2>&1; then
  for target in kubeconfig json_to_lua lua_to_json line_framer query; do
    if (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O "$target" -- \
        -max_total_time="$FUZZ_SECONDS" -max_len=16384 -timeout=10 >"../build/fuzz-$target.log" 2>&1); then
      echo "fuzzed $target for ${FUZZ_SECONDS}s: ok"; passed=$((passed + 1))
    else
      echo "fuzzed $target: FAILED (see build/fuzz-$target.log and fuzz/artifacts/$target/)"; failed=$((failed + 1))
    fi
  done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
