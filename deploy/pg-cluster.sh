#!/usr/bin/env bash
# Manages a private, throwaway PostgreSQL cluster in a directory of its own (never the system one).
#
#   pg-cluster.sh start  DIR [--fast]   initdb if needed, start, create database "visitpay";
#                                       prints the libpq conninfo on stdout (nothing else)
#   pg-cluster.sh stop   DIR            fast shutdown; exit 0 if it was not running
#   pg-cluster.sh url    DIR            prints the conninfo of the cluster in DIR
#   pg-cluster.sh status DIR            exit 0 if running, 3 if not
#
# The cluster listens only on a Unix socket (listen_addresses = ''); superuser "visitpay", trust
# authentication, UTF8, locale C.UTF-8, max_connections = 200. --fast (tests only) turns off fsync,
# synchronous_commit and full_page_writes; without it PostgreSQL's durable defaults are kept.
# Settings follow the latest `start`: starting a running cluster rewrites them and reloads.
#
# Layout: DIR/data (cluster), DIR/postgres.log, DIR/run (socket). When DIR/run would make the
# socket path too long for a Unix socket (or has characters unsafe in a conninfo), the socket goes
# to a short /tmp/vp-pg-XXXXXX directory recorded in DIR/socket-dir. PostgreSQL refuses to run as
# root: as root the server runs as the `postgres` OS account (runuser), which gets ownership of
# DIR; root-owned temporary parent directories are made traversable (o+x) for it, and if DIR is
# otherwise unreachable for it (e.g. a checkout under /root) the cluster lives in a
# /tmp/vp-pg-home-XXXXXX directory recorded in DIR/home.
# Environment: PG_BIN (server binaries; default: newest /usr/lib/postgresql/*/bin, preferring 15),
# PG_CLUSTER_RUN_AS (OS account used as root; default postgres).
set -euo pipefail

readonly PG_PORT=5432
readonly DB_NAME=visitpay
readonly DB_USER=visitpay
readonly MAX_SOCKET_PATH=100 # sun_path is 108 bytes; keep a margin

# Only our own explicit arguments decide where libpq and the server tools connect.
unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE \
  PGOPTIONS PGDATA PGSSLMODE PGTARGETSESSIONATTRS PGREQUIRESSL PGCONNECT_TIMEOUT PGAPPNAME

log() { printf 'pg-cluster: %s\n' "$*" >&2 || true; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

find_pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then
    [[ -x "$PG_BIN/postgres" ]] || die "PG_BIN=$PG_BIN has no postgres binary"
    return
  fi
  if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
    PG_BIN=/usr/lib/postgresql/15/bin
    return
  fi
  local candidate
  candidate=$(find /usr/lib/postgresql -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$candidate" ]] || die "no PostgreSQL server binaries found (apt-get install postgresql-15)"
  PG_BIN=${candidate%/postgres}
}

# --- running as root: the server runs as an unprivileged account --------------------------------

AS_ROOT=0
RUN_AS=""
init_identity() {
  if [[ $EUID -eq 0 ]]; then
    AS_ROOT=1
    RUN_AS=${PG_CLUSTER_RUN_AS:-postgres}
    id -u "$RUN_AS" >/dev/null 2>&1 ||
      die "running as root needs the OS account '$RUN_AS' (created by the postgresql package)"
    command -v runuser >/dev/null || die "runuser (util-linux) is missing"
  fi
}

# Closes every descriptor above 2 (our lock on fd 9, and whatever the caller let us inherit) so a
# postmaster started from here does not hold them open for its whole life.
close_inherited_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then
      eval "exec $fd>&-" 2>/dev/null || true
    fi
  done
}

# Runs a server tool as the cluster's owner, from / so a private cwd does not bother it.
as_owner() {
  (
    close_inherited_fds
    if ((AS_ROOT)); then
      cd / && exec runuser -u "$RUN_AS" -- "$@"
    else
      exec "$@"
    fi
  )
}

owner_can_use_dir() { as_owner test -x "$1" -a -w "$1" 2>/dev/null; }

# The account can traverse every ancestor of $1? If not, make root-owned temporary ancestors
# traversable (o+x: no listing); returns 1 if some other ancestor still blocks it.
open_temp_ancestors() {
  local target=$1 path="" part blocked=0
  local -a parts
  IFS=/ read -r -a parts <<<"${target#/}"
  for part in "${parts[@]}"; do
    path="$path/$part"
    if as_owner test -x "$path" 2>/dev/null; then
      continue
    fi
    case "$path" in
      /tmp/?* | /var/tmp/?* | "${TMPDIR:-/tmp}"/?*)
        if [[ $(stat -c %u "$path") == 0 ]]; then
          log "making $path traversable for $RUN_AS (chmod o+x)"
          chmod o+x "$path"
          continue
        fi
        ;;
    esac
    blocked=1
    break
  done
  return "$blocked"
}

