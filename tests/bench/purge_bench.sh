#!/usr/bin/env bash
# Benchmark (not a test) of the purge, against a Release build on its own durable PostgreSQL
# cluster:
#
# 1. Purge: INSTANCES service processes run (purger every 100 ms, batch BATCH). SESSIONS paid
#    sessions whose refund margin ends 15 s later are committed in one transaction, each with its
#    encrypted payer row, two wrapped data keys and a sealed payment link (random bytes: the purge
#    never decrypts), and the statistics are refreshed. The clock starts when they become due and
#    stops when no data key is left: purge_sessions_per_s = SESSIONS / that time. Checks: every
#    session purged once, with one audit row each, and no ciphertext left.
# 2. The limit: pgbench runs the purger's own statement (tests/bench/purge_pgbench_script: the same
#    SQL text, paid_by_link rule, BATCH sessions per transaction) with INSTANCES clients over the
#    same number of freshly seeded sessions (statistics refreshed too): pgbench_sessions_per_s =
#    SESSIONS / pgbench's run time.
#    ratio = purge_sessions_per_s / pgbench_sessions_per_s. The purger also runs the other four
#    rules' statements on every pass (cheap when nothing is due) and polls every 100 ms.
#
#   SESSIONS=20000 INSTANCES=2 tests/bench/purge_bench.sh
#
# Environment: SESSIONS (default 20000), INSTANCES (default 2), BATCH (default 500), TIMEOUT_S
# (default 600), BENCH_SKIP_BUILD=1. stdout gets only the summary (key=value lines). Logs of the
# last run are kept in build-bench/purge-logs/. Exit 1 if a check failed.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
SESSIONS=${SESSIONS:-20000}
INSTANCES=${INSTANCES:-2}
BATCH=${BATCH:-500}
TIMEOUT_S=${TIMEOUT_S:-600}
readonly CONFIG_TEMPLATE=deploy/config/local.json
readonly BUILD_DIR=build-bench
readonly BIN=$BUILD_DIR/src/visitpay
readonly SCRIPT_BIN=$BUILD_DIR/tests/bench/purge_pgbench_script
readonly LOG_KEEP=$BUILD_DIR/purge-logs
readonly BENCH_NAME=purge-bench
# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

positive_int SESSIONS "$SESSIONS"
positive_int INSTANCES "$INSTANCES"
positive_int BATCH "$BATCH"
positive_int TIMEOUT_S "$TIMEOUT_S"

exec 3>&1 1>&2 # fd 3: the summary; everything else to stderr

bench_build visitpay purge_pgbench_script
for b in "$BIN" "$SCRIPT_BIN"; do
  [[ -x "$b" ]] || die "$b is missing"
done

bench_tmp vp-purge


cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE
  set +e
  bench_cleanup "$rc" stop_services '*.log' '*.txt' '*.sql'
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sql() { psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# seed TAG DUE_IN: SESSIONS sessions paid 7 days minus DUE_IN seconds ago, in one transaction,
# so their refund margin ends DUE_IN seconds from now. The ciphertexts and wrapped keys are random
# bytes of their real sizes.
seed() {
  local tag=$1 due_in=$2
  psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<SQL
BEGIN;
CREATE TEMP TABLE seeded ON COMMIT DROP AS
  SELECT gen_random_uuid() AS id, g FROM generate_series(1, $SESSIONS) g;
INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, vat_amount_ore,
                      checked_out_at, has_phone, request_fingerprint, created_at, updated_at,
                      paid_at)
SELECT id, 'oslo-sentrum', 'PURGE-$tag-' || g, 'paid', 'NOK', 65000, 0, now() - interval '9 days',
       true, sha256(id::text::bytea), now() - interval '9 days', now() - interval '8 days',
       now() - interval '7 days' + interval '$due_in seconds'
FROM seeded;
INSERT INTO payers (session_id, national_id_hmac, national_id_enc, phone_enc, name_enc, address_enc)
SELECT id, sha256(('n' || id)::bytea), sha512(('a' || id)::bytea), sha512(('b' || id)::bytea),
       sha512(('c' || id)::bytea), sha512(('d' || id)::bytea) || sha512(('e' || id)::bytea)
FROM seeded;
INSERT INTO payer_keys (session_id, key_class, master_key_id, wrapped_key, created_at)
SELECT id, c, 'bench-1', sha512((c || id)::bytea), now() - interval '9 days'
FROM seeded, (VALUES ('transient'), ('retained')) AS k (c);
INSERT INTO payment_orders (session_id, account, order_id, payment_url_enc, status, created_at,
                            updated_at)
SELECT id, 'mock-swedbankpay', '/psp/paymentorders/' || id, sha512(('u' || id)::bytea), 'Paid',
       now() - interval '9 days', now() - interval '8 days'
FROM seeded;
COMMIT;
SQL
}

# Both runs start from the same state: no dead rows from the run before, fresh statistics.
vacuum() { sql "VACUUM ANALYZE" >/dev/null; }

start_cluster
export MOCK_SWEDBANKPAY_TOKEN=unused MOCK_LINKMOBILITY_PASSWORD=unused
CONFIG=$TMP/config.json
sed -e 's#"purge_interval_ms": [0-9]*#"purge_interval_ms": 100#' \
  -e "s#\"purge_batch\": [0-9]*#\"purge_batch\": $BATCH#" "$CONFIG_TEMPLATE" >"$CONFIG"
