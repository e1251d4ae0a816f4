"""Every broken inventory under tests/broken_inventories must fail in preflight, before any plan is written.

Each case directory holds ``hosts.yml``, ``host_vars/`` and ``expect.yml`` (``deployment``: the inventory host,
``variable``: what the failure message must name). The plan playbook runs for real, offline, with no ``AZURE_*``
variables, so the test sees exactly what a platform engineer would. The same corpus runs through site.yml and
destroy.yml against the emulator in tests/integration/playbooks/test_broken_inventories.py (no request at all).

Each case must be the valid inventory (inventories/westeu-test-1 over the registries in group_vars/) plus exactly
one change, or the expected variable could be a side effect of a second break: checked mechanically below.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "broken_inventories"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expect.yml").is_file())
VALID = REPO / "inventories" / "westeu-test-1"
# The registries a westeu-test-1 host reads (group_vars/all.yml, then its tier): a case overrides them in host_vars.
REGISTRY_FILES = ("all.yml", "env_test.yml")
# What a failure caused by the host's name or groups may name: the name itself, its groups, or the registry
# the name's region or environment part is looked up in.
NAME_VARIABLES = {"inventory_hostname", "group_names", "cf_environments", "cf_regions"}


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update({"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    return env


def run_plan(inventory: Path, plan_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), str(REPO / "playbooks" / "plan.yml"), "-i", str(inventory), "-e", f"plan_dir={plan_dir}",
         *extra],
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


def load_inventory(hosts_file: Path) -> dict[str, dict[str, Any]]:
    """Each host of a YAML inventory with its groups and its own variables (inline, then host_vars/<host>.yml)."""
    hosts: dict[str, dict[str, Any]] = {}

    def walk(group: str, body: dict[str, Any] | None) -> None:
        body = body or {}
        for host, inline in (body.get("hosts") or {}).items():
            entry = hosts.setdefault(host, {"groups": set(), "vars": {}})
            if group != "all":
                entry["groups"].add(group)
            entry["vars"].update(inline or {})
        for child, child_body in (body.get("children") or {}).items():
            walk(child, child_body)

    walk("all", yaml.safe_load(hosts_file.read_text())["all"])
    for host, entry in hosts.items():
        host_vars = hosts_file.parent / "host_vars" / f"{host}.yml"
        if host_vars.is_file():
            entry["vars"].update(yaml.safe_load(host_vars.read_text()) or {})
    return hosts


def value_changes(valid: Any, case: Any, path: str = "") -> list[str]:
    """The smallest differing paths: a changed scalar, an added or removed key, one list item added or removed."""
    if isinstance(valid, dict) and isinstance(case, dict):
        changes = []
        for key in sorted(set(valid) | set(case), key=str):
            where = f"{path}.{key}" if path else str(key)
            changes += [where] if key not in valid or key not in case else value_changes(valid[key], case[key], where)
        return changes
    if isinstance(valid, list) and isinstance(case, list):
        if len(valid) == len(case):
            return [c for index, pair in enumerate(zip(valid, case, strict=True))
                    for c in value_changes(*pair, f"{path}[{index}]")]
        longer, shorter = (valid, case) if len(valid) > len(case) else (case, valid)
        one_item = len(longer) == len(shorter) + 1 and any(longer[:i] + longer[i + 1:] == shorter
                                                           for i in range(len(longer)))
        return [f"{path}[one item {'removed' if longer is valid else 'added'}]"] if one_item else [path]
    return [] if valid == case else [path]


def groups_implied_by(host: str) -> set[str]:
    """The env_ and region_ groups a deployment host's name calls for (<region>-<env>-<instance>)."""
    parts = re.split(r"[-_]", host)
    return {f"region_{parts[0].lower()}", f"env_{parts[1].lower()}"} if len(parts) >= 2 else set()


