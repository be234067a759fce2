#!/usr/bin/env bash
# The resource model (model/, crate kube-model): its unit tests (the table's
# rows are unique, status follows the subresources, group clients are named
# as luakube names them), then the generator's --check: types/groups.lua and
# lua/kube/api/<group>_<version>.lua must be what model/src/table.rs makes
# (the module's cargo test compares them too; this step names the files).
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0; failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if cargo test --manifest-path model/Cargo.toml >"$log" 2>&1; then
  n=$(grep -o '^test result: ok\. [0-9]*' "$log" | awk '{s += $4} END {print s + 0}')
  passed=$((passed + n))
else
  cat "$log"
  n=$(grep -o '[0-9]* failed' "$log" | awk '{s += $1} END {print s + 0}')
  failed=$((failed + (n > 0 ? n : 1)))
fi
if cargo run -q --manifest-path model/Cargo.toml --bin gen-lua -- --check; then
  passed=$((passed + 1))
else
  echo "FAILED: generated Lua files differ from model/src/table.rs"
  failed=$((failed + 1))
fi
echo "model: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
