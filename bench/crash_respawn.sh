#!/usr/bin/env bash
# crash -> respawn latency: arbor vs. the floor of this machine.
#
#   bench/crash_respawn.sh [BUILD_DIR] [RUNS]      (defaults: ./build 200)
#
# SIGKILLs a supervised app RUNS times per target and times the kill to the
# new process's first line of main (bench-stamp-app stamps CLOCK_REALTIME
# first thing). Targets:
#   floor  bench-ref-loop: nothing but waitpid + posix_spawn
#   arbor  BUILD_DIR/arbor run CONFIG (min_uptime 10 ms, max_restarts 1e6),
#          each run in a cgroup of its own where the host allows (as root)
#   arbor_pg  the same with ARBOR_CONTAINMENT=process-group (no cgroups)
# Both run side by side, each with its own app and FIFO; one driver kills
# them in turn (AB BA AB ...), so the noise of a shared machine hits both
# alike, in ROUNDS rounds that each start both supervisors afresh.
# Prints median/p99 per target and arbor's median / floor's median against
# the 1.15 target, then the command to reproduce.
# Environment: ROUNDS (4), SETTLE_MS (30; must exceed min_uptime), WARMUP
# (5 unrecorded kills per target and round), KEEP_TMP=1 keeps the work dir.
# `--json FILE` (anywhere in the arguments) also writes the summaries, the
# raw latencies (us) and the verdict as JSON (needs jq).
# Exit status: 0 (ratio met, or arbor missing), 3 ratio missed, 1 failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
json_out=""
positional=()
while (($#)); do
  case $1 in
    --json) json_out=${2:?--json needs a FILE}; shift 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
set -- "${positional[@]+"${positional[@]}"}"
build_arg=${1:-build}
runs=${2:-200}
rounds=${ROUNDS:-4}
settle=${SETTLE_MS:-30}
warmup=${WARMUP:-5}
target_ratio=1.15

die() { echo "crash_respawn: $*" >&2; exit 1; }

[[ $runs =~ ^[0-9]+$ && $runs -gt 0 ]] || die "RUNS must be a positive integer, got '$runs'"
[[ $rounds =~ ^[0-9]+$ && $rounds -gt 0 && $rounds -le $runs ]] || die "bad ROUNDS '$rounds'"
[[ $settle =~ ^[0-9]+$ && $warmup =~ ^[0-9]+$ ]] || die "bad SETTLE_MS or WARMUP"
[[ -z $json_out ]] || command -v jq >/dev/null || die "--json needs jq"
[[ -d $build_arg ]] || die "no build directory '$build_arg' (build first: cmake --build $build_arg --target bench-ref-loop bench-stamp-app bench-respawn-driver arbor)"
build=$(cd "$build_arg" && pwd)

app=$build/bench/bench-stamp-app
ref=$build/bench/bench-ref-loop
drv=$build/bench/bench-respawn-driver
arbor=$build/arbor
for exe in "$app" "$ref" "$drv"; do
  [[ -x $exe ]] || die "missing $exe (cmake --build $build --target $(basename "$exe"))"
done
names=(floor)
if [[ -x $arbor ]]; then
  names+=(arbor arbor_pg)
else
  echo "crash_respawn: NOTE: $arbor not found (build it: cmake --build $build --target arbor);" \
    "measuring the floor only" >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/arbor-bench.XXXXXX")
declare -A pid_of=()   # running supervisors by target name

# Alive and not a zombie.
alive() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $st && $st != Z ]]
}

# stop NAME: SIGTERM the supervisor, wait up to 10 s, then SIGKILL; then kill
# the app instance it may have left behind (its own process group).
stop() {
  local name=$1 pid=${pid_of[$1]:-} i app_pid
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "crash_respawn: $name did not stop within 10 s of SIGTERM: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "pid_of[$name]"
  fi
  if [[ -f $tmp/$name.pid ]]; then
    app_pid=$(cat "$tmp/$name.pid")
    if [[ $app_pid =~ ^[0-9]+$ ]] && alive "$app_pid"; then
      kill -KILL -- "-$app_pid" 2>/dev/null || kill -KILL "$app_pid" 2>/dev/null || true
    fi
    rm -f "$tmp/$name.pid"
  fi
}

