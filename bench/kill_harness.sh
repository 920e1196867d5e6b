#!/usr/bin/env bash
# The randomized kill harness at length: SIGKILL the daemon at TRIALS random
# points during each scenario, `arbor up`, and check by the environment
# marker (/proc/<pid>/environ: ARBOR_HOME, ARBOR_APP, ARBOR_INSTANCE) that
# every app runs exactly its instances, no numbered line is lost or doubled,
# and after `down` nothing of the home is alive (tests/kill/).
#
#   bench/kill_harness.sh [BUILD_DIR]          (default: ./build)
#
# Environment:
#   TRIALS (200)        trials per scenario
#   SCENARIOS (all)     of: storm reload reload-aborted scale apply flood
#   SEED (random)       the RNG seed; printed, and the same seed replays the
#                       same kill points (timing on a shared machine varies)
#   FIRST_TRIAL (0)     replay from trial k: FIRST_TRIAL=k TRIALS=1
#   SETTLE_MS (8000)    how long a tree may take to settle after `up`
# Prints every violation (scenario, seed, trial, what was doubled, orphaned,
# missing, untracked or lost, with pids and command lines), one summary line
# per scenario (trials, violations) and the command to reproduce.
# Exit status: 0 no violation, 3 violations, 1 the harness could not run.
set -euo pipefail

build=${1:-build}
bin=$build/tests/kill_tests
[[ -x $bin ]] || {
  echo "kill_harness: $bin missing: cmake --build $build --target kill_tests" >&2
  exit 1
}
trials=${TRIALS:-200}
scenarios=${SCENARIOS:-storm reload reload-aborted scale apply flood}
scenarios=${scenarios//,/ }
seed=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
first=${FIRST_TRIAL:-0}
settle=${SETTLE_MS:-8000}

echo "kill_harness: TRIALS=$trials SEED=$seed FIRST_TRIAL=$first SCENARIOS=\"$scenarios\"" \
  "($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
summary=()
status=0
for s in $scenarios; do
  start=$(date +%s)
  lines=$(mktemp)
  report=$(mktemp)
  # The harness's own lines (violations, summary) on stdout; Catch's report,
  # which repeats them, to a file shown only when no summary came.
  rc=0
  KILL_TRIALS=$trials KILL_SEED=$seed KILL_FIRST_TRIAL=$first KILL_SETTLE_MS=$settle \
    "$bin" "[kill][$s]" --out "$report" | tee "$lines" || rc=$?
  line=$(grep -E "^kill-harness scenario=$s trials=" "$lines" || true)
  if [[ -z $line ]]; then
    tail -n 40 "$report" >&2
    line="kill-harness scenario=$s: no summary (exit $rc)"
  fi
  rm -f "$lines" "$report"
  summary+=("$line  [$(($(date +%s) - start)) s]")
  ((rc == 0)) || status=3
done
echo
echo "kill_harness: summary (SEED=$seed TRIALS=$trials)"
printf '%s\n' "${summary[@]}"
echo "reproduce: SEED=$seed TRIALS=$trials FIRST_TRIAL=$first SCENARIOS=\"$scenarios\" bench/kill_harness.sh $build"
exit $status
