#!/usr/bin/env bash
# The fuzzers' CI smoke run: replays every stored corpus (fuzz/corpus/<target>/)
# through the fuzz targets' checks as a plain cargo test (no cargo-fuzz or
# nightly needed), then, with FUZZ_SECONDS=N, fuzzes each target for N seconds
# with cargo-fuzz (installed here when missing; RUSTC_BOOTSTRAP=1 lets stable
# rustc take its flags; no sanitizer). New inputs go to a temporary corpus, so
# the stored ones only change when someone merges them in on purpose.
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

if [ -n "${FUZZ_SECONDS:-}" ]; then
  mkdir -p build
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked >build/fuzz-install.log 2>&1 ||
      { tail -20 build/fuzz-install.log; echo "cargo install cargo-fuzz: FAILED"; failed=$((failed + 1)); }
  fi
  if cargo fuzz --version >/dev/null 2>&1; then
    fresh=$(mktemp -d)
    for target in kubeconfig json_to_lua lua_to_json line_framer query; do
      mkdir -p "$fresh/$target"
      if (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O "$target" "$fresh/$target" "corpus/$target" -- \
          -max_total_time="$FUZZ_SECONDS" -max_len=16384 -timeout=10 >"../build/fuzz-$target.log" 2>&1); then
        runs=$(grep -oE '^#[0-9]+' "build/fuzz-$target.log" | tail -1)
        echo "fuzzed $target for ${FUZZ_SECONDS}s (${runs#\#} executions): ok"; passed=$((passed + 1))
      else
        echo "fuzzed $target: FAILED (see build/fuzz-$target.log and fuzz/artifacts/$target/)"; failed=$((failed + 1))
      fi
    done
    rm -rf "$fresh"
  fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
