#!/usr/bin/env bash
# Every arbor benchmark in one go: one table and all raw numbers as JSON.
#
#   bench/run_all.sh [BUILD_DIR]                       (default: ./build)
#
# Builds nothing: if a binary is missing it prints the cmake --build command
# and exits 1. Runs, each bounded in time and with its own temporary
# ARBOR_HOME, loopback only:
#   crash_respawn   crash -> respawn, arbor vs. a bare posix_spawn loop
#   control_plane   `arbor status` round trip with 100 instances
#   scale           1 / 100 / 1000 instances: start, RSS, idle CPU, mass kill
#   log_throughput  log pump under a flood, crash -> respawn beside it
#   http            bench/http/http_recovery.sh (crash -> HTTP 200), if present
#                   (a failure there, e.g. its binaries not built, is a note)
# then prints one table (metric, value, median/p99, target, verdict) and
# writes BUILD_DIR/bench-results/<UTC time>.json (every bench's JSON, the
# machine, the command to reproduce); the logs of each bench are kept next to
# it in BUILD_DIR/bench-results/<UTC time>/.
# Environment: QUICK=1 (fewer rounds: a smoke run of ~2-3 min; the full run
# takes ~5-10 min), OUT=FILE (the JSON elsewhere), ONLY="scale logs" (a subset
# of: crash control scale logs http).
# Exit status: 0 every target met, 3 a target missed or a check failed,
# 1 a bench could not run.
set -euo pipefail
# shellcheck disable=SC2034 # read by bench_lib.sh
BENCH_NAME=run_all
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src_root=$(cd "$here/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=bench_lib.sh
source "$here/bench_lib.sh"

build_arg=${1:-build}
quick=${QUICK:-0}
only=${ONLY:-crash control scale logs http}
[[ -d $build_arg ]] || die "no build directory '$build_arg' (configure: cmake -S $src_root -B $build_arg -G Ninja)"
build=$(cd "$build_arg" && pwd)
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (apt-get install time)"

targets=(arbor arbor-daemon arbor-keeper arbor-http bench-stamp-app bench-ref-loop
  bench-respawn-driver bench-cmd-timer bench-fleet-driver bench-flood-app)
missing=()
for t in "${targets[@]}"; do
  case $t in
    arbor | arbor-daemon | arbor-keeper) [[ -x $build/$t ]] || missing+=("$t") ;;
    arbor-http) [[ -f $build/libarbor-http.so ]] || missing+=("$t") ;; # HTTP checks (the http bench) load it
    *) [[ -x $build/bench/$t ]] || missing+=("$t") ;;
  esac