# --- where things live ----------------------------------------------------------------------------

DIR=""
HOME_DIR="" # holds data/ and postgres.log: DIR, or a recorded fallback under /tmp
DATA=""
LOGFILE=""
SOCK_DIR=""

safe_path() { [[ "$1" =~ ^/[A-Za-z0-9/._+-]*$ ]]; }
socket_fits() { safe_path "$1" && ((${#1} + ${#PG_PORT} + 10 <= MAX_SOCKET_PATH)); } # "/.s.PGSQL." = 10

# Sets DIR, HOME_DIR, DATA, LOGFILE, SOCK_DIR. With create=1 makes directories and records
# fallbacks; otherwise only reads what exists (SOCK_DIR may stay empty).
resolve_paths() {
  local arg=$1 create=$2
  if ((create)); then
    mkdir -p -- "$arg" || die "cannot create $arg"
  fi
  [[ -d "$arg" ]] || return 1
  DIR=$(cd -- "$arg" && pwd -P)

  HOME_DIR=$DIR
  if [[ -f "$DIR/home" ]]; then
    HOME_DIR=$(<"$DIR/home")
  elif ((create && AS_ROOT)); then
    if [[ ! -d "$DIR/data" ]] && ! as_owner test -O "$DIR" 2>/dev/null; then
      chown "$RUN_AS:" "$DIR"
      chmod 700 "$DIR"
    fi
    if ! owner_can_use_dir "$DIR" && ! { open_temp_ancestors "$DIR" && owner_can_use_dir "$DIR"; }; then
      HOME_DIR=$(mktemp -d /tmp/vp-pg-home-XXXXXX)
      chown "$RUN_AS:" "$HOME_DIR"
      printf '%s\n' "$HOME_DIR" >"$DIR/home"
      log "$RUN_AS cannot reach $DIR; the cluster lives in $HOME_DIR (recorded in $DIR/home)"
    fi
  fi
  DATA=$HOME_DIR/data
  LOGFILE=$HOME_DIR/postgres.log

  SOCK_DIR=""
  if [[ -f "$DIR/socket-dir" ]]; then
    SOCK_DIR=$(<"$DIR/socket-dir")
  elif socket_fits "$HOME_DIR/run"; then
    SOCK_DIR=$HOME_DIR/run
  elif ((create)); then
    SOCK_DIR=$(mktemp -d /tmp/vp-pg-XXXXXX)
    printf '%s\n' "$SOCK_DIR" >"$DIR/socket-dir"
    log "socket path under $HOME_DIR would be too long; using $SOCK_DIR (recorded in $DIR/socket-dir)"
  fi
  if ((create)); then
    mkdir -p -- "$SOCK_DIR" # a recorded /tmp directory may have been cleaned away
    chmod 700 "$SOCK_DIR"
    if ((AS_ROOT)); then
      chown "$RUN_AS:" "$SOCK_DIR"
    fi
  fi
  return 0
}

conninfo() {
  printf 'host=%s port=%s dbname=%s user=%s\n' "$SOCK_DIR" "$PG_PORT" "$DB_NAME" "$DB_USER"
}

# --- process state --------------------------------------------------------------------------------

# 0 if the postmaster recorded in DATA/postmaster.pid is alive and really serves DATA.
is_running() {
  local pidfile=$DATA/postmaster.pid pid cwd
  [[ -f "$pidfile" ]] || return 1
  pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -d "/proc/$pid" ]] || return 1
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
  # The postmaster chdirs into its data directory; a reused PID elsewhere is not ours.
  [[ "$cwd" == "$(cd "$DATA" && pwd -P)" ]]
}

# A postmaster.pid whose process is gone (killed run, reboot): remove it and stale socket locks.
clear_stale_pid() {
  if [[ -f "$DATA/postmaster.pid" ]] && ! is_running; then
    log "removing stale $DATA/postmaster.pid"
    rm -f -- "$DATA/postmaster.pid"
    if [[ -n "$SOCK_DIR" && -d "$SOCK_DIR" ]]; then
      rm -f -- "$SOCK_DIR/.s.PGSQL.$PG_PORT" "$SOCK_DIR/.s.PGSQL.$PG_PORT.lock"
    fi
  fi
}

write_settings() {
  local fast=$1 conf=$DATA/visitpay.conf tmp
  tmp=$(mktemp "$HOME_DIR/.visitpay.conf.XXXXXX")
  {
    echo "# Written by deploy/pg-cluster.sh on every start; edits are overwritten."
    echo "listen_addresses = ''"
    echo "port = $PG_PORT"
    echo "unix_socket_directories = '$SOCK_DIR'"
    echo "max_connections = 200"
    if ((fast)); then
      echo "# --fast: test cluster, not crash-safe"
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >"$tmp"
  chmod 644 "$tmp"
  if ((AS_ROOT)); then
    chown "$RUN_AS:" "$tmp"
  fi
  mv -f -- "$tmp" "$conf"
}

psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" -U "$DB_USER" -d postgres "$@"
}

# --- commands -------------------------------------------------------------------------------------

cmd_start() {
  local fast=$1
  resolve_paths "$ARG_DIR" 1

  if [[ ! -s "$DATA/PG_VERSION" ]]; then
    [[ ! -e "$DATA" ]] || [[ -z "$(ls -A "$DATA")" ]] ||
      die "$DATA exists but is not a PostgreSQL data directory"
    log "initdb $DATA"
    local -a initdb_args=(-D "$DATA" -U "$DB_USER" --auth=trust --encoding=UTF8 --locale=C.UTF-8)
    if ((fast)); then
      initdb_args+=(--no-sync)
    fi
    as_owner "$PG_BIN/initdb" "${initdb_args[@]}" >&2
    if ! grep -q "^include_if_exists = 'visitpay.conf'" "$DATA/postgresql.conf"; then
      printf "\n# Settings of deploy/pg-cluster.sh\ninclude_if_exists = 'visitpay.conf'\n" |
        as_owner tee -a "$DATA/postgresql.conf" >/dev/null
    fi
  fi
  write_settings "$fast"

  if is_running; then
    log "already running; reloading settings"
    as_owner "$PG_BIN/pg_ctl" -D "$DATA" reload >&2
    # A reload is a signal; wait until new sessions see the settings asked for.
    local want=on i
    if ((fast)); then
      want=off
    fi
    for ((i = 0; i < 50; i++)); do
      [[ "$(psql_admin -tAc 'SHOW fsync' 2>/dev/null)" == "$want" ]] && break
      sleep 0.1
    done
  else
    clear_stale_pid
    log "starting (log: $LOGFILE)"
    local attempt
    for attempt in 1 2 3; do
      if as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 start >&2; then
        break
      fi
      # Backends of a killed postmaster may still hold its shared memory for a moment.
      ((attempt < 3)) || {
        tail -n 20 "$LOGFILE" >&2 || true
        die "PostgreSQL did not start (see $LOGFILE)"
      }
      log "start failed; retrying"
      sleep 2
      clear_stale_pid
    done
  fi

  if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]]; then
    log "creating database $DB_NAME"
    psql_admin -c "CREATE DATABASE $DB_NAME" >&2
  fi
  conninfo
}

