"""Run the collection's playbooks the way users do (ansible-playbook from the repository root, credentials from
the emulator's env.sh) and compare what the emulator holds with the offline plan."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))

# ARM types the resource_group and network roles build (lower case: ARM types are case-insensitive).
ROLE_TYPES = frozenset({
    "microsoft.resources/resourcegroups",
    "microsoft.authorization/locks",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/virtualnetworks",
    "microsoft.network/virtualnetworks/subnets",
    "microsoft.network/privatednszones",
    "microsoft.network/privatednszones/virtualnetworklinks",
    "microsoft.storage/storageaccounts",
    "microsoft.network/networkwatchers",
})
# The plan's roles whose resources these tests build (the flow log belongs to monitoring: it needs the workspace).
SLICE_ROLES = frozenset({"resource_group", "network"})
# Children that ARM also returns inline in their parent's body.
INLINE_CHILDREN = ("subnets", "securityRules", "virtualNetworkLinks")


@dataclass
class PlaybookRun:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str
    recap: dict[str, int]

    @property
    def output(self) -> str:
        return f"$ {' '.join(self.command)}\n{self.stdout}\n{self.stderr}"


def parse_recap(stdout: str, host: str) -> dict[str, int]:
    """Counters of the host's PLAY RECAP line (the last one, when several plays print one)."""
    lines = re.findall(rf"^{re.escape(host)}\s*:\s*(ok=.*)$", stdout, re.MULTILINE)
    if not lines:
        return {}
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", lines[-1])}


def run_playbook(emulator: Any, playbook: str, deployment: str, *args: str,
                 extra_env: Mapping[str, str] | None = None, inventory: str | None = None) -> PlaybookRun:
    """``ansible-playbook playbook -i inventories/<deployment>`` (or ``-i inventory``) with the emulator's env."""
    command = [ANSIBLE_PLAYBOOK, playbook, "-i", inventory or f"inventories/{deployment}", *args]
    env = {**os.environ, **{k: str(v) for k, v in emulator.env.items()},
           "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
           **(extra_env or {})}
    completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    return PlaybookRun(command, completed.returncode, completed.stdout, completed.stderr,
                       parse_recap(completed.stdout, deployment) if deployment else {})


def plan_resources(emulator: Any, deployment: str, plan_dir: Path) -> list[dict[str, Any]]:
    """The offline plan of a deployment, for the emulator's subscription (names derive from it)."""
    run = run_playbook(emulator, "playbooks/plan.yml", deployment, "-e", f"plan_dir={plan_dir}")
    assert run.returncode == 0, run.output
    document = json.loads((plan_dir / f"{deployment}.json").read_text())
    return [r for r in document["resources"] if r.get("role") in SLICE_ROLES]


def index_by_id(resources: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Every resource by lower-case ID, with the children ARM returns inline in their parent."""
    resources = [r for r in resources if r.get("id")]
    index: dict[str, Mapping[str, Any]] = {str(r["id"]).lower(): r for r in resources}
    for resource in resources:
        for key in INLINE_CHILDREN:
            for child in (resource.get("properties") or {}).get(key) or []:
                # Only full bodies: an NSG's "subnets" are bare references ({"id": ...}) to the VNet's subnets.
                if isinstance(child, Mapping) and child.get("id") and "properties" in child:
                    index.setdefault(str(child["id"]).lower(), child)
    return index


def _same_scalar(actual: Any, planned: Any, path: str) -> bool:
    # Resource IDs and locations are case-insensitive in ARM; everything else must match exactly.
    if (isinstance(actual, str) and isinstance(planned, str)
            and (planned.startswith("/subscriptions/") or path.endswith(".location"))):
        return actual.lower() == planned.lower()
    return bool(actual == planned)


def differences(actual: Any, planned: Any, path: str = "") -> list[str]:
    """What in ``planned`` the ``actual`` body lacks or has differently. Extra fields Azure fills in are fine;
    lists must have the same members (matched by name when the planned items have names)."""
    if isinstance(planned, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{path}: planned an object {planned!r}, found {actual!r}"]
        problems = []
        for key, value in planned.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing, planned {value!r}")
            else:
                problems.extend(differences(actual[key], value, f"{path}.{key}"))
        return problems
    if isinstance(planned, list):
        if not isinstance(actual, list) or len(actual) != len(planned):
            return [f"{path}: planned {planned!r}, found {actual!r}"]
        problems = []
        remaining = list(actual)
        for item in planned:
            if isinstance(item, Mapping) and "name" in item:
                match = [a for a in remaining if isinstance(a, Mapping)
                         and str(a.get("name", "")).lower() == str(item["name"]).lower()]
                if not match:
                    problems.append(f"{path}[{item['name']}]: missing")
                    continue
                problems.extend(differences(match[0], item, f"{path}[{item['name']}]"))
                remaining.remove(match[0])
                continue
            match = [a for a in remaining if not differences(a, item, path)]
            if not match:
                problems.append(f"{path}: planned item {item!r} not found in {actual!r}")
                continue
            remaining.remove(match[0])
        return problems
    return [] if _same_scalar(actual, planned, path) else [f"{path}: planned {planned!r}, found {actual!r}"]


def compare_with_plan(planned: list[dict[str, Any]], actual_resources: list[dict[str, Any]],
                      shared_ids: Iterable[str] = ()) -> list[str]:
    """Problems between the planned resources and the emulator's: missing, different, or not planned at all."""
    actual = index_by_id(actual_resources)
    problems: list[str] = []
    planned_ids = set()
    for resource in planned:
        rid = str(resource["id"]).lower()
        planned_ids.add(rid)
        found = actual.get(rid)
        if found is None:
            problems.append(f"{resource['id']}: planned, not in Azure")
            continue
        properties = dict(resource["properties"])
        body: dict[str, Any] = {"properties": properties}
        for key in ("tags", "sku", "kind", "zones"):
            if resource.get(key):
                body[key] = resource[key]
        if resource.get("location"):
            body["location"] = resource["location"]
        problems.extend(f"{resource['id']}{p}" for p in differences(found, body))
    allowed = planned_ids | {s.lower() for s in shared_ids}
    for rid, resource in actual.items():
        if str(resource.get("type", "")).lower() in ROLE_TYPES and rid not in allowed:
            problems.append(f"{resource.get('id')}: in Azure but not in the plan")
    return problems
