# shellcheck shell=bash
# Shared by the benchmarks in tests/bench/ (sourced from the repository root): logging, the Release
# build, a throwaway durable PostgreSQL cluster, free ports, waiting for a process to answer, and
# keeping the logs of the last run. The sourcing script sets BENCH_NAME (the log prefix),
# BUILD_DIR and LOG_KEEP first.

# shellcheck source=deploy/lib/process.sh
source deploy/lib/process.sh

log() { printf '%s: %s\n' "$BENCH_NAME" "$*" >&2 || true; }
die() {
  log "error: $*"
  exit 1
}

positive_int() { # positive_int NAME VALUE
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || {
    echo "$1 must be a positive integer" >&2
    exit 2
  }
}

# bench_build TARGET...: a Release build of the targets in BUILD_DIR (skipped with
# BENCH_SKIP_BUILD=1), then checks that the tools the benchmarks use are installed.
bench_build() {
  if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    bash deploy/local.sh install
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
    cmake --build "$BUILD_DIR" --target "$@"
  fi
  local tool
  for tool in wrk curl openssl psql pgbench; do
    command -v "$tool" >/dev/null || die "$tool is missing (deploy/local.sh install)"
  done
}

# bench_tmp PREFIX: sets TMP (a fresh directory) and PG_DIR (the cluster's place in it).
bench_tmp() {
  TMP=$(mktemp -d "/tmp/$1-XXXXXX")
  chmod 711 "$TMP" # as root the cluster runs as postgres, which must traverse this directory
  PG_DIR=$TMP/pg
  CLUSTER_STARTED=0
  WRK_PID=""
}

# start_cluster: a durable cluster (fsync and synchronous_commit on) in PG_DIR; exports
# DATABASE_URL, a fresh look-up key and a fresh master key ring.
start_cluster() {
  log "starting a durable PostgreSQL cluster in $PG_DIR"
  CLUSTER_STARTED=1
  DATABASE_URL=$(deploy/pg-cluster.sh start "$PG_DIR")
  export DATABASE_URL
  unset VISITPAY_DATABASE_URL # the benchmark's own cluster, whatever the caller's environment says
  (umask 077 && openssl rand -hex 32 >"$TMP/lookup.key")
  export VISITPAY_LOOKUP_KEY_FILE=$TMP/lookup.key
  (umask 077 && printf 'bench-1 %s\n' "$(openssl rand -hex 32)" >"$TMP/master.keys")
  export VISITPAY_MASTER_KEYS_FILE=$TMP/master.keys
  unset VISITPAY_MASTER_KEYS
}

# bench_cleanup RC STOP_FUNCTION LOG_FILE...: stops wrk, calls STOP_FUNCTION (the script's own
# processes), stops the cluster, keeps the named logs (globs in TMP) and the cluster's log in
# LOG_KEEP, shows the service log's tail on failure, and removes TMP.
bench_cleanup() {
  local rc=$1 stop=$2
  shift 2
  if [[ -n "$WRK_PID" ]]; then
    kill -TERM "$WRK_PID" 2>/dev/null || true
    wait "$WRK_PID" 2>/dev/null || true
  fi
  "$stop"
  if ((CLUSTER_STARTED)); then
    deploy/pg-cluster.sh stop "$PG_DIR" || true
  fi
  rm -rf "$LOG_KEEP"
  mkdir -p "$LOG_KEEP"
  local pattern
  for pattern in "$@"; do
    # shellcheck disable=SC2086 # the patterns are globs on purpose
    cp -f "$TMP"/$pattern "$LOG_KEEP"/ 2>/dev/null || true
  done
  cp -f "$PG_DIR/postgres.log" "$LOG_KEEP"/ 2>/dev/null || true
  if ((rc != 0)); then
    log "failed (exit $rc); logs are in $LOG_KEEP/"
    if [[ -f "$TMP/service.log" ]]; then
      log "last lines of the service log:"
      tail -n 20 "$TMP/service.log" >&2 || true
    fi
  fi
  rm -rf "$TMP"
}

# The service instances a benchmark started (it appends their PIDs); stop_services stops them.
SERVICE_PIDS=()
stop_services() {
  local pid
  for pid in "${SERVICE_PIDS[@]}"; do
    stop_process "$pid" "a service instance"
  done
  SERVICE_PIDS=()
}

# wait_in_db WHAT CONDITION TIMEOUT_S: until the SQL boolean CONDITION holds, polled inside the
# database on one connection every 50 ms; dies after TIMEOUT_S. (A psql per poll would start a
# process and a server backend ten times a second on the machine being measured: about 7 % of
# the CPU in the sweep benchmark, taken from the service only.)
wait_in_db() {
  psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "
    DO \$\$
    DECLARE t0 timestamptz := clock_timestamp();
    BEGIN
      WHILE NOT ($2) LOOP
        IF clock_timestamp() - t0 > make_interval(secs => $3) THEN
          RAISE EXCEPTION 'not done after % s: %', $3, '$1';
        END IF;
        PERFORM pg_sleep(0.05);
      END LOOP;
    END \$\$" >&2 || die "$1: not done within $3 s"
}

