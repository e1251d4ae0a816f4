#!/usr/bin/env bash
# One deployment against the whole fleet in one run: site.yml -i inventories/<deployment> against
# site.yml -i inventories/ (every deployment with an inventory, one host each, in parallel with forks), each on a
# fresh emulator (instant latency): the first build, then a converged run; requests per planned resource and the
# writes of the converged run (token and metadata requests included).
# Usage: tests/benchmarks/fleet_run.sh [deployment]   (default westeu-test-1)
# Numbers, not assertions: run it on an otherwise idle machine and write them up in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
deployment=${1:-westeu-test-1}
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export ANSIBLE_CONFIG=$PWD/ansible.cfg

start_emulator() {  # a fresh emulator (its own state dir and token cache) for one measurement
  local state=$work/$1
  mkdir -p "$state/cache"
  .venv/bin/python -m tests.emulator serve --state-dir "$state" --port 0 >"$state/emulator.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do [ -f "$state/env.sh" ] && grep -q SSL_CERT_FILE "$state/env.sh" && break; sleep 0.2; done
  # shellcheck disable=SC1091
  source "$state/env.sh"
  export COMPLIANCEFLOW_AZURE_CACHE=$state/cache
}

stop_emulator() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

log_counts() {  # total requests and writes in the emulator's log so far (tests/integration/request_log.py)
  .venv/bin/python - <<'PY'
import json, os, ssl, urllib.request
from tests.integration.request_log import write_requests
ctx = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
log = json.load(urllib.request.urlopen(os.environ["AZURE_EMULATOR_URL"] + "/_emulator/requests", context=ctx))["value"]
print(len(log), len(write_requests(log)))
PY
}

timed_site() {  # wall seconds of one site.yml run over the given inventory
  local started ended
  started=$(date +%s.%N)
  .venv/bin/ansible-playbook site.yml -i "$1" -e @tests/integration/emulator-site-vars.yml >"$work/run.log" 2>&1 \
    || { tail -40 "$work/run.log" >&2; exit 1; }
  ended=$(date +%s.%N)
  echo "$ended - $started" | bc
}

planned() {  # planned resources of every deployment in the inventory (offline plan)
  .venv/bin/ansible-playbook playbooks/plan.yml -i "$1" -e "plan_dir=$work/plan-$2" >/dev/null
  .venv/bin/python -c "import json,sys,glob; print(sum(len(json.load(open(f))['resources']) for f in glob.glob(sys.argv[1])))" \
    "$work/plan-$2/*.json"
}

measure() {  # label inventory
  local label=$1 inventory=$2 resources first second before_total before_writes after_total after_writes hosts
  start_emulator "$label"
  resources=$(planned "$inventory" "$label")
  hosts=$(.venv/bin/ansible-inventory -i "$inventory" --list | .venv/bin/python -c \
    "import json,sys; print(len(json.load(sys.stdin)['_meta']['hostvars']))")
  first=$(timed_site "$inventory")
  read -r before_total before_writes < <(log_counts)
  second=$(timed_site "$inventory")
  read -r after_total after_writes < <(log_counts)
  stop_emulator
  printf '| %s | %s deployment(s), %s planned resources | first build %.1f s | converged %.1f s | %s requests = %s per resource | writes %s |\n' \
    "$label" "$hosts" "$resources" "$first" "$second" "$((after_total - before_total))" \
    "$(echo "scale=2; ($after_total - $before_total) / $resources" | bc)" "$((after_writes - before_writes))"
}

echo "| run | deployments | first build | converged run | requests, converged | writes, converged |"
echo "| --- | --- | --- | --- | --- | --- |"
measure "$deployment" "inventories/$deployment"
measure "fleet" "inventories/"
