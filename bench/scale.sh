#!/usr/bin/env bash
# The daemon at 1 / 100 / 1000 instances: start time, RSS, idle CPU, and
# recovery from a mass SIGKILL with a check that no exit was lost.
#
#   bench/scale.sh [BUILD_DIR] [--json FILE]          (default: ./build)
#
# Per instance count N: `/usr/bin/time -v arbor run CONFIG` in the foreground
# (the CLI execs arbor-daemon, so time's child is the daemon) with N instances
# of bench-stamp-app, each stamping "<pid> <ns>" into one FIFO first thing in
# main; in a temporary ARBOR_HOME.
#   start      launch -> every instance's main ran (stamps), and -> `arbor
#              status` shows all N running
#   memory     VmRSS / VmHWM / RssAnon / RssFile, PSS / USS (smaps_rollup),
#              threads, fds from /proc after SETTLE_S
#   idle       daemon CPU (utime+stime) and voluntary context switches (the
#              wake-ups) of all its threads over IDLE_S
#   mass kill  (N >= KILL_MIN) KILL_ROUNDS times: SIGKILL all N at once ->
#              all N stamped again, and -> status shows all N running with
#              the new pids. Checks: every instance's `restarts` went up by
#              exactly one; exactly one child_exited event per instance
#              (`arbor events -f`) and one per pid in the daemon's log.
#              In the same rounds, bench-mass-ref (waitpid + posix_spawn, one
#              thread) with its own N apps: the floor of this machine.
#   stop       SIGTERM -> the daemon exited (all N stopped); then the
#              /usr/bin/time -v report (peak RSS over the whole run).
# Environment: COUNTS ("1 100 1000"), IDLE_S (10), SETTLE_S (3), KILL_ROUNDS
# (3), KILL_MIN (100), QUICK=1 (IDLE_S=3, KILL_ROUNDS=1), KEEP_TMP=1.
# Needs jq and /usr/bin/time. Every process is stopped by pid on exit (also
# on error or Ctrl-C): the daemon (SIGTERM, then SIGKILL), the floor, the
# event follower, and any app left over (by pid and process group).
# Exit status: 0 all ran and no exit was lost, 3 a check failed, 1 error.
set -euo pipefail
# shellcheck disable=SC2034 # read by bench_lib.sh
BENCH_NAME=scale
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=bench_lib.sh
source "$here/bench_lib.sh"

build_arg=build json_out=""
while (($#)); do
  case $1 in
    --json) json_out=${2:?--json FILE}; shift 2 ;;
    *) build_arg=$1; shift ;;
  esac
done
quick=${QUICK:-0}
counts=${COUNTS:-1 100 1000}
idle_s=${IDLE_S:-$([[ $quick == 1 ]] && echo 3 || echo 10)}
settle_s=${SETTLE_S:-3}
kill_rounds=${KILL_ROUNDS:-$([[ $quick == 1 ]] && echo 1 || echo 3)}
kill_min=${KILL_MIN:-100}
min_uptime_ms=300

[[ -d $build_arg ]] || die "no build directory '$build_arg'"
build=$(cd "$build_arg" && pwd)
arbor=$build/arbor app=$build/bench/bench-stamp-app drv=$build/bench/bench-fleet-driver
mref=$build/bench/bench-mass-ref
for exe in "$arbor" "$build/arbor-daemon" "$app" "$drv" "$mref"; do
  [[ -x $exe ]] || die "missing $exe (cmake --build $build --target arbor arbor-daemon bench-stamp-app bench-fleet-driver bench-mass-ref)"
done
command -v jq >/dev/null || die "jq is required"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (apt-get install time)"

# Each instance costs the daemon ~5 descriptors (2 pipes, both ends, and a
# pidfd); the daemon raises its soft limit itself, this covers older builds.
max_n=0
for n in $counts; do ((n > max_n)) && max_n=$n; done
need_fds=$((max_n * 6 + 256))
if (($(ulimit -n) < need_fds)); then
  note "raising the soft RLIMIT_NOFILE from $(ulimit -n) to $(ulimit -Hn) for $max_n instances"
  ulimit -n "$(ulimit -Hn)" || true
