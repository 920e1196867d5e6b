# shellcheck shell=bash
# Shared helpers for bench/*.sh (sourced, not run). Callers set BENCH_NAME
# (for messages) and `set -euo pipefail` themselves.

die() { echo "${BENCH_NAME:-bench}: $*" >&2; exit 1; }
note() { echo "${BENCH_NAME:-bench}: $*" >&2; }

now_ns() { date +%s%N; }

# Alive and not a zombie (builtins only: cleanup calls it for thousands of pids).
alive() {
  local st
  { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
  st=${st##*) }
  st=${st%% *}
  [[ -n $st && $st != Z ]]
}

# wait_gone PID TIMEOUT_S: true once PID is gone (or a zombie).
wait_gone() {
  local pid=$1 i n=$(($2 * 20))
  for ((i = 0; i < n; i++)); do
    alive "$pid" || return 0
    sleep 0.05
  done
  ! alive "$pid"
}

# stop_pid PID TIMEOUT_S: SIGTERM, wait, then SIGKILL. Reaps it if it is ours.
stop_pid() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$2"; then
      note "pid $pid did not stop within $2 s of SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# children_of PID: its direct children (one pid a line).
children_of() { tr ' ' '\n' <"/proc/$1/task/$1/children" 2>/dev/null | grep -E '^[0-9]+$' || true; }

# wait_file FILE TIMEOUT_S: true once FILE exists and is not empty.
wait_file() {
  local i n=$(($2 * 50))
  for ((i = 0; i < n; i++)); do
    [[ -s $1 ]] && return 0
    sleep 0.02
  done
  [[ -s $1 ]]
}

# kill_apps PATTERN FILE...: SIGKILL the process group and the pid of every
# pid listed whose argv[0] still contains PATTERN (a recycled pid is left
# alone). For leftovers after a supervisor died. Builtins only: it is fast
# for thousands of pids.
kill_apps() {
  local pattern=$1 f p argv0
  shift
  declare -A done_=()
  for f in "$@"; do
    [[ -f $f ]] || continue
    while read -r p; do
      [[ $p =~ ^[0-9]+$ && -z ${done_[$p]:-} ]] || continue
      done_[$p]=1
      alive "$p" || continue
      { IFS= read -r -d '' argv0 <"/proc/$p/cmdline"; } 2>/dev/null || continue
      if [[ $argv0 == *"$pattern"* ]]; then
        kill -KILL -- "-$p" 2>/dev/null || true
        kill -KILL "$p" 2>/dev/null || true
      fi
    done <"$f"
  done
}

# A word as arbor's shell_split reads it back (quoted only when needed).
quote_word() {
  if [[ $1 =~ ^[A-Za-z0-9_./+:=-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# /proc figures of one process.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
threads_of() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }
fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# utime + stime of the whole process (all threads), in clock ticks.
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# mem_json PID: the daemon's memory as JSON, in KiB: rss/hwm/anon/file from
# status, pss and uss (private clean + dirty: what only it maps) from
# smaps_rollup, plus its thread and descriptor counts.
mem_json() {
  local pid=$1
  {
    awk '/^(VmRSS|VmHWM|RssAnon|RssFile|Threads):/ {print $1, $2}' "/proc/$pid/status"
    awk '/^(Pss|Private_Clean|Private_Dirty):/ {print $1, $2}' "/proc/$pid/smaps_rollup" 2>/dev/null
    echo "fds: $(fds_of "$pid")"
  } | jq -R -s 'split("\n") | map(select(length > 0) | split(": *"; null) | {(.[0] | rtrimstr(":")): (.[1] | tonumber)})
      | add | {rss_kb: .VmRSS, hwm_kb: .VmHWM, anon_kb: .RssAnon, file_kb: .RssFile,
               pss_kb: .Pss, uss_kb: ((.Private_Clean // 0) + (.Private_Dirty // 0)),
               threads: .Threads, fds: .fds}'
}

# Context switches of all threads: voluntary (a thread blocked, then woke up:
# the wake-ups) or involuntary (preempted), as KIND.
ctxsw() {
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk -v k="^$2_ctxt_switches" '$0 ~ k {s += $2} END {print s + 0}'
}

# idle_json PID SECONDS: CPU and wake-ups of PID over SECONDS, as JSON.
idle_json() {
  local pid=$1 secs=$2 t0 t1 v0 v1 i0 i1 w0 w1 hz
  hz=$(getconf CLK_TCK)
  t0=$(ticks "$pid"); v0=$(ctxsw "$pid" voluntary); i0=$(ctxsw "$pid" nonvoluntary); w0=$(now_ns)
  sleep "$secs"
  t1=$(ticks "$pid"); v1=$(ctxsw "$pid" voluntary); i1=$(ctxsw "$pid" nonvoluntary); w1=$(now_ns)
  jq -n --argjson dt $((t1 - t0)) --argjson dv $((v1 - v0)) --argjson di $((i1 - i0)) \
    --argjson ns $((w1 - w0)) --argjson hz "$hz" '{seconds: ($ns / 1e9), cpu_ticks: $dt,
      cpu_percent: ($dt / $hz / ($ns / 1e9) * 100), voluntary_ctx_switches: $dv,
      involuntary_ctx_switches: $di, wakeups_per_s: ($dv / ($ns / 1e9))}'
}

# field_of FILE LABEL: a value from a `/usr/bin/time -v` report.
time_v_field() { awk -F': ' -v l="$2" 'index($0, l) {print $2; exit}' "$1"; }

# time_v_json FILE: the useful part of a `/usr/bin/time -v -o FILE` report.
time_v_json() {
  [[ -s $1 ]] || { echo null; return; }
  jq -n --arg rss "$(time_v_field "$1" 'Maximum resident set size')" \
    --arg el "$(time_v_field "$1" 'Elapsed (wall clock)')" \
    --arg user "$(time_v_field "$1" 'User time (seconds)')" \
    --arg sys "$(time_v_field "$1" 'System time (seconds)')" \
    --arg vcs "$(time_v_field "$1" 'Voluntary context switches')" \
    --arg ivcs "$(time_v_field "$1" 'Involuntary context switches')" \
    --arg exitst "$(time_v_field "$1" 'Exit status')" \
    '{max_rss_kb: ($rss | tonumber? // null), elapsed: $el,
      user_s: ($user | tonumber? // null), sys_s: ($sys | tonumber? // null),
      voluntary_ctx_switches: ($vcs | tonumber? // null),
      involuntary_ctx_switches: ($ivcs | tonumber? // null),
      exit_status: ($exitst | tonumber? // null)}'
}

# machine_json: where and when this ran.
machine_json() {
  jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson nproc "$(nproc)" \
    --arg kernel "$(uname -sr)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{date: $date, nproc: $nproc, kernel: $kernel, loadavg: $load}'
}
