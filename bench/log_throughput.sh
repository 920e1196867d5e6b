#!/usr/bin/env bash
# Log pump throughput under a flood, and what the flood does to crash ->
# respawn latency of another app supervised by the same daemon.
#
#   bench/log_throughput.sh [BUILD_DIR] [--json FILE]      (default: ./build)
#
# One `arbor run` (foreground, temporary ARBOR_HOME) supervises two apps:
#   stamp  bench-stamp-app FIFO (min_uptime 10 ms), killed by
#          bench-respawn-driver KILLS times per phase
#   flood  bench-flood-app LINE_BYTES: writes lines to stdout as fast as it
#          can (blocks on its pipe when the pump is slower), rotated at 64 MiB
# In ROUNDS rounds, two phases each (order alternates): `quiet` (flood
# stopped) and `flood` (flood running; the bytes the pump wrote to the flood's
# log files, `arbor show flood --json` logs.bytes_written, are counted over
# the phase, as is the daemon's CPU). Prints crash -> respawn median/p99 in
# both phases, their ratio, and the pump's throughput (MB/s, lines/s).
# Environment: ROUNDS (4), KILLS (50), SETTLE_MS (30), WARMUP (3),
# LINE_BYTES (100), QUICK=1 (ROUNDS=2, KILLS=15), KEEP_TMP=1.
# Exit status: 0, or 1 on a failure.
set -euo pipefail
# shellcheck disable=SC2034 # read by bench_lib.sh
BENCH_NAME=log_throughput
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
rounds=${ROUNDS:-$([[ $quick == 1 ]] && echo 2 || echo 4)}
kills=${KILLS:-$([[ $quick == 1 ]] && echo 15 || echo 50)}
settle=${SETTLE_MS:-30}
warmup=${WARMUP:-3}
line_bytes=${LINE_BYTES:-100}
for v in "$rounds" "$kills" "$settle" "$warmup" "$line_bytes"; do
  [[ $v =~ ^[0-9]+$ ]] || die "ROUNDS, KILLS, SETTLE_MS, WARMUP, LINE_BYTES must be integers"
done

[[ -d $build_arg ]] || die "no build directory '$build_arg'"
build=$(cd "$build_arg" && pwd)
arbor=$build/arbor stamp=$build/bench/bench-stamp-app flood=$build/bench/bench-flood-app
drv=$build/bench/bench-respawn-driver
for exe in "$arbor" "$build/arbor-daemon" "$stamp" "$flood" "$drv"; do
  [[ -x $exe ]] || die "missing $exe (cmake --build $build --target arbor arbor-daemon bench-stamp-app bench-flood-app bench-respawn-driver)"
