#!/usr/bin/env bash
# The daemon idle with [web] off and on (no browser connected): resident
# memory and CPU time used over a quiet minute, from /proc.
#
#   bench/web_idle.sh [BUILD_DIR] [INSTANCES] [SECONDS]    (defaults: ./build, 100, 60)
#
# Runs `arbor run` twice in temporary homes with INSTANCES idle instances of
# bench-stamp-app, without and with `[web]`; after 3 s of settling reads VmRSS
# and utime+stime (/proc/PID/stat), waits SECONDS, reads the CPU time again.
# Stops each daemon by pid.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
n=${2:-100}
secs=${3:-60}
for b in bench/bench-stamp-app arbor arbor-daemon libarbor-http.so; do
  [[ -e $build/$b ]] || { echo "web_idle: $build/$b missing" >&2; exit 1; }
done
tick=$(getconf CLK_TCK)
work="" daemon_pid=""
cleanup() {
  if [[ -n $daemon_pid ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.05; done
  fi
  [[ -z $work ]] || rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() { # LABEL WEB(0|1)
  work=$(mktemp -d "${TMPDIR:-/tmp}/arbor-web-idle.XXXXXX")
  : >"$work/stamps"
  {
    if [[ $2 == 1 ]]; then printf '[web]\nlisten = "127.0.0.1:%d"\n\n' $((20000 + RANDOM % 30000)); fi
    printf '[idle]\nargs = ["%s", "%s"]\ninstances = %d\n' "$build/bench/bench-stamp-app" "$work/stamps" "$n"
  } >"$work/arbor.toml"
  ARBOR_HOME="$work/home" "$build/arbor" run "$work/arbor.toml" --log-dir "$work/logs" \
    >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  sleep 3 # settle (not a measurement)
  if [[ $2 == 1 ]]; then grep -q libarbor-http.so "/proc/$daemon_pid/maps" || { echo "web_idle: [web] did not load the HTTP module" >&2; exit 1; }; fi
  local rss t0 t1
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status")
  t0=$(cpu_ticks "$daemon_pid")
  sleep "$secs"
  t1=$(cpu_ticks "$daemon_pid")
  printf '%-28s %8s KiB   %6s ms CPU in %ss   threads %s\n' "$1" "$rss" $(( (t1 - t0) * 1000 / tick )) "$secs" \
    "$(awk '/^Threads/ {print $2}' "/proc/$daemon_pid/status")"
  cleanup
  daemon_pid="" work=""
}

measure "[web] off, $n instances" 0
measure "[web] on, no browser" 1
echo "reproduce: bench/web_idle.sh $build $n $secs"
