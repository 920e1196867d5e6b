#!/usr/bin/env bash
# The daemon at N instances (default 10,000) of `sleep infinity`, against its
# descriptor budget: start-all, `status` latency, memory and descriptors per
# instance, recover-all after a mass SIGKILL, `down`; and the refusal of the
# same tree with a limit too low.
#
#   bench/ten_thousand.sh [BUILD_DIR]                  (default: ./build)
#
#   refusal   `arbor check` and `arbor up` under `prlimit --nofile=L:L`, L
#             half of what the tree needs: both must refuse, naming both numbers
#   limit     raises this shell's RLIMIT_NOFILE (soft and hard) to NOFILE
#             (default: what `arbor check` says N needs, + 10 %) with prlimit;
#             the daemon `arbor up` starts inherits it. Raising a hard limit
#             needs CAP_SYS_RESOURCE: without it the run stops with the refusal
#             (try a smaller N).
#   start     `arbor up` -> `arbor status` shows all N running
#   status    `arbor status --json`, median of STATUS_RUNS (5)
#   memory    the daemon's VmRSS and open descriptors, per instance
#   mass kill SIGKILL to every instance at once -> status shows N running,
#             every one with a new pid
#   down      `arbor down` -> the daemon has exited and no instance is left
# Environment: N (10000), NOFILE, STATUS_RUNS (5), KEEP_TMP=1. Needs jq and
# prlimit. Every process is stopped by pid on exit (also on error or Ctrl-C).
# Exit status: 0 all ran and every check held, 3 a check failed, 1 error.
set -euo pipefail
# shellcheck disable=SC2034 # read by bench_lib.sh
BENCH_NAME=ten_thousand
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=bench_lib.sh
source "$here/bench_lib.sh"

build_arg=${1:-build}
n=${N:-10000}
status_runs=${STATUS_RUNS:-5}
[[ -d $build_arg ]] || die "no build directory '$build_arg'"
build=$(cd "$build_arg" && pwd)
arbor=$build/arbor
for exe in "$arbor" "$build/arbor-daemon"; do
  [[ -x $exe ]] || die "missing $exe (cmake --build $build --target arbor arbor-daemon)"
