#!/usr/bin/env bash
# Benchmark (not a test) of `visitpay bank import` on its own durable PostgreSQL cluster:
#
# 1. Seeds PAYMENTS*0.95 issued invoices (sessions invoiced, invoices issued, MOD10 KIDs) and
#    writes a camt.054.001.02 file of PAYMENTS payments (tests/bench/bank_import_gen.py: entries
#    of 100 payments; 80 % pay their invoice exactly, 10 % too little, 5 % too much, 5 % carry an
#    unknown KID), plus a CSV of the same rows.
# 2. The import: `visitpay bank import FILE` under /usr/bin/time -v (wall clock of the whole
#    process: start, config, digest, streamed parse with the payments COPYed to a staging table in
#    batches, matching, commit): import_s, and its peak RSS.
# 3. The twin, in the same run on the same cluster: psql `\copy` of the same rows (CSV) into a
#    scratch table shaped like bank_payments (same columns, unique source reference, same indexes):
#    copy_s. ratio = copy_s / import_s (target >= 0.5).
# 4. What the import's own writes cost at COPY speed, each alone, so the ratio's bound is measured
#    in the same run: the payments as the import stored them, COPYed into a copy of bank_payments
#    that keeps its foreign keys (to the file and the invoice): stored_copy_s; their audit rows,
#    COPYed into a copy of invoice_events with its foreign key: audit_copy_s; the status change of
#    the invoices the file pays, as one UPDATE of those rows before the import (rolled back, then
#    the table rewritten as it was): invoice_update_s.
#    No import under this data model writes less, so copy_s / (their sum) bounds the ratio
#    (ratio_ceiling).
# Checks: every payment stored once, the outcomes add up, no invoice paid twice.
#
#   PAYMENTS=100000 tests/bench/bank_import_bench.sh
#
# Environment: PAYMENTS (default 100000), BENCH_BUILD_DIR (default build-bench, a Release build;
# with BENCH_SKIP_BUILD=1 any existing build, e.g. build). stdout gets only the summary
# (key=value lines). Logs of the last run are kept in $BENCH_BUILD_DIR/bank-logs/.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT"
PAYMENTS=${PAYMENTS:-100000}
readonly CONFIG=deploy/config/local.json
readonly BUILD_DIR=${BENCH_BUILD_DIR:-build-bench}
readonly BIN=$BUILD_DIR/src/visitpay
readonly LOG_KEEP=$BUILD_DIR/bank-logs
readonly BENCH_NAME=bank-bench
# The first clinic's legal entity (deploy/config/local.json): its account and KID rule (MOD10, 10).
readonly ACCOUNT=15032080003
# shellcheck source=tests/bench/lib.sh
source tests/bench/lib.sh

positive_int PAYMENTS "$PAYMENTS"
exec 3>&1 1>&2 # fd 3: the summary; everything else to stderr

bench_build visitpay
[[ -x "$BIN" ]] || die "$BIN is missing"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install time)"
bench_tmp vp-bank

no_processes() { :; }
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  bench_cleanup "$rc" no_processes '*.log' '*.txt'
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sql() { psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# timed_copy TABLE COLUMNS FILE: psql's \copy of a CSV file into TABLE; prints the seconds.
# COLUMNS may span lines (\copy takes one).
timed_copy() {
  local start end columns=${2//$'\n'/ }
  start=$(now)
  psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c "\\copy $1 ($columns) FROM '$3' CSV"
  end=$(now)
  elapsed "$start" "$end"
}

start_cluster
export MOCK_SWEDBANKPAY_TOKEN=unused MOCK_LINKMOBILITY_PASSWORD=unused VISITPAY_LOG_LEVEL=warn
"$BIN" --config "$CONFIG" migrate

log "writing a camt.054 file of $PAYMENTS payments"
python3 tests/bench/bank_import_gen.py "$PAYMENTS" "$ACCOUNT" "$TMP"
FILE_BYTES=$(stat -c %s "$TMP/camt054.xml")

log "seeding the issued invoices"
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<SQL
BEGIN;
CREATE TEMP TABLE seed (number bigint, kid text, total bigint) ON COMMIT DROP;
\copy seed FROM '$TMP/invoices.csv' CSV
CREATE TEMP TABLE seeded ON COMMIT DROP AS SELECT gen_random_uuid() AS id, * FROM seed;
INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, vat_amount_ore,
                      checked_out_at, has_phone, request_fingerprint, created_at, updated_at)
SELECT id, 'oslo-sentrum', 'BANK-' || number, 'invoiced', 'NOK', total, 0, now() - interval '20 days',
       false, sha256(id::text::bytea), now() - interval '20 days', now() - interval '18 days'
FROM seeded;
INSERT INTO invoices (id, kind, org_number, number, session_id, status, clinic_id, reason,
                      total_ore, kid, due_days, seller_name, seller_foretaksregisteret,
                      seller_vat_registered, seller_bank_account, delivery_place, delivered_on,
                      issue_date, due_date, created_at, updated_at)
SELECT id, 'invoice', '912345688', number, id, 'issued', 'oslo-sentrum', 'no_phone', total, kid,
       14, 'Oslo Sentrum Klinikk AS', true, false, '1503.20.80003', 'Oslo', current_date - 20,
       current_date - 18, current_date - 4, now() - interval '18 days', now() - interval '18 days'
FROM seeded;
INSERT INTO invoice_series VALUES ('912345688', (SELECT max(number) FROM seed));
COMMIT;
VACUUM ANALYZE;
SQL

log "what the invoices' status change costs alone: the invoices the file pays (rolled back)"
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE file_kids (kid text);
\copy file_kids FROM PROGRAM 'cut -d, -f3 $TMP/rows.csv' CSV
CREATE TABLE bench_paid AS SELECT i.id FROM invoices i JOIN file_kids f USING (kid);
SQL
start=$(now)
sql "BEGIN;
     UPDATE invoices SET status = 'paid', paid_ore = total_ore, overpaid_ore = 0,
            paid_on = current_date, paid_after_collection = false, payment_reference = 'bench',
            updated_at = now()
     WHERE id IN (SELECT id FROM bench_paid);
     ROLLBACK" >/dev/null
end=$(now)
UPDATE_S=$(elapsed "$start" "$end")
sql "VACUUM FULL ANALYZE invoices" # packed again, as seeded: the import meets the same table

log "importing"
start=$(now)
/usr/bin/time -v -o "$TMP/import-time.txt" "$BIN" --config "$CONFIG" bank import "$TMP/camt054.xml" \
  >"$TMP/import.txt" 2>"$TMP/import.log"
end=$(now)
IMPORT_S=$(elapsed "$start" "$end")
RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/import-time.txt")
cat "$TMP/import.txt" >&2

log "the twin: COPY of the same rows into a scratch table shaped like bank_payments"
sql "CREATE TABLE bench_copy (LIKE bank_payments INCLUDING DEFAULTS INCLUDING IDENTITY
       INCLUDING CONSTRAINTS INCLUDING INDEXES);
     ALTER TABLE bench_copy ALTER COLUMN file_id SET DEFAULT gen_random_uuid()"
