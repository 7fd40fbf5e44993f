#!/usr/bin/env bash
# Benchmark (not a test) of a flood of bad tokens beside a real client (issue 15): a Release build
# on its own durable PostgreSQL cluster, API only (VISITPAY_OUTBOX=off, as the ingest benchmark).
#
# 1. Baseline: a valid client posts check-outs on CLIENT_CONNECTIONS connections, each pausing
#    CLIENT_DELAY_MS before a request (tests/bench/checkout.lua), for DURATION s: its latency.
# 2. Flood: the same client again while FLOOD_CONNECTIONS other connections post check-outs with
#    tokens that are not valid (tests/bench/token_flood.lua: malformed, well-formed and new each
#    time, one well-formed unknown token repeated), each pausing FLOOD_DELAY_MS: about
#    FLOOD_CONNECTIONS x 1000 / FLOOD_DELAY_MS requests/s, all from 127.0.0.1 like the client.
# ADDRESSES=one (default): the flood comes from the client's own address, so the per-address limit
# on failed authentications answers most of it 429 at once (the valid token still passes).
# ADDRESSES=many: the service runs with that limit off (auth.failures_per_address_burst 0), as if
# each bad request came from another address (a loopback benchmark has one): then every new
# well-formed token costs a hash and a query, and the malformed and repeated ones are refused by
# the token-format check and the failed-token cache.
# The twin is the client's own baseline in the same run: client_p99_ratio = p99 under the flood /
# p99 without it. Database transactions per accepted check-out (pg_stat_database) show whether
# the flood reached the database; service_cpu_s is the service's CPU time in each phase.
#
#   tests/bench/token_flood_bench.sh                  (FLOOD_CONNECTIONS=60 FLOOD_DELAY_MS=10)
#   ADDRESSES=many tests/bench/token_flood_bench.sh
#
# Environment: DURATION (s per phase, default 15), CLIENT_CONNECTIONS (2), CLIENT_DELAY_MS (20),
# FLOOD_CONNECTIONS (60), FLOOD_DELAY_MS (10), POOL (database pool, 8), ADDRESSES (one | many),
# BENCH_SKIP_BUILD=1.
# stdout gets only the summary (key=value lines); progress goes to stderr. Logs of the last run are
# kept in build-bench/flood-logs/. Exit 1 if a client request was not 201, the flood got a 2xx,
# or the flood ran below 5,000 requests/s.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
DURATION=${DURATION:-15}
CLIENT_CONNECTIONS=${CLIENT_CONNECTIONS:-2}
CLIENT_DELAY_MS=${CLIENT_DELAY_MS:-20}
FLOOD_CONNECTIONS=${FLOOD_CONNECTIONS:-60}
FLOOD_DELAY_MS=${FLOOD_DELAY_MS:-10}
POOL=${POOL:-8}
ADDRESSES=${ADDRESSES:-one}
[[ "$ADDRESSES" == one || "$ADDRESSES" == many ]] || {
  echo "ADDRESSES must be one or many" >&2
  exit 2
}
readonly FLOOD_GOAL_PER_S=5000
readonly CONFIG_TEMPLATE=deploy/config/local.json
readonly BUILD_DIR=build-bench
readonly BIN=$BUILD_DIR/src/visitpay
readonly LOG_KEEP=$BUILD_DIR/flood-logs
readonly BENCH_NAME=token-flood-bench
# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

for v in DURATION CLIENT_CONNECTIONS CLIENT_DELAY_MS FLOOD_CONNECTIONS FLOOD_DELAY_MS POOL; do
  positive_int "$v" "${!v}"
done

exec 3>&1 1>&2 # fd 3: the summary; everything else to stderr

bench_build visitpay
[[ -x "$BIN" ]] || die "$BIN is missing"

