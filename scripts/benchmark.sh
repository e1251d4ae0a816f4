#!/usr/bin/env bash
# Reruns the benchmarks written up in docs/benchmarks.md. Numbers, not assertions: run on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## Footprint"; tests/benchmarks/footprint.sh
echo; echo "## Cold start of one module's imports"; .venv/bin/python tests/benchmarks/cold_start.py
echo; echo "## Deployment model (pure Python)"; .venv/bin/python tests/benchmarks/plan_model.py
echo; echo "## The engine: first build, converged runs, requests per resource"
tests/benchmarks/engine_run.sh westeu-test-1 0
tests/benchmarks/engine_run.sh westeu-test-1 0.1
echo; echo "## Overlap of the long creates (realistic latency x 0.1)"; tests/benchmarks/site_run.sh westeu-test-1 0.1
echo; echo "## A fleet run (-i inventories/, every deployment) against one deployment"; tests/benchmarks/fleet_run.sh westeu-test-1
