#!/usr/bin/env bash
# Benchmark (not a test) of the deadline sweep, against a Release build on its own durable
# PostgreSQL cluster, with the mock Swedbank Pay as a process:
#
# 1. Sweep: DUE sessions whose payment window closed a minute ago, each with a live order at the
#    mock, are seeded (tests/bench/sweep_seed). Then INSTANCES service processes start; each
#    sweeps, GETs every order, aborts it (PATCH at the mock) and creates the invoice with its
#    gapless number. The clock starts when the instances are launched and stops when no session
#    is left awaiting payment: sweep_sessions_per_s = DUE / that time (start-up included).
#    Checks: DUE invoices, numbers gapless per legal entity, DUE orders aborted.
# 2. The twin: with the instances stopped, DUE more such sessions are seeded and pgbench runs the
#    full per-session SQL sequence of the invoice path (tests/bench/sweep_pgbench_script, from the
#    stores' own statements and parameter builders): the sweeper's close_windows (one per
#    sweep_batch sessions, when no work is due), the outbox claim, window_context, order_of, the
#    record_order_status transaction (the abort's outcome), the create_invoice transaction and the
#    outbox completion; provider HTTP excluded. PGBENCH_CLIENTS clients (default INSTANCES x
#    CONCURRENCY, the service's database connections) on the same cluster, until no twin session is
#    open: sweep_twin_sessions_per_s = DUE / (the last twin session's updated_at minus pgbench's
#    start). Invoices of one legal entity serialise on its series row (gapless numbering), in the
#    service and in pgbench alike. ratio compares like with like: sweep_db_sessions_per_s (DUE /
#    the last swept session's updated_at minus the instances' launch) / sweep_twin_sessions_per_s.
#
#   DUE=5000 INSTANCES=2 tests/bench/sweep_bench.sh
#
# Environment: DUE (default 5000), INSTANCES (default 2), CONCURRENCY (database connections per
# instance, default 8; the outbox runs outbox.max_in_flight items over them), PGBENCH_CLIENTS
# (default INSTANCES x CONCURRENCY, as many connections), TIMEOUT_S (default 600),
# BENCH_SKIP_BUILD=1.
# stdout gets only the summary (key=value lines). Logs of the last run are kept in
# build-bench/sweep-logs/. Exit 1 if a check failed.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
DUE=${DUE:-5000}
INSTANCES=${INSTANCES:-2}
CONCURRENCY=${CONCURRENCY:-8}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-$((INSTANCES * CONCURRENCY))}
TIMEOUT_S=${TIMEOUT_S:-600}
readonly CONFIG_TEMPLATE=deploy/config/local.json
readonly BUILD_DIR=build-bench
readonly BIN=$BUILD_DIR/src/visitpay
readonly MOCK_SP_BIN=$BUILD_DIR/mocks/mock-swedbankpay
readonly SEED_BIN=$BUILD_DIR/tests/bench/sweep_seed
readonly SCRIPT_BIN=$BUILD_DIR/tests/bench/sweep_pgbench_script
readonly LOG_KEEP=$BUILD_DIR/sweep-logs
readonly BENCH_NAME=sweep-bench
# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

positive_int DUE "$DUE"
positive_int INSTANCES "$INSTANCES"
positive_int CONCURRENCY "$CONCURRENCY"
positive_int PGBENCH_CLIENTS "$PGBENCH_CLIENTS"
positive_int TIMEOUT_S "$TIMEOUT_S"

exec 3>&1 1>&2 # fd 3: the summary; everything else to stderr

bench_build visitpay mock-swedbankpay sweep_seed sweep_pgbench_script
for b in "$BIN" "$MOCK_SP_BIN" "$SEED_BIN" "$SCRIPT_BIN"; do
  [[ -x "$b" ]] || die "$b is missing"
done

bench_tmp vp-sweep
SP_PID=""

