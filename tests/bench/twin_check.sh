#!/usr/bin/env bash
# ctest bench_twin_*: runs a twin script tool (*_pgbench_script) as the benchmarks do, with
# --constants FILE, and checks what pgbench would otherwise find only during a benchmark: a script
# was printed, and every constant variable it uses (:k_ and 16 hex digits, twin_script.hpp) has a
# non-empty definition in the constants file (pgbench refuses an empty -D and stops at an
# undefined variable).
#
#   bash tests/bench/twin_check.sh TOOL [ARGS...]
set -euo pipefail
tool=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$tool" --constants "$tmp/constants" "$@" >"$tmp/script"
[[ -s "$tmp/script" ]] || fail "$tool printed no script"
used=$(grep -o ':k_[0-9a-f]\{16\}' "$tmp/script" | cut -c2- | sort -u) || true
[[ -n "$used" ]] || fail "$tool's script sends no constant as a parameter"
[[ -f "$tmp/constants" ]] || fail "$tool wrote no constants file"
defined=$(sed -n 's/^\(k_[0-9a-f]\{16\}\)=.\{1,\}$/\1/p' "$tmp/constants" | sort -u)
missing=$(comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$defined"))
[[ -z "$missing" ]] || fail "constants used but not defined: $missing"
echo "$(wc -l <<<"$used") constants, all defined"
