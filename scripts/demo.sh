#!/usr/bin/env bash
# make demo: plan a deployment offline, then build it twice against a fresh local emulator and
# show that the second run changes nothing.  Usage: scripts/demo.sh [deployment]
set -euo pipefail
cd "$(dirname "$0")/.."
deployment=${1:-westeu-test-1}
bin=.venv/bin
export ANSIBLE_CONFIG=$PWD/ansible.cfg ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-1}
[ -d "inventories/$deployment" ] || { echo "no inventory inventories/$deployment" >&2; exit 2; }

echo "== Offline plan of $deployment"
env -u AZURE_SUBSCRIPTION_ID "$bin/ansible-playbook" playbooks/plan.yml -i "inventories/$deployment"

state=build/demo/$deployment/emulator
rm -rf "$state"; mkdir -p "$state"
echo "== Starting the local Azure emulator (state in $state)"
"$bin/python" -m tests.emulator serve --state-dir "$state" --port 0 >"$state/../emulator.log" 2>&1 &
emulator_pid=$!
trap 'kill -TERM $emulator_pid 2>/dev/null; wait $emulator_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -f "$state/env.sh" ] && break
  kill -0 $emulator_pid 2>/dev/null || { cat "$state/../emulator.log" >&2; exit 1; }
  sleep 0.2
done
[ -f "$state/env.sh" ] || { echo "the emulator did not start" >&2; cat "$state/../emulator.log" >&2; exit 1; }
# shellcheck disable=SC1090,SC1091
source "$state/env.sh"

run() {
  "$bin/ansible-playbook" site.yml -i "inventories/$deployment" | tee "$1"
}
echo "== First run: build $deployment"
run "build/demo/$deployment/run1.log"
echo "== Second run: must change nothing"
run "build/demo/$deployment/run2.log"
recap=$(sed -e 's/\x1b\[[0-9;]*m//g' "build/demo/$deployment/run2.log" | grep -E "^$deployment +:" | tail -1 || true)
base_url=$("$bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$state/emulator.json")
writes=$("$bin/python" - "$base_url" "build/demo/$deployment/run1.log" <<'PY'
import json, ssl, sys, urllib.request, os
ctx = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
log = json.load(urllib.request.urlopen(sys.argv[1].rstrip("/") + "/_emulator/requests", context=ctx))
entries = log["value"] if isinstance(log, dict) else log
print(len(entries))
PY
)
echo
echo "== Summary"
echo "second run: $recap"
echo "emulator state:       $state"
echo "emulator request log: $base_url/_emulator/requests ($writes requests in all)"
echo "run logs:             build/demo/$deployment/run1.log, run2.log"
case "$recap" in
  *"changed=0"*) echo "idempotent: the second run reported changed=0" ;;
  *) echo "NOT idempotent: the second run changed something" >&2; exit 1 ;;
esac
