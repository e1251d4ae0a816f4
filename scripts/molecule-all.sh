#!/usr/bin/env bash
# make molecule: run every Molecule scenario under molecule/ against ONE local Azure emulator.
# Starts the emulator, exports its env.sh (AZURE_* credentials, CA bundle), runs each scenario's full test
# sequence (destroy, syntax, create, [prepare,] converge, idempotence, verify, destroy), stops the emulator.
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

# A state directory of its own per run: a second `make molecule` in the same tree must not replace this
# emulator's CA certificate and credentials under its feet.
mkdir -p "$repo/build/molecule"
state=$(mktemp -d "$repo/build/molecule/emulator.XXXXXX")
log=$state.log
"$bin/python" -m tests.emulator serve --state-dir "$state" --port 0 --strict-schema >"$log" 2>&1 &
emulator_pid=$!
stop_emulator() {
  kill -TERM "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
  rm -rf "$state"
  return 0
}
trap stop_emulator EXIT
for _ in $(seq 1 150); do
  [ -f "$state/env.sh" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { echo "the emulator exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.2
done
[ -f "$state/env.sh" ] || { echo "the emulator did not start within 30 s" >&2; cat "$log" >&2; exit 1; }
# shellcheck disable=SC1090,SC1091
source "$state/env.sh"
echo "molecule: emulator at $AZURE_CLOUD_ENVIRONMENT (state $state)"

failed=()
for scenario in "${scenarios[@]}"; do
  echo "== molecule test -s $scenario"
  if ! "$bin/molecule" test -s "$scenario"; then
    failed+=("$scenario")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "molecule: FAILED scenarios: ${failed[*]} (emulator log: $log)" >&2
  exit 1
fi
echo "molecule: all scenarios passed (${scenarios[*]})"
