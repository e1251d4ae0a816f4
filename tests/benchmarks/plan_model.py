"""Time to derive a deployment model (names, CIDRs, the full ARM plan) in pure Python.

Usage: .venv/bin/python tests/benchmarks/plan_model.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.deployment_model import (  # noqa: E402
    build_deployment,
)


def inputs_for(deployment: str) -> dict:
    registry = yaml.safe_load((REPO / "group_vars/all.yml").read_text())
    env = deployment.split("-")[1]
    tier = yaml.safe_load((REPO / f"group_vars/env_{env}.yml").read_text())["cf_tier"]
    host = yaml.safe_load((REPO / f"inventories/{deployment}/host_vars/{deployment}.yml").read_text())
    return {
        "deployment": deployment, "groups": [f"env_{env}", f"region_{deployment.split('-', maxsplit=1)[0]}"],
        "app": registry["cf_app"], "managed_by": registry["cf_managed_by"], "regions": registry["cf_regions"],
        "environments": registry["cf_environments"], "allocations": registry["cf_cidr_allocations"],
        "subnet_tiers": registry["cf_subnet_tiers"], "nsg_rules": registry["cf_nsg_rules"],
        "private_dns_zones": registry["cf_private_dns_zones"], "services": registry["cf_services"],
        "event_hubs": registry["cf_event_hubs"], "tag_policy": registry["cf_tag_policy"], "tier": tier,
        "owner": host["cf_owner"], "cost_center": host["cf_cost_center"], "alert_emails": host["cf_alert_emails"],
        "admin_source_ranges": host.get("cf_admin_source_ranges", []), "extra_tags": {},
        "subscription_id": "c0ffee00-0000-4000-8000-000000000001",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    for deployment in ("westeu-test-1", "westeu-prod-1"):
        inputs = inputs_for(deployment)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            model = build_deployment(inputs)
            times.append(time.perf_counter() - start)
        print(f"| {deployment} | {len(model['resources'])} resources | median {statistics.median(times) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
