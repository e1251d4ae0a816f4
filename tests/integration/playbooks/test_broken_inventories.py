"""Bad input stops in preflight, before any API call: every broken inventory of tests/broken_inventories runs
through site.yml and playbooks/destroy.yml against the emulator, with its credentials in the environment, as a
platform engineer would run them. The emulator's request log must stay empty (not even a token request or the
cloud's metadata), the failing task must be in the preflight role and its message must name the variable that
expect.yml names. The corpus itself (one change per case) is checked in tests/unit/test_preflight_corpus.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.playbooks.runner import REPO, run_playbook
from tests.integration.request_log import azure_requests
from tests.unit.test_preflight_corpus import CASES, CORPUS, failed_task

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

EMULATOR_VARS = ("-e", f"@{REPO / 'tests/integration/emulator-site-vars.yml'}")
# destroy.yml runs confirmed (-e confirm_destroy=<host>, below), so that only bad input can stop it.
PLAYBOOKS = {"site.yml": EMULATOR_VARS, "playbooks/destroy.yml": ()}


def check_stops_in_preflight(emulator: Any, case: str, playbook: str, *args: str) -> None:
    expect = yaml.safe_load((CORPUS / case / "expect.yml").read_text())
    inventory = str((CORPUS / case / "hosts.yml").relative_to(REPO))
    mark = len(emulator.requests())
    # run_playbook takes a deployment directory under inventories/; a case is a hosts.yml elsewhere.
    run = run_playbook(emulator, playbook, "", *args, "-e", f"confirm_destroy={expect['deployment']}",
                       inventory=inventory)
    sent = azure_requests(emulator.requests()[mark:])
    assert run.returncode != 0, f"{case}: {playbook} succeeded\n{run.output}"
    assert sent == [], f"{case}: {playbook} reached Azure before failing: {sent}"
    task, message = failed_task(run.stdout)
    assert re.match(r"TASK \[complianceflow\.azure_infra\.preflight : ", task), \
        f"{case}: {playbook} failed outside preflight ({task or 'no fatal task'}):\n{run.output[-4000:]}"
    assert f"fatal: [{expect['deployment']}]" in run.stdout, run.output[-4000:]
    assert expect["variable"] in message, f"{case}: the message does not name {expect['variable']}:\n{message}"
    assert re.search(rf"^{re.escape(expect['deployment'])}\s*:.*failed=1", run.stdout, re.MULTILINE), run.output[-2000:]


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
@pytest.mark.parametrize("case", CASES)
def test_broken_inventory_stops_before_any_request(fresh: Any, case: str, playbook: str) -> None:
    check_stops_in_preflight(fresh, case, playbook, *PLAYBOOKS[playbook])


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
def test_the_valid_inventory_does_reach_the_emulator(fresh: Any, playbook: str, tmp_path: Path) -> None:
    """Control: the same harness sees requests when the input is good (check mode, so nothing is built; site.yml
    only as far as the resource group)."""
    mark = len(fresh.requests())
    tags = ("--tags", "resource_group") if playbook == "site.yml" else ()
    run = run_playbook(fresh, playbook, "westeu-test-1", *PLAYBOOKS[playbook], *tags, "--check")
    assert run.returncode == 0, run.output[-3000:]
    assert azure_requests(fresh.requests()[mark:]) != [], run.output[-3000:]
