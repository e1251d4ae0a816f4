#!/usr/bin/env bash
# Reruns the benchmarks written up in docs/benchmarks.md. Numbers, not assertions.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## Footprint"; tests/benchmarks/footprint.sh
echo; echo "## Cold start of one module's imports"; .venv/bin/python tests/benchmarks/cold_start.py
echo; echo "## Deployment model (pure Python)"; .venv/bin/python tests/benchmarks/plan_model.py
if [ -x tests/benchmarks/site_run.sh ]; then echo; echo "## site.yml against the emulator"; tests/benchmarks/site_run.sh; fi
