#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz and runs each for a
# while on a copy of its seed corpus (tests/fuzz/corpus/<name>; the repo is
# never written: new inputs and crashes go to build-fuzz/fuzz-work/<name>).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET (60)] [TARGET...]   # default: all
#
# Prints per target: execs, execs/s, coverage (cov/ft of the last status
# line), corpus size, and any crash/leak/timeout file. Exits 1 on a finding,
# 2 on a usage or build error.
# Environment: ARBOR_FUZZ_BUILD (build dir), FUZZ_NICE (10), FUZZ_JOBS (ninja
# -j, 1), FUZZ_FRESH=1 (start from the seeds, dropping earlier work),
# FUZZ_TIMEOUT (seconds one input may take, 60: the machine may be busy),
# FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ARBOR_FUZZ_BUILD:-$root/build-fuzz}
all_targets=(config units cron tzif proto)

secs=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
  secs=$1
  shift
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [[ ! -d $root/tests/fuzz/corpus/$t ]]; then
    echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
done

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 2; }

start=$(date +%s)
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DARBOR_WERROR=ON \
    -DARBOR_FUZZ=ON -DARBOR_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
    || { echo "fuzz.sh: configure failed" >&2; exit 2; }
fi
ninja -C "$build" -j"${FUZZ_JOBS:-1}" "${targets[@]/#/fuzz-}" \
  || { echo "fuzz.sh: build failed" >&2; exit 2; }

count() { find "$1" -maxdepth 1 -type f | wc -l; }
# Artifacts of this run: crash-, leak-, timeout-, oom- (findings), slow-unit- (not).
artifacts() { find "$work/artifacts" -maxdepth 1 -type f -newer "$work/.started" -name "$1" | sort; }

findings=0
summary=()
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  [[ ${FUZZ_FRESH:-0} == 1 ]] && rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -n "$root/tests/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null || true
  dict=()
  [[ -f $root/tests/fuzz/$t.dict ]] && dict=(-dict="$root/tests/fuzz/$t.dict")
  log=$work/fuzz.log
  echo "== fuzz-$t: ${secs}s, corpus $(count "$work/corpus") files, log $log"
  touch "$work/.started"
  set +e
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  nice -n "${FUZZ_NICE:-10}" "$build/tests/fuzz/fuzz-$t" -max_total_time="$secs" \
    -print_final_stats=1 -timeout="${FUZZ_TIMEOUT:-60}" -rss_limit_mb=2048 "${dict[@]}" \
    -artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} "$work/corpus" >"$log" 2>&1 </dev/null
  rc=$?
  set -e
  status=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
  new=$(sed -nE 's/^stat::new_units_added: *([0-9]+)/\1/p' "$log")
  size=$(count "$work/corpus")
  found=$(artifacts '*' | grep -E '/(crash|leak|timeout|oom)-' | tr '\n' ' ' || true)
  slow=$(artifacts 'slow-unit-*' | tr '\n' ' ')
  line="fuzz-$t: execs=${execs:-?} execs/s=${rate:-?} cov=${cov:-?} ft=${ft:-?} corpus=$size (+${new:-?}) rc=$rc"
  [[ -n $slow ]] && line+=" slow: $slow"
  if [[ $rc -ne 0 || -n $found ]]; then
    findings=1
    line+=" FINDING: ${found:-see $log}"
    grep -m3 -E 'ERROR: |runtime error:|fuzz invariant failed' "$log" || true
  fi
  echo "$line"
  summary+=("$line")
done

echo "== summary ($(($(date +%s) - start))s)"
printf '%s\n' "${summary[@]}"
exit "$findings"
