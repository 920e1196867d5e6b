#!/usr/bin/env bash
# Crash → first successful HTTP response, under arbor, for the example app:
# SIGKILL one instance (pid from `arbor status --json`), then GET its own
# /health port on a new connection every 1 ms until a 200. The clock starts
# just before the kill; it covers the kernel tearing the process down, arbor
# respawning it, the app starting (dynamic loading, httplib, bind) and the
# first request. Instances are killed in turn; each is killed only once it is
# ready and up longer than min_uptime (so no backoff applies).
#
#   bench/http/http_recovery.sh BUILD_DIR [ROUNDS]            (default 60)
#
# Environment: JSON_OUT (write the JSON there; default: print it on stdout),
# INTERVAL_US (1000), MIN_UPTIME_MS (the config's min_uptime, 1000) + 200 ms
# margin, NETNS (1; 0 = this network namespace with free ports), KEEP_TMP=1.
# The human summary goes to stderr. Exit 0, or 1 on an error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: http_recovery.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-60}
interval_us=${INTERVAL_US:-1000}
settle_ms=$((${MIN_UPTIME_MS:-1000} + 200))
source "$here/lib.sh"
http_check_binaries
http_enter_netns "$@"

trap http_cleanup EXIT
trap 'exit 130' INT TERM
http_setup
http_wait_ready "$instances" 30

first_ok=()
dead=()
for ((r = 0; r < rounds; r++)); do
  victim=$((r % instances))
  # The victim must be ready and stable; the others may still be starting.
  deadline=$((SECONDS + 30))
  pid=0
  while ((SECONDS < deadline)); do
    line=$(http_instances | awk -F'\t' -v i="$victim" '$2 == i')
    IFS=$'\t' read -r _ _ state pid up _ <<<"$line"
    if [[ ($state == ready || $state == running) && $pid -gt 0 && $up -ge $settle_ms ]] &&
      "$probe" wait-200 "127.0.0.1:$((admin_base + victim))" --timeout-ms 50 2>/dev/null; then
      break
    fi
    pid=0
    sleep 0.02
  done
  ((pid > 0)) || { echo "instance #$victim not stable within 30 s" >&2; "$arbor" status web >&2; exit 1; }
  out=$("$probe" kill-poll "$pid" "127.0.0.1:$((admin_base + victim))" --path /health \
    --interval-us "$interval_us" --timeout-ms 10000) || { echo "round $r: $out" >&2; exit 1; }
  first_ok+=("$(sed -nE 's/.*"first_ok_us":([0-9]+).*/\1/p' <<<"$out")")
  dead+=("$(sed -nE 's/.*"dead_us":([0-9]+).*/\1/p' <<<"$out")")
done

ok_stats=$(printf '%s\n' "${first_ok[@]}" | "$probe" stats --scale 0.001)
dead_stats=$(printf '%s\n' "${dead[@]}" | "$probe" stats --scale 0.001)
json=$(printf '{"bench":"http_recovery","date":"%s","kernel":"%s","cores":%s,"rounds":%s,"instances":%s,"interval_us":%s,"netns":"%s","first_ok_ms":%s,"dead_ms":%s,"raw_first_ok_us":[%s]}' \
  "$(date -u +%FT%TZ)" "$(uname -r)" "$(nproc)" "$rounds" "$instances" "$interval_us" "$netns" \
  "$ok_stats" "$dead_stats" "$(IFS=,; echo "${first_ok[*]}")")
if [[ -n ${JSON_OUT:-} ]]; then
  echo "$json" > "$JSON_OUT"
else
  echo "$json"
fi

{
  echo
  echo "crash -> first HTTP 200, example app under arbor ($(nproc) cores, $(uname -r), $(date -u +%F))"
  printf '%-30s %s\n' "SIGKILL -> first 200 (ms)" "$ok_stats"
  printf '%-30s %s\n' "SIGKILL -> process gone (ms)" "$dead_stats"
  printf '%-30s %s\n' "rounds / poll interval" "$rounds / ${interval_us} us (new connection each)"
  [[ -n ${JSON_OUT:-} ]] && echo "json: $JSON_OUT"
  echo "reproduce: bench/http/http_recovery.sh $build $rounds"
} >&2