done
if ((${#missing[@]})); then
  echo "run_all: missing ${missing[*]}; build them first:" >&2
  echo "  cmake --build $build --target ${targets[*]}" >&2
  exit 1
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=$build/bench-results
dir=$results/$stamp
out=${OUT:-$results/$stamp.json}
case $(realpath -m "$out")/ in
  "$src_root"/bench/* | "$src_root"/src/* | "$src_root"/actors/* | "$src_root"/include/* | "$src_root"/tests/*)
    die "OUT must not be inside the source tree: $out" ;;
esac
mkdir -p "$dir" "$(dirname "$out")"

child=""
on_signal() {
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null || true # timeout passes it on; the bench cleans up
    wait "$child" 2>/dev/null || true
  fi
  exit 130
}
trap on_signal INT TERM

if [[ $quick == 1 ]]; then
  crash_env=(ROUNDS=2 WARMUP=2) crash_runs=40 control_runs=30 scale_to=300 http_rounds=15
else
  crash_env=(ROUNDS=4 WARMUP=5) crash_runs=200 control_runs=200 scale_to=600 http_rounds=60
fi

declare -A rc_of=() secs_of=()
# run NAME TIMEOUT_S CMD...: runs one bench in the background (so a signal
# reaches us at once), bounded by timeout; output to DIR/NAME.log.
run() {
  local name=$1 limit=$2 t0 rc=0
  shift 2
  t0=$(now_ns)
  echo "run_all: $name ... (log: $dir/$name.log)" >&2
  timeout -k 60 "$limit" "$@" >"$dir/$name.log" 2>&1 &
  child=$!
  wait "$child" || rc=$?
  child=""
  rc_of[$name]=$rc
  secs_of[$name]=$((($(now_ns) - t0) / 1000000000))
  case $rc in
    0) echo "run_all: $name done in ${secs_of[$name]} s" >&2 ;;
    3) echo "run_all: $name done in ${secs_of[$name]} s (a target missed or a check failed)" >&2 ;;
    124) echo "run_all: $name TIMED OUT after $limit s; the end of its log:" >&2
         tail -n 15 "$dir/$name.log" | sed 's/^/  /' >&2 ;;
    *) echo "run_all: $name FAILED (exit $rc); the end of its log:" >&2
       tail -n 15 "$dir/$name.log" | sed 's/^/  /' >&2 ;;
  esac
}

wanted() { [[ " $only " == *" $1 "* ]]; }

wanted crash && run crash_respawn 600 env "${crash_env[@]}" SETTLE_MS=30 \
  "$here/crash_respawn.sh" "$build" "$crash_runs" --json "$dir/crash_respawn.json"
# scale measures idle CPU at length; here only the status round trip matters.
wanted control && run control_plane 180 env IDLE_S=2 \
  "$here/control_plane.sh" "$build" "$control_runs" --json "$dir/control_plane.json"
wanted scale && run scale "$scale_to" env QUICK="$quick" \
  "$here/scale.sh" "$build" --json "$dir/scale.json"
wanted logs && run log_throughput 400 env QUICK="$quick" \
  "$here/log_throughput.sh" "$build" --json "$dir/log_throughput.json"
http_note=""
if wanted http; then
  if [[ -x $here/http/http_recovery.sh ]]; then
    run http 400 env JSON_OUT="$dir/http.json" "$here/http/http_recovery.sh" "$build" "$http_rounds"
    if [[ ${rc_of[http]} != 0 ]]; then
      http_note="bench/http/http_recovery.sh failed (exit ${rc_of[http]}): $(grep -m1 -iE 'missing|build first|error' "$dir/http.log" || tail -n 1 "$dir/http.log")"
      rm -f "$dir/http.json"
    fi
  else
    http_note="bench/http/http_recovery.sh is missing: crash -> HTTP 200 not measured"
    echo "run_all: NOTE: $http_note" >&2
  fi
fi

# Everything in one JSON: each bench's own JSON (null if it wrote none).
bench_json() { if [[ -s $dir/$1.json ]] && jq -e . "$dir/$1.json" >/dev/null 2>&1; then cat "$dir/$1.json"; else echo null; fi; }
runs_json=$(for n in "${!rc_of[@]}"; do
  jq -n --arg n "$n" --argjson rc "${rc_of[$n]}" --argjson s "${secs_of[$n]}" \
    --arg log "$dir/$n.log" '{($n): {exit: $rc, seconds: $s, log: $log}}'
done | jq -s 'add // {}')
reproduce="QUICK=$quick${ONLY:+ ONLY=\"$only\"} $here/run_all.sh $build"
jq -n --argjson m "$(machine_json)" --argjson quick "$quick" --arg cmd "$reproduce" \
  --argjson runs "$runs_json" --arg http_note "$http_note" \
  --argjson crash "$(bench_json crash_respawn)" --argjson control "$(bench_json control_plane)" \
  --argjson scale "$(bench_json scale)" --argjson logs "$(bench_json log_throughput)" \
  --argjson http "$(bench_json http)" \
  '{machine: $m, quick: ($quick == 1), reproduce: $cmd, runs: $runs,
    notes: (if $http_note == "" then [] else [$http_note] end),
    results: {crash_respawn: $crash, control_plane: $control, scale: $scale,
              log_throughput: $logs, http: $http}}' >"$dir/all.json"
jq --slurpfile t <(jq -f "$here/table.jq" "$dir/all.json") '. + {table: $t}' \
  "$dir/all.json" >"$out"

echo
echo "arbor benchmarks — $(jq -r '.machine | "\(.date), \(.nproc) cores, \(.kernel), load \(.loadavg)"' "$out")$([[ $quick == 1 ]] && echo ' — QUICK (smoke run, few rounds)')"
{
  printf 'metric\tvalue\tmedian / p99\ttarget\tverdict\n'
  jq -r '.table[] | [.metric, .value, .spread, .target, .verdict] | @tsv' "$out"
} | column -t -s $'\t'
jq -r '.notes[] | "note: \(.)"' "$out"
for n in "${!rc_of[@]}"; do
  case ${rc_of[$n]} in 0 | 3) ;; *) echo "note: $n did not complete (exit ${rc_of[$n]}): $dir/$n.log" ;; esac
done
echo "json: $out"
echo "logs: $dir/"
echo "reproduce: $reproduce"

status=0
jq -e '[.table[] | select(.verdict == "FAIL")] | length == 0' "$out" >/dev/null || status=3
for n in "${!rc_of[@]}"; do
  case ${rc_of[$n]} in 0 | 3) ;; *) status=1 ;; esac
done
exit "$status"
