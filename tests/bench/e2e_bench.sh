#!/usr/bin/env bash
# Benchmark (not a test) of the payment-link path end to end, against a Release build on its own
# durable PostgreSQL cluster (no --fast), with both mock providers as processes:
#
#   POST /v1/checkouts -> outbox create_payment_order -> mock Swedbank Pay
#                      -> outbox send_payment_sms     -> mock LINK Mobility (SMS accepted)
#                      -> session state awaiting_payment
#
# 1. Clean run: CHECKOUTS check-outs are posted as fast as CONCURRENCY connections allow (wrk with
#    a generated Lua script that stops after exactly CHECKOUTS requests). The clock starts when
#    the first POST goes out and stops when every session is awaiting_payment (looked at every
#    100 ms): e2e_checkouts_per_s = CHECKOUTS / that time. ingest_phase_s is how long the POSTs
#    took. Both mocks must hold exactly CHECKOUTS orders / accepted SMS. The LINK mock holds its
#    delivery reports until then (the twin ends at "SMS accepted" too); clean_dlr_settled_after_s
#    is how long the service then took to take them all in.
# 2. Fault run: FAULT_CHECKOUTS more check-outs while faults are armed on both mocks (HTTP 5xx,
#    429, lost answers, 15 s time-outs; LINK also "throttle"). Waits (FAULT_TIMEOUT_S) until all
#    of them are awaiting_payment, then counts duplicate SMS (messages the gateway accepted minus
#    distinct sessions; the goal is 0), orphan orders (creates whose answer was lost: at most
#    the answers the mock dropped, none of them in an SMS), and reads the service's
#    visitpay_sms_possible_duplicates_total and visitpay_outbox_dead_letters.
# 3. Twin: with the service stopped, pgbench runs the SQL the service issues for one check-out up
#    to "SMS accepted" (tests/bench/e2e_pgbench_script: session.insert; per outbox item the claim,
#    the handler's statements and transactions, the completion; provider HTTP excluded) with
#    TWIN_CLIENTS clients on the same cluster, CHECKOUTS check-outs, until every twin session is
#    awaiting_payment: e2e_twin_checkouts_per_s = twin sessions / (the last one's updated_at minus
#    pgbench's start). e2e_ratio compares like with like: e2e_db_checkouts_per_s (the clean run's
#    check-outs / e2e_db_span_s, also from updated_at) / e2e_twin_checkouts_per_s.
#
#   CHECKOUTS=2000 tests/bench/e2e_bench.sh
#
# Environment: CHECKOUTS (default 2000), CONCURRENCY (wrk connections and DB pool size; default
# 16), FAULT_CHECKOUTS (default 300; 0 skips the fault run), CLEAN_TIMEOUT_S (default 300),
# FAULT_TIMEOUT_S (default 240), TWIN_CLIENTS (pgbench clients of the twin; default CONCURRENCY,
# the service's pool size), BENCH_SKIP_BUILD=1 (use build-bench as it is).
# stdout gets only the summary (key=value lines); progress goes to stderr. Logs of the last run
# (service, mocks, PostgreSQL, wrk, database state) are kept in build-bench/e2e-logs/.
# Exit 1 if a check failed: a POST was not 201, a phase timed out, a mock's count differs from
# the number of check-outs, or the fault run produced duplicate SMS, more orphan orders than lost
# answers, or dead
# letters. The summary is printed in every case where the runs completed.
set -euo pipefail
export LC_ALL=C # a decimal point in $EPOCHREALTIME and awk, whatever the caller's locale

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
CHECKOUTS=${CHECKOUTS:-2000}
CONCURRENCY=${CONCURRENCY:-16}
FAULT_CHECKOUTS=${FAULT_CHECKOUTS:-300}
CLEAN_TIMEOUT_S=${CLEAN_TIMEOUT_S:-300}
FAULT_TIMEOUT_S=${FAULT_TIMEOUT_S:-240}
TWIN_CLIENTS=${TWIN_CLIENTS:-$CONCURRENCY}
readonly CONFIG_TEMPLATE=deploy/config/local.json
readonly BUILD_DIR=build-bench
readonly BIN=$BUILD_DIR/src/visitpay
readonly MOCK_SP_BIN=$BUILD_DIR/mocks/mock-swedbankpay
readonly MOCK_LM_BIN=$BUILD_DIR/mocks/mock-linkmobility
readonly TWIN_BIN=$BUILD_DIR/tests/bench/e2e_pgbench_script
readonly LOG_KEEP=$BUILD_DIR/e2e-logs
readonly BENCH_NAME=e2e-bench
# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