cmd_stop() {
  resolve_paths "$ARG_DIR" 0 || return 0
  [[ -d "$DATA" ]] || return 0
  if is_running; then
    as_owner "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >&2
  else
    clear_stale_pid
    log "not running"
  fi
}

cmd_url() {
  resolve_paths "$ARG_DIR" 0 || die "no cluster in $ARG_DIR"
  [[ -s "$DATA/PG_VERSION" && -n "$SOCK_DIR" ]] || die "no cluster in $ARG_DIR (run start first)"
  conninfo
}

cmd_status() {
  resolve_paths "$ARG_DIR" 0 || {
    log "no cluster in $ARG_DIR"
    return 3
  }
  if is_running; then
    log "running: $(conninfo)"
    return 0
  fi
  log "not running"
  return 3
}

main() {
  (($# >= 2)) || usage
  local cmd=$1 fast=0
  ARG_DIR=$2
  shift 2
  [[ -n "$ARG_DIR" ]] || usage
  while (($#)); do
    case "$1" in
      --fast) fast=1 ;;
      *) die "unknown option: $1" ;;
    esac
    shift
  done
  [[ $cmd == start || $fast == 0 ]] || die "--fast only applies to start"

  find_pg_bin
  init_identity
  if [[ $cmd == start ]]; then
    mkdir -p -- "$ARG_DIR"
  fi
  if [[ -d "$ARG_DIR" ]]; then
    # One caller at a time per DIR (e.g. two starts racing to create the database).
    exec 9>>"$ARG_DIR/.pg-cluster.lock"
    flock 9
  fi
  case "$cmd" in
    start) cmd_start "$fast" ;;
    stop) cmd_stop ;;
    url) cmd_url ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

main "$@"