def case_changes(case_dir: Path) -> list[str]:
    """What the case changes relative to the valid inventory, one entry per independent change.

    A renamed host is one change; the groups follow from the name, so only a group that contradicts the name counts
    on its own. A renamed deployment may register itself in the allocation table (a valid, unused private /16), so
    that the missing allocation does not become a second cause."""
    [(valid_host, valid)] = load_inventory(VALID / "hosts.yml").items()
    case_hosts = load_inventory(case_dir / "hosts.yml")
    assert len(case_hosts) == 1, f"{case_dir.name}: one deployment host per case, found {sorted(case_hosts)}"
    [(host, case)] = case_hosts.items()
    registries: dict[str, Any] = {}
    for name in REGISTRY_FILES:
        registries.update(yaml.safe_load((REPO / "group_vars" / name).read_text()))
    valid_vars = {**registries, **valid["vars"]}
    case_vars = {**registries, **case["vars"]}
    changes = []
    if host != valid_host:
        changes.append(f"inventory_hostname: {valid_host} -> {host}")
        allocations = dict(case_vars.get("cf_cidr_allocations") or {})
        if host in allocations and host not in valid_vars["cf_cidr_allocations"]:
            block = ipaddress.ip_network(allocations.pop(host))
            others = [ipaddress.ip_network(b) for b in allocations.values()]
            assert block.is_private and block.prefixlen == 16 and not any(block.overlaps(o) for o in others), \
                f"{case_dir.name}: the renamed deployment's own allocation {block} is itself broken"
            case_vars["cf_cidr_allocations"] = allocations
    wanted = groups_implied_by(host) or valid["groups"]
    for prefix in ("env_", "region_"):
        if {g for g in case["groups"] if g.startswith(prefix)} != {g for g in wanted if g.startswith(prefix)}:
            changes.append(f"group_names: the {prefix}* group")
    other_groups = {g for g in case["groups"] ^ valid["groups"] if not g.startswith(("env_", "region_"))}
    changes += [f"group_names: {g}" for g in sorted(other_groups)]
    return changes + value_changes(valid_vars, case_vars)


@pytest.mark.parametrize("case", CASES)
def test_each_case_is_the_valid_inventory_plus_one_change(case: str) -> None:
    expect = yaml.safe_load((CORPUS / case / "expect.yml").read_text())
    changes = case_changes(CORPUS / case)
    assert len(changes) == 1, f"{case}: broken in {len(changes)} ways, not one: {changes}"
    [change] = changes
    [host] = load_inventory(CORPUS / case / "hosts.yml")
    assert expect["deployment"] == host, f"{case}: expect.yml names {expect['deployment']}, the inventory {host}"
    # The expected variable is the one changed (or, for a name or group change, what the name is checked against).
    changed_variable = re.split(r"[.\[:]", change, maxsplit=1)[0]
    expected_variable = re.split(r"[.\[]", expect["variable"], maxsplit=1)[0]
    if changed_variable in ("inventory_hostname", "group_names"):
        assert expected_variable in NAME_VARIABLES, f"{case}: changed {change}, expects {expect['variable']}"
    else:
        assert expected_variable == changed_variable, f"{case}: changed {change}, expects {expect['variable']}"


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


def test_switches_given_as_extra_vars_strings_are_booleans(tmp_path: Path) -> None:
    """``-e registry_defender_for_containers=false`` (an AWX survey answer too) is a string: the documented opt-outs
    were refused as "'false' is not true or false"; a word Ansible does not read as a boolean still is."""
    plan_dir = tmp_path / "plan"
    result = run_plan(REPO / "inventories" / "westeu-test-1", plan_dir, "-e", "registry_defender_for_containers=false",
                      "-e", "monitoring_cost_anomaly_alert=no")
    assert result.returncode == 0, result.stdout + result.stderr
    types = {r["type"] for r in yaml.safe_load((plan_dir / "westeu-test-1.json").read_text())["resources"]}
    assert "Microsoft.Security/pricings" not in types and "Microsoft.CostManagement/scheduledActions" not in types
    assert "Microsoft.Network/virtualNetworks" in types
    refused = run_plan(REPO / "inventories" / "westeu-test-1", tmp_path / "refused", "-e",
                       "registry_defender_for_containers=maybe")
    assert refused.returncode != 0 and "registry_defender_for_containers: 'maybe'" in refused.stdout, refused.stdout