fi
nofile=$(ulimit -n)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/arbor-bench-scale.XXXXXX")
daemon_pid="" time_pid="" ev_pid="" floor_pid=""
cleanup() {
  [[ -n $ev_pid ]] && stop_pid "$ev_pid" 5
  [[ -n $floor_pid ]] && stop_pid "$floor_pid" 10
  if [[ -n $time_pid ]]; then # the daemon is its child (known before arbor.pid is)
    [[ -n $daemon_pid ]] || daemon_pid=$(children_of "$time_pid" | head -n 1)
  fi
  [[ -n $daemon_pid ]] && stop_pid "$daemon_pid" 60
  if [[ -n $time_pid ]]; then stop_pid "$time_pid" 5; fi
  kill_apps bench-stamp-app "$tmp"/n*/pids.* "$tmp"/n*/floor.pids.*
  exec 3>&- 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then note "work dir kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# status_pids: "<running-or-ready count> <sorted pids of those>" (one line).
running_pids() {
  "$arbor" status --json 2>/dev/null |
    jq -r '[.instances[] | select(.state == "running" or .state == "ready") | .pid] | sort
           | "\(length) \(join(","))"'
}

# wait_status N [PIDS_FILE]: polls `arbor status` until N instances run (with
# exactly the pids in PIDS_FILE, if given); prints the time (ns) it did.
wait_status() {
  local n=$1 want="" deadline line
  [[ -n ${2:-} ]] && want=$(sort -n "$2" | paste -sd,)
  deadline=$(($(now_ns) + 60 * 1000000000))
  while (($(now_ns) < deadline)); do
    line=$(running_pids) || line=""
    if [[ ${line%% *} == "$n" && ( -z $want || ${line#* } == "$want" ) ]]; then
      now_ns
      return 0
    fi
    sleep 0.02
  done
  note "status did not show $n running instances within 60 s (last: ${line%% *})"
  return 1
}

restarts_map() { "$arbor" status --json | jq -c '[.instances[] | {key: .id, value: .restarts}] | from_entries'; }

# mass_kill DIR N ROUND: one mass kill; its JSON to DIR/kill.ROUND.json.
mass_kill() {
  local dir=$1 n=$2 k=$3 before after drv_json status_ns t_kill ev_file exits log_exits
  local restarts_ok events_ok i cnt log_from
  before=$(restarts_map)
  ev_file=$dir/events.$k
  # Follow events from now on; -n 1 prints one old event at once: connected.
  nice -n 10 "$arbor" events -f --json -n 1 >"$ev_file" 2>"$dir/events.$k.err" &
  ev_pid=$!
  wait_file "$ev_file" 5 || die "arbor events -f did not connect"
  log_from=$(($(wc -l <"$dir/run.err") + 1)) # the daemon's log lines of this round only
  drv_json=$("$drv" kill "$dir/fifo" "$dir/pids.$((k - 1))" --out "$dir/pids.$k" \
    --timeout-ms 30000) || note "round $k: not every instance came back (see JSON)"
  t_kill=$(jq -r .t_kill_ns <<<"$drv_json")
  status_ns=$(wait_status "$n" "$dir/pids.$k") || status_ns=0
  # Every exit should be reported: wait (bounded) for N child_exited events.
  for ((i = 0; i < 500; i++)); do
    cnt=$(jq -c --argjson t "$t_kill" 'select(.event == "child_exited" and .at_ns >= $t)' \
      "$ev_file" 2>/dev/null | wc -l)
    ((cnt >= n)) && break
    sleep 0.02
  done
  stop_pid "$ev_pid" 5
  ev_pid=""
  exits=$(jq -s --argjson t "$t_kill" '[.[] | select(.event == "child_exited" and .at_ns >= $t)]
          | group_by(.offender) | {offenders: length, events: (map(length) | add // 0),
            exactly_one: (map(select(length == 1)) | length)}' "$ev_file")
  # The daemon's log: one child_exited line per killed pid.
  log_exits=$(tail -n "+$log_from" "$dir/run.err" | grep -o 'event=child_exited.* pid=[0-9]*' |
    grep -o 'pid=[0-9]*$' |
    cut -d= -f2 | sort -n | uniq -c | awk 'NR == FNR {want[$1] = 1; next}
      ($2 in want) {lines += $1; pids++; if ($1 == 1) one++}
      END {printf "{\"pids\":%d,\"lines\":%d,\"exactly_one\":%d}", pids, lines, one}' \
      "$dir/pids.$((k - 1))" -)
  after=$(restarts_map)
  restarts_ok=$(jq -n --argjson b "$before" --argjson a "$after" \
    '[$a | to_entries[] | select(.value == ($b[.key] // -100) + 1)] | length')
  events_ok=$(jq .exactly_one <<<"$exits")
  jq -n --argjson d "$drv_json" --argjson s "$status_ns" --argjson x "$exits" \
    --argjson l "$log_exits" --argjson r "$restarts_ok" --argjson n "$n" >"$dir/kill.$k.json" \
    '$d + {status_all_running_ms: (if $s > 0 then ($s - $d.t_kill_ns) / 1e6 else null end),
           restarts_plus_one: $r, exit_events: $x, log_exit_lines: $l,
           lost_exits: ($n - ([$x.exactly_one, $l.exactly_one] | min)),
           ok: ($d.recovered == $n and $s > 0 and $r == $n and $x.exactly_one == $n
                and $x.events == $n and $l.exactly_one == $n)}'
  [[ $events_ok == "$n" ]] || note "round $k: $events_ok of $n instances had exactly one exit event"
}

# The floor beside arbor: bench-mass-ref (waitpid + posix_spawn, one thread)
# runs its own N stamp apps; killed the same way, in the same rounds.
floor_start() {
  local dir=$1 n=$2 t0
  mkfifo "$dir/floor.fifo"
  exec 4<>"$dir/floor.fifo"
  t0=$(now_ns)
  "$mref" "$n" "$app" "$dir/floor.fifo" 3>&- 4>&- </dev/null >"$dir/floor.out" 2>"$dir/floor.err" &
  floor_pid=$!
  "$drv" wait "$dir/floor.fifo" "$n" --out "$dir/floor.pids.0" --t0-ns "$t0" --timeout-ms 60000 \
    >"$dir/floor.start.json" || die "N=$n: the floor did not start all instances"
}
floor_kill() {
  local dir=$1 k=$2
  "$drv" kill "$dir/floor.fifo" "$dir/floor.pids.$((k - 1))" --out "$dir/floor.pids.$k" \
    --timeout-ms 30000 >"$dir/floor.kill.$k.json" || note "floor round $k: not every instance came back"
}

# run_count N: everything for one instance count; its JSON to $tmp/nN/result.json.
run_count() {
  local n=$1 dir=$tmp/n$1 t0 wait_json status_ns mem mem_end idle k stop_ns t_stop
  mkdir -p "$dir/home"
  export ARBOR_HOME=$dir/home NO_COLOR=1
  mkfifo "$dir/fifo"
  exec 3<>"$dir/fifo"  # held open: the apps' opens never fail, stamps wait
  cat >"$dir/fleet.toml" <<EOF
[fleet]
command = "$(quote_word "$app") $(quote_word "$dir/fifo")"
instances = $n
min_uptime = $min_uptime_ms
max_restarts = 1000000
EOF
  t0=$(now_ns)
  /usr/bin/time -v -o "$dir/time.txt" "$arbor" run "$dir/fleet.toml" 3>&- </dev/null \
    >"$dir/run.out" 2>"$dir/run.err" &
  time_pid=$!
  wait_file "$dir/home/arbor.pid" 15 || die "N=$n: the daemon did not start (see $dir/run.err)"
  daemon_pid=$(cat "$dir/home/arbor.pid")
  wait_json=$("$drv" wait "$dir/fifo" "$n" --out "$dir/pids.0" --t0-ns "$t0" --timeout-ms 60000) ||
    { tail -n 5 "$dir/run.err" >&2; die "N=$n: not every instance started"; }
  status_ns=$(wait_status "$n" "$dir/pids.0") || die "N=$n: status never showed all running"
  sleep "$settle_s" # past a sampler tick (2 s); not a measurement
  mem=$(mem_json "$daemon_pid")
  note "N=$n: running; $(jq -c . <<<"$mem"); idle for $idle_s s"
  idle=$(idle_json "$daemon_pid" "$idle_s")
  if ((n >= kill_min)); then
    floor_start "$dir" "$n"
    for ((k = 1; k <= kill_rounds; k++)); do
      sleep "$(awk -v m=$min_uptime_ms 'BEGIN {print 2 * m / 1000}')" # stable runs: no backoff
      # Alternate which goes first, so the noise of a shared machine hits both.
      ((k % 2)) || floor_kill "$dir" "$k"
      mass_kill "$dir" "$n" "$k"
      ((k % 2)) && floor_kill "$dir" "$k"
      note "N=$n: mass kill $k/$kill_rounds: arbor $(jq -c '{all_ms, status_all_running_ms, lost_exits}' "$dir/kill.$k.json"), floor $(jq -c '{all_ms}' "$dir/floor.kill.$k.json")"
    done
    stop_pid "$floor_pid" 10
    floor_pid=""
    exec 4>&-
  fi
  mem_end=$(mem_json "$daemon_pid")
  t_stop=$(now_ns)
  kill -TERM "$daemon_pid"
  wait_gone "$daemon_pid" 120 || die "N=$n: the daemon did not stop within 120 s"
  stop_ns=$(now_ns)
  wait "$time_pid" || true
  daemon_pid="" time_pid=""
  exec 3>&-
  local kf=() ff=() kills='[]' floor=null
  for ((k = 1; k <= kill_rounds; k++)); do
    [[ -s $dir/kill.$k.json ]] && kf+=("$dir/kill.$k.json")
    [[ -s $dir/floor.kill.$k.json ]] && ff+=("$dir/floor.kill.$k.json")
  done
  ((${#kf[@]})) && kills=$(jq -s . "${kf[@]}")
  if [[ -s $dir/floor.start.json ]]; then
    floor=$(jq -s '{start: .[0], mass_kill: .[1:]}' "$dir/floor.start.json" "${ff[@]+"${ff[@]}"}")
  fi
  jq -n --argjson n "$n" --argjson w "$wait_json" --argjson t0 "$t0" --argjson s "$status_ns" \
    --argjson mem "$mem" --argjson mem_end "$mem_end" --argjson floor "$floor" \
    --argjson idle "$idle" --argjson kills "$kills" \
    --argjson stop "$(((stop_ns - t_stop) / 1000))" --argjson tv "$(time_v_json "$dir/time.txt")" \
    >"$dir/result.json" '{instances: $n, start: {stamps: $w, status_all_running_ms: (($s - $t0) / 1e6)},
      daemon: $mem, daemon_end: $mem_end,
      idle: $idle, mass_kill: $kills, floor: $floor, stop_ms: ($stop / 1000), time_v: $tv}'
}

status=0
for n in $counts; do
  [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || die "bad count '$n' in COUNTS"
done
for n in $counts; do run_count "$n"; done
all=$(cat "$tmp"/n*/result.json | jq -s --argjson m "$(machine_json)" --arg cmd "QUICK=$quick COUNTS=\"$counts\" IDLE_S=$idle_s SETTLE_S=$settle_s KILL_ROUNDS=$kill_rounds KILL_MIN=$kill_min $here/scale.sh $build" \
  --argjson nofile "$nofile" \
  '{bench: "scale", machine: $m, nofile: $nofile, reproduce: $cmd, counts: sort_by(.instances)}')
[[ -n $json_out ]] && printf '%s\n' "$all" >"$json_out"

echo
echo "arbor at scale ($(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg))"
jq -r '.counts[] | "N=\(.instances): start \(.start.stamps.last_ms | floor) ms to all main(), \(.start.status_all_running_ms | floor) ms to status all running; RSS \(.daemon.rss_kb) KiB (anon \(.daemon.anon_kb), file \(.daemon.file_kb), PSS \(.daemon.pss_kb), USS \(.daemon.uss_kb); peak \(.time_v.max_rss_kb) KiB; \(.daemon.threads) threads, \(.daemon.fds) fds); idle CPU \(.idle.cpu_percent * 100 | round / 100) % over \(.idle.seconds | round) s, \(.idle.wakeups_per_s * 10 | round / 10) wake-ups/s; stop \(.stop_ms | floor) ms",
  (if .floor then "  floor (bench-mass-ref: waitpid + posix_spawn): start \(.floor.start.last_ms | floor) ms to all main(); mass kill: all new main() \([.floor.mass_kill[].all_ms | floor] | join(" / ")) ms" else empty end),
  (.mass_kill[] | "  mass kill of \(.n): all new main() \(.all_ms | floor) ms (per instance median \(.median_ms | floor), p99 \(.p99_ms | floor)), status all running \(.status_all_running_ms // -1 | floor) ms; restarts +1: \(.restarts_plus_one)/\(.n); one exit event: \(.exit_events.exactly_one)/\(.n) (\(.exit_events.events) events), one log line: \(.log_exit_lines.exactly_one)/\(.n); \(if .ok then "OK" else "CHECK FAILED" end)")' <<<"$all"
jq -e '[.counts[].mass_kill[].ok] | all' <<<"$all" >/dev/null || status=3
echo "reproduce: $(jq -r .reproduce <<<"$all")"
[[ -n $json_out ]] && echo "json: $json_out"
exit "$status"
