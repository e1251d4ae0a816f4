#!/usr/bin/env bash
# The engine's numbers for one deployment against a fresh emulator: first build, then three converged runs
# (median), requests per planned resource in a converged run (tokens and metadata included) and its writes.
# Usage: tests/benchmarks/engine_run.sh [deployment] [read-latency-seconds] [lock]   (defaults: westeu-test-1, 0)
# With a third argument `lock`, the subscription is bootstrapped first and every run takes the deployment's lock
# and writes the run ledger, as a team runs it (the default outside the test suites); without, no lock.
# Numbers, not assertions: run it on an otherwise idle machine and write the medians up in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
deployment=${1:-westeu-test-1}
read_latency=${2:-0}
lock=${3:-}
state=$(mktemp -d)
cache=$(mktemp -d)
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$state" "$cache"' EXIT
extra=()
[ "$read_latency" != "0" ] && extra=(--read-latency "$read_latency")
.venv/bin/python -m tests.emulator serve --state-dir "$state" --port 0 "${extra[@]}" >"$state/emulator.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do [ -f "$state/env.sh" ] && grep -q SSL_CERT_FILE "$state/env.sh" && break; sleep 0.2; done
# shellcheck disable=SC1091
source "$state/env.sh"
# A token cache of its own: the first run pays for its token like a new machine would.
export COMPLIANCEFLOW_AZURE_CACHE=$cache ANSIBLE_CONFIG=$PWD/ansible.cfg
requests() {
  .venv/bin/python - <<'PY'
import json, os, ssl, urllib.request
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
log = json.load(urllib.request.urlopen(os.environ["AZURE_EMULATOR_URL"] + "/_emulator/requests", context=ctx))["value"]
writes = sum(1 for e in log if e["method"] in ("PUT", "PATCH", "DELETE")
             or (e["method"] == "POST" and e["path"].startswith("/subscriptions/") and not e["path"].endswith("/listKeys")))
print(len(log), writes)
PY
}
lock_vars=()
if [ "$lock" = lock ]; then
  .venv/bin/ansible-playbook playbooks/bootstrap.yml -i "inventories/$deployment" >"$state/bootstrap.log" 2>&1 \
    || { tail -30 "$state/bootstrap.log"; exit 1; }
  lock_vars=(-e deployment_lock_mode=required)
fi
site() {
  local start end
  start=$(date +%s.%N)
  .venv/bin/ansible-playbook site.yml -i "inventories/$deployment" -e @tests/integration/emulator-site-vars.yml \
    "${lock_vars[@]}" >"$state/run.log" 2>&1 || { tail -30 "$state/run.log"; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
planned=$(.venv/bin/ansible-playbook playbooks/plan.yml -i "inventories/$deployment" -e "plan_dir=$state/plan" \
  >/dev/null && .venv/bin/python -c "import json,sys; print(len(json.load(open(sys.argv[1]))['resources']))" \
  "$state/plan/$deployment.json")
first=$(site)
times=()
for _ in 1 2 3; do
  read -r before_total before_writes < <(requests)
  times+=("$(site)")
  read -r after_total after_writes < <(requests)
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
per_resource=$(echo "scale=2; ($after_total - $before_total) / $planned" | bc)
echo "| $deployment | read latency ${read_latency} s${lock:+, with the lock} | first build $(printf %.1f "$first") s | converged (median of 3) \
$(printf %.1f "$median") s [$(printf '%.1f ' "${times[@]}")] | $((after_total - before_total)) requests for $planned \
planned resources = $per_resource per resource | writes $((after_writes - before_writes)) |"