bench_tmp vp-flood
SERVICE_PID=""
FLOOD_PID=""
stop_service() {
  if [[ -n "$FLOOD_PID" ]]; then
    kill -TERM "$FLOOD_PID" 2>/dev/null || true
    wait "$FLOOD_PID" 2>/dev/null || true
  fi
  [[ -n "$SERVICE_PID" ]] || return 0
  stop_process "$SERVICE_PID" "the service"
  SERVICE_PID=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE
  set +e
  bench_cleanup "$rc" stop_service '*.log' '*.txt'
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- database, token, service ---------------------------------------------------------------------

start_cluster
CONFIG=$TMP/config.json
if [[ "$ADDRESSES" == many ]]; then
  sed -e 's#"auth": {#"auth": { "failures_per_address_burst": 0,#' "$CONFIG_TEMPLATE" >"$CONFIG"
  grep -q '"failures_per_address_burst": 0' "$CONFIG" || die "could not turn the per-address limit off"
else
  cp "$CONFIG_TEMPLATE" "$CONFIG"
fi
export MOCK_SWEDBANKPAY_TOKEN=unused MOCK_LINKMOBILITY_PASSWORD=unused VISITPAY_OUTBOX=off
"$BIN" --config "$CONFIG" migrate
TOKEN=$("$BIN" --config "$CONFIG" clients add bench --scopes checkout:write --replace)
[[ -n "$TOKEN" ]] || die "clients add printed no token"
PORT=$(free_port) || die "no free port found"
BASE=http://127.0.0.1:$PORT
log "starting the service on $BASE (pool size $POOL)"
VISITPAY_LISTEN=127.0.0.1:$PORT VISITPAY_DB_POOL_SIZE=$POOL VISITPAY_LOG_LEVEL=warn \
  "$BIN" --config "$CONFIG" serve >"$TMP/service.log" 2>&1 3>&- &
SERVICE_PID=$!
wait_for_http "$SERVICE_PID" "the service" "$BASE/readyz" 60

# --- helpers --------------------------------------------------------------------------------------

value() { awk -F= -v k="$1" '$1 == k { print $2 }' "$2"; }
transactions() {
  psql "$DATABASE_URL" -X -q -A -t -c \
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVICE_PID/stat"; }
client() { # client SECONDS PREFIX OUTFILE
  VP_BENCH_TOKEN=$TOKEN VP_BENCH_RUN=$2 VP_BENCH_DELAY_MS=$CLIENT_DELAY_MS \
    wrk -t1 -c"$CLIENT_CONNECTIONS" -d"$1"s --timeout 10s -s tests/bench/checkout.lua "$BASE" \
    >"$3" 3>&- || die "wrk (client) failed"
}
# phase NAME: the client for DURATION s; sets <NAME>_* figures from its output and the counters
phase() {
  local tx0 tx1 cpu0 cpu1 out=$TMP/client-$1.txt
  sleep 1.2 # the statistics of what ran before are flushed (PostgreSQL: at most once a second)
  tx0=$(transactions)
  cpu0=$(cpu_ticks)
  client "$DURATION" "$1-$RUN_ID" "$out"
  cpu1=$(cpu_ticks)
  sleep 1.2
  tx1=$(transactions)
  local ok p50 p99 max non201
  ok=$(value wrk_201 "$out")
  non201=$(value wrk_non201 "$out")
  p50=$(value wrk_latency_p50_us "$out")
  p99=$(value wrk_latency_p99_us "$out")
  max=$(value wrk_latency_max_us "$out")
  [[ -n "$ok" && -n "$p99" ]] || die "could not read the client's results ($out)"
  ((ok > 0 && non201 == 0)) || FAILED+=("$1: the client got $non201 answers other than 201")
  printf -v "${1}_ok" '%s' "$ok"
  printf -v "${1}_p50_ms" '%s' "$(awk -v u="$p50" 'BEGIN { printf "%.2f", u / 1000 }')"
  printf -v "${1}_p99_ms" '%s' "$(awk -v u="$p99" 'BEGIN { printf "%.2f", u / 1000 }')"
  printf -v "${1}_max_ms" '%s' "$(awk -v u="$max" 'BEGIN { printf "%.2f", u / 1000 }')"
  printf -v "${1}_tx_per_checkout" '%s' "$(awk -v t=$((tx1 - tx0 - 2)) -v n="$ok" \
    'BEGIN { printf "%.2f", t / n }')"
  printf -v "${1}_cpu_s" '%s' "$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", t / hz }')"
}

FAILED=()
RUN_ID=$(date +%s)-$$

# --- 1. baseline, 2. under the flood --------------------------------------------------------------

log "warm-up: 2 s of the client"
client 2 "W-$RUN_ID" "$TMP/client-warmup.txt"
log "baseline: the client alone for $DURATION s"
phase base
log "flood: $FLOOD_CONNECTIONS connections pausing $FLOOD_DELAY_MS ms, the client beside them"
VP_FLOOD_DELAY_MS=$FLOOD_DELAY_MS wrk -t1 -c"$FLOOD_CONNECTIONS" -d$((DURATION + 4))s \
  --timeout 10s -s tests/bench/token_flood.lua "$BASE" >"$TMP/flood.txt" 3>&- &
FLOOD_PID=$!
sleep 1
phase flood
wait "$FLOOD_PID" || die "wrk (flood) failed"
FLOOD_PID=""

flood_requests=$(value flood_requests "$TMP/flood.txt")
flood_us=$(value flood_duration_us "$TMP/flood.txt")
[[ -n "$flood_requests" && -n "$flood_us" ]] || die "could not read the flood's results"
flood_rate=$(awk -v n="$flood_requests" -v us="$flood_us" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
flood_2xx=$(awk -F'[_=]' '/^flood_status_2/ { s += $NF } END { print s + 0 }' "$TMP/flood.txt")
((flood_2xx == 0)) || FAILED+=("the flood got $flood_2xx answers 2xx")
((flood_rate >= FLOOD_GOAL_PER_S)) ||
  FAILED+=("the flood ran at $flood_rate requests/s, below $FLOOD_GOAL_PER_S")
p99_ratio=$(awk -v a="$flood_p99_ms" -v b="$base_p99_ms" 'BEGIN { printf "%.2f", a / b }')

{
  echo "flood_requests_per_s=$flood_rate"
  grep -E '^flood_(status_[0-9]+|socket_errors)=' "$TMP/flood.txt" | sort
  for p in base flood; do
    for k in ok p50_ms p99_ms max_ms tx_per_checkout cpu_s; do
      v=${p}_$k
      echo "client_${p}_$k=${!v}"
    done
  done
  echo "client_p99_ratio=$p99_ratio"
  echo "addresses=$ADDRESSES"
  echo "duration_s=$DURATION"
  echo "checks_failed=${#FAILED[@]}"
} >&3
if ((${#FAILED[@]})); then
  log "FINDINGS: ${FAILED[*]}"
  exit 1
fi
