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
"$bin/python" -m tests.emulator serve --state-dir "$state" --port 0 --strict-schema >"$state/../emulator.log" 2>&1 &
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

base_url=$("$bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$state/emulator.json")
# The emulator's request log, as "<total> <writes>" (writes: PUT, PATCH, DELETE and POST actions that change state).
request_counts() {
  "$bin/python" - "$base_url" "${1:-0}" <<'PY'
import json, os, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
entries = json.load(urllib.request.urlopen(sys.argv[1].rstrip("/") + "/_emulator/requests", context=ctx))["value"]
new = entries[int(sys.argv[2]):]
# The suites' definition (tests/integration/request_log.py): POST actions count too, except the ones that only read.
read_only = ("listkeys", "listconnectionstrings", "sharedkeys", "checknameavailability", "listaccountsas",
             "listservicesas", "backup")
def is_write(e):
    path = e.get("path", "").split("?")[0]
    if path.startswith("/_emulator") or "/oauth2/" in path or path.startswith("/msi/token"):
        return False
    if e.get("method") == "POST":
        return path.rstrip("/").rsplit("/", 1)[-1].lower() not in read_only
    return e.get("method") in ("PUT", "PATCH", "DELETE")
writes = [e for e in new if is_write(e)]
print(len(entries), len(writes))
PY
}
# As a team works: the subscription is bootstrapped once (state storage on Azurite, providers registered), and every
# run takes the deployment's lock (emulator-site-vars.yml turns it off for the test suites; this turns it back on).
echo "== Bootstrap the subscription: providers, state storage account (locks, run ledger)"
"$bin/ansible-playbook" playbooks/bootstrap.yml -i "inventories/$deployment" >"$state/../bootstrap.log" \
  || { cat "$state/../bootstrap.log" >&2; exit 1; }
run() {
  "$bin/ansible-playbook" site.yml -i "inventories/$deployment" -e @tests/integration/emulator-site-vars.yml \
    -e deployment_lock_mode=required | tee "$1"
}
logs=build/demo/$deployment
echo "== First run: build $deployment"
run "$logs/run1.log"
read -r before _ < <(request_counts 0)
echo "== Second run: must change nothing"
run "$logs/run2.log"
read -r after writes < <(request_counts "$before")
recap=$(sed -e 's/\x1b\[[0-9;]*m//g' "$logs/run2.log" | grep -E "^$deployment +:" | tail -1 || true)
summary=$(sed -e 's/\x1b\[[0-9;]*m//g' "$logs/run2.log" | grep -E "^$deployment: .* to add, " | tail -1 || true)
echo
echo "== Summary"
echo "second run:           $recap"
echo "change summary:       ${summary#"$deployment: "}"
echo "second run requests:  $((after - before)), of which writes (PUT/PATCH/DELETE and POST actions): $writes"
echo "emulator state:       $state (resources: $base_url/_emulator/resources)"
echo "emulator request log: $base_url/_emulator/requests ($after requests in all)"
echo "run logs:             $logs/run1.log, $logs/run2.log (change summaries as JSON in build/runs/$deployment/)"
echo "run history:          ansible-playbook playbooks/history.yml -i inventories/$deployment (with the emulator's env.sh)"
echo "the emulator stops when this script ends; its state stays in $state"
case "$recap" in
  *"changed=0"*) ;;
  *) echo "NOT idempotent: the second run changed something" >&2; exit 1 ;;
esac
[ "$writes" -eq 0 ] || { echo "NOT idempotent: the second run sent $writes write requests" >&2; exit 1; }
case "$summary" in
  *": 0 to add, 0 to change, 0 to destroy, "*) ;;
  *) echo "the second run's change summary is missing or not empty: '$summary'" >&2; exit 1 ;;
esac
echo "idempotent: the second run reported changed=0 and sent no write request"
echo
echo "== Validate: the platform as its services use it (playbooks/validate.yml, read-only)"
"$bin/ansible-playbook" playbooks/validate.yml -i "inventories/$deployment" -e @tests/integration/emulator-site-vars.yml \
  | tee "$logs/validate.log"
echo "outputs document:     build/outputs/$deployment.json (and Key Vault secret deployment-outputs)"
