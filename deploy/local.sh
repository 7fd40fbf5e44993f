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
  postgresql-contrib wrk poppler-utils clang-format clang-tidy openssl curl
)

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
                     VISITPAY_DATABASE_URL is set),
                     migrate, create a development API token and serve on http://127.0.0.1:8080
                     (or $VISITPAY_LISTEN) in the foreground; Ctrl-C stops everything
  test [--sanitize]  build, then run every test with ctest (exit code = ctest's)
  lint               clang-format check and clang-tidy over src adapters mocks (tests: format)
  bench              check-out ingest benchmark (tests/bench/ingest_bench.sh)
  help               this text
EOF
}

# --- install --------------------------------------------------------------------------------------

cmd_install() {
  local -a missing=()
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
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

run_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  trap '' PIPE # the terminal or a pipe reading our output may be gone: clean up regardless
  set +e
  if [[ -n "$SERVICE_PID" ]] && kill -0 "$SERVICE_PID" 2>/dev/null; then
    log "stopping the service (pid $SERVICE_PID)"
    stop_process "$SERVICE_PID" "the service"
  fi
  if [[ -n "$RUN_PG_DIR" ]]; then
    log "stopping the private PostgreSQL in ${RUN_PG_DIR#"$ROOT"/}"
    "$ROOT/deploy/pg-cluster.sh" stop "$RUN_PG_DIR" || true
  fi
  exit "$rc"
}

cmd_run() {
  (($# == 0)) || die "run takes no options"
  cmd_build
  cd "$ROOT"
  local bin=build/src/visitpay
  [[ -x "$bin" ]] || die "$bin was not built"

  trap run_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  if [[ -z "${DATABASE_URL:-}" && -z "${VISITPAY_DATABASE_URL:-}" ]]; then
    mkdir -p var
    RUN_PG_DIR=$ROOT/var/pg
    DATABASE_URL=$("$ROOT/deploy/pg-cluster.sh" start "$RUN_PG_DIR")
    export DATABASE_URL
    log "private PostgreSQL: $DATABASE_URL"
  else
    log "using the database named by DATABASE_URL / VISITPAY_DATABASE_URL"
  fi

  if [[ -z "${VISITPAY_LOOKUP_KEY_FILE:-}" ]]; then
    mkdir -p var
    if [[ ! -s var/lookup.key ]]; then
      log "generating var/lookup.key"
      (umask 077 && openssl rand -hex 32 >var/lookup.key)
    fi
    chmod 600 var/lookup.key
    export VISITPAY_LOOKUP_KEY_FILE=$ROOT/var/lookup.key
  fi

  "$bin" --config "$CONFIG" migrate
  local token
  token=$("$bin" --config "$CONFIG" clients add local-dev --scopes checkout:write,sessions:read,ops --replace)
  [[ -n "$token" ]] || die "clients add printed no token"

  local listen=${VISITPAY_LISTEN:-127.0.0.1:8080}
  local base=http://$listen
  cat <<EOF

  visitpay is starting on $base  (Ctrl-C stops it and the private PostgreSQL)

  API token (client local-dev, scopes checkout:write,sessions:read,ops):
    $token

  Try a check-out:
    curl -sS -X POST $base/v1/checkouts \\
      -H 'Authorization: Bearer $token' \\
      -H 'Content-Type: application/json' \\
      -d '{"clinic_id":"oslo-sentrum","visit_id":"V-2026-000123","checked_out_at":"2026-11-22T14:05:00+01:00","currency":"NOK","lines":[{"description":"Konsultasjon spesialist","amount":65000,"vat_amount":0}],"payer":{"name":"Kari Nordmann","national_id":"10915596784","phone":"+4741234567","address":{"street":"Storgata 1","postal_code":"0155","city":"Oslo","country":"NO"}}}'

  Then read the session (id from the response):
    curl -sS -H 'Authorization: Bearer $token' $base/v1/sessions/SESSION_ID

EOF

  # In the background so that INT/TERM reach our trap at once; the trap stops the service.
  "$bin" --config "$CONFIG" serve &
  SERVICE_PID=$!
  local rc=0
  wait "$SERVICE_PID" || rc=$?
  SERVICE_PID=""
  log "the service exited with status $rc"
  exit "$rc"
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
    lint) cmd_lint "$@" ;;
    bench) exec bash "$ROOT/tests/bench/ingest_bench.sh" "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
