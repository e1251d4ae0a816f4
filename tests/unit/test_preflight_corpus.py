"""Every broken inventory under tests/broken_inventories must fail in preflight, before any plan is written.

Each case directory holds ``hosts.yml``, ``host_vars/`` and ``expect.yml`` (``deployment``: the inventory host,
``variable``: what the failure message must name). The plan playbook runs for real, offline, with no ``AZURE_*``
variables, so the test sees exactly what a platform engineer would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "broken_inventories"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expect.yml").is_file())


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update({"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    return env


def run_plan(inventory: Path, plan_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(REPO / "playbooks" / "plan.yml"), "-i", str(inventory), "-e", f"plan_dir={plan_dir}"],
        cwd=REPO, env=offline_env(), capture_output=True, text=True, timeout=300, check=False,
    )


def failed_task(output: str) -> str:
    """The header of the task whose result was ``fatal``."""
    current = ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            current = line
        elif line.startswith("fatal:"):
            return current
    return ""


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25, CASES


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_broken_inventory_fails_in_preflight(case: str, tmp_path: Path) -> None:
    expect = yaml.safe_load((CORPUS / case / "expect.yml").read_text())
    plan_dir = tmp_path / "plan"
    result = run_plan(CORPUS / case / "hosts.yml", plan_dir)
    output = result.stdout + result.stderr

    assert result.returncode != 0, f"{case}: the plan succeeded\n{output}"
    task = failed_task(result.stdout)
    assert re.match(r"TASK \[complianceflow\.azure_infra\.preflight : ", task), f"{case}: failed outside preflight:\n{output}"
    assert f"fatal: [{expect['deployment']}]" in result.stdout, output
    assert expect["deployment"] in task + output.split(task, 1)[-1], output
    assert expect["variable"] in output, f"{case}: the failure does not name {expect['variable']}\n{output}"
    assert not plan_dir.exists() or not any(plan_dir.iterdir()), f"{case}: a plan was written"


def test_valid_inventory_passes_the_same_harness(tmp_path: Path) -> None:
    """The harness itself must be able to see success, or every failure above would prove nothing."""
    plan_dir = tmp_path / "plan"
    result = run_plan(REPO / "inventories" / "westeu-test-1", plan_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (plan_dir / "westeu-test-1.json").is_file()
