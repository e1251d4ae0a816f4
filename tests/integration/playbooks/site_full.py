"""The whole site.yml for one deployment against a fresh emulator: check mode writes nothing, the first run
builds every planned resource, the second run reports changed=0 and sends no write at all (ARM or data plane),
and destroy removes the deployment. Shared by test_site_full_test.py and test_site_full_prod.py (one file per
deployment, so that pytest-xdist runs them side by side)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.playbooks.runner import REPO, run_playbook
from tests.integration.request_log import writes

EMULATOR_VARS = ("-e", f"@{REPO / 'tests/integration/emulator-site-vars.yml'}")
# Planned resources whose ID is only known at run time, or that are not ARM resources the emulator lists:
# the runner's role assignment is named after the principal that runs the play (its object ID is in the
# token), and Key Vault secrets live in the vault's data plane (test_keyvault_database.py reads them back).
NOT_LISTED_BY_ID = {"microsoft.authorization/roleassignments", "microsoft.keyvault/vaults/secrets"}


def listed_ids(emulator: Any) -> set[str]:
    ids = set()
    for resource in emulator.resources():
        ids.add(str(resource.get("id", "")).lower())
        for key in ("subnets", "securityRules", "virtualNetworkLinks"):
            for child in (resource.get("properties") or {}).get(key) or []:
                if isinstance(child, dict) and child.get("id"):
                    ids.add(str(child["id"]).lower())
    return ids


def run_site(emulator: Any, deployment: str, *args: str) -> Any:
    run = run_playbook(emulator, "site.yml", deployment, *EMULATOR_VARS, *args)
    assert run.returncode == 0, run.output
    assert run.recap.get("failed") == 0, run.output
    return run


def whole_stack(emulator: Any, deployment: str, plan_dir: Path) -> None:
    plan = run_playbook(emulator, "playbooks/plan.yml", deployment, "-e", f"plan_dir={plan_dir}")
    assert plan.returncode == 0, plan.output
    planned = json.loads((plan_dir / f"{deployment}.json").read_text())["resources"]

    check = run_site(emulator, deployment, "--check")
    assert check.recap["changed"] > 0, "check mode on an empty subscription must report changes"
    assert writes(emulator.requests()) == [], "check mode must not write"
    assert emulator.resources() == [], "check mode must create nothing"

    run_site(emulator, deployment)
    present = listed_ids(emulator)
    missing = [r["id"] for r in planned
               if str(r["type"]).lower() not in NOT_LISTED_BY_ID and str(r["id"]).lower() not in present]
    assert missing == [], f"planned but not built: {missing}"

    mark = len(emulator.requests())
    second = run_site(emulator, deployment)
    assert second.recap["changed"] == 0, second.output
    assert writes(emulator.requests()[mark:]) == [], "the second run must send no write request"

    args = ("-e", f"confirm_destroy={deployment}") if "-prod-" in deployment else ()
    destroyed = run_playbook(emulator, "playbooks/destroy.yml", deployment, *args)
    assert destroyed.returncode == 0, destroyed.output
    group = f"/resourcegroups/rg-cf-{deployment}/"
    left = sorted(i for i in listed_ids(emulator) if group in i + "/")
    assert left == [], f"destroy left {left}"
