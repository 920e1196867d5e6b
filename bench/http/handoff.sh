#!/usr/bin/env bash
# The floor for reload_load.sh: the same rolling replacement of the example
# app's instances under the same load, done by this script without arbor
# (start a replacement on a fresh PORT, wait for its /health 200, SIGTERM the
# old one and wait until it exited 0). What the app and the kernel allow at
# best; compare `arbor reload` against it.
#
#   bench/http/handoff.sh BUILD_DIR [ROUNDS]     (default 10; a round replaces every instance)
#
# Environment: INSTANCES (3), CONNECTIONS (8), MODE (mixed), TIMEOUT_MS (2000),
# TCP_MIGRATE_REQ (0|1 in the private netns), NETNS (1), JSON_OUT (else the
# JSON is printed). Exit 0 when no request failed, 3 when some did, 1 on an error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: handoff.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-10}
source "$here/lib.sh"
app=$app_dir/arbor-example-http
for b in "$app" "$probe" "$loadc"; do
  [[ -x $b ]] || { echo "build first: ninja -C $build arbor-example-http bench-http-load bench-http-probe" >&2; exit 1; }
done
http_enter_netns "$@"
n=${INSTANCES:-3}
tmp=$(mktemp -d /tmp/arbor-bench-handoff.XXXXXX)
declare -a pid
cleanup() {
  local rc=$?
  set +e
  [[ -n ${load_pid:-} ]] && kill -TERM "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  for p in "${pid[@]}"; do kill -TERM "$p" 2>/dev/null; done # they drain and exit 0
  for ((t = 0; t < 500; t++)); do
    local alive=0
    for p in "${pid[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.02
  done
  for p in "${pid[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [[ ${KEEP_TMP:-0} == 1 ]] && echo "kept $tmp" >&2 || rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $netns == yes ]]; then public=8080 next_port=3000; else public=$(free_base 0) next_port=$(free_base 200); fi
start() { # start INDEX: a run of instance INDEX on the next free admin port; waits for /health 200
  local i=$1 port=$next_port
  next_port=$((next_port + 1))
  PORT=$port ARBOR_INSTANCE=$i "$app" --listen "127.0.0.1:$public" >> "$tmp/$i.log" 2>&1 &
  pid[i]=$!
  "$probe" wait-200 "127.0.0.1:$port" --timeout-ms 10000
}
for ((i = 0; i < n; i++)); do start "$i"; done

"$loadc" --target "127.0.0.1:$public" --connections "${CONNECTIONS:-8}" --mode "${MODE:-mixed}" \
  --timeout-ms "${TIMEOUT_MS:-2000}" --stop-file "$tmp/stop" --max-duration-ms 900000 \
  --json "$tmp/load.json" &
load_pid=$!
sleep 0.5 # warm-up, as in reload_load.sh

durations=()
for ((r = 1; r <= rounds; r++)); do
  t0=$(date +%s%N)
  for ((i = 0; i < n; i++)); do
    old=${pid[i]}
    start "$i"
    kill -TERM "$old"
    wait "$old" || { echo "round $r: instance $i (pid $old) exited $?" >&2; exit 1; }
  done
  durations+=("$((($(date +%s%N) - t0) / 1000))")
done
sleep 0.3
touch "$tmp/stop"
wait "$load_pid"
load_pid=

field() { sed -nE "s/^  \"$1\": ([0-9.]+),?$/\1/p" "$tmp/load.json" | head -1; }
failures=$(field failures)
round_stats=$(printf '%s\n' "${durations[@]}" | "$probe" stats --scale 0.001)
json=$(printf '{"bench":"http_handoff","date":"%s","kernel":"%s","rounds":%s,"instances":%s,"netns":"%s","tcp_migrate_req":"%s","round_ms":%s,"load":%s}' \
  "$(date -u +%FT%TZ)" "$(uname -r)" "$rounds" "$n" "$netns" "$migrate" "$round_stats" "$(cat "$tmp/load.json")")
if [[ -n ${JSON_OUT:-} ]]; then echo "$json" > "$JSON_OUT"; else echo "$json"; fi
{
  echo
  echo "hand-off without arbor: $rounds rounds x $n instances ($(nproc) cores, $(uname -r))"
  printf '%-26s %s (%s/s)\n' "requests" "$(field requests)" "$(field rps)"
  printf '%-26s %s (target 0)\n' "failed requests" "$failures"
  printf '%-26s %s\n' "failures by kind" \
    "$(tr -d '\n ' < "$tmp/load.json" | sed -nE 's/.*"failures_by_kind":(\{[^}]*\}).*/\1/p')"
  printf '%-26s %s\n' "round (ms)" "$round_stats"
  printf '%-26s %s\n' "net.ipv4.tcp_migrate_req" "$migrate (private netns: $netns)"
  echo "reproduce: ${TCP_MIGRATE_REQ:+TCP_MIGRATE_REQ=$TCP_MIGRATE_REQ }bench/http/handoff.sh $build $rounds"
} >&2
[[ $failures == 0 ]] || exit 3
