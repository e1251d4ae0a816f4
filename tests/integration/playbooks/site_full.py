"""The whole site.yml for one deployment against a fresh emulator: check mode writes nothing, the first run
builds every planned resource, the second run reports changed=0 and sends no write at all (ARM or data plane),
and destroy removes the deployment. Shared by test_site_full_test.py and test_site_full_prod.py (one file per
deployment, so that pytest-xdist runs them side by side)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.integration.playbooks.runner import REPO, run_playbook

EMULATOR_VARS = ("-e", f"@{REPO / 'tests/integration/emulator-site-vars.yml'}")
WRITE_METHODS = {"PUT", "PATCH", "DELETE"}
# Planned resources whose ID is only known at run time, or that are not ARM resources the emulator lists:
# the runner's role assignment is named after the principal that runs the play (its object ID is in the
# token), and Key Vault secrets live in the vault's data plane (test_keyvault_database.py reads them back).
NOT_LISTED_BY_ID = {"microsoft.authorization/roleassignments", "microsoft.keyvault/vaults/secrets"}


def writes(entries: list[dict[str, Any]]) -> list[str]:
    return [f"{e.get('method')} {e.get('path')}" for e in entries
            if str(e.get("method", "")).upper() in WRITE_METHODS and not str(e.get("path", "")).startswith("/_emulator")]


def listed_ids(emulator: Any) -> set[str]:
    ids = set()
    for resource in emulator.resources():
        ids.add(str(resource.get("id", "")).lower())
        for key in ("subnets", "securityRules", "virtualNetworkLinks"):
            for child in (resource.get("properties") or {}).get(key) or []:
                if isinstance(child, dict) and child.get("id"):
                    ids.add(str(child["id"]).lower())
    return ids


# Fields of a plan entry that describe it rather than being part of its ARM body.
PLAN_ENTRY_FIELDS = frozenset({"id", "type", "name", "depends_on", "api_version", "role", "manage", "state"})
RUNTIME_PLACEHOLDER = re.compile(r"^<runtime:[a-z][a-z0-9-]*(:.+)?>$")


def _outside(sent: Any, planned: Any, path: str) -> list[str]:
    """What in a sent body the planned one does not have (a run-time placeholder stands for any value)."""
    if isinstance(planned, str) and RUNTIME_PLACEHOLDER.match(planned):
        return []
    if isinstance(sent, dict) and isinstance(planned, dict):
        return [p for key, value in sent.items()
                for p in (_outside(value, planned[key], f"{path}.{key}") if key in planned
                          else [f"{path}.{key} = {value!r} is not planned"])]
    if isinstance(sent, list) and isinstance(planned, list):
        if len(sent) != len(planned):
            return [f"{path}: {len(sent)} items sent, {len(planned)} planned"]
        return [p for index, (s, q) in enumerate(zip(sent, planned, strict=True))
                for p in _outside(s, q, f"{path}[{index}]")]
    if isinstance(sent, str) and isinstance(planned, str) and sent.lower().startswith("/subscriptions/"):
        return [] if sent.lower() == planned.lower() else [f"{path}: sent {sent!r}, planned {planned!r}"]
    return [] if sent == planned else [f"{path}: sent {sent!r}, planned {planned!r}"]


def sent_outside_plan(entries: list[dict[str, Any]], planned: list[dict[str, Any]]) -> list[str]:
    """Every ARM body a run PUT or PATCHed must be the planned body of that resource, or a part of it."""
    by_id = {str(r["id"]).lower(): r for r in planned}
    problems: list[str] = []
    for entry in entries:
        if str(entry.get("method")) not in ("PUT", "PATCH") or entry.get("body") is None:
            continue
        plan = by_id.get(str(entry.get("path", "")).lower())
        if plan is None:
            problems.append(f"{entry['method']} {entry['path']}: not a planned resource")
            continue
        body = {k: v for k, v in plan.items() if k not in PLAN_ENTRY_FIELDS and v is not None}
        problems.extend(f"{entry['method']} {entry['path']}{p}" for p in _outside(entry["body"], body, ""))
    return problems


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

    mark = len(emulator.requests())
    run_site(emulator, deployment)
    sent = sent_outside_plan(emulator.requests()[mark:], planned)
    assert sent == [], "the run sent what the plan does not show:\n" + "\n".join(sent)
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
