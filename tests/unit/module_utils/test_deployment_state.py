"""The pure parts of the deployments' state: change summary, drift report, ledger lines, holder text, state names,
the bootstrap plan, and the playbook label the lock records (never extra vars)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.complianceflow.azure_infra.plugins.action import deployment_lock as lock_action
from ansible_collections.complianceflow.azure_infra.plugins.action.deployment_lock import playbook_label
from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_state as ds
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.naming_rules import name_errors

SUB = "c0ffee00-0000-4000-8000-000000000001"


def result(rid: str, action: str, differences: list[str] | None = None) -> dict[str, object]:
    return {"id": rid, "type": rid.rsplit("/providers/", 1)[-1].rsplit("/", 1)[0], "name": rid.rsplit("/", 1)[-1],
            "action": action, "differences": differences or []}


NSG = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg-db"
VNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"
KV = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"


def test_summary_counts_in_terraforms_words_and_lists_only_changes() -> None:
    merged: dict[str, dict[str, object]] = {}
    ds.merge_results(merged, [result(NSG, "create"), result(VNET, "update", ["tags.env"]), result(KV, "unchanged")])
    summary = ds.summarise(merged, check_mode=False)
    assert summary["line"] == "1 to add, 1 to change, 0 to destroy, 1 unchanged"
    assert [(c["action"], c["name"]) for c in summary["changes"]] == [("add", "nsg-db"), ("change", "vnet")]
    assert ds.summarise(merged, check_mode=True)["line"] == "would: 1 to add, 1 to change, 0 to destroy, 1 unchanged"


def test_a_resource_seen_by_two_tasks_keeps_its_most_significant_action() -> None:
    merged: dict[str, dict[str, object]] = {}
    ds.merge_results(merged, [result(NSG, "create")])
    ds.merge_results(merged, [result(NSG.upper().replace("SUBSCRIPTIONS", "subscriptions"), "unchanged")])
    assert [r["action"] for r in merged.values()] == ["create"]
    ds.merge_results(merged, [result(KV, "failed"), {"no": "id"}, "not a dict"])  # type: ignore[list-item]
    assert ds.summarise(merged, check_mode=False)["line"].endswith(", 1 failed")


def test_drift_report_has_paths_never_values_and_skips_unchanged() -> None:
    merged: dict[str, dict[str, object]] = {}
    ds.merge_results(merged, [result(VNET, "update", ["tags.env", "tags.env"]), result(KV, "unchanged"),
                              result(NSG, "skipped")])
    report = ds.drift_report("westeu-test-1", merged)
    assert report == {"deployment": "westeu-test-1", "drifted": True, "resources": [
        {"id": VNET, "type": "Microsoft.Network/virtualNetworks", "name": "vnet", "action": "change",
         "paths": ["tags.env"]}]}
    assert ds.drift_report("westeu-test-1", {})["drifted"] is False


def test_state_account_name_is_valid_stable_and_per_subscription() -> None:
    name = ds.state_account_name(SUB)
    assert name == ds.state_account_name(SUB.upper())
    assert name != ds.state_account_name("c0ffee00-0000-4000-8000-000000000002")
    assert re.fullmatch(r"stcfstate[a-z0-9]{4}", name) and name_errors("storage_account", name) == []


def test_holder_text_names_everything_a_team_mate_needs() -> None:
    holder = ds.lock_holder("alice", "build-7", "site.yml --tags database", "0b5f3c1e")
    text = ds.describe_holder(holder)
    for value in ("alice", "build-7", holder["since"], "site.yml --tags database", "0b5f3c1e"):
        assert value in text
    assert "unknown holder" in ds.describe_holder({})
    assert ds.ascii_metadata("Jürgen\n") == "J?rgen?"


def test_playbook_label_keeps_playbooks_and_tags_and_never_extra_vars() -> None:
    argv = ["/venv/bin/ansible-playbook", "site.yml", "-i", "inventories/westeu-test-1/hosts.yml", "-e",
            "secret_password=hunter2", "--extra-vars", "@secrets.yml", "--check"]
    label = playbook_label(argv, ["database", "network"])
    assert label == "site.yml --tags database,network"
    assert "hunter2" not in label and "hosts.yml" not in label
    assert playbook_label(["/usr/bin/ansible-playbook", "-e", "x=1", "playbooks/destroy.yml"], ["all"]) == "destroy.yml"


def test_ledger_line_marks_check_mode_runs() -> None:
    record = {"started": "2026-11-30T22:00:00Z", "playbook": "site.yml", "check_mode": True, "who": "bob",
              "host": "h", "outcome": "succeeded", "duration_seconds": 3.2, "run_id": "abc",
              "counts": {"add": 2, "change": 0, "destroy": 0, "unchanged": 5}}
    line = ds.ledger_line(record)
    assert "site.yml (check mode)" in line and "would: 2 to add" in line and "bob@h" in line


def test_bootstrap_plan_is_entra_only_versioned_and_grants_the_runner() -> None:
    plan = ds.bootstrap_plan(SUB, "westeurope")
    by_type = {r["type"]: r for r in plan}
    account = by_type["Microsoft.Storage/storageAccounts"]
    assert account["properties"]["allowSharedKeyAccess"] is False
    assert account["properties"]["allowBlobPublicAccess"] is False
    assert account["properties"]["minimumTlsVersion"] == "TLS1_2"
    blob = by_type["Microsoft.Storage/storageAccounts/blobServices"]["properties"]
    assert blob["isVersioningEnabled"] is True and blob["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    (grant,) = [r for r in plan if r["type"] == "Microsoft.Authorization/roleAssignments"]
    assert grant["properties"]["principalId"] == "<runtime:principal-id>"
    assert grant["id"].startswith(account["id"] + "/")
    ids = [r["id"].lower() for r in plan]
    for resource in plan:  # every dependency comes earlier in the plan
        for dependency in resource.get("depends_on", []):
            assert dependency.lower() in ids[: ids.index(resource["id"].lower())], (resource["id"], dependency)


def test_bootstrap_plan_for_a_given_runner_scopes_contributor_to_the_deployments() -> None:
    runner = "11111111-2222-4333-8444-555555555555"
    plan = ds.bootstrap_plan(SUB, "westeurope", runner_object_id=runner,
                             runner_deployments={"westeu-test-1": "westeurope"}, workspace_id="/x/workspaces/w")
    grants = sorted((r["id"].split("/providers/Microsoft.Authorization/")[0].rsplit("/", 1)[-1],
                     r["properties"]["roleDefinitionId"].rsplit("/", 1)[-1])
                    for r in plan if r["type"] == "Microsoft.Authorization/roleAssignments")
    assert grants == sorted([
        (ds.state_account_name(SUB), ds.STORAGE_BLOB_DATA_CONTRIBUTOR), (SUB, ds.READER),
        ("rg-cf-westeu-test-1", ds.CONTRIBUTOR), ("rg-cf-westeu-test-1", ds.RBAC_ADMINISTRATOR),
        ("NetworkWatcherRG", ds.CONTRIBUTOR)])
    assert all(r["properties"]["principalId"] == runner for r in plan
               if r["type"] == "Microsoft.Authorization/roleAssignments")
    groups = [r for r in plan if r["type"] == "Microsoft.Resources/resourceGroups" and r.get("manage") == "create"]
    assert sorted(g["name"] for g in groups) == ["NetworkWatcherRG", "rg-cf-westeu-test-1"]
    assert not any(r["type"] == "Microsoft.OperationalInsights/workspaces" for r in plan)


class MemoryBlobAccount(ds.BlobClient):
    """The Blob REST semantics write_record relies on: a blob PUT into a missing container is 404 ContainerNotFound."""

    def __init__(self) -> None:
        super().__init__("https://stcfstate.blob.example/", credential=None)
        self.containers: set[str] = set()
        self.blobs: dict[str, bytes] = {}

    def call(self, method: str, path: str, query: str = "", headers: object = None, data: bytes | None = None,
             ok: tuple[int, ...] = (200, 201, 202)) -> tuple[int, dict[str, str], bytes]:
        container = path.split("/", 1)[0]
        if method == "PUT" and query == "restype=container":
            if container in self.containers:
                raise ds.BlobError(409, "ContainerAlreadyExists", "exists", path, method)
            self.containers.add(container)
            return 201, {}, b""
        if container not in self.containers:
            raise ds.BlobError(404, "ContainerNotFound", "The specified container does not exist.", path, method)
        assert method == "PUT" and data is not None
        self.blobs[path] = data
        return 201, {}, b""


def test_the_first_ledger_record_of_an_account_creates_the_container() -> None:
    # A check-mode run right after bootstrap.yml takes no lock, so nothing has created the container yet.
    account = MemoryBlobAccount()
    record = {"started": "2026-12-01T06:44:01Z", "run_id": "e244cb12f0cc", "outcome": "succeeded"}
    path = ds.write_record(account, "deployments", "westeu-test-1", record)
    assert path == "deployments/westeu-test-1/runs/20261201T064401Z-e244cb12f0cc.json"
    assert json.loads(account.blobs[path]) == record
    ds.write_record(account, "deployments", "westeu-test-1", {**record, "run_id": "second"})
    assert len(account.blobs) == 2


def test_the_lock_refusal_says_it_once_without_the_blob_requests_words(monkeypatch: pytest.MonkeyPatch) -> None:
    # ansible-core 2.19 appends a chained exception's text to an action's failure: the refusal named the holder
    # twice, then the lease request's URL and status code.
    holder = ds.lock_holder("alice", "build-7", "site.yml --tags database", "d4ef44b1-8892-4451-8549-489878ff3ced")

    def held(*_args: object) -> None:
        try:
            raise ds.BlobError(409, "LeaseAlreadyPresent", "There is already a lease present.",
                               "https://stcfstate.blob.example/deployments/westeu-test-1/deployment.lock", "PUT")
        except ds.BlobError as exc:
            raise ds.LockHeld("westeu-test-1", holder) from exc

    monkeypatch.setattr(ds, "acquire_lock", held)
    action = lock_action.ActionModule.__new__(lock_action.ActionModule)
    action._play_context = SimpleNamespace(check_mode=False)
    with pytest.raises(AnsibleActionFail) as refused:
        action._lock({}, None, {"deployment": "westeu-test-1", "container": "deployments"}, {})  # type: ignore[arg-type]
    message = str(refused.value)
    assert message.startswith("deployment westeu-test-1 is locked: alice on build-7 since ")
    assert message.endswith("ansible-playbook playbooks/unlock.yml -i inventories/westeu-test-1 "
                            "-e lock_id=d4ef44b1-8892-4451-8549-489878ff3ced"), message
    assert message.count("alice on build-7") == 1 and "LeaseAlreadyPresent" not in message, message


def test_a_destroy_summary_counts_what_the_per_resource_modules_deleted() -> None:
    from ansible_collections.complianceflow.azure_infra.plugins.callback.run_summary import CallbackModule

    summary = CallbackModule()
    rg = "/subscriptions/s/resourceGroups/rg-cf-westeu-test-1"
    flow_log = "/subscriptions/s/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/nw/flowLogs/fl"
    definition = "/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/pd-cf-westeu-test-1-deny"
    alert = "/subscriptions/s/providers/Microsoft.CostManagement/scheduledActions/anomaly-cf-westeu-test-1"

    def task(action: str, result: dict[str, object], **args: object) -> None:
        summary.v2_runner_on_ok(SimpleNamespace(_host=SimpleNamespace(get_name=lambda: "westeu-test-1"),
                                                _result=result, _task=SimpleNamespace(action=action, args=args)))

    task("complianceflow.azure_infra.flow_log", {"changed": True, "id": flow_log}, state="absent")
    task("complianceflow.azure_infra.resource_group", {"changed": True, "id": rg}, state="absent")
    task("complianceflow.azure_infra.policy_definition", {"changed": True, "results": [
        {"changed": True, "id": definition, "invocation": {"module_args": {"state": "absent"}}},
        {"changed": False, "id": definition + "-gone", "invocation": {"module_args": {"state": "absent"}}}]},
        state="absent")
    task("complianceflow.azure_infra.resources", {"changed": True, "counts": {"delete": 1}, "results": [
        result(alert, "delete")]})
    # Not deletions: a group ensured present, and another collection's module.
    task("complianceflow.azure_infra.resource_group", {"changed": True, "id": rg + "-other"}, state="present")
    task("azure.azcollection.azure_rm_resourcegroup", {"changed": True, "id": rg + "-az"}, state="absent")

    line = ds.summarise(summary._resources["westeu-test-1"], check_mode=False)
    assert line["line"] == "0 to add, 0 to change, 4 to destroy, 0 unchanged"
    assert {(c["type"], c["name"]) for c in line["changes"]} == {
        ("Microsoft.Resources/resourceGroups", "rg-cf-westeu-test-1"),
        ("Microsoft.Network/networkWatchers/flowLogs", "fl"),
        ("Microsoft.Authorization/policyDefinitions", "pd-cf-westeu-test-1-deny"),
        ("Microsoft.CostManagement/scheduledActions", "anomaly-cf-westeu-test-1")}
