"""The seed's other deployments, westeu-stg-1 (staging tier) and eastus-prod-1 (production in another region), end to
end against the emulator: site.yml builds every planned resource, a second run changes nothing and sends not one
write, and destroy.yml removes the deployment (production only with its name confirmed; a confirmation naming
another deployment, as a mistyped AWX survey answer would, is refused).

One test per deployment, each a whole-stack build: westeu-test-1 and westeu-prod-1 are covered in depth by
test_site_whole_stack.py; these prove that a new inventory is all a new deployment needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbooks.runner import REPO, index_by_id, run_playbook
from tests.integration.request_log import with_run_time_ids, writes

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

EMULATOR_VARS = ("-e", f"@{REPO / 'tests/integration/emulator-site-vars.yml'}")
# Planned resources the admin API does not list by their planned ID (test_site_whole_stack.py says why).
# Key Vault secrets and certificates live in the vault's data plane (the whole-stack test reads them there).
NOT_LISTED_BY_ID = {"microsoft.authorization/roleassignments", "microsoft.keyvault/vaults/secrets",
                    "microsoft.keyvault/vaults/certificates"}
# deployment -> (Azure location, whether its tier locks it and destroy needs the name confirmed)
SEEDS = {"westeu-stg-1": ("westeurope", False), "eastus-prod-1": ("eastus", True)}


@pytest.mark.parametrize("deployment", sorted(SEEDS))
def test_build_converge_destroy(fresh: Any, deployment: str, tmp_path: Path) -> None:
    location, protected = SEEDS[deployment]
    plan_run = run_playbook(fresh, "playbooks/plan.yml", deployment, "-e", f"plan_dir={tmp_path}")
    assert plan_run.returncode == 0, plan_run.output[-4000:]
    plan = json.loads((tmp_path / f"{deployment}.json").read_text())
    assert plan["location"] == location

    build = run_playbook(fresh, "site.yml", deployment, *EMULATOR_VARS)
    assert build.returncode == 0, build.output[-8000:]
    assert build.recap["failed"] == 0 and build.recap["changed"] > 0
    present = index_by_id(fresh.resources())
    missing = [r["id"] for r in with_run_time_ids(plan["resources"], present)
               if str(r["type"]).lower() not in NOT_LISTED_BY_ID and r.get("state") != "absent"
               and str(r["id"]).lower() not in present]
    assert missing == [], f"{deployment}: planned but not built: {missing}"
    [group] = [r for r in plan["resources"] if r["type"] == "Microsoft.Resources/resourceGroups"
               and r["name"] == f"rg-cf-{deployment}"]
    assert present[group["id"].lower()]["location"] == location

    mark = len(fresh.requests())
    second = run_playbook(fresh, "site.yml", deployment, *EMULATOR_VARS)
    assert second.returncode == 0, second.output[-8000:]
    assert second.recap["changed"] == 0, second.output[-6000:]
    assert writes(fresh.requests()[mark:]) == [], f"{deployment}: a converged run wrote"

    # Production without a confirmation, and any deployment with a mistyped one (AWX's Destroy survey answer), is
    # refused before any write.
    mark = len(fresh.requests())
    refused = run_playbook(fresh, "playbooks/destroy.yml", deployment, *EMULATOR_VARS,
                           *(() if protected else ("-e", "confirm_destroy=westeu-test-1")))
    assert refused.returncode != 0 and f"confirm_destroy={deployment}" in refused.stdout, refused.output[-4000:]
    assert writes(fresh.requests()[mark:]) == [], "a refused destroy must not write"
    destroy = run_playbook(fresh, "playbooks/destroy.yml", deployment, *EMULATOR_VARS,
                           "-e", f"confirm_destroy={deployment}")
    assert destroy.returncode == 0, destroy.output[-6000:]
    group_id = group["id"].lower()
    left = sorted(i for i in index_by_id(fresh.resources()) if i == group_id or i.startswith(group_id + "/"))
    assert left == [], f"destroy left {left}"