done
command -v jq >/dev/null || die "jq is required"
command -v prlimit >/dev/null || die "prlimit is required (util-linux)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/arbor-bench-10k.XXXXXX")
export ARBOR_HOME=$tmp/home
mkdir -m 0700 "$ARBOR_HOME"
cfg=$tmp/arbor.toml
printf '[s]\ncommand = "sleep infinity"\ninstances = %d\n' "$n" >"$cfg"
daemon_pid=""
cleanup() {
  [[ -n $daemon_pid ]] && stop_pid "$daemon_pid" 120
  kill_apps sleep "$tmp"/pids.* # instances a dead daemon left
  if [[ ${KEEP_TMP:-0} == 1 ]]; then note "work dir kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
failed=0
check() { # check WHAT CONDITION...: records a failed check, goes on
  local what=$1
  shift
  if "$@"; then return 0; fi
  note "CHECK FAILED: $what"
  failed=1
}

# What N needs, from the one place that computes it (`arbor check` at a limit
# of 100: always refused, the need is in the message).
need=$(prlimit --nofile=100:100 "$arbor" check "$cfg" 2>&1 >/dev/null |
  sed -n 's/.*needs ~\([0-9,]*\) descriptors.*/\1/p' | tr -d ,) || true
[[ $need =~ ^[0-9]+$ ]] || die "arbor check did not say what $n instances need"

# The refusal, with a limit too low: both numbers, both paths.
low=$((need / 2))
(($(ulimit -Hn) < low)) && low=$(ulimit -Hn) # raising it may need privilege
refusal=$(prlimit --nofile=$low:$low "$arbor" check "$cfg" 2>&1 >/dev/null) && rc=0 || rc=$?
echo "refusal at a limit of $low (check, exit $rc): $refusal"
check "check refuses (exit 2)" test "$rc" = 2
check "the refusal names the need and the limit" \
  grep -q "needs ~$need descriptors.* is $low:" <<<"${refusal//,/}"
up_refusal=$(prlimit --nofile=$low:$low "$arbor" up "$cfg" 2>&1) && rc=0 || rc=$?
check "up refuses (exit 2) and starts nothing" test "$rc" = 2 -a ! -e "$ARBOR_HOME/arbor.pid"
[[ $up_refusal == *"descriptors"* ]] || check "up names the descriptors" false

nofile=${NOFILE:-$((need + need / 10))}
hard=$(ulimit -Hn)
if ((hard >= nofile)); then
  nofile=$hard
elif ! prlimit --pid $$ --nofile="$nofile:$nofile" 2>/dev/null; then
  if [[ -n ${NOFILE:-} ]] || ((hard < need)); then
    note "cannot raise RLIMIT_NOFILE to $nofile (hard limit $hard; raising it needs" \
      "CAP_SYS_RESOURCE): $n instances need ~$need descriptors. Try N=$(((hard - 200) / 5))."
    exit 1
  fi
  nofile=$hard
fi
ulimit -n "$nofile"

# status_line: "<running-or-ready count> <pids, sorted>".
status_line() {
  "$arbor" status --json 2>/dev/null |
    jq -r '[.instances[] | select(.state == "running" or .state == "ready") | .pid] | sort
           | "\(length) \(join(","))"'
}
# wait_running N OLD_PIDS_FILE: until status shows N up, none with an old pid.
wait_running() {
  local line deadline=$(($(now_ns) + 300 * 1000000000))
  while (($(now_ns) < deadline)); do
    line=$(status_line) || line=""
    if [[ ${line%% *} == "$1" ]]; then
      [[ -z ${2:-} ]] && return 0
      comm -12 <(tr ',' '\n' <<<"${line#* }" | sort) <(sort "$2") | grep -q . || return 0
    fi
    sleep 0.2
  done
  note "status did not show $1 running instances within 300 s (last: ${line%% *})"
  return 1
}
save_pids() { "$arbor" status --json | jq -r '.instances[].pid' >"$1"; }

t0=$(now_ns)
"$arbor" up "$cfg" >/dev/null
daemon_pid=$(cat "$ARBOR_HOME/arbor.pid")
check "all $n start" wait_running "$n"
start_ms=$(ms_since "$t0")
save_pids "$tmp/pids.0"

lat=()
for ((i = 0; i < status_runs; i++)); do
  t=$(now_ns)
  "$arbor" status --json >/dev/null
  lat+=($((($(now_ns) - t) / 1000)))
done
status_us=$(printf '%s\n' "${lat[@]}" | sort -n | sed -n "$((status_runs / 2 + 1))p")
rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status")
fds=$(find "/proc/$daemon_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)

t0=$(now_ns)
xargs -a "$tmp/pids.0" kill -KILL 2>/dev/null || true
check "all $n restarted after a mass SIGKILL" wait_running "$n" "$tmp/pids.0"
recover_ms=$(ms_since "$t0")
save_pids "$tmp/pids.1"
restarts=$("$arbor" status --json | jq '[.instances[] | select(.restarts == 1)] | length')
check "every instance restarted exactly once ($restarts of $n)" test "$restarts" = "$n"

t0=$(now_ns)
"$arbor" down >/dev/null
down_ms=$(ms_since "$t0")
check "the daemon exited" wait_gone "$daemon_pid" 5
left=0
while read -r p; do alive "$p" && [[ $(tr -d '\0' <"/proc/$p/cmdline" 2>/dev/null) == sleep* ]] &&
  left=$((left + 1)); done <"$tmp/pids.1"
check "no instance left after down ($left)" test "$left" = 0
daemon_pid=""

printf '\n%-34s %s\n' "instances" "$n"
printf '%-34s %s\n' "RLIMIT_NOFILE (need, limit)" "$need, $nofile"
printf '%-34s %s ms\n' "start-all (up -> status all up)" "$start_ms"
printf '%-34s %s ms (median of %d)\n' "status --json latency" \
  "$(awk -v u="$status_us" 'BEGIN {printf "%.1f", u / 1000}')" "$status_runs"
printf '%-34s %s ms\n' "recover-all (mass SIGKILL)" "$recover_ms"
printf '%-34s %s ms\n' "down" "$down_ms"
printf '%-34s %s MiB (%s KiB per instance)\n' "daemon RSS" \
  "$(awk -v k="$rss_kib" 'BEGIN {printf "%.1f", k / 1024}')" \
  "$(awk -v k="$rss_kib" -v n="$n" 'BEGIN {printf "%.2f", k / n}')"
printf '%-34s %s (%s per instance)\n' "daemon descriptors" "$fds" \
  "$(awk -v f="$fds" -v n="$n" 'BEGIN {printf "%.3f", f / n}')"
printf '%-34s %s\n' "reproduce" "N=$n bench/ten_thousand.sh $build_arg"
exit $((failed ? 3 : 0))
