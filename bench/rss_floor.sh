#!/usr/bin/env bash
# The daemon's memory next to its floor: a bare CAF 0.17 actor system
# (bench-caf-floor: 2 scheduler threads, one actor, fmt), both from /proc.
#
#   bench/rss_floor.sh [BUILD_DIR] [INSTANCES]      (defaults: ./build, 100)
#
# Starts bench-caf-floor, then `arbor run` with INSTANCES idle instances of
# bench-stamp-app in a temporary ARBOR_HOME; after 3 s reads VmRSS, RssAnon,
# RssFile and Pss of each and the daemon's biggest file mappings; stops both
# by pid. Prints a small table. HTTP_CHECK=1 adds one app with an HTTP health
# check (arbor-example-http, checked every second): the daemon with HTTP in use.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
n=${2:-100}
for b in bench/bench-caf-floor bench/bench-stamp-app arbor arbor-daemon; do
  [[ -x $build/$b ]] || { echo "rss_floor: $build/$b missing: ninja -C $build ${b##*/}" >&2; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/arbor-rss-floor.XXXXXX")
floor_pid="" daemon_pid=""
cleanup() {
  if [[ -n $floor_pid ]]; then kill "$floor_pid" 2>/dev/null || true; fi
  if [[ -n $daemon_pid ]]; then
    kill "$daemon_pid" 2>/dev/null || true # SIGTERM: it stops its instances
    for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build/bench/bench-caf-floor" >"$work/floor.log" 2>&1 &
floor_pid=$!
cat >"$work/arbor.toml" <<TOML
[idle]
args = ["$build/bench/bench-stamp-app", "$work/stamps"]
instances = $n
TOML
if [[ ${HTTP_CHECK:-0} == 1 ]]; then
  web=$build/examples/http_app/arbor-example-http
  [[ -x $web ]] || { echo "rss_floor: $web missing: ninja -C $build arbor-example-http" >&2; exit 1; }
  port=$((20000 + RANDOM % 30000))
  cat >>"$work/arbor.toml" <<TOML
[web]
args = ["$web", "--listen", "127.0.0.1:$port", "--admin-port", "$((port + 1))"]
health_check = { endpoint = "http://127.0.0.1:$((port + 1))/health", interval_secs = 1 }
TOML
fi
: >"$work/stamps"
ARBOR_HOME="$work/home" "$build/arbor" run "$work/arbor.toml" --log-dir "$work/logs" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
sleep 3 # settle: both are idle by then (not a measurement; /proc is read once)
if [[ ${HTTP_CHECK:-0} == 1 ]]; then # the first check loads the HTTP module
  for _ in $(seq 1 100); do grep -q libarbor-http.so "/proc/$daemon_pid/maps" && break; sleep 0.1; done
  grep -q libarbor-http.so "/proc/$daemon_pid/maps" || { echo "rss_floor: no HTTP module loaded" >&2; exit 1; }
  sleep 1
fi

row() { # NAME PID
  local rss anon file pss
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$2/status")
  anon=$(awk '/^RssAnon/ {print $2}' "/proc/$2/status")
  file=$(awk '/^RssFile/ {print $2}' "/proc/$2/status")
  pss=$(awk '/^Pss:/ {print $2}' "/proc/$2/smaps_rollup")
  printf '%-34s %8s %8s %8s %8s\n' "$1" "$rss" "$anon" "$file" "$pss"
}
printf '%-34s %8s %8s %8s %8s   (KiB)\n' "" RSS anon file PSS
row "bare CAF actor system + fmt" "$floor_pid"
row "arbor-daemon, $n instances$([[ ${HTTP_CHECK:-0} == 1 ]] && echo " + HTTP")" "$daemon_pid"
echo
echo "arbor-daemon's resident file mappings over 100 KiB:"
awk '/^[0-9a-f]+-[0-9a-f]+ /{name=$6} /^Rss:/{r[name]+=$2} END{for(n in r) if(n != "" && r[n]>100) printf "  %6d KiB  %s\n", r[n], n}' \
  "/proc/$daemon_pid/smaps" | sort -rn
echo "reproduce: $([[ ${HTTP_CHECK:-0} == 1 ]] && echo "HTTP_CHECK=1 ")bench/rss_floor.sh $build $n"