# twin_constants FILE...: sets TWIN_CONSTANTS to pgbench's -D options for the constants of twin
# scripts: the "name=value" lines a *_pgbench_script tool writes with --constants FILE (the values
# the service sends as parameters; twin_script.hpp).
twin_constants() {
  TWIN_CONSTANTS=()
  local file line
  for file in "$@"; do
    [[ -s "$file" ]] || die "$file is missing or empty"
    while IFS= read -r line; do
      TWIN_CONSTANTS+=(-D "$line")
    done <"$file"
  done
}

# run_twin MAIN DRAIN CLIENTS TRANSACTIONS REMAINING_SQL DONE_AT_SQL: a benchmark's pgbench twin.
# pgbench runs the script MAIN with CLIENTS clients, TRANSACTIONS transactions each, then the
# script DRAIN (the work rounds without new sessions) until the query REMAINING_SQL counts no open
# work (the twin's workers, like the service's, claim whichever item is due, so items can be left
# when the last transactions found the queue empty). The clock stops at DONE_AT_SQL (the epoch at
# which the last twin session reached its final state, from the database), so transactions that
# find no work left after that, and pgbench's own exit, are not counted. Sets TWIN_S. pgbench's
# output goes to TMP/pgbench-twin.txt. The constants of a script S are in S.constants.
run_twin() {
  local main=$1 drain=$2 clients=$3 transactions=$4 remaining=$5 done_at=$6 t0 t1 left round=0
  local threads=$((clients < 2 ? clients : 2))
  twin_constants "$main.constants" "$drain.constants"
  t0=$EPOCHREALTIME
  pgbench -n -M prepared -r "${TWIN_CONSTANTS[@]}" -f "$main" -c "$clients" -j "$threads" \
    -t "$transactions" \
    "$DATABASE_URL" >"$TMP/pgbench-twin.txt" 2>&1 || die "pgbench failed (see $LOG_KEEP/pgbench-twin.txt)"
  while :; do
    left=$(psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$remaining") ||
      die "counting the twin's open work failed"
    ((left > 0)) || break
    ((++round <= 20)) || die "the twin left $left items open after 20 drain rounds"
    pgbench -n -M prepared "${TWIN_CONSTANTS[@]}" -f "$drain" -c "$clients" -j "$threads" \
      -t "$((2 * ((left + clients - 1) / clients)))" "$DATABASE_URL" >>"$TMP/pgbench-twin.txt" 2>&1 ||
      die "pgbench (drain) failed (see $LOG_KEEP/pgbench-twin.txt)"
  done
  t1=$(psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 -c "$done_at") ||
    die "reading when the twin finished failed"
  TWIN_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  log "twin: $clients clients, $transactions transactions each, $round drain rounds, $TWIN_S s"
}

free_port() { # a loopback port below the ephemeral range that nothing accepts on
  local port i
  for ((i = 0; i < 100; i++)); do
    port=$((20000 + RANDOM % 12000))
    if ! (exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# wait_for_http PID NAME URL SECONDS: until URL answers 2xx; dies if PID exits first.
wait_for_http() {
  local pid=$1 name=$2 url=$3 i
  for ((i = 0; i < $4 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (see $LOG_KEEP/)"
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  die "$name did not answer on $url within $4 s"
}

# CPU accounting from /proc, for a benchmark's "where the CPU went" lines.
# cpu_sample PID...: "EPOCH BUSY TICKS_OF_PID...": the machine's busy time (user, nice, system,
# irq and softirq of every CPU; not the time the hypervisor stole) and each process's user +
# system time, in clock ticks.
cpu_sample() {
  local line pid
  line="$EPOCHREALTIME $(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat)"
  for pid in "$@"; do
    line+=" $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")"
  done
  printf '%s\n' "$line"
}

# cpu_during RUN_SECONDS PID...: for a run that has just started and lasts RUN_SECONDS (at least
# 3), samples 1 s into it and 1 s before its end (start-up and wind-down left out), waiting
# interruptibly; prints both lines.
cpu_during() {
  local seconds=$1
  shift
  sleep 1 &
  wait "$!"
  cpu_sample "$@"
  sleep "$((seconds - 2))" &
  wait "$!"
  cpu_sample "$@"
}

# cpu_per_unit WINDOW RATE: from cpu_during's two lines and RATE (units per second over the same
# run), prints "busy_pct machine_us pid1_us pid2_us ...": the machine's load in percent of all its
# CPUs, and CPU microseconds per unit for the machine and for each process.
cpu_per_unit() {
  awk -v rate="$2" -v hz="$(getconf CLK_TCK)" -v cpus="$(nproc)" '
    NR == 1 { for (i = 1; i <= NF; i++) a[i] = $i; next }
    {
      dt = $1 - a[1]
      printf "%.0f", ($2 - a[2]) / hz / dt / cpus * 100
      for (i = 2; i <= NF; i++) printf " %.1f", ($i - a[i]) / hz / dt / rate * 1e6
      print ""
    }' <<<"$1"
}