stop_processes() {
  stop_services
  stop_process "$SP_PID" "mock-swedbankpay"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE
  set +e
  bench_cleanup "$rc" stop_processes '*.log' '*.txt' '*.sql'
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sql() { psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
gapless() { # prints the number of legal entities whose numbers are not exactly 1..n
  sql "SELECT count(*) FROM (SELECT org_number, count(*) AS n, count(DISTINCT number) AS d,
       min(number) AS lo, max(number) AS hi FROM invoices GROUP BY org_number) g
       WHERE n <> d OR lo <> 1 OR hi <> n"
}

start_cluster
MOCK_SWEDBANKPAY_TOKEN=$(openssl rand -hex 16)
MOCK_LINKMOBILITY_PASSWORD=unused
export MOCK_SWEDBANKPAY_TOKEN MOCK_LINKMOBILITY_PASSWORD
SP_PORT=$(free_port) || die "no free port found"
SP_URL=http://127.0.0.1:$SP_PORT
CONFIG=$TMP/config.json
sed -e "s#\"http://127.0.0.1:8091\"#\"$SP_URL\"#" "$CONFIG_TEMPLATE" >"$CONFIG"
grep -q "\"$SP_URL\"" "$CONFIG" || die "could not point $CONFIG at the mock"
ACCOUNT=mock-swedbankpay # the payment account's name in local.json

log "starting mock-swedbankpay on $SP_URL"
"$MOCK_SP_BIN" --listen "127.0.0.1:$SP_PORT" --token "$MOCK_SWEDBANKPAY_TOKEN" \
  >"$TMP/mock-swedbankpay.log" 2>&1 3>&- &
SP_PID=$!
wait_for_http "$SP_PID" mock-swedbankpay "$SP_URL/" 5

export VISITPAY_QUIET_HOURS=off VISITPAY_LOG_LEVEL=warn VISITPAY_INVOICE_DIR=$TMP/invoices
export VISITPAY_DB_POOL_SIZE=$CONCURRENCY
"$BIN" --config "$CONFIG" migrate

# --- 1. the sweep ---------------------------------------------------------------------------------

log "seeding $DUE due sessions with live orders at the mock"
"$SEED_BIN" "$DATABASE_URL" "$SP_PORT" "$MOCK_SWEDBANKPAY_TOKEN" "$ACCOUNT" "$DUE" 0 SWEEP

log "starting $INSTANCES instances (database pool $CONCURRENCY each)"
T0=$(now)
for ((i = 0; i < INSTANCES; i++)); do
  port=$(free_port) || die "no free port found"
  VISITPAY_LISTEN=127.0.0.1:$port VISITPAY_PUBLIC_BASE_URL=http://127.0.0.1:$port \
    "$BIN" --config "$CONFIG" serve >"$TMP/service-$i.log" 2>&1 3>&- &
  SERVICE_PIDS+=($!)
done
wait_in_db "the swept sessions ended" \
  "NOT EXISTS (SELECT 1 FROM sessions WHERE state IN ('awaiting_payment', 'invoicing'))" "$TIMEOUT_S"
T1=$(now)
SWEEP_S=$(elapsed "$T0" "$T1")
SWEEP_DB_S=$(sql "SELECT round((extract(epoch FROM max(updated_at)) - $T0)::numeric, 3)
                  FROM sessions WHERE visit_id LIKE 'SWEEP-%'")
stop_services

INVOICES=$(sql "SELECT count(*) FROM invoices")
# (the neutral order status of migration 0006, as domain::to_string writes it)
ABORTED=$(sql "SELECT count(*) FROM payment_orders WHERE status = 'aborted'")
DEAD=$(sql "SELECT count(*) FROM outbox WHERE status = 'dead'")
GAPS=$(gapless)
RATE=$(awk -v n="$DUE" -v s="$SWEEP_S" 'BEGIN { printf "%.1f", n / s }')
log "swept $DUE sessions into $INVOICES invoices in $SWEEP_S s ($RATE/s)"

# --- 2. the twin: the same SQL per session, through pgbench --------------------------------------

log "seeding $DUE more due sessions with live orders at the mock, for the twin"
"$SEED_BIN" "$DATABASE_URL" "$SP_PORT" "$MOCK_SWEDBANKPAY_TOKEN" "$ACCOUNT" "$DUE" 0 TWIN
"$SCRIPT_BIN" --constants "$TMP/twin.sql.constants" "$CONFIG" >"$TMP/twin.sql"
# Half as many transactions again as sessions per client: a transaction that finds nothing due
# (another client is sweeping) does no invoice, and those after the last one are not timed.
PER_CLIENT=$((3 * ((DUE + PGBENCH_CLIENTS - 1) / PGBENCH_CLIENTS) / 2 + 2))
log "twin: $PGBENCH_CLIENTS pgbench clients x $PER_CLIENT transactions"
run_twin "$TMP/twin.sql" "$TMP/twin.sql" "$PGBENCH_CLIENTS" "$PER_CLIENT" "
  SELECT count(*) FROM sessions
  WHERE visit_id LIKE 'TWIN-%' AND state IN ('awaiting_payment', 'invoicing')" "
  SELECT extract(epoch FROM max(updated_at)) FROM sessions WHERE visit_id LIKE 'TWIN-%'"
TWIN_INVOICES=$(sql "SELECT count(*) FROM invoices i JOIN sessions s ON s.id = i.session_id
                     WHERE s.visit_id LIKE 'TWIN-%'")
TWIN_RATE=$(awk -v n="$TWIN_INVOICES" -v s="$TWIN_S" 'BEGIN { printf "%.1f", n / s }')
GAPS_AFTER=$(gapless)
DB_RATE=$(awk -v n="$DUE" -v s="$SWEEP_DB_S" 'BEGIN { printf "%.1f", n / s }')
RATIO=$(awk -v a="$DB_RATE" -v b="$TWIN_RATE" 'BEGIN { printf "%.2f", a / b }')

{
  echo "due_sessions=$DUE"
  echo "instances=$INSTANCES"
  echo "outbox_concurrency=$CONCURRENCY"
  echo "sweep_seconds=$SWEEP_S"
  echo "sweep_sessions_per_s=$RATE"
  echo "sweep_db_seconds=$SWEEP_DB_S"
  echo "sweep_db_sessions_per_s=$DB_RATE"
  echo "invoices=$INVOICES"
  echo "orders_aborted=$ABORTED"
  echo "provider_calls=$((2 * ABORTED)) (GET + abort PATCH per order)"
  echo "dead_letters=$DEAD"
  echo "pgbench_clients=$PGBENCH_CLIENTS"
  echo "sweep_twin_seconds=$TWIN_S"
  echo "sweep_twin_invoices=$TWIN_INVOICES"
  echo "sweep_twin_sessions_per_s=$TWIN_RATE"
  echo "ratio=$RATIO"
  echo "numbering_gaps=$((GAPS + GAPS_AFTER))"
} >&3

((INVOICES == DUE)) || die "expected $DUE invoices, found $INVOICES"
((ABORTED == DUE)) || die "expected $DUE aborted orders, found $ABORTED"
((DEAD == 0)) || die "$DEAD dead letters"
((TWIN_INVOICES == DUE)) || die "the twin created $TWIN_INVOICES invoices for $DUE sessions"
((GAPS == 0 && GAPS_AFTER == 0)) || die "invoice numbers have gaps or duplicates"