COPY_S=$(timed_copy bench_copy "source_ref, line, kid, amount_ore, booking_date, value_date,
  bank_reference, creditor_account, payer_account, status" "$TMP/rows.csv")

# Checks.
stored=$(sql "SELECT count(*) FROM bank_payments")
copied=$(sql "SELECT count(*) FROM bench_copy")
[[ "$stored" == "$PAYMENTS" ]] || die "$stored payments stored, expected $PAYMENTS"
[[ "$copied" == "$PAYMENTS" ]] || die "$copied rows copied, expected $PAYMENTS"
outcomes=$(sql "SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM
                (SELECT status, count(*) n FROM bank_payments GROUP BY status) s")
twice=$(sql "SELECT count(*) FROM (SELECT invoice_id FROM bank_payments WHERE invoice_id IS NOT NULL
             GROUP BY invoice_id HAVING count(*) > 1) d")
[[ "$twice" == 0 ]] || die "$twice invoices got two payments"
paid=$(sql "SELECT count(*) FROM invoices WHERE status = 'paid'")

log "the import's writes at COPY speed: its payments and audit rows with their foreign keys"
# One line each: psql's \copy takes the rest of its line.
STORED_COLUMNS="file_id, source_ref, line, kid, amount_ore, booking_date, value_date, "
STORED_COLUMNS+="bank_reference, creditor_account, payer_account, status, unmatched_reason, "
STORED_COLUMNS+="invoice_id, overpaid_ore, open_after_ore, matched_at, matched_by, manual"
readonly STORED_COLUMNS
readonly AUDIT_COLUMNS="invoice_id, at, actor, action, from_status, to_status, detail"
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 <<SQL
\copy (SELECT $STORED_COLUMNS FROM bank_payments ORDER BY id) TO '$TMP/stored.csv' CSV
\copy (SELECT $AUDIT_COLUMNS FROM invoice_events WHERE action = 'bank_payment' ORDER BY id) TO '$TMP/audit.csv' CSV
CREATE TABLE bench_stored (LIKE bank_payments INCLUDING ALL);
ALTER TABLE bench_stored ADD FOREIGN KEY (file_id) REFERENCES bank_files (id),
                         ADD FOREIGN KEY (invoice_id) REFERENCES invoices (id);
CREATE TABLE bench_audit (LIKE invoice_events INCLUDING ALL);
ALTER TABLE bench_audit ADD FOREIGN KEY (invoice_id) REFERENCES invoices (id);
SQL
STORED_COPY_S=$(timed_copy bench_stored "$STORED_COLUMNS" "$TMP/stored.csv")
AUDIT_COPY_S=$(timed_copy bench_audit "$AUDIT_COLUMNS" "$TMP/audit.csv")
[[ "$(sql "SELECT count(*) FROM bench_stored")" == "$PAYMENTS" ]] || die "bench_stored is short"

RATIO=$(awk -v c="$COPY_S" -v i="$IMPORT_S" 'BEGIN { printf "%.2f", c / i }')
FLOOR_S=$(awk -v p="$STORED_COPY_S" -v a="$AUDIT_COPY_S" -v u="$UPDATE_S" \
  'BEGIN { printf "%.3f", p + a + u }')
CEILING=$(awk -v c="$COPY_S" -v f="$FLOOR_S" 'BEGIN { printf "%.2f", c / f }')
{
  echo "payments=$PAYMENTS"
  echo "file_bytes=$FILE_BYTES"
  echo "import_s=$IMPORT_S"
  echo "import_payments_per_s=$(awk -v n="$PAYMENTS" -v s="$IMPORT_S" 'BEGIN { printf "%.0f", n / s }')"
  echo "import_peak_rss_kb=$RSS_KB"
  echo "copy_s=$COPY_S"
  echo "ratio=$RATIO"
  echo "stored_copy_s=$STORED_COPY_S"
  echo "audit_copy_s=$AUDIT_COPY_S"
  echo "invoice_update_s=$UPDATE_S"
  echo "writes_floor_s=$FLOOR_S"
  echo "ratio_ceiling=$CEILING"
  echo "outcomes=$outcomes"
  echo "invoices_paid=$paid"
} >&3
