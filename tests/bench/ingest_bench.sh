#!/usr/bin/env bash
# Benchmark (not a test) of sustained check-out ingest: POST /v1/checkouts against a Release build
# on its own durable PostgreSQL cluster (no --fast), compared with pgbench running the same SQL
# the service runs for one check-out.
#
#   CONCURRENCY=16 DURATION=20 tests/bench/ingest_bench.sh      (or: deploy/local.sh bench)
#
# Environment: CONCURRENCY (connections for wrk, pool size, pgbench clients; default 16),
# DURATION (seconds per measured run; default 20), BENCH_SKIP_BUILD=1 (use build-bench as it is).
# stdout gets only the summary (key=value lines and one human line); progress goes to stderr.
# The summary also says where the CPU went (sampled from /proc during each measured run, 1 s after
# its start to 1 s before its end): per check-out, the machine's, the service's, wrk's and the
# rest (PostgreSQL); per pgbench transaction, the machine's, pgbench's and PostgreSQL's; and the
# service's CPU per GET /healthz (http_floor_cpu_us, 4 s of wrk on the same connections).
# Logs of the last run are kept in build-bench/bench-logs/. Exit 1 if any request was not 201.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
CONCURRENCY=${CONCURRENCY:-16}
DURATION=${DURATION:-20}
readonly WARMUP_S=3
readonly CONFIG=deploy/config/local.json
readonly BUILD_DIR=build-bench
readonly BIN=$BUILD_DIR/src/visitpay
readonly PGBENCH_SCRIPT_TOOL=$BUILD_DIR/tests/bench/checkout_pgbench_script
readonly LOG_KEEP=$BUILD_DIR/bench-logs
readonly BENCH_NAME=bench
# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

positive_int CONCURRENCY "$CONCURRENCY"
positive_int DURATION "$DURATION"
((DURATION >= 4)) || die "DURATION must be at least 4 (CPU is sampled 1 s after the start to 1 s before the end)"
THREADS=$((CONCURRENCY < 2 ? CONCURRENCY : 2))

exec 3>&1 1>&2 # fd 3: the summary; everything else to stderr

# --- build ----------------------------------------------------------------------------------------

bench_build visitpay checkout_pgbench_script
[[ -x "$BIN" ]] || die "$BIN is missing"
[[ -x "$PGBENCH_SCRIPT_TOOL" ]] || die "$PGBENCH_SCRIPT_TOOL is missing"

# --- cleanup on any exit --------------------------------------------------------------------------

bench_tmp vp-bench
SERVICE_PID=""

PGBENCH_PID=""

stop_service() {
  [[ -n "$SERVICE_PID" ]] || return 0
  stop_process "$SERVICE_PID" "the service"
  SERVICE_PID=""
}