done
command -v jq >/dev/null || die "jq is required"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/arbor-bench-logs.XXXXXX")
export ARBOR_HOME=$tmp/home NO_COLOR=1
mkdir -p "$ARBOR_HOME"
daemon_pid="" drv_pid=""
cleanup() {
  [[ -n $drv_pid ]] && stop_pid "$drv_pid" 5
  [[ -n $daemon_pid ]] && stop_pid "$daemon_pid" 30
  kill_apps bench-stamp-app "$tmp"/*.pid
  kill_apps bench-flood-app "$tmp/flood.pids"
  exec 3>&- 2>/dev/null || true
  if [[ ${KEEP_TMP:-0} == 1 ]]; then note "work dir kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkfifo "$tmp/stamp.fifo"
exec 3<>"$tmp/stamp.fifo"
cat >"$tmp/arbor.toml" <<EOF
[stamp]
command = "$(quote_word "$stamp") $(quote_word "$tmp/stamp.fifo")"
min_uptime = 10
max_restarts = 1000000

[flood]
command = "$(quote_word "$flood") $line_bytes"
log_max_size = "64M"
log_max_files = 1
EOF

"$arbor" run "$tmp/arbor.toml" 3>&- </dev/null >"$tmp/run.out" 2>"$tmp/run.err" &
daemon_pid=$!
ok=0
for ((i = 0; i < 750; i++)); do
  if "$arbor" status --json >/dev/null 2>&1; then ok=1; break; fi
  alive "$daemon_pid" || break
  sleep 0.02
done
((ok)) || { tail -n 5 "$tmp/run.err" >&2; die "the daemon did not answer"; }
"$arbor" stop flood >/dev/null

bytes_written() { "$arbor" show flood --json | jq '.logs.bytes_written'; }
bytes_dropped() { "$arbor" show flood --json | jq '.logs.bytes_dropped'; }

# A new stamp for the driver: kill the live stamp app (the driver skips the
# stale line of a dead pid). The very first phase uses the startup stamp.
last_label=""
fresh_stamp() {
  [[ -n $last_label && -f $tmp/$last_label.pid ]] || return 0
  kill -KILL "$(cat "$tmp/$last_label.pid")" 2>/dev/null || true
}

flood_bytes=0 flood_ns=0 flood_ticks=0
phase() {
  local label=$1 b0 b1 t0 t1 c0 c1 i
  fresh_stamp
  if [[ $label == flood ]]; then
    "$arbor" start flood >/dev/null
    "$arbor" status flood --json | jq -r '.instances[].pid' >>"$tmp/flood.pids"
    b0=$(bytes_written)
    for ((i = 0; i < 250; i++)); do # bounded: until the pump is busy
      (($(bytes_written) > b0)) && break
      sleep 0.02
    done
    b0=$(bytes_written); t0=$(now_ns); c0=$(ticks "$daemon_pid")
  fi
  "$drv" "$tmp/stamp.fifo" "$kills" --label "$label" --settle-ms "$settle" --warmup "$warmup" \
    --out-dir "$tmp" --quiet >>"$tmp/driver.log" 2>"$tmp/driver.err" &
  drv_pid=$!
  wait "$drv_pid" || { cat "$tmp/driver.err" >&2; die "phase $label: the driver failed"; }
  drv_pid=""
  last_label=$label
  if [[ $label == flood ]]; then
    b1=$(bytes_written); t1=$(now_ns); c1=$(ticks "$daemon_pid")
    flood_bytes=$((flood_bytes + b1 - b0))
    flood_ns=$((flood_ns + t1 - t0))
    flood_ticks=$((flood_ticks + c1 - c0))
    "$arbor" stop flood >/dev/null
  fi
}

note "$rounds rounds x (quiet, flood) x $kills kills, settle $settle ms, lines of $line_bytes bytes"
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then phase quiet; phase flood; else phase flood; phase quiet; fi
  note "round $r/$rounds done"
done
dropped=$(bytes_dropped)

# The driver's summary plus the raw latencies (us).
summary() {
  jq -n --argjson s "$("$drv" --summarize "$1" "$tmp/$1.raw" --json)" \
    --argjson raw "$(jq -s . "$tmp/$1.raw")" '$s + {latencies_us: $raw}'
}
all=$(jq -n --argjson q "$(summary quiet)" --argjson f "$(summary flood)" \
  --argjson bytes "$flood_bytes" --argjson ns "$flood_ns" --argjson ticks "$flood_ticks" \
  --argjson hz "$(getconf CLK_TCK)" --argjson line "$line_bytes" --argjson dropped "$dropped" \
  --argjson m "$(machine_json)" \
  --arg cmd "QUICK=$quick ROUNDS=$rounds KILLS=$kills SETTLE_MS=$settle WARMUP=$warmup LINE_BYTES=$line_bytes $here/log_throughput.sh $build" \
  '{bench: "log_throughput", machine: $m, reproduce: $cmd,
    respawn_quiet: $q, respawn_flood: $f,
    median_ratio: ($f.median_us / $q.median_us), p99_ratio: ($f.p99_us / $q.p99_us),
    pump: {bytes: $bytes, seconds: ($ns / 1e9), bytes_per_s: ($bytes / ($ns / 1e9)),
           lines_per_s: ($bytes / $line / ($ns / 1e9)), line_bytes: $line,
           bytes_dropped: $dropped,
           daemon_cpu_percent: ($ticks / $hz / ($ns / 1e9) * 100)}}')
[[ -n $json_out ]] && printf '%s\n' "$all" >"$json_out"

echo
echo "log pump under a flood ($(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg))"
jq -r '"crash -> respawn, flood stopped: median \(.respawn_quiet.median_us / 1000) ms, p99 \(.respawn_quiet.p99_us / 1000) ms (\(.respawn_quiet.runs) kills)",
  "crash -> respawn, flood running: median \(.respawn_flood.median_us / 1000) ms, p99 \(.respawn_flood.p99_us / 1000) ms (\(.respawn_flood.runs) kills)",
  "flood / quiet: median \(.median_ratio * 100 | round / 100)x, p99 \(.p99_ratio * 100 | round / 100)x",
  "pump: \(.pump.bytes_per_s / 1e6 * 10 | round / 10) MB/s, \(.pump.lines_per_s | round) lines/s of \(.pump.line_bytes) bytes over \(.pump.seconds * 10 | round / 10) s; daemon CPU \(.pump.daemon_cpu_percent | round) % of a core; \(.pump.bytes_dropped) bytes dropped"' <<<"$all"
echo "reproduce: $(jq -r .reproduce <<<"$all")"
[[ -n $json_out ]] && echo "json: $json_out"
exit 0
