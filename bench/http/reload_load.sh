#!/usr/bin/env bash
# Zero-downtime check of `arbor reload`: bench-http-load hammers the example
# app (examples/http_app, 3 instances on one SO_REUSEPORT address) over
# loopback while `arbor reload web` runs RELOADS times in sequence. Prints
# requests, failures (target 0) and reload durations; writes JSON.
#
#   bench/http/reload_load.sh BUILD_DIR [RELOADS]          (default RELOADS=10)
#
# Environment: CONNECTIONS (8), MODE (mixed: keepalive|fresh|mixed),
# TIMEOUT_MS (2000, per request), VERB (reload; `restart` to compare),
# TCP_MIGRATE_REQ (0|1: set net.ipv4.tcp_migrate_req in the private netns),
# NETNS (1; 0 = use this network namespace with free ports), JSON_OUT
# (default BUILD_DIR/bench/http/reload_load.json), KEEP_TMP=1.
# Exit: 0 when no request failed, 3 when some did, 1 on an error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: reload_load.sh BUILD_DIR [RELOADS]}" && pwd)
reloads=${2:-10}
source "$here/lib.sh"
http_check_binaries
http_enter_netns "$@"

verb=${VERB:-reload}
if [[ $verb == reload ]] && ! "$arbor" reload --help >/dev/null 2>&1; then
  echo "WARNING: this arbor has no 'reload' verb yet: using 'arbor restart web' instead" >&2
  echo "         (a restart stops every instance before starting them: failures are expected)" >&2
  verb=restart
fi
json_out=${JSON_OUT:-$build/bench/http/reload_load.json}

trap http_cleanup EXIT
trap 'exit 130' INT TERM
http_setup
http_wait_ready "$instances" 30

pids_before=$(http_instances | cut -f4 | tr '\n' ' ')
"$loadc" --target "127.0.0.1:$public_port" --connections "${CONNECTIONS:-8}" \
  --mode "${MODE:-mixed}" --timeout-ms "${TIMEOUT_MS:-2000}" --stop-file "$home/stop" \
  --max-duration-ms 900000 --json "$home/load.json" &
load_pid=$!
sleep 0.5 # warm-up: the client runs alone for a moment before the first reload

durations=()
aborted=0
for ((r = 1; r <= reloads; r++)); do
  t0=$(date +%s%N)
  if ! out=$("$arbor" "$verb" web 2>&1); then
    aborted=$((aborted + 1))
    echo "reload $r: '$verb web' failed: $out" >&2
  fi
  t1=$(date +%s%N)
  durations+=("$(((t1 - t0) / 1000))")
  # `reload` returns once done; after `restart` wait for readiness so every
  # cycle starts from a full set of ready instances.
  http_wait_ready "$instances" 30
  echo "reload $r/$reloads: $(((t1 - t0) / 1000000)) ms" >&2
done
sleep 0.3 # the client goes on a moment after the last reload
touch "$home/stop"
wait "$load_pid"
load_pid=
pids_after=$(http_instances | cut -f4 | tr '\n' ' ')

field() { sed -nE "s/^  \"$1\": ([0-9.]+),?$/\1/p" "$home/load.json" | head -1; }
requests=$(field requests)
failures=$(field failures)
rps=$(field rps)
reload_stats=$(printf '%s\n' "${durations[@]}" | "$probe" stats --scale 0.001)
kinds=$(tr -d '\n ' < "$home/load.json" | sed -nE 's/.*"failures_by_kind":(\{[^}]*\}).*/\1/p')
lat=$(tr -d '\n ' < "$home/load.json" | sed -nE 's/.*"latency_ms":(\{[^}]*\}).*/\1/p')

mkdir -p "$(dirname "$json_out")"
{
  printf '{"bench":"http_reload_load","date":"%s","kernel":"%s","cores":%s,' \
    "$(date -u +%FT%TZ)" "$(uname -r)" "$(nproc)"
  printf '"verb":"%s","reloads":%s,"aborted":%s,"instances":%s,' "$verb" "$reloads" "$aborted" "$instances"
  printf '"netns":"%s","tcp_migrate_req":"%s","pids_before":"%s","pids_after":"%s",' \
    "$netns" "$migrate" "${pids_before% }" "${pids_after% }"
  printf '"reload_ms":%s,"load":' "$reload_stats"
  cat "$home/load.json"
  printf '}\n'
} > "$json_out"

echo
echo "arbor $verb under HTTP load ($(nproc) cores, $(uname -r), $(date -u +%F))"
printf '%-34s %s\n' "reloads (aborted)" "$reloads ($aborted)"
printf '%-34s %s\n' "requests" "$requests ($rps/s, ${CONNECTIONS:-8} connections, ${MODE:-mixed})"
printf '%-34s %s (target 0)\n' "failed requests" "$failures"
printf '%-34s %s\n' "failures by kind" "$kinds"
printf '%-34s %s\n' "request latency (ms)" "$lat"
printf '%-34s %s\n' "$verb duration (ms)" "$reload_stats"
printf '%-34s %s\n' "net.ipv4.tcp_migrate_req" "$migrate (private netns: $netns)"
printf '%-34s %s -> %s\n' "instance pids" "${pids_before% }" "${pids_after% }"
echo "json: $json_out"
echo "reproduce: ${TCP_MIGRATE_REQ:+TCP_MIGRATE_REQ=$TCP_MIGRATE_REQ }${VERB:+VERB=$VERB }bench/http/reload_load.sh $build $reloads"
[[ $failures == 0 && $aborted == 0 ]] || exit 3
