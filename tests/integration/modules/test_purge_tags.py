"""purge_tags through the per-resource modules against the emulator, for a type written with PUT (network watcher)
and one written with PATCH (storage account): a tag added behind Ansible's back is removed by default, kept with
purge_tags=false, left alone when the task does not manage tags, and --diff shows it, in check mode and for real."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, Step

pytestmark = pytest.mark.emulator

LOCATION = "westeurope"
RG = "rg-cf-it-tags"
STORAGE_API = "2023-05-01"
NETWORK_API = "2024-05-01"

CASES = {
    "put": ("network_watcher", "Microsoft.Network/networkWatchers", "nw-cf-it-tags", "network_watcher", NETWORK_API),
    "patch": ("storage_account", "Microsoft.Storage/storageAccounts", "stcfittags", "storage_account", STORAGE_API),
}


def stored_tags(emulator: Any, resource_id: str) -> dict[str, str]:
    for item in emulator.resources():
        body = item.get("body", item)
        if str(item.get("id") or body.get("id")).lower() == resource_id.lower():
            return dict(body.get("tags") or {})
    raise AssertionError(f"{resource_id} is not in the emulator")


def add_tag_behind_our_back(arm_client: Any, resource_id: str, api: str, method: str) -> None:
    current = arm_client.get(resource_id, api)
    tags = {**(current.get("tags") or {}), "added_by": "portal"}
    body = {"tags": tags} if method == "PATCH" else {"location": current["location"], "tags": tags}
    arm_client.write(method, resource_id, api, body, 300)


@pytest.mark.parametrize("case", sorted(CASES))
def test_undeclared_tag_is_purged_by_default_and_kept_when_asked(run: ModuleRunner, emulator: Any, arm_client: Any,
                                                                 case: str) -> None:
    module, arm_type, name, key, api = CASES[case]
    args = {"resource_group": RG, "name": name, "location": LOCATION, "tags": {"owner": "platform"}}
    created = run.steps([Step("resource_group", {"name": RG, "location": LOCATION}), Step(module, args)])
    assert all(not c.result.get("failed") for c in created), [c.result.get("msg") for c in created]
    resource_id = f"{run.rg_id(RG)}/providers/{arm_type}/{name}"
    add_tag_behind_our_back(arm_client, resource_id, api, "PATCH" if case == "patch" else "PUT")
    assert stored_tags(emulator, resource_id) == {"owner": "platform", "added_by": "portal"}

    keep = {**args, "purge_tags": False}
    untouched = {k: v for k, v in args.items() if k != "tags"}
    kept_check, kept, unmanaged, purge_check = run.steps([
        Step(module, keep, check=True, diff=True), Step(module, keep, diff=True), Step(module, untouched, diff=True),
        Step(module, args, check=True, diff=True)])
    for outcome in (kept_check, kept, unmanaged):
        assert not outcome.result.get("failed"), outcome.result.get("msg")
        assert outcome.result["changed"] is False, outcome.result.get("diff")
        assert outcome.writes == []
    assert stored_tags(emulator, resource_id) == {"owner": "platform", "added_by": "portal"}

    assert not purge_check.result.get("failed"), purge_check.result.get("msg")
    assert purge_check.result["changed"] is True
    assert purge_check.writes == [], "check mode must write nothing"
    diff = purge_check.result["diff"]
    assert diff["before"][key]["tags"]["added_by"] == "portal"
    # The diff is restricted to what differs: the tag's value before, and none after.
    assert (diff["after"][key].get("tags") or {}).get("added_by") is None
    assert stored_tags(emulator, resource_id) == {"owner": "platform", "added_by": "portal"}

    purged, again = run.steps([Step(module, args, diff=True), Step(module, args)])
    assert not purged.result.get("failed"), purged.result.get("msg")
    assert purged.result["changed"] is True
    assert purged.result["diff"]["before"][key]["tags"]["added_by"] == "portal"
    assert [w["method"] for w in purged.writes] == [case.upper()]
    assert stored_tags(emulator, resource_id) == {"owner": "platform"}
    assert again.result["changed"] is False and again.writes == []


def test_empty_tags_remove_every_tag(run: ModuleRunner, emulator: Any) -> None:
    args = {"resource_group": RG, "name": "nw-cf-it-tags", "location": LOCATION, "tags": {"owner": "platform"}}
    first, cleared = run.steps([Step("resource_group", {"name": RG, "location": LOCATION}),
                                Step("network_watcher", args), Step("network_watcher", {**args, "tags": {}})])[1:]
    assert not first.result.get("failed"), first.result.get("msg")
    assert cleared.result["changed"] is True
    assert stored_tags(emulator, f"{run.rg_id(RG)}/providers/Microsoft.Network/networkWatchers/nw-cf-it-tags") == {}