grep -q '"purge_interval_ms": 100' "$CONFIG" || die "could not set the purge interval"
grep -q "\"purge_batch\": $BATCH" "$CONFIG" || die "could not set the purge batch"
# The purger runs with the other background workers (they find nothing else to do here).
export VISITPAY_LOG_LEVEL=warn VISITPAY_RETENTION_PAID=7d
"$BIN" --config "$CONFIG" migrate

# --- 1. the purger --------------------------------------------------------------------------------

log "starting $INSTANCES instances (purge batch $BATCH)"
for ((i = 0; i < INSTANCES; i++)); do
  port=$(free_port) || die "no free port found"
  VISITPAY_LISTEN=127.0.0.1:$port VISITPAY_PUBLIC_BASE_URL=http://127.0.0.1:$port \
    "$BIN" --config "$CONFIG" serve >"$TMP/service-$i.log" 2>&1 3>&- &
  SERVICE_PIDS+=($!)
  wait_for_http "${SERVICE_PIDS[-1]}" "instance $i" "http://127.0.0.1:$port/readyz" 30
done

# The sessions become due 15 s after they are committed, with fresh statistics by then (as in
# production, where the tables are not new), while the instances run. The clock starts when
# they are due.
log "committing $SESSIONS paid sessions whose refund margin ends in 15 s"
vacuum
seed SERVICE 15
vacuum
T0=$(sql "SELECT extract(epoch FROM min(paid_at) + interval '7 days') FROM sessions")
awk -v t="$T0" -v n="$(now)" 'BEGIN { exit !(n < t) }' ||
  die "seeding took longer than 15 s: the purge started before the clock"
while (($(awk -v t="$T0" -v n="$(now)" 'BEGIN { print (n < t) }'))); do
  sleep 0.01
done
deadline=$((SECONDS + TIMEOUT_S))
while :; do
  left=$(sql "SELECT count(*) FROM payer_keys")
  ((left == 0)) && break
  ((SECONDS < deadline)) || die "$left data keys still there after $TIMEOUT_S s"
  sleep 0.05
done
T1=$(now)
PURGE_S=$(elapsed "$T0" "$T1")
stop_services
RATE=$(awk -v n="$SESSIONS" -v s="$PURGE_S" 'BEGIN { printf "%.1f", n / s }')
AUDITED=$(sql "SELECT count(DISTINCT session_id) FROM purge_events WHERE rule = 'paid_by_link'")
EVENTS=$(sql "SELECT count(*) FROM purge_events")
LEFT=$(sql "SELECT count(*) FROM payers WHERE national_id_enc IS NOT NULL OR phone_enc IS NOT NULL
            OR name_enc IS NOT NULL OR address_enc IS NOT NULL")
LINKS=$(sql "SELECT count(*) FROM payment_orders WHERE payment_url_enc IS NOT NULL")
log "purged $SESSIONS sessions in $PURGE_S s ($RATE/s)"

# --- 2. the limit: pgbench runs the same statement -------------------------------------------------

log "seeding $SESSIONS more for pgbench"
vacuum
seed LIMIT 0
vacuum
"$SCRIPT_BIN" "$BATCH" >"$TMP/purge.sql"
PER_CLIENT=$(((SESSIONS + BATCH * INSTANCES - 1) / (BATCH * INSTANCES)))
log "pgbench: $INSTANCES clients x $PER_CLIENT transactions of up to $BATCH sessions"
T2=$(now)
pgbench -n -M simple -f "$TMP/purge.sql" -c "$INSTANCES" -j "$INSTANCES" -t "$PER_CLIENT" \
  "$DATABASE_URL" >"$TMP/pgbench.txt" 2>&1 || die "pgbench failed (see $LOG_KEEP/pgbench.txt)"
T3=$(now)
PG_LEFT=$(sql "SELECT count(*) FROM payer_keys")
# Sessions per second over pgbench's whole run (the last transactions may find fewer than BATCH).
LIMIT=$(awk -v n="$SESSIONS" -v s="$(elapsed "$T2" "$T3")" 'BEGIN { printf "%.1f", n / s }')
RATIO=$(awk -v a="$RATE" -v b="$LIMIT" 'BEGIN { printf "%.2f", a / b }')

{
  echo "sessions=$SESSIONS"
  echo "instances=$INSTANCES"
  echo "purge_batch=$BATCH"
  echo "purge_seconds=$PURGE_S"
  echo "purge_sessions_per_s=$RATE"
  echo "audited_sessions=$AUDITED"
  echo "ciphertexts_left=$((LEFT + LINKS))"
  echo "pgbench_clients=$INSTANCES"
  echo "pgbench_sessions_per_s=$LIMIT"
  echo "ratio=$RATIO"
} >&3

((AUDITED == SESSIONS && EVENTS == SESSIONS)) ||
  die "expected $SESSIONS audit rows, one per session; found $EVENTS for $AUDITED sessions"
((LEFT == 0 && LINKS == 0)) || die "ciphertext left after the purge"
((PG_LEFT == 0)) || die "pgbench left $PG_LEFT data keys"
