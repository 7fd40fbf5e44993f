#!/usr/bin/env bash
# Local development entry point for visitpay (Debian 12). Works from any directory.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly ROOT
# shellcheck source=deploy/lib/process.sh
source "$ROOT/deploy/lib/process.sh"
readonly CONFIG=deploy/config/local.json
readonly PACKAGES=(
  build-essential cmake ninja-build pkg-config libboost1.81-dev libcurl4-openssl-dev libpq-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libssl-dev libhpdf-dev postgresql
  postgresql-contrib wrk poppler-utils clang-format clang-tidy openssl curl libsodium-dev
  prometheus python3-yaml systemd chromium oathtool libexpat1-dev libjemalloc-dev
)
# The fuzz command's compiler, libFuzzer and sanitizer runtimes (Debian 12's clang 14).
readonly FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)

log() { printf 'local.sh: %s\n' "$*" >&2 || true; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat <<'EOF'
Usage: deploy/local.sh COMMAND [OPTIONS]

  install            install the missing Debian packages (apt-get; sudo when not root)
  build [--sanitize] configure and build: build/ (RelWithDebInfo), or build-asan/ (Debug,
                     address + undefined sanitizers) with --sanitize
  run                build, start a private PostgreSQL in var/pg (unless DATABASE_URL or
                     VISITPAY_DATABASE_URL is set), start the mock Swedbank Pay on 127.0.0.1:8091
                     and the mock LINK Mobility on 127.0.0.1:8092 (or $MOCK_SWEDBANKPAY_LISTEN,
                     $MOCK_LINKMOBILITY_LISTEN), a mail catcher (SMTP 127.0.0.1:2525, inbox on
                     127.0.0.1:8093 or $MOCK_SMTP_HTTP_LISTEN), migrate, create an API token and
                     serve on http://127.0.0.1:8080 (or $VISITPAY_LISTEN) in the foreground, with
                     quiet hours off unless VISITPAY_QUIET_HOURS is set; Ctrl-C stops everything
  test [--sanitize]  build, then run every test with ctest (exit code = ctest's); the normal
                     build includes the browser tests of the console (ctest -L browser)
  cli COMMAND...     a visitpay admin command (privacy check, keys status|rotate, clients ...)
                     against the local run's private database and development secrets
  lint               clang-format check and clang-tidy over src adapters mocks (tests: format)
  fuzz [--seconds N] [TARGET...]
                     build the libFuzzer targets of tests/fuzz in build-fuzz/ (clang-14, address +
                     undefined sanitizers) and run each (default: all) for N seconds (default
                     20) from its seed corpus; fails on any crash. New corpus entries go
                     to build-fuzz/fuzz-corpus/TARGET, crash inputs to build-fuzz/fuzz-artifacts/
  bench              check-out ingest benchmark (tests/bench/ingest_bench.sh)
  help               this text
EOF
}

# --- install --------------------------------------------------------------------------------------

cmd_install() { # cmd_install [EXTRA_PACKAGE...]
  local -a missing=()
  local pkg
  for pkg in "${PACKAGES[@]}" "$@"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  # The console is built with npm (src/web): esbuild and TypeScript run on node >= 18 (Debian's
  # nodejs), the browser tests need node >= 20 (@playwright/test 1.65; @axe-core/playwright
  # declares >= 22.12 but runs on 20, where this project's browser tests pass).
  if ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
  elif (($(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0) < 20)); then
    log "warning: node $(node --version 2>/dev/null) is older than 20: the console builds, the browser tests will not run"
  fi
  # kustomize for the deploy checks: Debian's kubectl (kubernetes-client) unless one is on PATH.
  if ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null; then
    missing+=(kubernetes-client)
  fi
  if ((${#missing[@]} == 0)); then
    log "all required packages are installed"
    return 0
  fi
  log "installing: ${missing[*]}"
  local -a sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "not root and sudo is missing; install as root: apt-get install ${missing[*]}"
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
}

# --- build ----------------------------------------------------------------------------------------

BUILD_DIR=build
parse_build_flags() {
  BUILD_DIR=build
  BUILD_ARGS=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
  while (($#)); do
    case "$1" in
      --sanitize)
        BUILD_DIR=build-asan
        BUILD_ARGS=(-DVISITPAY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
        ;;
      *) die "unknown option: $1" ;;
    esac
    shift
  done
  # CI builds once and throws the build away: line tables only (-g1) instead of full debug
  # information, which took about a third of each compile (sanitizer reports keep file:line).
  if [[ "${CI:-}" == true ]]; then
    BUILD_ARGS+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_CXX_FLAGS_DEBUG=-g1")
  fi
}

cmd_build() {
  parse_build_flags "$@"
  cmd_install
  cd "$ROOT"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${BUILD_ARGS[@]}"
  cmake --build "$BUILD_DIR"
}

# --- run ------------------------------------------------------------------------------------------

RUN_PG_DIR=""
SERVICE_PID=""
SWEDBANKPAY_PID=""
LINKMOBILITY_PID=""
SMTP_PID=""

run_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE # the terminal or a pipe reading our output may be gone: clean up regardless
  set +e
  if [[ -n "$SERVICE_PID" ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
    log "stopping the service (pid $SERVICE_PID)"
    stop_process "$SERVICE_PID" "the service"
  fi
  if [[ -n "$LINKMOBILITY_PID" ]]; then
    log "stopping mock-linkmobility (pid $LINKMOBILITY_PID)"
    stop_process "$LINKMOBILITY_PID" "mock-linkmobility"
  fi
  if [[ -n "$SMTP_PID" ]]; then
    log "stopping mock-smtp (pid $SMTP_PID)"
    stop_process "$SMTP_PID" "mock-smtp"
  fi
  if [[ -n "$SWEDBANKPAY_PID" ]]; then
    log "stopping mock-swedbankpay (pid $SWEDBANKPAY_PID)"
    stop_process "$SWEDBANKPAY_PID" "mock-swedbankpay"
  fi
  if [[ -n "$RUN_PG_DIR" ]]; then
    log "stopping the private PostgreSQL in ${RUN_PG_DIR#"$ROOT"/}"
    "$ROOT/deploy/pg-cluster.sh" stop "$RUN_PG_DIR" || true
  fi
  exit "$rc"
}

# ensure_secret FILE BYTES: a random hex secret, created once, readable by the owner only.
ensure_secret() {
  local file=$1 bytes=$2
  mkdir -p "$(dirname -- "$file")"
  if [[ ! -s "$file" ]]; then
    log "generating $file"
    (umask 077 && openssl rand -hex "$bytes" >"$file")
  fi
  chmod 600 "$file"
}

# wait_for_http PID NAME URL: until URL answers 2xx (5 s at most); dies if PID exits first.
wait_for_http() {
  local pid=$1 name=$2 url=$3 i rc
  for ((i = 0; i < 50; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rc=0
      wait "$pid" || rc=$?
      die "$name exited with status $rc before answering on $url (is the port in use? see its message above)"
    fi
    if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  die "$name did not answer on $url within 5 s"
}

# local_secrets: the development secrets in var/ (created on first use) in the environment the
# local config reads: the mocks' credentials, the look-up key and the master key ring.
local_secrets() {
  mkdir -p "$ROOT/var"
  ensure_secret var/mock-swedbankpay.token 16
  ensure_secret var/mock-linkmobility.password 16
  MOCK_SWEDBANKPAY_TOKEN=$(<var/mock-swedbankpay.token)
  MOCK_LINKMOBILITY_PASSWORD=$(<var/mock-linkmobility.password)
  export MOCK_SWEDBANKPAY_TOKEN MOCK_LINKMOBILITY_PASSWORD
  if [[ -z "${VISITPAY_LOOKUP_KEY_FILE:-}" ]]; then
    ensure_secret var/lookup.key 32
    export VISITPAY_LOOKUP_KEY_FILE=$ROOT/var/lookup.key
  fi
  # A development master key ring (one key); production brings its own (the service refuses to
  # start without one). Never commit it: var/ is git-ignored.
  if [[ -z "${VISITPAY_MASTER_KEYS_FILE:-}${VISITPAY_MASTER_KEYS:-}" ]]; then
    if [[ ! -s var/master.keys ]]; then
      log "generating var/master.keys (development master key)"
      (umask 077 && printf 'dev-1 %s\n' "$(openssl rand -hex 32)" >var/master.keys)
    fi
    chmod 600 var/master.keys
    export VISITPAY_MASTER_KEYS_FILE=$ROOT/var/master.keys
  fi
}

# One unpaid visit at start, so that a new user finds an invoice in the console's finance queue
# once the run's short payment window has passed, without a curl of their own. Prints a line for
# the banner.
demo_checkout() { # demo_checkout BASE TOKEN VISIT_ID
  local body answer
  body=$(printf '{"clinic_id":"oslo-sentrum","visit_id":"%s-demo","checked_out_at":"%s","currency":"NOK","fee_terms":{"accepted_at":"%s","version":"2026-01"},"lines":[{"description":"Konsultasjon allmennlege","amount":45000,"vat_amount":0},{"description":"Blodprøve","amount":18000,"vat_amount":0}],"payer":{"name":"Demo Pasient","national_id":"10915596784","phone":"+4741234567","email":"demo.pasient@example.no","address":{"street":"Storgata 1","postal_code":"0155","city":"Oslo","country":"NO"}}}' \
    "$3" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)")
  if answer=$(curl -fsS -X POST "$1/v1/checkouts" -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' -d "$body" 2>&1); then
    printf 'A demo visit (%s-demo) was checked out just now: its payment link is in the SMS inbox;\n  left unpaid past its window (%s; the deadline is rounded up to the minute), it becomes an\n  invoice in the finance queue (log in as dev-finance).' \
      "$3" "$VISITPAY_PAYMENT_WINDOW"
  else
    log "the demo check-out failed: $answer"
    printf 'The demo check-out failed (see above); step 1 below makes one by hand.'
  fi
}

cmd_run() {
  (($# == 0)) || die "run takes no options"
  cmd_build
  cd "$ROOT"
  local bin=build/src/visitpay
  local mock_swedbankpay=build/mocks/mock-swedbankpay
  local mock_linkmobility=build/mocks/mock-linkmobility
  local mock_smtp=build/mocks/mock-smtp
  local b
  for b in "$bin" "$mock_swedbankpay" "$mock_linkmobility" "$mock_smtp"; do
    [[ -x "$b" ]] || die "$b was not built"
  done

  trap run_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local listen=${VISITPAY_LISTEN:-127.0.0.1:8080}
  local base=http://$listen
  local sp_listen=${MOCK_SWEDBANKPAY_LISTEN:-127.0.0.1:8091}
  local lm_listen=${MOCK_LINKMOBILITY_LISTEN:-127.0.0.1:8092}
  local sp_url=http://$sp_listen lm_url=http://$lm_listen
  # The mail catcher: SMTP where deploy/config/local.json's invoices.email points, its inbox here.
  local mail_url=http://${MOCK_SMTP_HTTP_LISTEN:-127.0.0.1:8093}
  local config=$CONFIG

  local_secrets

  # Mocks elsewhere than local.json says: run with a copy of it that points there.
  if [[ "$sp_listen" != 127.0.0.1:8091 || "$lm_listen" != 127.0.0.1:8092 ]]; then
    config=var/local.run.json
    sed -e "s#\"http://127.0.0.1:8091\"#\"$sp_url\"#" -e "s#\"http://127.0.0.1:8092\"#\"$lm_url\"#" \
      "$CONFIG" >"$config"
    log "mocks on $sp_listen and $lm_listen: using $config (a copy of $CONFIG)"
  fi
  # Providers call back to where the service listens.
  if [[ -n "${VISITPAY_LISTEN:-}" && -z "${VISITPAY_PUBLIC_BASE_URL:-}" ]]; then
    export VISITPAY_PUBLIC_BASE_URL=$base
  fi
  # The demo must work in the evening too: no quiet hours unless asked for.
  local quiet_note="quiet hours are off for this run (VISITPAY_QUIET_HOURS=off): the SMS goes out at once"
  if [[ -z "${VISITPAY_QUIET_HOURS:-}" ]]; then
    export VISITPAY_QUIET_HOURS=off
  else
    quiet_note="quiet hours: VISITPAY_QUIET_HOURS=$VISITPAY_QUIET_HOURS (Oslo time; no SMS is sent inside them)"
  fi

  if [[ -z "${DATABASE_URL:-}" && -z "${VISITPAY_DATABASE_URL:-}" ]]; then
    mkdir -p var
    RUN_PG_DIR=$ROOT/var/pg
    DATABASE_URL=$("$ROOT/deploy/pg-cluster.sh" start "$RUN_PG_DIR")
    export DATABASE_URL
    log "private PostgreSQL: $DATABASE_URL"
  else
    log "using the database named by DATABASE_URL / VISITPAY_DATABASE_URL"
  fi


  "$mock_swedbankpay" --listen "$sp_listen" --token "$MOCK_SWEDBANKPAY_TOKEN" --strict \
    --callback-time-scale 0.01 &
  SWEDBANKPAY_PID=$!
  "$mock_linkmobility" --listen "$lm_listen" --username visitpay \
    --password "$MOCK_LINKMOBILITY_PASSWORD" --strict \
    --platform-id SMSC --platform-partner-id visitpay-local \
    --dlr-url "$base/v1/webhooks/sms/linkmobility" &
  LINKMOBILITY_PID=$!
  wait_for_http "$SWEDBANKPAY_PID" mock-swedbankpay "$sp_url/"
  wait_for_http "$LINKMOBILITY_PID" mock-linkmobility "$lm_url/_mock/health"
  "$mock_smtp" --listen 127.0.0.1:2525 --http "${mail_url#http://}" &
  SMTP_PID=$!
  wait_for_http "$SMTP_PID" mock-smtp "$mail_url/_mock/stats"

  "$bin" --config "$config" migrate
  local token
  token=$("$bin" --config "$config" clients add local-dev --scopes checkout:write,sessions:read,ops,invoices:review,privacy --replace)
  [[ -n "$token" ]] || die "clients add printed no token"
  # Console users, one per role, with fresh passwords each run (dpo and admin also need a TOTP
  # code: oathtool --totp -b SECRET prints the current one).
  local logins="" role name out password secret
  for role in finance dpo ops admin; do
    name=dev-$role
    password=$(openssl rand -hex 8)
    out=$(printf '%s\n' "$password" |
      "$bin" --config "$config" users add "$name" --roles "$role" --password-stdin --replace 2>/dev/null) ||
      die "users add $name failed"
    secret=$(sed -n 's/^totp-secret //p' <<<"$out")
    logins+=$(printf '\n    %-12s password %s' "$name" "$password")
    if [[ -n "$secret" ]]; then
      logins+="   TOTP: oathtool --totp -b $secret"
    fi
  done
  # A new visit each run: the private database keeps the sessions of earlier runs.
  local visit_id
  visit_id=V-$(date -u +%Y%m%d-%H%M%S)

  # The demo shows the whole path in minutes: a 2-minute payment window unless asked otherwise
  # (production's is the clinic's payment_window, 48h).
  export VISITPAY_PAYMENT_WINDOW=${VISITPAY_PAYMENT_WINDOW:-2m}
  local window_note="VISITPAY_PAYMENT_WINDOW=$VISITPAY_PAYMENT_WINDOW for this run; the clinics' own is 48h"
  local invoice_dir=${VISITPAY_INVOICE_DIR:-var/invoices}

  # In the background so that INT/TERM reach our trap at once; the trap stops the service.
  "$bin" --config "$config" serve &
  SERVICE_PID=$!
  wait_for_http "$SERVICE_PID" visitpay "$base/readyz"
  local demo_note
  demo_note=$(demo_checkout "$base" "$token" "$visit_id")

  cat <<EOF

  visitpay is running on $base  (Ctrl-C stops it, the mocks and the private PostgreSQL)

  Mock Swedbank Pay on $sp_url (its orders), mock LINK Mobility on $lm_url (SMS inbox: $lm_url/inbox);
  a mail catcher on SMTP 127.0.0.1:2525 (mail inbox: $mail_url/inbox);
  $quiet_note.

  Console (in Norwegian): open $base/console/ and log in as one of these (role = name):$logins

  $demo_note

  API token (client local-dev, scopes checkout:write,sessions:read,ops,invoices:review,privacy):
    TOKEN='$token'

  1. Check out a visit (in a shell where TOKEN is set; the answer holds the session_id; the same
     request again returns the same session, another visit_id makes another one):
    curl -sS -X POST $base/v1/checkouts \\
      -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' \\
      -d '{"clinic_id":"oslo-sentrum","visit_id":"$visit_id","checked_out_at":"2026-11-22T14:05:00+01:00","currency":"NOK","fee_terms":{"accepted_at":"2026-11-22T13:40:00+01:00","version":"2026-01"},"lines":[{"description":"Konsultasjon spesialist","amount":65000,"vat_amount":0}],"payer":{"name":"Kari Nordmann","national_id":"10915596784","phone":"+4741234567","email":"kari.nordmann@example.no","address":{"street":"Storgata 1","postal_code":"0155","city":"Oslo","country":"NO"}}}'

  2. The payment link arrives by SMS within a second or two: open $lm_url/inbox in a browser,
     click the link and pay (card or Vipps). Or from a script: the inbox as JSON holds the link,
    curl -sS '$lm_url/inbox?to=%2B4741234567'
     and posting the payment page's form pays like its button:
    PAYMENT_URL=\$(curl -sS '$lm_url/inbox?to=%2B4741234567' | grep -o '$sp_url/checkout/[A-Za-z0-9_-]*' | tail -n 1)
    curl -sS -o /dev/null -X POST -d 'action=pay&instrument=Vipps' "\$PAYMENT_URL"

  3. A moment later the session is paid (state awaiting_payment, then paid):
    curl -sS -H "Authorization: Bearer \$TOKEN" $base/v1/sessions/SESSION_ID

  4. Not paid within the window ($window_note), the session becomes an invoice that
     finance reviews (a check-out without "phone" becomes one at once, without fee):
    curl -sS -H "Authorization: Bearer \$TOKEN" '$base/v1/invoices?status=pending_review'
     approve it (oslo-sentrum e-mails invoices: the mail with the PDF is in $mail_url/inbox;
     a check-out without "email", or bergen-brygge's, lands in $invoice_dir/ for print-and-post),
     or look at it:
    curl -sS -X POST -H "Authorization: Bearer \$TOKEN" $base/v1/invoices/INVOICE_ID/approve
    curl -sS -H "Authorization: Bearer \$TOKEN" -o faktura.pdf $base/v1/invoices/INVOICE_ID/pdf
     also: .../void {"reason":...}, .../credit, .../mark-paid, POST $base/v1/invoices/approve
     {"ids":[...]}, GET $base/v1/invoices/export.csv

  5. The payer's data (the data protection officer's requests, scope privacy): what is held,
     decrypted, and once purged (2 minutes after payment in this run, deploy/config/local.json
     privacy.retention), when it was purged:
    curl -sS -X POST -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
      -d '{"national_id":"10915596784"}' $base/v1/privacy/access
     erasure (keeps an invoice's name and address for the bookkeeping period, and says so):
    curl -sS -X POST -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
      -d '{"national_id":"10915596784"}' $base/v1/privacy/erasure
     and the operator's check that nothing is held past its policy (exit 1 if anything is):
    deploy/local.sh cli privacy check

  Outbox work that failed outbox.max_attempts times (scope ops):
    curl -sS -H "Authorization: Bearer \$TOKEN" $base/v1/outbox/dead

EOF

  local rc=0
  wait "$SERVICE_PID" || rc=$?
  SERVICE_PID=""
  log "the service exited with status $rc"
  exit "$rc"
}

# --- cli ------------------------------------------------------------------------------------------

# The admin commands (privacy check, keys rotate, clients ...) against the local run's database
# and secrets, e.g. `deploy/local.sh cli privacy check` while `run` serves in another shell.
cmd_cli() {
  (($# > 0)) || die "cli needs a visitpay command, e.g. cli privacy check"
  cd "$ROOT"
  local bin=build/src/visitpay
  [[ -x "$bin" ]] || die "$bin was not built (deploy/local.sh build)"
  local_secrets
  if [[ -z "${DATABASE_URL:-}" && -z "${VISITPAY_DATABASE_URL:-}" ]]; then
    DATABASE_URL=$("$ROOT/deploy/pg-cluster.sh" url "$ROOT/var/pg") ||
      die "the private PostgreSQL in var/pg is not running (deploy/local.sh run starts it)"
    export DATABASE_URL
  fi
  exec "$bin" --config "$CONFIG" "$@"
}

# --- test -----------------------------------------------------------------------------------------

cmd_test() {
  cmd_build "$@"
  cd "$ROOT"
  local rc=0
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 600 || rc=$?
  exit "$rc"
}

# --- lint -----------------------------------------------------------------------------------------

lint_files() { # lint_files EXT DIR... : tracked and new (not ignored) files that exist
  local ext=$1 f
  shift
  local -a specs=()
  local d
  for d in "$@"; do
    specs+=("$d/*.$ext")
  done
  git -C "$ROOT" ls-files --cached --others --exclude-standard -- "${specs[@]}" |
    sort -u | while IFS= read -r f; do
    if [[ -f "$ROOT/$f" ]]; then
      printf '%s\n' "$f"
    fi
  done
}

regex_escape() { # for run-clang-tidy's file regexes (Python re)
  # shellcheck disable=SC2016 # a literal set of characters, nothing to expand
  local s=$1 out="" c i special='\.[]*^$()+?{}|'
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    if [[ "$special" == *"$c"* ]]; then
      out+="\\$c"
    else
      out+=$c
    fi
  done
  printf '%s' "$out"
}

cmd_lint() {
  (($# == 0)) || die "lint takes no options"
  cd "$ROOT"
  local rc=0
  local -a fmt_files tidy_files
  mapfile -t fmt_files < <(lint_files cpp src adapters mocks tests; lint_files hpp src adapters mocks tests)
  mapfile -t tidy_files < <(lint_files cpp src adapters mocks)

  log "typescript: tsc --noEmit over src/web"
  if [[ -x src/web/node_modules/.bin/tsc ]]; then
    (cd src/web && node_modules/.bin/tsc -p .) || rc=1
  else
    log "src/web/node_modules is missing: build first (npm ci runs there)"
    rc=1
  fi

  log "clang-format: ${#fmt_files[@]} files"
  if ((${#fmt_files[@]})); then
    clang-format --dry-run -Werror "${fmt_files[@]}" || rc=1
  fi

  if [[ ! -f build/compile_commands.json ]]; then
    cmd_build
    cd "$ROOT"
  fi
  log "clang-tidy: ${#tidy_files[@]} files"
  if ((${#tidy_files[@]})); then
    local runner="" f
    runner=$(command -v run-clang-tidy-14 || command -v run-clang-tidy || true)
    # GCC-only warning flags in the compile commands must not become clang errors.
    local -a extra=(-extra-arg=-Wno-unknown-warning-option)
    if [[ -n "$runner" ]]; then
      local -a regexes=()
      for f in "${tidy_files[@]}"; do
        regexes+=("^$(regex_escape "$ROOT/$f")\$")
      done
      if [[ -t 1 ]]; then
        "$runner" -p build -quiet -j 2 "${extra[@]}" "${regexes[@]}" || rc=1
      else # run-clang-tidy-14 always asks for colour; keep logs plain
        "$runner" -p build -quiet -j 2 "${extra[@]}" "${regexes[@]}" |
          sed $'s/\x1b\\[[0-9;]*m//g' || rc=1
      fi
    else
      for f in "${tidy_files[@]}"; do
        clang-tidy -p build --quiet "${extra[@]}" "$f" || rc=1
      done
    fi
  fi
  if ((rc)); then
    log "lint failed"
  else
    log "lint passed"
  fi
  return "$rc"
}

# --- fuzz -----------------------------------------------------------------------------------------

# Every tests/fuzz/<name>_fuzz.cpp is a target (tests/fuzz/CMakeLists.txt builds each).
fuzz_targets() {
  local f
  for f in "$ROOT"/tests/fuzz/*_fuzz.cpp; do
    f=${f##*/}
    printf '%s\n' "${f%.cpp}"
  done
}

cmd_fuzz() {
  local seconds=20
  local -a targets=()
  while (($#)); do
    case "$1" in
      --seconds)
        (($# >= 2)) || die "--seconds needs a number"
        [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "--seconds needs a positive whole number, not $2"
        seconds=$2
        shift
        ;;
      -*) die "unknown option: $1" ;;
      *) targets+=("$1") ;;
    esac
    shift
  done
  local -a known
  mapfile -t known < <(fuzz_targets)
  ((${#targets[@]})) || targets=("${known[@]}")
  local t
  for t in "${targets[@]}"; do
    [[ " ${known[*]} " == *" $t "* ]] || die "no fuzz target $t (known: ${known[*]})"
  done

  cmd_install "${FUZZ_PACKAGES[@]}"
  cd "$ROOT"
  cmake -S . -B build-fuzz -G Ninja -DVISITPAY_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=Debug
  cmake --build build-fuzz --target "${targets[@]}"

  # Found inputs stay out of git: corpus growth and crash reproducers live in build-fuzz/.
  local corpus_root=build-fuzz/fuzz-corpus artifacts=build-fuzz/fuzz-artifacts
  local rc=0 status
  for t in "${targets[@]}"; do
    mkdir -p "$corpus_root/$t" "$artifacts/$t"
    local -a dict=()
    [[ -f tests/fuzz/dict/$t.dict ]] && dict=("-dict=tests/fuzz/dict/$t.dict")
    log "fuzzing $t for ${seconds}s"
    status=0
    # -timeout: one input taking longer is a hang, reported like a crash.
    "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
      "${dict[@]}" -artifact_prefix="$artifacts/$t/" "$corpus_root/$t" "tests/fuzz/corpus/$t" \
      >"$artifacts/$t.log" 2>&1 || status=$?
    if ((status)); then
      rc=1
      grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant failed|artifact_prefix)' "$artifacts/$t.log" >&2 || true
      log "$t FAILED (exit $status); log: $artifacts/$t.log, input: $artifacts/$t/"
    else
      log "$t: $(grep -E '^stat::number_of_executed_units' "$artifacts/$t.log" | awk '{print $2}') inputs, no crash"
    fi
  done
  return "$rc"
}

# --- main -----------------------------------------------------------------------------------------

main() {
  local cmd=${1:-help}
  if (($#)); then
    shift
  fi
  case "$cmd" in
    install)
      (($# == 0)) || die "install takes no options"
      cmd_install
      ;;
    build) cmd_build "$@" ;;
    run) cmd_run "$@" ;;
    test) cmd_test "$@" ;;
    cli) cmd_cli "$@" ;;
    lint) cmd_lint "$@" ;;
    fuzz) cmd_fuzz "$@" ;;
    bench) exec bash "$ROOT/tests/bench/ingest_bench.sh" "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
