"""The inventories as users and AWX load them: one directory per deployment, and the whole fleet at once.

`-i inventories/<deployment>` is how a person or an AWX inventory source runs one deployment; `-i inventories/`
runs every deployment in one play (one host each, in parallel with forks). Ansible reads host_vars only next to an
inventory source, so `inventories/host_vars/<deployment>` links each deployment's own host_vars for the fleet run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INVENTORIES = REPO / "inventories"
DEPLOYMENTS = tuple(sorted(p.parent.name for p in INVENTORIES.glob("*/hosts.yml")))
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    return env


def _hosts(deployment: str) -> set[str]:
    """Every host a deployment's hosts.yml names, in any group."""
    found: set[str] = set()

    def walk(group: dict) -> None:
        found.update((group.get("hosts") or {}).keys())
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(yaml.safe_load((INVENTORIES / deployment / "hosts.yml").read_text())["all"])
    return found


def test_every_inventory_holds_exactly_its_deployment_host_in_its_env_and_region_groups() -> None:
    assert len(DEPLOYMENTS) >= 4
    for deployment in DEPLOYMENTS:
        region, env, _ = deployment.split("-")
        assert _hosts(deployment) == {deployment}, deployment
        children = yaml.safe_load((INVENTORIES / deployment / "hosts.yml").read_text())["all"]["children"]
        assert deployment in (children.get(f"env_{env}") or {}).get("hosts", {}), deployment
        assert deployment in (children.get(f"region_{region}") or {}).get("hosts", {}), deployment
        assert (INVENTORIES / deployment / "host_vars" / f"{deployment}.yml").is_file(), deployment


def test_the_fleet_inventory_links_every_deployments_own_host_vars() -> None:
    links = INVENTORIES / "host_vars"
    assert sorted(p.name for p in links.iterdir()) == sorted(DEPLOYMENTS), (
        "every inventories/<deployment>/ needs `ln -s ../<deployment>/host_vars inventories/host_vars/<deployment>`")
    for deployment in DEPLOYMENTS:
        link = links / deployment
        assert link.is_symlink() and link.resolve() == (INVENTORIES / deployment / "host_vars").resolve(), deployment


def test_the_fleet_inventory_gives_each_host_its_own_facts() -> None:
    result = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(INVENTORIES), "--list"], cwd=REPO, env=_env(),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    hostvars = json.loads(result.stdout)["_meta"]["hostvars"]
    assert sorted(hostvars) == sorted(DEPLOYMENTS)
    for deployment in DEPLOYMENTS:
        own = yaml.safe_load((INVENTORIES / deployment / "host_vars" / f"{deployment}.yml").read_text())
        assert {k: hostvars[deployment].get(k) for k in own} == own, deployment


@pytest.mark.slow
def test_a_fleet_plan_plans_every_deployment_as_its_own_inventory_does(tmp_path: Path) -> None:
    """`plan.yml -i inventories/` writes, for each deployment, exactly its committed snapshot (the snapshots come
    from `-i inventories/<deployment>`, tests/unit/test_deployment_model.py)."""
    result = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/plan.yml", "-i", "inventories/",
                             "-e", f"plan_dir={tmp_path}"], cwd=REPO, env=_env(), capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    for deployment in DEPLOYMENTS:
        produced = json.loads((tmp_path / f"{deployment}.json").read_text())
        assert produced == json.loads((SNAPSHOTS / f"{deployment}.json").read_text()), deployment


def test_a_mistyped_deployment_fails_instead_of_running_no_host(tmp_path: Path) -> None:
    """`make plan DEPLOYMENT=westeu-tst-1` (or `site.yml -i inventories/<typo>`) must not end green having done
    nothing: the repository's ansible.cfg makes an inventory that does not parse an error."""
    result = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/plan.yml", "-i", "inventories/westeu-tst-1",
                             "-e", f"plan_dir={tmp_path}"], cwd=REPO, env=_env(), capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "No inventory was parsed" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []
