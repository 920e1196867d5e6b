#!/usr/bin/env bash
# Zero downtime, three ways: the naive Python app (naive_app.py) under arbor,
# hammered by bench-http-load (8 connections, half keep-alive, half a new
# connection per request) while arbor reloads it, its instance is SIGKILLed,
# or arbor's own daemon is SIGKILLed. Each scenario runs in this script's
# private network namespace, with its own ARBOR_HOME, on 127.0.0.1:8000.
#
#   bench/http/zero_downtime.sh BUILD_DIR [SCENARIO...]
#
# Scenarios (default: all, in this order):
#   shared-migrate  2 instances share the port with SO_REUSEPORT, one health
#                   check on it; RELOADS reloads; tcp_migrate_req=1
#   shared-default  the same at the kernel's default tcp_migrate_req=0
#   listen          the same app with `listen` (arbor's socket, fd 3);
#                   RELOADS reloads; tcp_migrate_req=0
#   apply           as shared-migrate, but RELOADS times a changed env in
#                   the file and `arbor apply` (a rolling reload onto it)
#   kill-listen     1 instance with `listen`, SIGKILLed KILLS times
#   kill-own        1 instance binding its own socket, SIGKILLed KILLS times
#   daemon          2 instances with `listen`; the daemon SIGKILLed and
#                   started again (`arbor up`) DAEMON_KILLS times
#   kill-pm2        kill-own under PM2 (`pm2` on PATH; skipped otherwise)
#
# Environment: RELOADS (10), KILLS (50), DAEMON_KILLS (5), CONNECTIONS (8),
# KEEP_TMP=1 (keep each scenario's home), OUT (JSON lines; default
# BUILD_DIR/bench/http/zero_downtime.jsonl).
# Failures are split by kind: `connect_refused` means no process listened;
# `reset`, `closed`, `stale_keepalive` and `timeout` hit requests in flight
# (on a killed process: lost with it). Exit 0 when every target holds, 3 when
# one is missed, 1 on an error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: zero_downtime.sh BUILD_DIR [SCENARIO...]}" && pwd)
shift
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(shared-migrate shared-default listen apply kill-listen kill-own kill-pm2 daemon)
arbor=$build/arbor
probe=$build/bench/http/bench-http-probe
loadc=$build/bench/http/bench-http-load
app=$here/naive_app.py
port=8000
reloads=${RELOADS:-10} kills=${KILLS:-50} daemon_kills=${DAEMON_KILLS:-5}
connections=${CONNECTIONS:-8}
out=${OUT:-$build/bench/http/zero_downtime.jsonl}
for b in "$arbor" "$build/arbor-daemon" "$probe" "$loadc"; do
  [[ -x $b ]] || { echo "missing $b: cmake --build $build --target arbor arbor-daemon arbor-keeper bench-http-load bench-http-probe" >&2; exit 1; }
done
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3) || { echo "python3 is needed for the app" >&2; exit 1; }

if [[ -z ${ZD_NETNS:-} ]]; then
  unshare -n true 2>/dev/null || { echo "needs a private network namespace (unshare -n, root)" >&2; exit 1; }
  ZD_NETNS=1 exec unshare -n -- bash "$0" "$build" "${scenarios[@]}"
fi
ip link set lo up
[[ -w /proc/sys/net/ipv4/tcp_migrate_req ]] || { echo "net.ipv4.tcp_migrate_req is missing (Linux >= 5.14)" >&2; exit 1; }

home= load_pid= missed=0
cleanup() {
  set +e
  [[ -n ${PM2_HOME:-} ]] && { timeout 30 pm2 kill >/dev/null 2>&1; rm -rf "$PM2_HOME"; unset PM2_HOME; }
  [[ -n $load_pid ]] && kill -TERM "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  load_pid=
  if [[ -n $home && -d $home ]]; then
    local pids
    pids=$(instances | cut -f4 | grep -v '^0$')
    timeout 30 "$arbor" down >/dev/null 2>&1
    for p in $(cat "$home/arbor.pid" "$home"/keeper.pid 2>/dev/null) $pids; do
      kill -9 -- "-$p" "$p" 2>/dev/null
    done
    [[ ${KEEP_TMP:-0} == 1 ]] && echo "kept $home" >&2 || rm -rf "$home"
  fi
  home=
}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

instances() { "$arbor" status --json web 2>/dev/null | "$probe" instances 2>/dev/null; }