stop_processes() {
  if [[ -n "$PGBENCH_PID" ]]; then
    kill -TERM "$PGBENCH_PID" 2>/dev/null || true
    wait "$PGBENCH_PID" 2>/dev/null || true
  fi
  stop_service
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE # the terminal or a pipe reading our output may be gone: clean up regardless
  set +e
  bench_cleanup "$rc" stop_processes '*.log' '*.txt' checkout.pgbench
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- database, token, service ---------------------------------------------------------------------

start_cluster
# deploy/config/local.json names the mock providers' secrets. This benchmark measures ingest
# only: it starts no mocks, and the service runs without its outbox workers (VISITPAY_OUTBOX=off,
# as an API-only instance would), so no provider calls compete with the check-outs.
export MOCK_SWEDBANKPAY_TOKEN=unused MOCK_LINKMOBILITY_PASSWORD=unused VISITPAY_OUTBOX=off

"$BIN" --config "$CONFIG" migrate
TOKEN=$("$BIN" --config "$CONFIG" clients add bench --scopes checkout:write --replace)
[[ -n "$TOKEN" ]] || die "clients add printed no token"

PORT=$(free_port) || die "no free port found"
BASE=http://127.0.0.1:$PORT

log "starting the service on $BASE (pool size $CONCURRENCY)"
VISITPAY_LISTEN=127.0.0.1:$PORT VISITPAY_DB_POOL_SIZE=$CONCURRENCY \
  "$BIN" --config "$CONFIG" serve >"$TMP/service.log" 2>&1 3>&- &
SERVICE_PID=$!

wait_for_http "$SERVICE_PID" "the service" "$BASE/readyz" 60

# --- load -----------------------------------------------------------------------------------------

RUN_ID=$(date +%s)-$$
# run_wrk SECONDS PREFIX OUTFILE [CPU_FILE]: wrk in the background, so INT/TERM act at once. With
# CPU_FILE, the CPU of the machine, the service and wrk is sampled during the run (cpu_during).
run_wrk() {
  VP_BENCH_TOKEN=$TOKEN VP_BENCH_RUN=$2 \
    wrk -t"$THREADS" -c"$CONCURRENCY" -d"$1"s --timeout 10s --latency \
    -s tests/bench/checkout.lua "$BASE" >"$3" 3>&- &
  WRK_PID=$!
  if [[ -n "${4:-}" ]]; then
    cpu_during "$1" "$SERVICE_PID" "$WRK_PID" >"$4"
  fi
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  ((rc == 0)) || die "wrk failed (exit $rc)"
}

log "warm-up: ${WARMUP_S} s"
run_wrk "$WARMUP_S" "W$RUN_ID" "$TMP/wrk-warmup.txt"
log "measuring: wrk -t$THREADS -c$CONCURRENCY -d${DURATION}s"
run_wrk "$DURATION" "M$RUN_ID" "$TMP/wrk.txt" "$TMP/cpu-service.txt"
cat "$TMP/wrk.txt" >&2

wrk_value() { awk -F= -v k="$1" '$1 == k { print $2 }' "$TMP/wrk.txt"; }
created=$(wrk_value wrk_201)
non201=$(wrk_value wrk_non201)
socket_errors=$(wrk_value wrk_socket_errors)
duration_us=$(wrk_value wrk_duration_us)
[[ -n "$created" && -n "$duration_us" && "$duration_us" -gt 0 ]] || die "could not read wrk's results"
service_rate=$(awk -v n="$created" -v us="$duration_us" 'BEGIN { printf "%.1f", n / (us / 1e6) }')

peak_rss_kib=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SERVICE_PID/status" 2>/dev/null || true)
[[ -n "$peak_rss_kib" ]] || die "could not read VmHWM of the service"

# The HTTP floor: the service's CPU for a request that asks for nothing (GET /healthz: no body,
# no authentication, no database), on the same connections.
log "the HTTP floor: GET /healthz for 4 s"
wrk -t"$THREADS" -c"$CONCURRENCY" -d4s "$BASE/healthz" >"$TMP/wrk-healthz.txt" 3>&- &
WRK_PID=$!
cpu_during 4 "$SERVICE_PID" >"$TMP/cpu-healthz.txt"
wait "$WRK_PID" || die "wrk (GET /healthz) failed"
WRK_PID=""
healthz_rate=$(awk '/^Requests\/sec:/ { print $2 }' "$TMP/wrk-healthz.txt")
[[ -n "$healthz_rate" ]] || die "could not read wrk's rate for GET /healthz"
log "stopping the service"
stop_service

# --- the same SQL without the service -------------------------------------------------------------

"$PGBENCH_SCRIPT_TOOL" --constants "$TMP/checkout.pgbench.constants" >"$TMP/checkout.pgbench"
[[ -s "$TMP/checkout.pgbench" ]] || die "$PGBENCH_SCRIPT_TOOL printed nothing"
twin_constants "$TMP/checkout.pgbench.constants"
log "pgbench -c $CONCURRENCY -j $THREADS -T $DURATION"
pgbench -n -M prepared -c "$CONCURRENCY" -j "$THREADS" -T "$DURATION" "${TWIN_CONSTANTS[@]}" \
  -f "$TMP/checkout.pgbench" "$DATABASE_URL" >"$TMP/pgbench.txt" 2>"$TMP/pgbench.log" 3>&- &
PGBENCH_PID=$!
cpu_during "$DURATION" "$PGBENCH_PID" >"$TMP/cpu-twin.txt"
wait "$PGBENCH_PID" || die "pgbench failed: $(tail -n 5 "$TMP/pgbench.log")"
PGBENCH_PID=""
cat "$TMP/pgbench.txt" >&2
pgbench_tps=$(awk '/^tps = / && /without initial connection time/ { printf "%.1f", $3 }' "$TMP/pgbench.txt")
[[ -n "$pgbench_tps" ]] || die "could not read tps from pgbench's output"
ratio=$(awk -v s="$service_rate" -v p="$pgbench_tps" 'BEGIN { if (p > 0) printf "%.2f", s / p; else print "n/a" }')

# --- where the CPU went, per check-out (µs) -------------------------------------------------------
# The machine's busy time less the measured processes is PostgreSQL's (and the kernel's work for
# no process in particular). Each run's rate is its busy CPU over its CPU per unit, so the ratio is
# (machine_busy_pct / twin_machine_busy_pct) x (twin_machine_cpu_us / machine_cpu_us).
# service_cpu_us_for_goal: the service's CPU per check-out at which the ratio would be 0.9, the
# machine as busy as in this run, PostgreSQL's and wrk's CPU per check-out as they were.
# service_cpu_us_floor: the least any service can spend on a check-out: an HTTP exchange (the
# GET /healthz floor) and a database exchange (pgbench's own CPU per transaction of the same
# SQL); ratio_at_floor: the ratio a service spending only that would reach, on the same terms.
read -r busy machine service_us wrk_us < <(cpu_per_unit "$(<"$TMP/cpu-service.txt")" "$service_rate")
read -r twin_busy twin_machine pgbench_us < <(cpu_per_unit "$(<"$TMP/cpu-twin.txt")" "$pgbench_tps")
read -r _ _ floor_us < <(cpu_per_unit "$(<"$TMP/cpu-healthz.txt")" "$healthz_rate")
cpu_lines=$(awk -v m="$machine" -v s="$service_us" -v w="$wrk_us" -v b="$busy" \
  -v tm="$twin_machine" -v p="$pgbench_us" -v tb="$twin_busy" -v f="$floor_us" 'BEGIN {
    printf "machine_busy_pct=%s\nmachine_cpu_us=%s\nservice_cpu_us=%s\nwrk_cpu_us=%s\n", b, m, s, w
    printf "postgres_cpu_us=%.1f\n", m - s - w
    printf "twin_machine_busy_pct=%s\ntwin_machine_cpu_us=%s\npgbench_cpu_us=%s\n", tb, tm, p
    printf "twin_postgres_cpu_us=%.1f\n", tm - p
    printf "http_floor_cpu_us=%s\n", f
    printf "service_cpu_us_for_goal=%.1f\n", tm * b / (0.9 * tb) - (m - s - w) - w
    printf "service_cpu_us_floor=%.1f\n", f + p
    printf "ratio_at_floor=%.2f\n", tm * b / (tb * (m - s + f + p))
  }')

# --- summary --------------------------------------------------------------------------------------

{
  echo "service_checkouts_per_s=$service_rate"
  echo "pgbench_tps=$pgbench_tps"
  echo "ratio=$ratio"
  echo "service_peak_rss_kib=$peak_rss_kib"
  echo "concurrency=$CONCURRENCY"
  echo "duration_s=$DURATION"
  echo "non_201=${non201:-0}"
  echo "socket_errors=${socket_errors:-0}"
  echo "$cpu_lines"
  printf 'summary: visitpay accepted %s check-outs/s (201, durable commit) with %s connections over %s s; ' \
    "$service_rate" "$CONCURRENCY" "$DURATION"
  printf 'pgbench ran the same transaction at %s tps (ratio %s); service peak RSS %s MiB\n' \
    "$pgbench_tps" "$ratio" "$(awk -v k="$peak_rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
} >&3

if [[ "${non201:-0}" != 0 || "${socket_errors:-0}" != 0 || "$created" == 0 ]]; then
  log "INVALID RUN: $created responses were 201, ${non201:-0} were not, ${socket_errors:-0} socket errors"
  grep '^wrk_status_' "$TMP/wrk.txt" >&2 || true
  exit 1
fi
