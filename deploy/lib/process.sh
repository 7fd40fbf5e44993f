# shellcheck shell=bash
# Sourced by deploy/local.sh and tests/bench/ingest_bench.sh.

# stop_process PID NAME: SIGTERM, wait up to 15 s for a graceful exit, then SIGKILL; reaps it.
stop_process() {
  local pid=$1 name=$2 i
  [[ -n "$pid" ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      printf '%s did not stop within 15 s after SIGTERM; killing it\n' "$name" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}
