# Shared by bench/http/*.sh (sourced, not run). Sets up a private network
# namespace, a temp ARBOR_HOME running the example app's config, waits for
# readiness, and cleans up every process it started, by pid.
#
# Callers set: build (absolute build dir), here (this directory). Provides:
# http_enter_netns "$@", http_setup, http_instances, http_wait_ready N,
# http_cleanup, and the variables arbor, probe, loadc, home, cfg,
# public_port, admin_base, instances, netns, migrate.

src_root=$(cd "$here/../.." && pwd)
arbor=$build/arbor
probe=$build/bench/http/bench-http-probe
loadc=$build/bench/http/bench-http-load
app_dir=$build/examples/http_app
example_cfg=$src_root/examples/http_app/arbor.toml

http_check_binaries() {
  local missing=()
  for b in "$arbor" "$build/arbor-daemon" "$app_dir/arbor-example-http" "$probe" "$loadc"; do
    [[ -x $b ]] || missing+=("$b")
  done
  if ((${#missing[@]})); then
    echo "missing: ${missing[*]}" >&2
    echo "build first: ninja -C $build arbor arbor-daemon arbor-example-http bench-http-load bench-http-probe" >&2
    exit 1
  fi
}

# Re-runs the calling script in a new network namespace (own loopback, so the
# example's fixed ports cannot collide with anything else on the machine, and
# net.ipv4.tcp_migrate_req can be set for this run only). NETNS=0 opts out.
# TCP_MIGRATE_REQ=0|1 sets the sysctl there (default: leave it as it is).
http_enter_netns() {
  if [[ ${NETNS:-1} != 0 && -z ${ARBOR_HTTP_NETNS:-} ]]; then
    if unshare -n true 2>/dev/null; then
      ARBOR_HTTP_NETNS=1 exec unshare -n -- bash "$0" "$@"
    fi
    echo "note: cannot create a network namespace (unshare -n): running in this one" >&2
  fi
  netns=no
  if [[ -n ${ARBOR_HTTP_NETNS:-} ]]; then
    netns=yes
    ip link set lo up
  fi
  if [[ -n ${TCP_MIGRATE_REQ:-} ]]; then
    if ! echo "$TCP_MIGRATE_REQ" > /proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null; then
      echo "cannot set net.ipv4.tcp_migrate_req=$TCP_MIGRATE_REQ (needs root; Linux >= 5.14)" >&2
      exit 1
    fi
  fi
  migrate=$(cat /proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null || echo n/a)
}

# A free TCP port range [p, p+n] on 127.0.0.1 (only outside a private netns).
free_base() {
  local n=$1 p i busy
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    busy=0
    for ((i = 0; i <= n; i++)); do
      [[ -n $(ss -Htln "sport = :$((p + i))" 2>/dev/null) ]] && { busy=1; break; }
    done
    ((busy)) || { echo "$p"; return; }
  done
  echo "no free port range found" >&2
  exit 1
}

# Temp ARBOR_HOME and its copy of the example config (ports moved to free
# ones when sharing the machine's network namespace), then `arbor up`.
http_setup() {
  home=$(mktemp -d /tmp/arbor-bench-http.XXXXXX)
  export ARBOR_HOME=$home NO_COLOR=1
  export PATH=$app_dir:$PATH # the config's command is found through PATH
  cfg=$home/arbor.toml
  cp "$example_cfg" "$cfg"
  instances=$(sed -nE 's/^instances *= *([0-9]+).*/\1/p' "$cfg" | head -1)
  admin_base=$(sed -nE 's/^port *= *([0-9]+).*/\1/p' "$cfg" | head -1)
  public_port=$(sed -nE 's/.*--listen 127\.0\.0\.1:([0-9]+).*/\1/p' "$cfg" | head -1)
  if [[ -z $instances || -z $admin_base || -z $public_port ]]; then
    echo "cannot read instances/port/--listen from $example_cfg" >&2
    exit 1
  fi
  if [[ $netns == no ]]; then
    local base
    base=$(free_base "$instances")
    sed -i -E "s/^port *= *[0-9]+/port = $((base + 1))/; s/--listen 127\.0\.0\.1:[0-9]+/--listen 127.0.0.1:$base/" "$cfg"
    public_port=$base admin_base=$((base + 1))
  fi
  "$arbor" up "$cfg" >/dev/null
  daemon_pid=$(cat "$home/arbor.pid" 2>/dev/null || true)
}

# One line per instance of `web`: id index state pid uptime_ms restarts last_exit.
http_instances() { "$arbor" status --json web 2>/dev/null | "$probe" instances; }

# Waits (at most ${2:-30} s) until `web` has N instances, each ready: state
# `ready`, or `running` and answering 200 on its /health (for an arbor
# without readiness), and up for at least ${3:-0} ms.
http_wait_ready() {
  local want=$1 deadline=$((SECONDS + ${2:-30})) min_up=${3:-0}
  while ((SECONDS < deadline)); do
    local ok=0 id index state pid up restarts
    while IFS=$'\t' read -r id index state pid up restarts; do
      [[ $state == ready || $state == running ]] || continue
      ((up >= min_up)) || continue
      if [[ $state == running ]]; then
        "$probe" wait-200 "127.0.0.1:$((admin_base + index))" --timeout-ms 50 2>/dev/null || continue
      fi
      ok=$((ok + 1))
    done < <(http_instances)
    ((ok >= want)) && return 0
    sleep 0.02
  done
  echo "timeout: web not ready ($want instances); status:" >&2
  "$arbor" status web >&2 || true
  return 1
}

# Stops what this run started: the load client, the tree (`arbor down`,
# bounded), then SIGKILL by pid for anything left (daemon, instances).
http_cleanup() {
  local rc=$?
  set +e
  [[ -n ${load_pid:-} ]] && kill -TERM "$load_pid" 2>/dev/null && wait "$load_pid" 2>/dev/null
  if [[ -n ${home:-} && -d $home ]]; then
    local pids
    pids=$(http_instances 2>/dev/null | cut -f4 | grep -v '^0$')
    timeout 20 "$arbor" down >/dev/null 2>&1
    [[ -n ${daemon_pid:-} ]] && kill -9 "$daemon_pid" 2>/dev/null
    for p in $pids; do kill -9 -- "-$p" "$p" 2>/dev/null; done
    [[ ${KEEP_TMP:-0} == 1 ]] && echo "kept $home" >&2 || rm -rf "$home"
  fi
  exit "$rc"
}