drv_pid=""
cleanup() {
  local name
  if [[ -n $drv_pid ]]; then
    kill -TERM "$drv_pid" 2>/dev/null || true
    wait "$drv_pid" 2>/dev/null || true
  fi
  for name in "${!pid_of[@]}"; do stop "$name"; done
  exec 3>&- 4>&- 5>&-
  if [[ ${KEEP_TMP:-0} == 1 ]]; then
    echo "crash_respawn: work dir kept: $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One FIFO per target, held open read-write by this script for the whole run:
# an app's non-blocking open for writing never fails for want of a reader.
mkfifo "$tmp/floor.fifo" "$tmp/arbor.fifo" "$tmp/arbor_pg.fifo"
exec 3<>"$tmp/floor.fifo" 4<>"$tmp/arbor.fifo" 5<>"$tmp/arbor_pg.fifo"

# A word as arbor's shell_split reads it back (quoted only when needed).
quote_word() {
  if [[ $1 =~ ^[A-Za-z0-9_./+:=-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

for name in arbor arbor_pg; do
  command_line="$(quote_word "$app") $(quote_word "$tmp/$name.fifo")"
  [[ $command_line != *'"'* && $command_line != *\\* ]] || die "paths with '\"' or '\\' are not supported"
  cat >"$tmp/$name.toml" <<EOF
[bench]
command = "$command_line"
min_uptime = 10
max_restarts = 1000000
EOF
done

start() {
  local name=$1
  case $name in
    floor) "$ref" "$app" "$tmp/floor.fifo" 3>&- 4>&- 5>&- </dev/null >>"$tmp/floor.out" 2>>"$tmp/floor.err" & ;;
    # ARBOR_HOME: its state and per-instance logs go to the work dir, not ~.
    arbor) ARBOR_HOME=$tmp/arbor-home "$arbor" run "$tmp/arbor.toml" 3>&- 4>&- 5>&- </dev/null \
             >>"$tmp/arbor.out" 2>>"$tmp/arbor.err" & ;;
    arbor_pg) ARBOR_CONTAINMENT=process-group ARBOR_HOME=$tmp/arbor-pg-home "$arbor" run \
                "$tmp/arbor_pg.toml" 3>&- 4>&- 5>&- </dev/null \
                >>"$tmp/arbor_pg.out" 2>>"$tmp/arbor_pg.err" & ;;
  esac
  pid_of[$name]=$!
}

show_failure() {
  local name=$1
  echo "crash_respawn: $name failed" >&2
  if [[ -s $tmp/$name.err ]]; then
    echo "  $name stderr, last lines (KEEP_TMP=1 keeps all of $tmp/$name.err):" >&2
    tail -n 10 "$tmp/$name.err" | sed 's/^/    /' >&2
  fi
}

declare -A failed=()
per_round=$((runs / rounds))
echo "crash -> respawn: $runs kills per target (${names[*]}), $rounds rounds," \
  "settle ${settle} ms, warm-up $warmup per round" >&2
for ((r = 1; r <= rounds; r++)); do
  n=$per_round
  ((r == rounds)) && n=$((runs - per_round * (rounds - 1)))
  live=()
  for name in "${names[@]}"; do
    [[ -z ${failed[$name]:-} ]] && live+=("$name")
  done
  ((${#live[@]} > 0)) || break
  # Alternate which target is first in the driver's order as well.
  if ((r % 2 == 0)); then
    mapfile -t live < <(printf '%s\n' "${live[@]}" | tac)
  fi
  args=("$tmp/${live[0]}.fifo" "$n" --label "${live[0]}")
  for name in "${live[@]:1}"; do args+=(--also "$name" "$tmp/$name.fifo"); done
  for name in "${live[@]}"; do start "$name"; done
  # In the background, so a SIGTERM/SIGINT to this script acts at once.
  "$drv" "${args[@]}" --settle-ms "$settle" --warmup "$warmup" --out-dir "$tmp" --quiet \
    >>"$tmp/driver.log" 2>"$tmp/driver.err" &
  drv_pid=$!
  wait "$drv_pid" || true
  drv_pid=""
  sed 's/^/  /' "$tmp/driver.err" >&2
  for name in "${live[@]}"; do
    if grep -q "^bench-respawn-driver: $name: FAILED" "$tmp/driver.err" || ! alive "${pid_of[$name]}"; then
      failed[$name]=1
      show_failure "$name"
    fi
  done
  for name in "${live[@]}"; do stop "$name"; done
  echo "  round $r/$rounds: ${live[*]}: $n kills each" >&2
done

echo
echo "crash -> respawn latency (SIGKILL -> first line of main of the new process)"
echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %6s %10s %8s %8s %8s %8s\n' target runs median_ms p90_ms p99_ms min_ms max_ms
declare -A median=()
for name in floor arbor arbor_pg; do
  if [[ $name != floor && ! -x $arbor ]]; then
    printf '%-8s %s\n' "$name" "not measured: $arbor is missing"
    continue
  fi
  if [[ -s $tmp/$name.raw ]] && line=$("$drv" --summarize "$name" "$tmp/$name.raw" --tsv); then
    IFS=$'\t' read -r -a f <<<"$line"  # label runs median p90 p99 min max
    printf '%-8s %6s %10s %8s %8s %8s %8s\n' "${f[@]}"
    median[$name]=${f[2]}
  else
    printf '%-8s %s\n' "$name" "no data (see above)"
  fi
  if [[ -n ${failed[$name]:-} ]]; then
    echo "        ^ incomplete: $(cat "$tmp/$name.raw" 2>/dev/null | wc -l) of $runs runs"
  fi
done
# Which containment the `arbor` target had (daemon.log says it once).
mode=$(grep -ho 'event=containment reason="[^"]*' "$tmp/arbor-home/daemon.log" "$tmp/arbor.err" 2>/dev/null | head -1 | cut -d'"' -f2 || true)
echo "arbor: ${mode:-containment not logged}; arbor_pg: process groups"
if [[ -n ${median[arbor_pg]:-} && -n ${median[floor]:-} && -n ${median[arbor]:-} ]]; then
  awk -v a="${median[arbor]}" -v p="${median[arbor_pg]}" -v f="${median[floor]}" 'BEGIN {
    printf "arbor_pg median / floor median = %.2f; arbor (cgroups) / arbor_pg = %.2f\n", p / f, a / p
  }'
fi
status=0
if [[ -n ${median[floor]:-} && -n ${median[arbor]:-} && ${#failed[@]} -eq 0 ]]; then
  awk -v a="${median[arbor]}" -v f="${median[floor]}" -v t="$target_ratio" 'BEGIN {
    r = a / f
    printf "arbor median / floor median = %.3f / %.3f = %.2f (target <= %.2f): %s\n",
           a, f, r, t, (r <= t ? "PASS" : "FAIL")
    exit (r <= t ? 0 : 3)
  }' || status=$?
else
  echo "arbor median / floor median: not available"
  if [[ -x $arbor || -n ${failed[floor]:-} ]]; then status=1; fi
fi
reproduce="ROUNDS=$rounds SETTLE_MS=$settle WARMUP=$warmup $here/crash_respawn.sh $build $runs"
if [[ -n $json_out ]]; then
  # One object per target: the driver's summary plus the raw latencies.
  target_json() {
    local raw=$tmp/$1.raw
    if [[ -s $raw ]]; then
      jq -n --argjson s "$("$drv" --summarize "$1" "$raw" --json)" \
        --argjson raw "$(jq -s . "$raw")" --argjson failed "${failed[$1]:-0}" \
        '$s + {complete: ($failed == 0), latencies_us: $raw}'
    else
      echo null
    fi
  }
  jq -n --argjson floor "$(target_json floor)" --argjson arbor "$(target_json arbor)" \
    --argjson target "$target_ratio" --argjson status "$status" --arg cmd "$reproduce" \
    --argjson runs "$runs" --argjson rounds "$rounds" --argjson settle "$settle" \
    --argjson warmup "$warmup" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --argjson nproc "$(nproc)" --arg kernel "$(uname -sr)" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{bench: "crash_respawn", machine: {date: $date, nproc: $nproc, kernel: $kernel,
      loadavg: $load}, runs: $runs, rounds: $rounds, settle_ms: $settle, warmup: $warmup,
      floor: $floor, arbor: $arbor, target_ratio: $target,
      ratio: (if $floor != null and $arbor != null then $arbor.median_us / $floor.median_us
              else null end),
      pass: ($status == 0 and $arbor != null), reproduce: $cmd}' >"$json_out"
  echo "json: $json_out"
fi
echo "reproduce: $reproduce"
exit "$status"