# wait_ready N [MIN_UP_MS]: every one of N instances `ready` (or `running`,
# for an app without a check) and up at least MIN_UP_MS; 60 s at most.
wait_ready() {
  local want=$1 min_up=${2:-0} deadline=$((SECONDS + 60)) ok id index state pid up
  while ((SECONDS < deadline)); do
    ok=0
    while IFS=$'\t' read -r id index state pid up _; do
      [[ $state == ready && $up -ge $min_up ]] && ok=$((ok + 1))
    done < <(instances)
    ((ok >= want)) && return 0
    sleep 0.02
  done
  echo "web not ready ($want instances) within 60 s:" >&2
  "$arbor" status web >&2 || true
  return 1
}

# start_app N LISTEN(0|1): a home, its config, `arbor up`, all ready.
start_app() {
  local n=$1 listen=$2
  home=$(mktemp -d /tmp/arbor-zd.XXXXXX)
  export ARBOR_HOME=$home NO_COLOR=1
  {
    echo "[web]"
    echo "command = \"$python $app\""
    echo "instances = $n"
    echo "min_uptime = \"300ms\""
    echo "kill_timeout = \"10s\""
    echo "health_check = \"http://127.0.0.1:$port/health\""
    ((listen)) && echo "listen = \"127.0.0.1:$port\""
    echo "[web.env]"
    echo "APP_PORT = \"$port\""
    echo "DEPLOY = \"0\""
  } > "$home/arbor.toml"
  "$arbor" up "$home/arbor.toml" >/dev/null
  wait_ready "$n"
}

start_load() {
  rm -f "$home/stop"
  "$loadc" --target "127.0.0.1:$port" --connections "$connections" --mode mixed \
    --timeout-ms 3000 --stop-file "$home/stop" --max-duration-ms 1800000 --json "$home/load.json" &
  load_pid=$!
  sleep 0.5 # the client alone for a moment first
}

stop_load() {
  sleep 0.3
  touch "$home/stop"
  wait "$load_pid"
  load_pid=
}

field() { tr -d '\n ' < "$home/load.json" | sed -nE "s/.*\"$1\":([0-9.]+).*/\1/p" | head -1; }
kind() { tr -d '\n ' < "$home/load.json" | sed -nE "s/.*\"failures_by_kind\":\{[^}]*\"$1\":([0-9]+).*/\1/p"; }

# report NAME TARGET(refused|all) EXTRA_JSON: prints the scenario's row and
# appends its JSON line; a missed target sets `missed`.
report() {
  local name=$1 target=$2 extra=$3 requests failures refused inflight verdict
  requests=$(field requests) failures=$(field failures)
  refused=$(kind connect_refused) refused=${refused:-0}
  inflight=$((failures - refused))
  if [[ $target == all ]]; then bad=$failures; else bad=$refused; fi
  verdict=PASS
  if [[ $target == info ]]; then
    verdict=info
  elif ((bad != 0)); then
    verdict=MISSED
    missed=1
  fi
  printf '%-15s requests %7s  failed %5s  refused %5s  in flight %5s  %s %s\n' \
    "$name" "$requests" "$failures" "$refused" "$inflight" "$verdict" "$extra_text" | tee -a "$summary"
  printf '{"scenario":"%s","tcp_migrate_req":%s,"requests":%s,"failures":%s,"refused":%s,"in_flight":%s,"kinds":%s%s}\n' \
    "$name" "$(cat /proc/sys/net/ipv4/tcp_migrate_req)" "$requests" "$failures" "$refused" "$inflight" \
    "$(tr -d '\n ' < "$home/load.json" | sed -nE 's/.*"failures_by_kind":(\{[^}]*\}).*/\1/p')" "$extra" >> "$out"
}

# reload_rounds N: N times `arbor reload web`, each followed by all ready.
reload_rounds() {
  local r
  for ((r = 1; r <= $1; r++)); do
    "$arbor" reload web >/dev/null || echo "reload $r failed" >&2
    wait_ready "$instances_n"
  done
}

scenario_reload() { # NAME LISTEN MIGRATE TARGET [ROUNDS_FUNCTION WHAT]
  local rounds=${5:-reload_rounds} what=${6:-reloads}
  echo "$3" > /proc/sys/net/ipv4/tcp_migrate_req
  instances_n=2
  start_app 2 "$2"
  start_load
  "$rounds" "$reloads"
  stop_load
  extra_text="($reloads $what)"
  report "$1" "$4" ",\"reloads\":$reloads"
  cleanup
}

# apply_rounds N: N times a new DEPLOY in the app's env and `arbor apply`,
# which returns once every instance runs it.
apply_rounds() {
  local r
  for ((r = 1; r <= $1; r++)); do
    sed -i "s/^DEPLOY = .*/DEPLOY = \"$r\"/" "$home/arbor.toml"
    "$arbor" apply >/dev/null || echo "apply $r failed" >&2
    wait_ready "$instances_n"
  done
}

# kill_rounds VICTIM_CMD: KILLS times, SIGKILL the pid VICTIM_CMD prints once
# it is stable, and time kill -> first 200 on a new connection; sets `stats`.
kill_rounds() {
  local r pid o samples=()
  for ((r = 0; r < kills; r++)); do
    pid=$("$@")
    o=$("$probe" kill-poll "$pid" "127.0.0.1:$port" --path /health --interval-us 1000 --timeout-ms 20000) \
      || { echo "kill $r: $o" >&2; missed=1; continue; }
    samples+=("$(sed -nE 's/.*"first_ok_us":([0-9]+).*/\1/p' <<<"$o")")
  done
  stats=$(printf '%s\n' "${samples[@]}" | "$probe" stats --scale 0.001)
}

# The instance's pid once it is ready and up past min_uptime (no backoff then:
# the restart is immediate).
arbor_victim() { wait_ready 1 500 && instances | cut -f4 | head -1; }

# PM2's pid of `web` once it answers and is up 500 ms (PM2's own min_uptime
# is 1 s, but it restarts at once whatever the uptime without exp backoff).
pm2_victim() {
  local pid deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    pid=$(pm2 pid web 2>/dev/null | tail -1)
    if [[ $pid =~ ^[1-9][0-9]*$ ]] && (($(ps -o etimes= -p "$pid" 2>/dev/null || echo 0) >= 1)) &&
      "$probe" wait-200 "127.0.0.1:$port" --timeout-ms 100 2>/dev/null; then
      echo "$pid"
      return
    fi
    sleep 0.05
  done
  echo "pm2: web not up within 60 s" >&2
  return 1
}

scenario_kill() { # NAME LISTEN TARGET
  echo 0 > /proc/sys/net/ipv4/tcp_migrate_req
  start_app 1 "$2"
  start_load
  kill_rounds arbor_victim
  stop_load
  extra_text="($kills kills; kill -> first 200 ms: $stats)"
  report "$1" "$3" ",\"kills\":$kills,\"kill_to_200_ms\":$stats"
  cleanup
}

scenario_pm2() {
  if ! command -v pm2 >/dev/null; then
    echo "kill-pm2        skipped: pm2 is not installed (npm install -g pm2)" | tee -a "$summary"
    return
  fi
  echo 0 > /proc/sys/net/ipv4/tcp_migrate_req
  home=$(mktemp -d /tmp/arbor-zd.XXXXXX)
  export ARBOR_HOME=$home PM2_HOME=$home/pm2
  APP_PORT=$port pm2 start "$app" --interpreter "$python" --name web >/dev/null
  start_load
  kill_rounds pm2_victim
  stop_load
  extra_text="($kills kills; kill -> first 200 ms: $stats; pm2 $(pm2 --version 2>/dev/null | tail -1))"
  report kill-pm2 info ",\"kills\":$kills,\"kill_to_200_ms\":$stats"
  cleanup
}

scenario_daemon() {
  echo 0 > /proc/sys/net/ipv4/tcp_migrate_req
  instances_n=2
  start_app 2 1
  start_load
  local r pid
  for ((r = 0; r < daemon_kills; r++)); do
    pid=$(cat "$home/arbor.pid")
    kill -9 "$pid"
    while [[ -e /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; do sleep 0.01; done
    "$arbor" up "$home/arbor.toml" >/dev/null
    wait_ready 2
  done
  stop_load
  extra_text="($daemon_kills daemon SIGKILLs)"
  report daemon refused ",\"daemon_kills\":$daemon_kills"
  cleanup
}

mkdir -p "$(dirname "$out")"
: > "$out"
summary=$(mktemp)
echo "zero downtime, naive Python app ($(nproc) cores, $(uname -r), $(date -u +%FT%TZ), $connections connections)"
for s in "${scenarios[@]}"; do
  extra_text=
  case $s in
    shared-migrate) scenario_reload "$s" 0 1 all ;;
    shared-default) scenario_reload "$s" 0 0 info ;;
    listen) scenario_reload "$s" 1 0 all ;;
    apply) scenario_reload "$s" 0 1 all apply_rounds "applies of a changed env" ;;
    kill-listen) scenario_kill "$s" 1 refused ;;
    kill-own) scenario_kill "$s" 0 info ;;
    kill-pm2) scenario_pm2 ;;
    daemon) scenario_daemon ;;
    *) echo "unknown scenario '$s'" >&2; exit 1 ;;
  esac
done
rm -f "$summary"
echo "json: $out"
echo "reproduce: RELOADS=$reloads KILLS=$kills DAEMON_KILLS=$daemon_kills bench/http/zero_downtime.sh $build ${*:-}"
((missed == 0)) || exit 3
