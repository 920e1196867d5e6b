#!/usr/bin/env bash
# install_embed.sh BUILD_DIR SOURCE_DIR
#
# Installs an already-built arbor (BUILD_DIR) into a temporary prefix, checks
# the installed files, builds SOURCE_DIR/examples/embed against the package
# (find_package(arbor) from outside the tree, -Werror), runs it with a bad
# config (every file:line:col reported, exit 2) and for real (two supervised
# workers, "embed_demo: saw 3 crashes", exit 0), and removes everything.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
cmake_bin=${CMAKE_COMMAND:-cmake}

work=$(mktemp -d "${TMPDIR:-/tmp}/arbor-install.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
prefix=$work/prefix
fail() {
  echo "install_embed: FAIL: $*" >&2
  exit 1
}
step() { echo "install_embed: $* ($(( SECONDS ))s)"; }

step "installing $build_dir into $prefix"
"$cmake_bin" --install "$build_dir" --prefix "$prefix" >"$work/install.log" \
  || { cat "$work/install.log" >&2; fail "cmake --install"; }

# What an embedder and a user of the CLI get.
config=$(find "$prefix" -name arborConfig.cmake -print -quit)
[[ -n $config ]] || fail "no arborConfig.cmake under $prefix"
pkgdir=$(dirname "$config")
for f in "$pkgdir/arborConfigVersion.cmake" "$pkgdir/arborTargets.cmake" \
         "$pkgdir/modules/FindCAF.cmake" "$prefix/include/arbor/arbor.hpp" \
         "$prefix/include/arbor/tree.hpp" "$prefix/include/arbor/messages.hpp"; do
  [[ -f $f ]] || fail "not installed: ${f#"$prefix"/}"
done
[[ -n $(find "$prefix" -name libarbor_core.a -print -quit) ]] || fail "libarbor_core.a not installed"
for exe in arbor arbor-daemon; do
  [[ -x $prefix/bin/$exe ]] || fail "bin/$exe not installed"
done
# The public headers must not leak the implementation's libraries.
if grep -lE '#include *[<"](toml\+\+|spdlog|fmt/|httplib|nlohmann)' "$prefix"/include/arbor/*.hpp; then
  fail "a public header includes toml++/spdlog/fmt/httplib/nlohmann"
fi
"$prefix/bin/arbor" --help >/dev/null || fail "installed bin/arbor does not run"
module=$(find "$prefix" -path '*/arbor/libarbor-http.so' -print -quit)
[[ -n $module ]] || fail "libarbor-http.so not installed under <libdir>/arbor"
# toml++ is linked into arbor::core: no other module is installed.
[[ $(find "$prefix" -name '*.so' | wc -l) -eq 1 ]] || fail "a module besides libarbor-http.so"

step "the installed daemon loads the installed HTTP module ([metrics])"
# The daemon must find <prefix>/<libdir>/arbor/libarbor-http.so from its own
# location.
mkdir -p "$work/home"
# A port nothing listens on now (/proc/net/tcp*: local port in hex, state 0A).
listening=" "
for f in /proc/net/tcp /proc/net/tcp6; do
  [[ -r $f ]] || continue
  while read -r _ local _ st _; do
    if [[ $st == 0A ]]; then listening+="$((16#${local##*:})) "; fi
  done < <(tail -n +2 "$f")
done
port=$((20000 + RANDOM % 30000))
while [[ $listening == *" $port "* ]]; do port=$((port + 1)); done
printf '[metrics]\nlisten = "127.0.0.1:%s"\n[idle]\ncommand = "sleep 600"\n' "$port" >"$work/metrics.toml"
ARBOR_HOME="$work/home" "$prefix/bin/arbor" up "$work/metrics.toml" \
  >"$work/up.out" 2>&1 || { cat "$work/up.out" >&2; fail "arbor up (installed)"; }
daemon_pid=$(cat "$work/home/arbor.pid")
for _ in $(seq 1 200); do # the log line comes right after start; 10 s at most
  grep -q 'event=metrics_listening' "$work/home/daemon.log" && break
  sleep 0.05
done
grep -q 'event=metrics_listening' "$work/home/daemon.log" \
  || { cat "$work/home/daemon.log" >&2; kill "$daemon_pid"; fail "installed daemon serves no metrics"; }
grep -q "$module" "/proc/$daemon_pid/maps" \
  || { kill "$daemon_pid"; fail "the daemon did not map $module"; }
ARBOR_HOME="$work/home" "$prefix/bin/arbor" down >/dev/null || fail "arbor down (installed)"

step "configuring examples/embed against the package"
# A clean environment for find_package: only the temporary prefix (and the
# system), never the build tree.
"$cmake_bin" -S "$source_dir/examples/embed" -B "$work/build" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >"$work/configure.log" 2>&1 \
  || { cat "$work/configure.log" >&2; fail "configuring examples/embed"; }
found=$(sed -n 's/^arbor_DIR:PATH=//p' "$work/build/CMakeCache.txt")
[[ $found == "$pkgdir" ]] || fail "find_package(arbor) used '$found', not the installed $pkgdir"

step "building examples/embed"
"$cmake_bin" --build "$work/build" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "building examples/embed"; }
if grep -q "warning:" "$work/build.log"; then
  cat "$work/build.log" >&2
  fail "warnings building examples/embed"
fi
demo=$work/build/embed_demo
[[ -x $demo ]] || fail "no embed_demo built"

step "running embed_demo with a broken config"
cat >"$work/bad.toml" <<'EOF'
[crasher]
command = "true"
restart = "sometimes"
instances = "two"
EOF
set +e
timeout 30 "$demo" "$work/bad.toml" >"$work/bad.out" 2>&1
rc=$?
set -e
cat "$work/bad.out"
[[ $rc -eq 2 ]] || fail "embed_demo with a bad config exited $rc, want 2"
# Both problems, each with its position.
[[ $(grep -cE "bad\.toml:[0-9]+:[0-9]+: " "$work/bad.out") -ge 2 ]] \
  || fail "load_config did not report every file:line:col"

step "running embed_demo"
set +e
timeout 60 "$demo" >"$work/run.out" 2>&1
rc=$?
set -e
cat "$work/run.out"
[[ $rc -eq 0 ]] || fail "embed_demo exited $rc"
grep -q "^embed_demo: saw 3 crashes$" "$work/run.out" || fail "no 'saw 3 crashes'"
grep -q "event=child_exited .*offender=crasher#0 reason=\"exit(3)\"" "$work/run.out" \
  || fail "no child_exited event of crasher#0 with exit(3)"
# arbor's own lines through the logger the service handed it (set_logger).
grep -qE '^embed_demo\[arbor\] info supervisor=[^ ]+ event=child_started .*offender=crasher#0' "$work/run.out" \
  || fail "no event line through the service's spdlog logger"
grep -q "^embed_demo: scaled sleeper from 1 to 2$" "$work/run.out" || fail "scale by message"
grep -q "^embed_demo: status sleeper .*instances=2" "$work/run.out" \
  || fail "status does not show two sleeper instances"
# Stopping the tree must not leave the workers behind (pids from the
# service's own event lines; arbor's lines through its logger repeat them).
pids=$(sed -nE 's/^embed_demo: event=child_started .*offender=sleeper#[0-9]+ pid=([0-9]+).*/\1/p' \
         "$work/run.out")
[[ $(wc -w <<<"$pids") -eq 2 ]] || fail "want 2 sleeper starts, got: $pids"
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null && grep -q '^sleep' "/proc/$pid/cmdline" 2>/dev/null; then
    fail "sleeper pid $pid survived the tree"
  fi
done

step "ok"
