#!/usr/bin/env bash
# make molecule: run every Molecule scenario under molecule/ against local Azure emulators, in lanes.
# Each lane starts an emulator, exports its env.sh (AZURE_* credentials, CA bundle), runs its scenarios' full test
# sequence (create, [prepare,] check, converge, idempotence, verify, destroy), stops its emulator.
# No destroy before a scenario: its lane's emulator starts empty and every scenario ends with destroy (Molecule
# destroys also when a step fails). No syntax step: make lint's ansible-lint syntax-checks every scenario playbook.
# Exits non-zero when any scenario fails (all scenarios still run).  Usage: scripts/molecule-all.sh [scenario...]
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=$repo/.venv/bin
export PATH="$bin:$PATH"
# Molecule writes its own ansible.cfg in an ephemeral directory; these keep complianceflow.azure_infra resolving
# to this working tree there too, and keep Molecule from installing the collection into a cache.
export ANSIBLE_COLLECTIONS_PATH="$repo/collections"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 MOLECULE_NO_LOG=false

scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  for dir in molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$dir")")"); done
fi

# Scenarios run in lanes (MOLECULE_LANES, default 2: the machine's cores), each lane with an emulator of its own,
# because every scenario builds the same deployments (the repository's inventories). A lane takes the next
# scenario from a shared queue when it is free, longest first, so that the lanes end together: by the durations of
# the last run in this tree (build/molecule/durations), else by how many roles the scenario runs. A scenario's
# output is printed when it ends, in one piece. A state directory of its own per lane and run: a second
# `make molecule` in the same tree must not replace this emulator's CA certificate and credentials under its feet.
lanes=${MOLECULE_LANES:-2}
[ "$lanes" -ge 1 ] 2>/dev/null || lanes=1
[ "$lanes" -gt ${#scenarios[@]} ] && lanes=${#scenarios[@]}
mkdir -p "$repo/build/molecule"
run_dir=$(mktemp -d "$repo/build/molecule/run.XXXXXX")
durations=$repo/build/molecule/durations
weight() {  # weight <scenario>: seconds it took last time, else its number of roles (fewer than any duration)
  local last
  last=$(awk -v s="$1" '$1 == s {print $2}' "$durations" 2>/dev/null | tail -1)
  if [ -n "$last" ]; then echo "$last"; else cat "molecule/$1"/*.yml 2>/dev/null | grep -c "role:"; fi
}
for scenario in "${scenarios[@]}"; do echo "$(weight "$scenario") $scenario"; done | sort -rn -k1,1 | awk '{print $2}' \
  >"$run_dir/queue"
next_scenario() {  # pops the queue's first line under a lock; prints nothing when it is empty
  (
    flock 9
    head -n 1 "$run_dir/queue"
    sed -i 1d "$run_dir/queue"
  ) 9>"$run_dir/queue.lock"
}
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$run_dir"
  return 0
}
trap stop_all EXIT

lane() {  # lane <number>: one emulator, scenarios from the queue one after another
  local number=$1 state=$run_dir/emulator.$1 log=$run_dir/emulator.$1.log scenario emulator_pid
  mkdir -p "$state"
  "$bin/python" -m tests.emulator serve --state-dir "$state" --port 0 --strict-schema >"$log" 2>&1 &
  emulator_pid=$!
  trap 'kill -TERM $emulator_pid 2>/dev/null; wait $emulator_pid 2>/dev/null' EXIT
  for _ in $(seq 1 150); do
    [ -f "$state/env.sh" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || { echo "lane $number: the emulator exited:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  [ -f "$state/env.sh" ] || { echo "lane $number: the emulator did not start within 30 s" >&2; cat "$log" >&2; exit 1; }
  # shellcheck disable=SC1090,SC1091
  source "$state/env.sh"
  while scenario=$(next_scenario) && [ -n "$scenario" ]; do
    local started=$SECONDS
    echo "== molecule test -s $scenario (lane $number, emulator $AZURE_CLOUD_ENVIRONMENT)" >"$run_dir/$scenario.log"
    if "$bin/molecule" test -s "$scenario" >>"$run_dir/$scenario.log" 2>&1; then
      echo "ok" >"$run_dir/$scenario.result"
    else
      { echo "failed; the emulator's log of lane $number follows"; cat "$log"; } >>"$run_dir/$scenario.log"
      echo "failed" >"$run_dir/$scenario.result"
    fi
    echo "molecule: $scenario $(cat "$run_dir/$scenario.result") in $((SECONDS - started)) s (lane $number)"
    echo "$scenario $((SECONDS - started))" >>"$run_dir/durations"
  done
}

for ((n = 0; n < lanes; n++)); do
  lane "$n" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
# This run's durations order the next run's queue (scenarios it did not run keep their last duration).
{ grep -v -w -F -f <(awk '{print $1}' "$run_dir/durations" 2>/dev/null) "$durations" 2>/dev/null
  cat "$run_dir/durations" 2>/dev/null; } >"$durations.new" && mv "$durations.new" "$durations"

# Every scenario's whole output, in order, once all have ended.
failed=()
for scenario in "${scenarios[@]}"; do
  cat "$run_dir/$scenario.log" 2>/dev/null || echo "== $scenario did not run"
  [ "$(cat "$run_dir/$scenario.result" 2>/dev/null)" = ok ] || failed+=("$scenario")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "molecule: FAILED scenarios: ${failed[*]}" >&2
  exit 1
fi
echo "molecule: all scenarios passed (${scenarios[*]}) in $lanes lane(s)"
