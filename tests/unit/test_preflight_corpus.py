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


def failed_task(output: str) -> tuple[str, str]:
    """The header of the task whose result was ``fatal``, and that result's ``msg`` (YAML result format)."""
    header = ""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("TASK ["):
            header = line
        elif line.startswith("fatal:"):
            msg: list[str] = []
            in_msg = False
            for result_line in lines[index + 1:]:
                if not result_line.strip() or not result_line.startswith("    "):
                    break
                if re.match(r"^    [A-Za-z_]+:", result_line):
                    in_msg = result_line.startswith("    msg:")
                if in_msg:
                    msg.append(result_line)
            return header, "\n".join(msg)
    return "", ""


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
    task, message = failed_task(result.stdout)
    # The argument-spec failure dumps the whole spec, which names every variable: only the message counts.
    assert re.match(r"TASK \[complianceflow\.azure_infra\.preflight : ", task), f"{case}: failed outside preflight:\n{output}"
    assert f"fatal: [{expect['deployment']}]" in result.stdout, output
    assert expect["variable"] in message, f"{case}: the failure message does not name {expect['variable']}\n{output}"
    assert not plan_dir.exists() or not any(plan_dir.iterdir()), f"{case}: a plan was written"


def test_valid_inventory_passes_the_same_harness(tmp_path: Path) -> None:
    """The harness itself must be able to see success, or every failure above would prove nothing."""
    plan_dir = tmp_path / "plan"
    result = run_plan(REPO / "inventories" / "westeu-test-1", plan_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (plan_dir / "westeu-test-1.json").is_file()
