#!/usr/bin/env bash
# Control-plane figures: CLI `status` round trip with 100 instances (the
# binary end to end: exec, connect, request, render, exit), daemon RSS with
# 1 and with 100 instances, and the daemon's idle CPU over 10 s.
#
#   bench/control_plane.sh [BUILD_DIR] [RUNS] [--json FILE]  (defaults: build 200)
#
# --json FILE also writes the figures as JSON (needs jq). IDLE_S (10): the
# length of the idle CPU measurement.
set -euo pipefail

json_out=""
positional=()
while (($#)); do
  case $1 in
    --json) json_out=${2:?--json needs a FILE}; shift 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
set -- "${positional[@]+"${positional[@]}"}"
build=$(cd "${1:-build}" && pwd)
runs=${2:-200}
idle_s=${IDLE_S:-10}
[[ $idle_s =~ ^[0-9]+$ && $idle_s -gt 0 ]] || { echo "IDLE_S must be a positive integer" >&2; exit 1; }
[[ -z $json_out ]] || command -v jq >/dev/null || { echo "--json needs jq" >&2; exit 1; }
arbor=$build/arbor
timer=$build/bench/bench-cmd-timer
[[ -x $arbor && -x $timer ]] || { echo "build first: cmake --build $build --target arbor bench-cmd-timer" >&2; exit 1; }

home=$(mktemp -d /tmp/arbor-bench-cp.XXXXXX)
export ARBOR_HOME=$home NO_COLOR=1
cleanup() {
  "$arbor" down >/dev/null 2>&1 || true
  if [[ -f $home/arbor.pid ]]; then kill -9 "$(cat "$home/arbor.pid")" 2>/dev/null || true; fi
  rm -rf "$home"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

printf '[idle]\ncommand = "sleep infinity"\n' > "$home/one.toml"
printf '[fleet]\ncommand = "sleep infinity"\ninstances = 100\n' > "$home/hundred.toml"

"$arbor" up "$home/one.toml" >/dev/null
pid=$(cat "$home/arbor.pid")
sleep 1 # let it settle (not a measurement: RSS is read once after)
rss_one=$(rss_kb "$pid")

"$arbor" apply "$home/hundred.toml" >/dev/null
n=$("$arbor" status --json | grep -c '"state": "running"')
[[ $n -eq 100 ]] || { echo "expected 100 running instances, got $n" >&2; exit 1; }
sleep 3 # one sampler tick or more, then measure
rss_hundred=$(rss_kb "$pid")

t0=$(ticks "$pid"); sleep "$idle_s"; t1=$(ticks "$pid")
hz=$(getconf CLK_TCK)
idle_cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$idle_s" 'BEGIN {printf "%.2f", d / hz / s * 100}')

status_line=$("$timer" "$runs" "$arbor" status)
json_line=$("$timer" "$runs" "$arbor" status --json)
field() { sed -E "s/.*$1=([0-9.]+).*/\1/" <<<"$2"; }

echo
echo "arbor control plane ($(nproc) cores, $(uname -r), $(date -u +%Y-%m-%d))"
printf '%-42s %s\n' "metric" "value"
printf '%-42s %s ms (p90 %s, p99 %s; target < 5 ms)\n' "arbor status, 100 instances: median" \
  "$(field median_ms "$status_line")" "$(field p90_ms "$status_line")" "$(field p99_ms "$status_line")"
printf '%-42s %s ms (p99 %s)\n' "arbor status --json, 100 instances: median" \
  "$(field median_ms "$json_line")" "$(field p99_ms "$json_line")"
printf '%-42s %s KiB\n' "daemon RSS, 1 instance" "$rss_one"
printf '%-42s %s KiB\n' "daemon RSS, 100 instances" "$rss_hundred"
printf '%-42s %s %% of one core\n' "daemon idle CPU over $idle_s s, 100 instances" "$idle_cpu"
echo "runs: $runs per status variant"
if [[ -n $json_out ]]; then
  timer_json() { # "runs=.. median_ms=.." -> {"runs":..,"median_ms":..}
    tr ' ' '\n' <<<"$1" | jq -R 'split("=") | {(.[0]): (.[1] | tonumber)}' | jq -s add
  }
  jq -n --argjson st "$(timer_json "$status_line")" --argjson js "$(timer_json "$json_line")" \
    --argjson r1 "$rss_one" --argjson r100 "$rss_hundred" --argjson cpu "$idle_cpu" \
    --argjson idle_s "$idle_s" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --argjson nproc "$(nproc)" --arg kernel "$(uname -sr)" \
    --arg cmd "IDLE_S=$idle_s bench/control_plane.sh $build $runs" \
    '{bench: "control_plane", machine: {date: $date, nproc: $nproc, kernel: $kernel},
      status_100: $st, status_json_100: $js, status_target_ms: 5,
      rss_kb_1: $r1, rss_kb_100: $r100, idle_cpu_percent_100: $cpu, idle_seconds: $idle_s,
      reproduce: $cmd}' >"$json_out"
  echo "json: $json_out"
fi
echo "reproduce: IDLE_S=$idle_s bench/control_plane.sh $build $runs"
