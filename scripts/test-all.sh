#!/usr/bin/env bash
# make test: every suite, in two streams that share the machine. The integration suite (the longest, about half of
# the CPU time) runs in one stream; lint, docs-check, unit, sanity, the emulator's suite, build-check and Molecule
# run one after another in the other. Run one by one, the suites left a core idle for about a third of the time
# (single-threaded linters, the emulator suite's waits, the tails of the parallel suites); side by side they keep
# both cores busy. Each suite's output goes to build/test/<suite>.log and is printed in one piece when the suite
# ends; every suite runs even when another fails, and the exit code is non-zero when any failed.
# Usage: scripts/test-all.sh [--streams 1|2]   (TEST_STREAMS=1: every suite one after another, as before)
set -uo pipefail
cd "$(dirname "$0")/.."
streams=${TEST_STREAMS:-2}
if [ "${1:-}" = "--streams" ]; then streams=${2:-2}; fi
case "$streams" in 1 | 2) ;; *) echo "test-all.sh: --streams must be 1 or 2, not '$streams'" >&2; exit 2 ;; esac

checks=(lint docs-check unit sanity emulator-test build-check molecule)
log_dir=build/test
rm -rf "$log_dir" && mkdir -p "$log_dir"
started=$SECONDS

run_suite() {  # run_suite <suite>: make <suite> into its log; prints the log and the result when it ends
  local suite=$1 begun=$SECONDS status
  make --no-print-directory "$suite" >"$log_dir/$suite.log" 2>&1
  status=$?
  echo "$suite $status $((SECONDS - begun))" >>"$log_dir/results"
  {
    echo "== make $suite"
    cat "$log_dir/$suite.log"
    if [ "$status" -eq 0 ]; then
      echo "== make $suite: passed in $((SECONDS - begun)) s"
    else
      echo "== make $suite: FAILED (exit $status) after $((SECONDS - begun)) s"
    fi
  } | (flock 9; cat) 9>"$log_dir/print.lock"
  return "$status"
}

run_stream() {  # run_stream <suite>...: the suites one after another, all of them whatever fails
  local suite
  for suite in "$@"; do run_suite "$suite"; done
  return 0
}

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap 'stop_all; exit 130' INT TERM

if [ "$streams" -eq 2 ]; then
  set -m  # each stream in a process group of its own, so that Ctrl-C stops every process under it
  run_stream integration &
  pids+=($!)
  run_stream "${checks[@]}" &
  pids+=($!)
  set +m
  wait
else
  run_stream "${checks[@]}" integration
fi

failed=()
echo "== make test: suites (seconds, wall time of each; the two streams overlap)"
while read -r suite status seconds; do
  printf '  %-14s %5s s  %s\n' "$suite" "$seconds" "$([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)")"
  [ "$status" -eq 0 ] || failed+=("$suite")
done <"$log_dir/results"
count=$(wc -l <"$log_dir/results")
if [ "$count" -ne $((${#checks[@]} + 1)) ]; then
  echo "make test: only $count of $((${#checks[@]} + 1)) suites ran" >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "make test: FAILED: ${failed[*]} (logs in $log_dir/) after $((SECONDS - started)) s" >&2
  exit 1
fi
echo "make test: all suites passed in $((SECONDS - started)) s"
