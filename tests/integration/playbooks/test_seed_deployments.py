"""The seed's other deployments, westeu-stg-1 (staging tier) and eastus-prod-1 (production in another region), end to
end against the emulator, together in each run as an operator running both inventories would: site.yml builds
every planned resource of each, a second run changes nothing and sends not one write, and destroy.yml removes them
(production only with its name confirmed; a confirmation naming another deployment, as a mistyped AWX survey
answer would, is refused for both).

westeu-test-1 and westeu-prod-1 are covered in depth by test_site_whole_stack.py; this proves that a new inventory
is all a new deployment needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbooks.runner import REPO, index_by_id, parse_recap, run_playbook
from tests.integration.request_log import with_run_time_ids, writes

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

EMULATOR_VARS = ("-e", f"@{REPO / 'tests/integration/emulator-site-vars.yml'}")
# Planned resources the admin API does not list by their planned ID (test_site_whole_stack.py says why).
# Key Vault secrets and certificates live in the vault's data plane (the whole-stack test reads them there).
NOT_LISTED_BY_ID = {"microsoft.authorization/roleassignments", "microsoft.keyvault/vaults/secrets",
                    "microsoft.keyvault/vaults/certificates"}
# deployment -> (Azure location, whether its tier locks it and destroy needs the name confirmed)
SEEDS = {"westeu-stg-1": ("westeurope", False), "eastus-prod-1": ("eastus", True)}
STAGING, PRODUCTION = sorted(SEEDS, key=lambda d: SEEDS[d][1])
BOTH = ("-i", f"inventories/{PRODUCTION}")  # added to run_playbook's -i inventories/<staging>


def test_build_converge_destroy(fresh: Any, tmp_path: Path) -> None:
    plan_run = run_playbook(fresh, "playbooks/plan.yml", STAGING, *BOTH, "-e", f"plan_dir={tmp_path}")
    assert plan_run.returncode == 0, plan_run.output[-4000:]
    plans = {d: json.loads((tmp_path / f"{d}.json").read_text()) for d in SEEDS}
    groups = {}
    for deployment, (location, _protected) in SEEDS.items():
        assert plans[deployment]["location"] == location
        [groups[deployment]] = [r for r in plans[deployment]["resources"]
                                if r["type"] == "Microsoft.Resources/resourceGroups" and r["name"] == f"rg-cf-{deployment}"]

    build = run_playbook(fresh, "site.yml", STAGING, *BOTH, *EMULATOR_VARS)
    assert build.returncode == 0, build.output[-8000:]
    present = index_by_id(fresh.resources())
    for deployment, (location, _protected) in SEEDS.items():
        recap = parse_recap(build.stdout, deployment)
        assert recap["failed"] == 0 and recap["changed"] > 0, (deployment, recap)
        missing = [r["id"] for r in with_run_time_ids(plans[deployment]["resources"], present)
                   if str(r["type"]).lower() not in NOT_LISTED_BY_ID and r.get("state") != "absent"
                   and str(r["id"]).lower() not in present]
        assert missing == [], f"{deployment}: planned but not built: {missing}"
        assert present[groups[deployment]["id"].lower()]["location"] == location

    mark = len(fresh.requests())
    second = run_playbook(fresh, "site.yml", STAGING, *BOTH, *EMULATOR_VARS)
    assert second.returncode == 0, second.output[-8000:]
    for deployment in SEEDS:
        assert parse_recap(second.stdout, deployment)["changed"] == 0, second.output[-6000:]
    assert writes(fresh.requests()[mark:]) == [], "a converged run wrote"

    # A confirmation that names neither (AWX's Destroy survey, mistyped) is refused for both before any write:
    # production because it is not its name, staging because it names no deployment of the run.
    mark = len(fresh.requests())
    refused = run_playbook(fresh, "playbooks/destroy.yml", STAGING, *BOTH, *EMULATOR_VARS,
                           "-e", "confirm_destroy=westeu-test-1")
    assert refused.returncode != 0, refused.output[-4000:]
    for deployment in SEEDS:
        assert f"confirm_destroy={deployment}" in refused.stdout, refused.output[-4000:]
    assert writes(fresh.requests()[mark:]) == [], "a refused destroy must not write"
    # Production without any confirmation is refused; staging, unprotected, goes.
    unconfirmed = run_playbook(fresh, "playbooks/destroy.yml", STAGING, *BOTH, *EMULATOR_VARS)
    assert unconfirmed.returncode != 0 and f"confirm_destroy={PRODUCTION}" in unconfirmed.stdout
    assert f"confirm_destroy={STAGING}" not in unconfirmed.stdout, unconfirmed.output[-4000:]
    assert parse_recap(unconfirmed.stdout, STAGING)["failed"] == 0, unconfirmed.output[-6000:]
    assert parse_recap(unconfirmed.stdout, PRODUCTION)["failed"] == 1, unconfirmed.output[-6000:]
    destroy = run_playbook(fresh, "playbooks/destroy.yml", PRODUCTION, "-e", f"confirm_destroy={PRODUCTION}",
                           *EMULATOR_VARS)
    assert destroy.returncode == 0, destroy.output[-6000:]
    resources = index_by_id(fresh.resources())
    for deployment in SEEDS:
        group_id = groups[deployment]["id"].lower()
        left = sorted(i for i in resources if i == group_id or i.startswith(group_id + "/"))
        assert left == [], f"{deployment}: destroy left {left}"
