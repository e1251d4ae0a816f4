#!/usr/bin/env bash
# Wall time of a first site.yml run against the emulator with realistic latencies scaled down, to show that the
# PostgreSQL, Redis and Event Hubs creates overlap (the run approaches the longest chain, not the sum).
# Usage: tests/benchmarks/site_run.sh [deployment] [time-scale]   (default westeu-test-1, 0.02; 0 = instant baseline)
set -euo pipefail
cd "$(dirname "$0")/../.."
deployment=${1:-westeu-test-1}
scale=${2:-0.02}
state=$(mktemp -d)
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$state"' EXIT
latency=(--latency realistic --time-scale "$scale")
[ "$scale" = "0" ] && latency=(--latency instant)   # the baseline: every operation finishes at once
.venv/bin/python -m tests.emulator serve --state-dir "$state" --port 0 "${latency[@]}" \
  >"$state/emulator.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do [ -f "$state/env.sh" ] && break; sleep 0.2; done
# shellcheck disable=SC1091
source "$state/env.sh"
start=$(date +%s.%N)
ANSIBLE_CONFIG=$PWD/ansible.cfg .venv/bin/ansible-playbook site.yml -i "inventories/$deployment" \
  -e @tests/integration/emulator-site-vars.yml >"$state/run.log" 2>&1 \
  || { grep -E "^fatal|ERROR" "$state/run.log" | cut -c1-2000; tail -5 "$state/run.log"; exit 1; }
end=$(date +%s.%N)
python3 - "$start" "$end" "$scale" "$deployment" <<'PY'
import sys
start, end, scale, deployment = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
# Azure's create times the emulator models (issue 3): Redis Basic/Standard 20 min, Premium 35 min,
# PostgreSQL 6 min (12 with zone-redundant HA), Event Hubs namespace 2 min.
prod = "-prod-" in deployment
redis, pg, eh = (35 if prod else 20) * 60, (12 if prod else 6) * 60, 120
print(f"| {deployment} | time scale {scale} | first run {end - start:.0f} s "
      f"| modelled creates: Redis {redis * scale:.0f} s, PostgreSQL {pg * scale:.0f} s, Event Hubs {eh * scale:.0f} s "
      f"(sum {(redis + pg + eh) * scale:.0f} s) |")
PY