positive_int CHECKOUTS "$CHECKOUTS"
positive_int CONCURRENCY "$CONCURRENCY"
positive_int CLEAN_TIMEOUT_S "$CLEAN_TIMEOUT_S"
positive_int FAULT_TIMEOUT_S "$FAULT_TIMEOUT_S"
positive_int TWIN_CLIENTS "$TWIN_CLIENTS"
[[ "$FAULT_CHECKOUTS" =~ ^[0-9]+$ ]] || {
  echo "FAULT_CHECKOUTS must be a non-negative integer" >&2
  exit 2
}
THREADS=$((CONCURRENCY < 2 ? CONCURRENCY : 2))

exec 3>&1 1>&2 # fd 3: the summary; everything else to stderr

# --- build ----------------------------------------------------------------------------------------

bench_build visitpay mock-swedbankpay mock-linkmobility e2e_pgbench_script
for b in "$BIN" "$MOCK_SP_BIN" "$MOCK_LM_BIN" "$TWIN_BIN"; do
  [[ -x "$b" ]] || die "$b is missing"
done

# --- cleanup on any exit --------------------------------------------------------------------------

bench_tmp vp-e2e
SERVICE_PID=""
SP_PID=""
LM_PID=""

stop_processes() { # the service first (it calls the mocks), then the mocks
  stop_process "$SERVICE_PID" "the service"
  stop_process "$LM_PID" "mock-linkmobility"
  stop_process "$SP_PID" "mock-swedbankpay"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE # the terminal or a pipe reading our output may be gone: clean up regardless
  set +e
  bench_cleanup "$rc" stop_processes '*.log' '*.txt' '*.json' '*.lua' '*.sql'
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers --------------------------------------------------------------------------------------

sql() { psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# count_matches REGEX FILE: how many times REGEX occurs in FILE (0 if none)
count_matches() { { grep -oE -- "$1" "$2" || true; } | wc -l | tr -d ' '; }
# sum_ints KEY FILE: the sum of every integer value of "KEY" in a compact JSON file
sum_ints() { { grep -oE "\"$1\":[0-9]+" "$2" || true; } | awk -F: '{ s += $2 } END { print s + 0 }'; }
# json_int KEY FILE: the first integer value of "KEY" in a compact JSON file
json_int() { { grep -oE "\"$1\":[0-9]+" "$2" || true; } | head -n 1 | cut -d: -f2; }
# metric NAME: a label-less sample of the service's /metrics (0 when not exported yet)
metric() {
  { curl -fsS --max-time 5 "$BASE/metrics" || true; } |
    awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }'
}
arm() { # arm URL FAULT COUNT [RETRY_AFTER_S]
  local body="{\"fault\":\"$2\",\"count\":$3${4:+,\"retry_after_s\":$4}}"
  curl -fsS --max-time 5 -X POST -H 'Content-Type: application/json' -d "$body" \
    "$1/_mock/faults" >/dev/null || die "arming $2 x$3 on $1 failed"
}
# wait_all_awaiting PREFIX N TIMEOUT_S: waits (looking every 100 ms) until N sessions of that run
# are awaiting_payment; prints the time it saw them (epoch s). The loop runs inside PostgreSQL, in
# one psql: a psql per look cost ~7 % of a 2-core machine, load the twin's run does not carry.
wait_all_awaiting() {
  psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "
    DO \$\$
    DECLARE n bigint; t0 timestamptz := clock_timestamp(); last_log timestamptz := t0;
    BEGIN
      LOOP
        SELECT count(*) INTO n FROM sessions
        WHERE visit_id LIKE '$1%' AND state = 'awaiting_payment';
        EXIT WHEN n >= $2;
        IF clock_timestamp() - t0 > make_interval(secs => $3) THEN
          RAISE EXCEPTION 'timeout: % of % sessions ($1) are awaiting_payment after $3 s', n, $2;
        END IF;
        IF clock_timestamp() - last_log >= interval '10 s' THEN
          RAISE NOTICE '  % of % awaiting_payment', n, $2;
          last_log := clock_timestamp();
        END IF;
        PERFORM pg_sleep(0.1);
      END LOOP;
    END \$\$" >&2 || return 1
  now
}
db_state() { # db_state TITLE: the state of the pipeline, for the log
  {
    echo "== $1"
    sql "SELECT 'sessions', state, count(*) FROM sessions GROUP BY 2 ORDER BY 2"
    sql "SELECT 'outbox', kind, status, count(*) FROM outbox GROUP BY 2, 3 ORDER BY 2, 3"
    sql "SELECT 'sms_messages', status, count(*) FROM sms_messages GROUP BY 2 ORDER BY 2"
    sql "SELECT 'outbox_errors', kind, left(last_error, 80), count(*) FROM outbox
         WHERE last_error IS NOT NULL GROUP BY 2, 3 ORDER BY 4 DESC LIMIT 20"
  } >>"$TMP/db-state.txt" 2>&1 || true
}

# --- the wrk script: exactly VP_BENCH_TOTAL POSTs, split over the threads -------------------------

# Like tests/bench/checkout.lua, plus a per-thread quota: a thread that has sent its share sends
# GET /healthz (no side effect, at most one per connection per 100 ms) on its connections until
# its POSTs are answered, then stops and leaves a file VP_BENCH_DONE_DIR/wrk-done-<tid> (wrk
# itself runs for its whole -d; run_wrk interrupts it once every thread is done). wrk calls request() once more on the first thread, before
# it runs, to inspect the request (script_verify_request in wrk 4.x): that call gets the filler,
# so it costs no visit id and no quota.
cat >"$TMP/checkout_n.lua" <<'LUA'
local token = os.getenv("VP_BENCH_TOKEN")
local run = os.getenv("VP_BENCH_PREFIX")
local total = tonumber(os.getenv("VP_BENCH_TOTAL"))
local nthreads = tonumber(os.getenv("VP_BENCH_THREADS"))
local done_dir = os.getenv("VP_BENCH_DONE_DIR")
if not token or token == "" or not run or not total or not nthreads or not done_dir then
  error("VP_BENCH_TOKEN, VP_BENCH_PREFIX, VP_BENCH_TOTAL, VP_BENCH_THREADS and "
    .. "VP_BENCH_DONE_DIR are required")
end

wrk.method = "POST"
wrk.path = "/v1/checkouts"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"

local checkout_body = dofile("tests/bench/checkout_body.lua")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  local tid = #threads
  local quota = math.floor(total / nthreads)
  if tid <= total % nthreads then quota = quota + 1 end
  thread:set("tid", tid)
  thread:set("quota", quota)
  thread:set("skip", tid == 1 and 1 or 0)
end

function init(args)
  sent, created, failed, bad_status, finished = 0, 0, 0, 0, false
  prefix = run .. "-" .. tostring(tid) .. "-"
  filler = wrk.format("GET", "/healthz")
end

function delay()
  if sent >= quota then return 100 end
  return 0
end

function request()
  if skip > 0 then
    skip = skip - 1
    return filler
  end
  if sent < quota then
    sent = sent + 1
    return wrk.format(nil, nil, nil, checkout_body(prefix .. sent))
  end
  return filler
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status ~= 200 then -- 200 is /healthz (a unique visit id never replays)
    failed = failed + 1
    bad_status = status
  end
  if created + failed >= quota and not finished then
    finished = true
    local f = assert(io.open(done_dir .. "/wrk-done-" .. tostring(tid), "w"))
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local sent_all, created_all, failed_all, bad = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    sent_all = sent_all + t:get("sent")
    created_all = created_all + t:get("created")
    failed_all = failed_all + t:get("failed")
    if t:get("bad_status") ~= 0 then bad = t:get("bad_status") end
  end
  local e = summary.errors
  io.write(string.format("wrk_sent=%d\n", sent_all))
  io.write(string.format("wrk_201=%d\n", created_all))
  io.write(string.format("wrk_non201=%d\n", failed_all))
  io.write(string.format("wrk_last_bad_status=%d\n", bad))
  io.write(string.format("wrk_socket_errors=%d\n", e.connect + e.read + e.write + e.timeout))
  io.write(string.format("wrk_duration_us=%d\n", summary.duration))
end
LUA

# --- database, mocks, service ---------------------------------------------------------------------

start_cluster
MOCK_SWEDBANKPAY_TOKEN=$(openssl rand -hex 16)
MOCK_LINKMOBILITY_PASSWORD=$(openssl rand -hex 16)
export MOCK_SWEDBANKPAY_TOKEN MOCK_LINKMOBILITY_PASSWORD

PORT=$(free_port) || die "no free port found"
SP_PORT=$(free_port) || die "no free port found"
LM_PORT=$(free_port) || die "no free port found"
while [[ "$SP_PORT" == "$PORT" ]]; do SP_PORT=$(free_port); done
while [[ "$LM_PORT" == "$PORT" || "$LM_PORT" == "$SP_PORT" ]]; do LM_PORT=$(free_port); done
BASE=http://127.0.0.1:$PORT
SP_URL=http://127.0.0.1:$SP_PORT
LM_URL=http://127.0.0.1:$LM_PORT

# local.json names the mocks at 127.0.0.1:8091/8092: a copy that points at ours (as local.sh does)
CONFIG=$TMP/config.json
sed -e "s#\"http://127.0.0.1:8091\"#\"$SP_URL\"#" -e "s#\"http://127.0.0.1:8092\"#\"$LM_URL\"#" \
  "$CONFIG_TEMPLATE" >"$CONFIG"
if ! grep -q "\"$SP_URL\"" "$CONFIG" || ! grep -q "\"$LM_URL\"" "$CONFIG"; then
  die "could not point $CONFIG at the mocks (did $CONFIG_TEMPLATE change?)"
fi

export VISITPAY_LISTEN=127.0.0.1:$PORT VISITPAY_PUBLIC_BASE_URL=$BASE VISITPAY_QUIET_HOURS=off
export VISITPAY_LOG_LEVEL=warn VISITPAY_DB_POOL_SIZE=$CONCURRENCY

log "starting mock-swedbankpay on $SP_URL and mock-linkmobility on $LM_URL"
"$MOCK_SP_BIN" --listen "127.0.0.1:$SP_PORT" --token "$MOCK_SWEDBANKPAY_TOKEN" \
  --callback-time-scale 0.01 >"$TMP/mock-swedbankpay.log" 2>&1 3>&- &
SP_PID=$!
"$MOCK_LM_BIN" --listen "127.0.0.1:$LM_PORT" --username visitpay \
  --password "$MOCK_LINKMOBILITY_PASSWORD" \
  --dlr-url "$BASE/v1/webhooks/sms/linkmobility" >"$TMP/mock-linkmobility.log" 2>&1 3>&- &
LM_PID=$!
wait_for_http "$SP_PID" mock-swedbankpay "$SP_URL/" 5
wait_for_http "$LM_PID" mock-linkmobility "$LM_URL/_mock/health" 5

"$BIN" --config "$CONFIG" migrate
TOKEN=$("$BIN" --config "$CONFIG" clients add bench --scopes checkout:write,sessions:read,ops --replace)
[[ -n "$TOKEN" ]] || die "clients add printed no token"

log "starting the service on $BASE (pool size $CONCURRENCY)"
"$BIN" --config "$CONFIG" serve >"$TMP/service.log" 2>&1 3>&- &
SERVICE_PID=$!
wait_for_http "$SERVICE_PID" "the service" "$BASE/readyz" 60

# run_wrk PREFIX TOTAL OUTFILE: exactly TOTAL POSTs; sets T_POSTED (epoch s) to when the last
# answer came. wrk stops early only on SIGINT: sent once every thread has left its done file.
run_wrk() {
  local cap=$((60 + $2 / 10)) # seconds; only reached if some POST never gets an answer
  local done_dir=$TMP/wrk-done-$1
  mkdir "$done_dir"
  VP_BENCH_TOKEN=$TOKEN VP_BENCH_PREFIX=$1 VP_BENCH_TOTAL=$2 VP_BENCH_THREADS=$THREADS \
    VP_BENCH_DONE_DIR=$done_dir wrk -t"$THREADS" -c"$CONCURRENCY" -d"${cap}s" --timeout 10s \
    -s "$TMP/checkout_n.lua" "$BASE" >"$3" 3>&- &
  WRK_PID=$!
  local -a done_files
  T_POSTED=""
  while kill -0 "$WRK_PID" 2>/dev/null; do
    done_files=("$done_dir"/wrk-done-*)
    if [[ -e "${done_files[0]}" ]] && ((${#done_files[@]} >= THREADS)); then
      T_POSTED=$(now)
      kill -INT "$WRK_PID" 2>/dev/null || true
      break
    fi
    sleep 0.02
  done
  local rc=0
  wait "$WRK_PID" || rc=$?
  WRK_PID=""
  [[ -n "$T_POSTED" ]] || T_POSTED=$(now) # wrk ran into its -d cap
  ((rc == 0)) || die "wrk failed (exit $rc)"
}
wrk_value() { awk -F= -v k="$1" '$1 == k { print $2 }' "$2"; }

FAILED=() # checks that did not hold
fail() { # fail DESCRIPTION: note a check that did not hold (the run goes on)
  FAILED+=("$1")
  log "CHECK FAILED: $1"
}

RUN_ID=$(date +%s)-$$
CLEAN_PREFIX=E2E-$RUN_ID
FAULT_PREFIX=E2EF-$RUN_ID

# --- 1. clean run ---------------------------------------------------------------------------------

# The delivery reports are held during the clean run: the twin stops at "SMS accepted", so their
# handling (measured on its own below, as clean_dlr_settled_after_s) would be load the twin does
# not carry. They are released once every session is awaiting_payment.
reports_held() {
  curl -fsS --max-time 5 -X POST -H 'Content-Type: application/json' -d "{\"held\":$1}" \
    "$LM_URL/_mock/reports" >/dev/null || die "could not set the LINK mock's reports held=$1"
}
reports_held true
log "clean run: $CHECKOUTS check-outs with $CONCURRENCY connections"
t_start=$(now)
run_wrk "$CLEAN_PREFIX" "$CHECKOUTS" "$TMP/wrk-clean.txt"
t_ingested=$T_POSTED
cat "$TMP/wrk-clean.txt" >&2
created=$(wrk_value wrk_201 "$TMP/wrk-clean.txt")
[[ -n "$created" ]] || die "could not read wrk's results"
non201=$(wrk_value wrk_non201 "$TMP/wrk-clean.txt")
socket_errors=$(wrk_value wrk_socket_errors "$TMP/wrk-clean.txt")
ingest_s=$(elapsed "$t_start" "$t_ingested")
log "posted in $ingest_s s ($created were 201); waiting until all are awaiting_payment"
((created == CHECKOUTS && non201 == 0)) || fail "not every clean-run POST was 201"

clean_complete=1
t_done=$(wait_all_awaiting "$CLEAN_PREFIX" "$created" "$CLEAN_TIMEOUT_S") || clean_complete=0
db_state "after the clean run"
if ((clean_complete)); then
  e2e_s=$(elapsed "$t_start" "$t_done")
  e2e_rate=$(awk -v n="$created" -v s="$e2e_s" 'BEGIN { printf "%.1f", n / s }')
else
  e2e_s=timeout e2e_rate=n/a
  fail "the clean run did not reach awaiting_payment within ${CLEAN_TIMEOUT_S} s"
fi
# The same from the database's timestamps (the poll's 100 ms granularity aside) and how long one
# check-out took from its 201 to awaiting_payment under this load.
IFS='|' read -r db_span_s lat_p50_ms lat_p99_ms < <(sql "
  SELECT round((extract(epoch FROM max(updated_at)) - $t_start)::numeric, 3),
         round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at)) * 1000)::numeric),
         round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at)) * 1000)::numeric)
  FROM sessions WHERE visit_id LIKE '$CLEAN_PREFIX%' AND state = 'awaiting_payment'") || true

