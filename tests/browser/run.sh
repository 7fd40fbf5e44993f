#!/usr/bin/env bash
# Browser tests of the console (ctest label "browser"): starts a private PostgreSQL, both mock
# providers and the service on free ports from BUILD_DIR (default build/), creates a console user
# of each role, then runs Playwright (src/web's @playwright/test) with Debian's /usr/bin/chromium,
# headless. Screenshots go to BUILD_DIR/console-screenshots/. Everything it started is stopped.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
BUILD_DIR=$(cd -- "${1:-$ROOT/build}" && pwd -P)
readonly ROOT BUILD_DIR
# shellcheck source=deploy/lib/process.sh
source "$ROOT/deploy/lib/process.sh"
cd "$ROOT"

log() { printf 'browser-tests: %s\n' "$*" >&2 || true; }
die() {
  log "error: $*"
  exit 1
}

readonly BIN=$BUILD_DIR/src/visitpay
for b in "$BIN" "$BUILD_DIR/mocks/mock-swedbankpay" "$BUILD_DIR/mocks/mock-linkmobility"; do
  [[ -x "$b" ]] || die "$b was not built"
done
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM is missing (deploy/local.sh install brings Debian's chromium)"
[[ -d src/web/node_modules/@playwright/test ]] || die "src/web/node_modules is missing (the build runs npm ci)"

TMP=$(mktemp -d /tmp/vp-browser.XXXXXX)
SERVICE_PID="" SP_PID="" LM_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  stop_process "$SERVICE_PID" "the service"
  stop_process "$LM_PID" "mock-linkmobility"
  stop_process "$SP_PID" "mock-swedbankpay"
  "$ROOT/deploy/pg-cluster.sh" stop "$TMP/pg" >/dev/null 2>&1
  if ((rc != 0)) && [[ -f "$TMP/service.log" ]]; then
    log "the service's last log lines:"
    tail -n 40 "$TMP/service.log" >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { # a port below the ephemeral range that nothing listens on (checked, not reserved)
  # Above it, another test's outgoing connection may hold the port by the time a mock binds it.
  local p i low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  ((low > 21000)) || low=32768
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % (low - 20000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      printf '%s\n' "$p"
      return 0
    fi
  done
  return 1
}

wait_for() { # wait_for PID NAME URL: the process's log ($TMP/NAME.log) is shown if it exits
  local i
  for ((i = 0; i < 100; i++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      tail -n 20 "$TMP/$2.log" >&2 2>/dev/null
      die "$2 exited before answering on $3"
    fi
    curl -fsS -o /dev/null --max-time 1 "$3" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$2 did not answer on $3 within 10 s"
}

DATABASE_URL=$("$ROOT/deploy/pg-cluster.sh" start "$TMP/pg" --fast)
export DATABASE_URL
(umask 077 && openssl rand -hex 32 >"$TMP/lookup.key" &&
  printf 'browser-1 %s\n' "$(openssl rand -hex 32)" >"$TMP/master.keys")
export VISITPAY_LOOKUP_KEY_FILE=$TMP/lookup.key VISITPAY_MASTER_KEYS_FILE=$TMP/master.keys
export MOCK_SWEDBANKPAY_TOKEN=browser-token MOCK_LINKMOBILITY_PASSWORD=browser-password
export VISITPAY_QUIET_HOURS=off VISITPAY_INVOICE_DIR=$TMP/invoices

PORT=$(free_port) && SP_PORT=$(free_port) && LM_PORT=$(free_port) || die "no free port"
BASE=http://127.0.0.1:$PORT
export VISITPAY_LISTEN=127.0.0.1:$PORT VISITPAY_PUBLIC_BASE_URL=$BASE
CONFIG=$TMP/config.json
# Bergen's payment window is 20 s here, so a check-out with a phone there becomes an invoice
# within the run (the short-window test); Oslo keeps 48 h.
sed -e "s#\"http://127.0.0.1:8091\"#\"http://127.0.0.1:$SP_PORT\"#" \
  -e "s#\"http://127.0.0.1:8092\"#\"http://127.0.0.1:$LM_PORT\"#" \
  -e '/"id": "bergen-brygge"/,/"payment_window"/ s/"payment_window": "48h"/"payment_window": "20s"/' \
  deploy/config/local.json >"$CONFIG"
grep -q '"payment_window": "20s"' "$CONFIG" || die "could not shorten Bergen's payment window"

# Both mocks strict: they refuse what the real APIs would refuse.
"$BUILD_DIR/mocks/mock-swedbankpay" --listen "127.0.0.1:$SP_PORT" --token "$MOCK_SWEDBANKPAY_TOKEN" \
  --strict --callback-time-scale 0.01 >"$TMP/mock-swedbankpay.log" 2>&1 &
SP_PID=$!
"$BUILD_DIR/mocks/mock-linkmobility" --listen "127.0.0.1:$LM_PORT" --username visitpay \
  --password "$MOCK_LINKMOBILITY_PASSWORD" --strict --platform-id SMSC \
  --platform-partner-id visitpay-local --dlr-url "$BASE/v1/webhooks/sms/linkmobility" \
  >"$TMP/mock-linkmobility.log" 2>&1 &
LM_PID=$!
wait_for "$SP_PID" mock-swedbankpay "http://127.0.0.1:$SP_PORT/"
wait_for "$LM_PID" mock-linkmobility "http://127.0.0.1:$LM_PORT/_mock/health"

"$BIN" --config "$CONFIG" migrate 2>>"$TMP/service.log"
PASSWORD=$(openssl rand -hex 12)
add_user() { # add_user NAME ROLES [CLINICS]: prints the TOTP secret, if the account has one
  local args=(users add "$1" --roles "$2" --password-stdin)
  [[ -n "${3:-}" ]] && args+=(--clinics "$3")
  printf '%s\n' "$PASSWORD" | "$BIN" --config "$CONFIG" "${args[@]}" 2>/dev/null |
    sed -n 's/^totp-secret //p'
}
add_user kari.finans finance >/dev/null
add_user berit.bergen finance bergen-brygge >/dev/null
add_user ole.drift ops >/dev/null
DPO_TOTP=$(add_user dina.dpo dpo)
ADMIN_TOTP=$(add_user anne.admin admin)
TOKEN=$("$BIN" --config "$CONFIG" clients add browser-seed --scopes checkout:write,sessions:read,invoices:review \
  2>/dev/null)

"$BIN" --config "$CONFIG" serve >>"$TMP/service.log" 2>&1 &
SERVICE_PID=$!
wait_for "$SERVICE_PID" visitpay "$BASE/readyz"

export VP_BASE_URL=$BASE VP_PASSWORD=$PASSWORD VP_DPO_TOTP=$DPO_TOTP VP_ADMIN_TOTP=$ADMIN_TOTP
export VP_TOKEN=$TOKEN VP_DATABASE_URL=$DATABASE_URL VP_SCREENSHOTS=$BUILD_DIR/console-screenshots CHROMIUM
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
mkdir -p "$VP_SCREENSHOTS"
log "service on $BASE; running Playwright with $CHROMIUM"
# The spec imports @playwright/test: resolve it from src/web's packages (one package-lock).
ln -sfn "$ROOT/src/web/node_modules" "$ROOT/tests/browser/node_modules"
cd "$ROOT/src/web"
rc=0
npx --no-install playwright test -c "$ROOT/tests/browser/playwright.config.mjs" || rc=$?
log "screenshots: $VP_SCREENSHOTS"
exit "$rc"
