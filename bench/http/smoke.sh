#!/usr/bin/env bash
# Smoke test: the example HTTP app works under a real arbor daemon.
#
#   bench/http/smoke.sh BUILD_DIR
#
# Checks: all instances become ready; the shared address is served by several
# instances; each instance's own port answers as that instance; `arbor stop`
# lets requests in flight finish (200) and every instance exits 0; and, when
# this arbor has `reload`, one reload under load fails no request and
# replaces every pid (run with net.ipv4.tcp_migrate_req=1 in a private netns
# unless TCP_MIGRATE_REQ says otherwise). Prints "N passed, M failed"; exit 1
# if any check failed. Takes about 10 s.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: smoke.sh BUILD_DIR}" && pwd)
source "$here/lib.sh"
http_check_binaries
export TCP_MIGRATE_REQ=${TCP_MIGRATE_REQ:-1}
http_enter_netns "$@"
[[ $netns == yes ]] || TCP_MIGRATE_REQ= # not ours to change outside a private netns

passed=0 failed=0
check() { # check NAME CMD...: runs CMD, counts and reports
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok    $name"
  else
    failed=$((failed + 1))
    echo "FAIL  $name"
  fi
}
json_num() { sed -nE "s/^  \"$2\": ([0-9]+),?$/\1/p" "$1" | head -1; }

trap http_cleanup EXIT
trap 'exit 130' INT TERM
http_setup
check "all $instances instances ready within 20 s" http_wait_ready "$instances" 20

shared_pids() {
  "$loadc" --target "127.0.0.1:$public_port" --connections 4 --mode fresh --duration-ms 300 \
    --json "$home/shared.json" || return 1
  local n
  n=$(tr -d '\n ' < "$home/shared.json" | sed -nE 's/.*"responses_by_pid":\{([^}]*)\}.*/\1/p' |
    tr ',' '\n' | grep -c ':' || true)
  [[ $(json_num "$home/shared.json" failures) == 0 && $n -ge 2 ]]
}
check "the shared address is served by >= 2 instances, no failure" shared_pids

own_ports() {
  local id index state pid rest body
  while IFS=$'\t' read -r id index state pid rest; do
    body=$("$loadc" --target "127.0.0.1:$((admin_base + index))" --connections 1 --mode fresh \
      --duration-ms 1 | tr -d '\n ' | sed -nE 's/.*"responses_by_pid":\{"([0-9]+)".*/\1/p')
    [[ $body == "$pid" ]] || { echo "  $id: port $((admin_base + index)) answered pid '$body', status says $pid"; return 1; }
    "$probe" wait-200 "127.0.0.1:$((admin_base + index))" --path /health --timeout-ms 1000 || return 1
  done < <(http_instances)
}
check "instance i answers on PORT=$admin_base+i as itself, /health 200" own_ports

if "$arbor" reload --help >/dev/null 2>&1; then
  reload_clean() {
    local before after
    before=$(http_instances | cut -f4 | sort)
    "$loadc" --target "127.0.0.1:$public_port" --connections 4 --mode mixed --stop-file "$home/stop" \
      --max-duration-ms 60000 --json "$home/reload.json" &
    load_pid=$!
    sleep 0.2
    "$arbor" reload web >/dev/null || { echo "  arbor reload web failed"; }
    touch "$home/stop"
    wait "$load_pid"
    load_pid=
    after=$(http_instances | cut -f4 | sort)
    echo "  requests $(json_num "$home/reload.json" requests), failures $(json_num "$home/reload.json" failures) (tcp_migrate_req=$migrate)"
    [[ $(json_num "$home/reload.json" failures) == 0 && -z $(comm -12 <(echo "$before") <(echo "$after")) ]]
  }
  check "arbor reload web under load: 0 failed requests, every pid replaced" reload_clean
else
  echo "skip  reload under load: this arbor has no 'reload' verb yet"
fi

graceful_stop() {
  # Three slow requests in flight when the stop begins: each must still get its 200.
  "$loadc" --target "127.0.0.1:$public_port" --path '/slow?ms=1500' --connections 3 --mode fresh \
    --duration-ms 200 --timeout-ms 5000 --json "$home/slow.json" &
  load_pid=$!
  sleep 0.2
  "$arbor" stop web >/dev/null
  wait "$load_pid"
  load_pid=
  local bad
  bad=$(http_instances | awk -F'\t' '$7 !~ /exit\(0\)/')
  [[ -z $bad ]] || echo "  not exit(0): $bad"
  [[ $(json_num "$home/slow.json" requests) -ge 3 && $(json_num "$home/slow.json" failures) == 0 && -z $bad ]]
}
check "arbor stop: requests in flight finish with 200, every instance exits 0" graceful_stop

echo "$passed passed, $failed failed"
((failed == 0))