curl -fsS --max-time 30 "$LM_URL/_mock/messages" >"$TMP/clean-link-messages.json"
curl -fsS --max-time 30 "$SP_URL/_mock/orders" >"$TMP/clean-sp-orders.json"
clean_sms=$(count_matches '"messageId":' "$TMP/clean-link-messages.json")
clean_orders=$(count_matches '"guid":' "$TMP/clean-sp-orders.json")
((clean_sms == created)) || fail "clean run: LINK mock accepted $clean_sms SMS for $created check-outs"
((clean_orders == created)) || fail "clean run: Swedbank mock holds $clean_orders orders for $created check-outs"
clean_dup_metric=$(metric visitpay_sms_possible_duplicates_total)

# The delivery reports trail the SMS; let them land (60 s at most) before the fault run, so that
# they neither compete with it nor get dropped by the LINK mock's reset.
dlr_pending() {
  sql "SELECT count(*) FROM sms_messages m JOIN sessions s ON s.id = m.session_id
       WHERE s.visit_id LIKE '$CLEAN_PREFIX%' AND m.status = 'accepted'"
}
reports_held false
t_settle=$(now)
clean_dlr_settled_s=timeout
for ((i = 0; i < 600; i++)); do
  if [[ "$(dlr_pending || echo -1)" == 0 ]]; then
    clean_dlr_settled_s=$(elapsed "$t_settle" "$(now)")
    break
  fi
  sleep 0.1
done

# --- 2. fault run ---------------------------------------------------------------------------------

fault_keys=()
if ((FAULT_CHECKOUTS > 0)); then
  # LINK: forget the clean run's messages (the DLR URL is kept). The Swedbank mock is NOT reset:
  # the service's reconciler keeps fetching the clean run's orders, which a reset would turn into
  # 404s. Its orders are counted before and after instead.
  curl -fsS --max-time 5 -X POST "$LM_URL/_mock/reset" >/dev/null || die "LINK reset failed"
  sp_orders_before=$clean_orders
  sp_creates_before=$(sum_ints creates_with_same_payee_reference "$TMP/clean-sp-orders.json")
  dup_metric_before=$(metric visitpay_sms_possible_duplicates_total)

  log "fault run: arming faults on both mocks"
  SP_LOST_ANSWERS=10 SP_TIMEOUTS=3
  arm "$SP_URL" http_500 20
  arm "$SP_URL" rate_limit 10 1
  arm "$SP_URL" lose_response "$SP_LOST_ANSWERS"
  arm "$SP_URL" timeout "$SP_TIMEOUTS"
  arm "$LM_URL" http_503 20
  arm "$LM_URL" lose_response 10
  arm "$LM_URL" throttle 10
  arm "$LM_URL" timeout 3
  curl -fsS --max-time 5 "$SP_URL/_mock/faults" >&2 && echo >&2
  curl -fsS --max-time 5 "$LM_URL/_mock/stats" >&2 && echo >&2

  log "fault run: $FAULT_CHECKOUTS check-outs"
  f_start=$(now)
  run_wrk "$FAULT_PREFIX" "$FAULT_CHECKOUTS" "$TMP/wrk-fault.txt"
  cat "$TMP/wrk-fault.txt" >&2
  f_created=$(wrk_value wrk_201 "$TMP/wrk-fault.txt")
  f_non201=$(wrk_value wrk_non201 "$TMP/wrk-fault.txt")
  ((f_created == FAULT_CHECKOUTS && f_non201 == 0)) || fail "not every fault-run POST was 201"
  log "waiting (up to $FAULT_TIMEOUT_S s) until all are awaiting_payment"
  fault_complete=1
  f_done=$(wait_all_awaiting "$FAULT_PREFIX" "$f_created" "$FAULT_TIMEOUT_S") || fault_complete=0
  if ((fault_complete)); then
    fault_s=$(elapsed "$f_start" "$f_done")
  else
    fault_s=timeout
    fail "the fault run did not reach awaiting_payment within ${FAULT_TIMEOUT_S} s"
  fi
  sleep 2 # a late (duplicate) send or delivery report would land now
  db_state "after the fault run"

  curl -fsS --max-time 30 "$LM_URL/_mock/messages" >"$TMP/fault-link-messages.json"
  curl -fsS --max-time 5 "$LM_URL/_mock/stats" >"$TMP/fault-link-stats.txt"
  curl -fsS --max-time 30 "$SP_URL/_mock/orders" >"$TMP/fault-sp-orders.json"
  curl -fsS --max-time 5 "$SP_URL/_mock/faults" >"$TMP/fault-sp-faults.txt"
  f_sms=$(count_matches '"messageId":' "$TMP/fault-link-messages.json")
  # each session's SMS carries its own payment link: distinct links = distinct sessions
  f_sms_sessions=$({ grep -oE "$SP_URL/checkout/[A-Za-z0-9_-]+" "$TMP/fault-link-messages.json" ||
    true; } | sort -u | wc -l | tr -d ' ')
  f_dup_sms=$((f_sms - f_sms_sessions))
  f_send_calls=$(json_int sendCalls "$TMP/fault-link-stats.txt")
  f_orders=$(($(count_matches '"guid":' "$TMP/fault-sp-orders.json") - sp_orders_before))
  f_creates=$(($(sum_ints creates_with_same_payee_reference "$TMP/fault-sp-orders.json") -
    sp_creates_before))
  f_db_sessions=$(sql "SELECT count(*) FROM sessions WHERE visit_id LIKE '$FAULT_PREFIX%'")
  f_sms_rows=$(sql "SELECT count(*) FROM sms_messages m JOIN sessions s ON s.id = m.session_id
                    WHERE s.visit_id LIKE '$FAULT_PREFIX%'")
  f_dead_db=$(sql "SELECT count(*) FROM outbox WHERE status = 'dead'")
  f_dup_metric=$(metric visitpay_sms_possible_duplicates_total)
  f_dead_metric=$(metric visitpay_outbox_dead_letters)
  f_dup_metric_delta=$(awk -v a="$f_dup_metric" -v b="$dup_metric_before" 'BEGIN { print a - b }')
  f_lm_pending=$(grep -oE '"pendingFaults":\[[^]]*\]' "$TMP/fault-link-stats.txt" || true)
  f_sp_pending=$(tr -d '\n ' <"$TMP/fault-sp-faults.txt")

  ((f_dup_sms == 0)) || fail "fault run: $f_dup_sms duplicate SMS"
  ((f_sms_sessions == f_created)) || fail "fault run: SMS for $f_sms_sessions sessions, $f_created check-outs"
  # A create whose answer was lost (or timed out) may have made an order nobody got: an orphan,
  # never sent to a payer, aborted or left to expire; the next attempt has its own reference.
  # So orders may exceed check-outs by at most the answers lost; two links for one payer are the
  # duplicate SMS counted above.
  f_orphans=$((f_orders - f_created))
  ((f_orphans >= 0 && f_orphans <= SP_LOST_ANSWERS + SP_TIMEOUTS)) ||
    fail "fault run: $f_orders payment orders for $f_created check-outs ($((SP_LOST_ANSWERS + SP_TIMEOUTS)) answers lost)"
  ((f_dead_db == 0)) || fail "$f_dead_db outbox items are dead letters"

  fault_keys=(
    "fault_checkouts=$f_created"
    "fault_non_201=${f_non201:-0}"
    "fault_all_awaiting_s=$fault_s"
    "fault_db_sessions=$f_db_sessions"
    "fault_sms_messages=$f_sms"
    "fault_sessions=$f_sms_sessions"
    "fault_duplicate_sms=$f_dup_sms"
    "fault_link_send_calls=${f_send_calls:-n/a}"
    "fault_sms_attempt_rows=$f_sms_rows"
    "fault_orders=$f_orders"
    "fault_orphan_orders=$f_orphans"
    "fault_order_create_calls_answered=$f_creates"
    "fault_possible_duplicates_metric=$f_dup_metric_delta"
    "visitpay_sms_possible_duplicates_total=$f_dup_metric"
    "visitpay_outbox_dead_letters=$f_dead_metric"
    "outbox_dead_rows=$f_dead_db"
    "fault_link_pending=${f_lm_pending#\"pendingFaults\":}"
    "fault_swedbank_pending=$f_sp_pending"
  )
fi

# --- 3. the twin: the same SQL per check-out, through pgbench ------------------------------------

# The service stops first: its workers would claim the twin's items.
stop_process "$SERVICE_PID" "the service"
SERVICE_PID=""
"$TWIN_BIN" --constants "$TMP/twin.sql.constants" "$CONFIG" oslo-sentrum >"$TMP/twin.sql"
"$TWIN_BIN" --constants "$TMP/twin-drain.sql.constants" "$CONFIG" oslo-sentrum drain \
  >"$TMP/twin-drain.sql"
TWIN_PER_CLIENT=$(((CHECKOUTS + TWIN_CLIENTS - 1) / TWIN_CLIENTS))
log "twin: $TWIN_CLIENTS pgbench clients x $TWIN_PER_CLIENT check-outs"
run_twin "$TMP/twin.sql" "$TMP/twin-drain.sql" "$TWIN_CLIENTS" "$TWIN_PER_CLIENT" "
  SELECT count(*) FROM outbox o JOIN sessions s ON s.id = o.session_id
  WHERE s.visit_id LIKE 'TWIN-%' AND o.status = 'pending'" "
  SELECT extract(epoch FROM max(updated_at)) FROM sessions WHERE visit_id LIKE 'TWIN-%'"
twin_done=$(sql "SELECT count(*) FROM sessions WHERE visit_id LIKE 'TWIN-%' AND state = 'awaiting_payment'")
twin_sessions=$(sql "SELECT count(*) FROM sessions WHERE visit_id LIKE 'TWIN-%'")
((twin_done == TWIN_PER_CLIENT * TWIN_CLIENTS && twin_sessions == twin_done)) ||
  fail "twin: $twin_done of $twin_sessions sessions awaiting_payment, $((TWIN_PER_CLIENT * TWIN_CLIENTS)) check-outs"
twin_rate=$(awk -v n="$twin_done" -v s="$TWIN_S" 'BEGIN { printf "%.1f", n / s }')
if ((clean_complete)) && [[ -n "${db_span_s:-}" ]]; then
  e2e_db_rate=$(awk -v n="$created" -v s="$db_span_s" 'BEGIN { printf "%.1f", n / s }')
  e2e_ratio=$(awk -v a="$e2e_db_rate" -v b="$twin_rate" 'BEGIN { printf "%.2f", a / b }')
else
  e2e_db_rate=n/a e2e_ratio=n/a
fi
db_state "after the twin"

# --- summary --------------------------------------------------------------------------------------

warnings=$(grep -c '"level":"warn' "$TMP/service.log" || true)
errors=$(grep -c '"level":"error' "$TMP/service.log" || true)
{
  echo "e2e_checkouts_per_s=$e2e_rate"
  echo "e2e_db_checkouts_per_s=$e2e_db_rate"
  echo "e2e_twin_checkouts_per_s=$twin_rate"
  echo "e2e_ratio=$e2e_ratio"
  echo "e2e_twin_s=$TWIN_S"
  echo "e2e_twin_checkouts=$twin_done"
  echo "e2e_twin_clients=$TWIN_CLIENTS"
  echo "e2e_all_awaiting_s=$e2e_s"
  echo "e2e_db_span_s=${db_span_s:-n/a}"
  echo "ingest_phase_s=$ingest_s"
  echo "ingest_checkouts_per_s=$(awk -v n="$created" -v s="$ingest_s" 'BEGIN { printf "%.1f", n / s }')"
  echo "checkout_to_awaiting_p50_ms=${lat_p50_ms:-n/a}"
  echo "checkout_to_awaiting_p99_ms=${lat_p99_ms:-n/a}"
  echo "checkouts=$CHECKOUTS"
  echo "concurrency=$CONCURRENCY"
  echo "non_201=${non201:-0}"
  echo "socket_errors=${socket_errors:-0}"
  echo "clean_link_sms_accepted=$clean_sms"
  echo "clean_swedbank_orders=$clean_orders"
  echo "clean_possible_duplicates_metric=$clean_dup_metric"
  echo "clean_dlr_settled_after_s=$clean_dlr_settled_s"
  if ((${#fault_keys[@]})); then
    printf '%s\n' "${fault_keys[@]}"
  fi
  echo "service_log_warnings=$warnings"
  echo "service_log_errors=$errors"
  echo "checks_failed=${#FAILED[@]}"
} >&3
cat "$TMP/db-state.txt" >&2 || true

if ((${#FAILED[@]})); then
  log "INVALID RUN or FINDINGS: ${FAILED[*]}"
  exit 1
fi
