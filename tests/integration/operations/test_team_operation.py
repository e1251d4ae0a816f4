"""Safe team operation against the emulator, whose blob storage is Azurite: bootstrap, one writer per deployment
(the lease on the deployment's lock blob), stale-lock recovery with unlock.yml, the run ledger and the change
summary. Everything is read back independently: ARM through the emulator, blobs with plain REST on Azurite, the
vault through Key Vault's data plane, writes from the emulator's request log."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import REGISTRY
from tests.integration.playbooks.runner import ANSIBLE_PLAYBOOK, REPO, PlaybookRun, parse_recap, run_playbook
from tests.integration.readers import Vault
from tests.integration.request_log import write_requests, writes

EMULATOR_VARS = ("-e", f"@{REPO / 'tests/integration/emulator-site-vars.yml'}")
# emulator-site-vars.yml turns the lock off for the other suites; these tests run as production does.
LOCKED = ("-e", "deployment_lock_mode=required")
QUICK = ("--tags", "resource_group")
STORAGE_API = "2023-05-01"
# Resource providers registered in every subscription (Azure's documentation on resource providers).
ALWAYS_REGISTERED = {"Microsoft.Resources", "Microsoft.Authorization"}
BLOB_VERSION = "2024-11-04"


def env_for(emulator: Any, marker: str = "", summary_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, **{k: str(v) for k, v in emulator.env.items()},
           "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    if marker:
        # azure-core appends it to every ARM request's User-Agent: the emulator's log tells the two runs apart.
        env["AZURE_HTTP_USER_AGENT"] = marker
    if summary_dir is not None:
        env["CF_RUN_SUMMARY_DIR"] = str(summary_dir)
    return env


def start(emulator: Any, playbook: str, deployment: str, *args: str, marker: str) -> subprocess.Popen[str]:
    command = [ANSIBLE_PLAYBOOK, playbook, "-i", f"inventories/{deployment}", *args]
    return subprocess.Popen(command, cwd=REPO, env=env_for(emulator, marker), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def finish(process: subprocess.Popen[str], deployment: str) -> PlaybookRun:
    out, _ = process.communicate(timeout=900)
    return PlaybookRun([str(a) for a in process.args], process.returncode, out, "", parse_recap(out, deployment))


def play(emulator: Any, playbook: str, deployment: str, *args: str, marker: str = "",
         summary_dir: Path | None = None) -> PlaybookRun:
    # bootstrap.yml runs on localhost; any inventory will do.
    inventory = "inventories/westeu-test-1" if deployment == "localhost" else None
    return run_playbook(emulator, playbook, deployment, *args, inventory=inventory,
                        extra_env={k: v for k, v in env_for(emulator, marker, summary_dir).items()
                                   if k in ("AZURE_HTTP_USER_AGENT", "CF_RUN_SUMMARY_DIR")})


class StateReader:
    """The state account's blobs through plain Blob REST on Azurite (bearer token for storage.azure.com)."""

    def __init__(self, emulator: Any) -> None:
        accounts = [r for r in emulator.resources()
                    if str(r.get("type", "")).lower() == "microsoft.storage/storageaccounts"
                    and "/resourcegroups/rg-cf-state/" in str(r["id"]).lower()]
        assert len(accounts) == 1, f"expected one state account in rg-cf-state, found {accounts}"
        self.account = accounts[0]
        self.endpoint = self.account["properties"]["primaryEndpoints"]["blob"]
        self.verify = emulator.env["REQUESTS_CA_BUNDLE"]
        token = emulator.credential().get_token("https://storage.azure.com/.default").token
        self.headers = {"Authorization": f"Bearer {token}", "x-ms-version": BLOB_VERSION}

    def lock(self, deployment: str) -> dict[str, Any]:
        response = requests.head(f"{self.endpoint}deployments/{deployment}/deployment.lock", headers=self.headers,
                                 verify=self.verify, timeout=30)
        if response.status_code == 404:
            return {"leased": False, "metadata": {}}
        assert response.status_code == 200, response.status_code
        return {"leased": response.headers.get("x-ms-lease-state") == "leased",
                "metadata": {k[len("x-ms-meta-"):]: v for k, v in response.headers.items()
                             if k.lower().startswith("x-ms-meta-")}}

    def names(self, prefix: str) -> list[str]:
        response = requests.get(f"{self.endpoint}deployments", params={"restype": "container", "comp": "list",
                                                                       "prefix": prefix},
                                headers=self.headers, verify=self.verify, timeout=30)
        assert response.status_code == 200, response.text
        return sorted(e.text or "" for e in ET.fromstring(response.content).iter("Name"))

    def json(self, name: str) -> Any:
        response = requests.get(f"{self.endpoint}deployments/{name}", headers=self.headers, verify=self.verify,
                                timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def records(self, deployment: str) -> list[dict[str, Any]]:
        return [self.json(n) for n in self.names(f"{deployment}/runs/")]


def wait_for_lock(reader: StateReader, deployment: str, process: subprocess.Popen[str]) -> dict[str, str]:
    for _ in range(600):
        lock = reader.lock(deployment)
        if lock["leased"] and lock["metadata"].get("lockid"):
            return dict(lock["metadata"])
        assert process.poll() is None, f"the first run ended before it took the lock:\n{process.communicate()[0]}"
        time.sleep(0.1)
    raise AssertionError("the first run never took the lock")


def wait_for_request(emulator: Any, marker: str, path_part: str, process: subprocess.Popen[str]) -> None:
    """Until the emulator has answered a request of the marked run whose path holds `path_part`."""
    for _ in range(600):
        if any(marker in (r.get("user_agent") or "") and path_part in r["path"] for r in emulator.requests()):
            return
        assert process.poll() is None, f"the run ended before it sent {path_part}:\n{process.communicate()[0]}"
        time.sleep(0.1)
    raise AssertionError(f"the run never sent a request for {path_part}")


@pytest.fixture
def bootstrapped(fresh: Any) -> Iterator[Any]:
    run = play(fresh, "playbooks/bootstrap.yml", "localhost")
    assert run.returncode == 0, run.output
    yield fresh


def test_bootstrap_registers_providers_creates_entra_only_state_and_is_idempotent(fresh: Any) -> None:
    subscription = fresh.env["AZURE_SUBSCRIPTION_ID"]
    fresh.set_options(unregistered_providers={subscription: "all"})
    arm = fresh.arm()
    try:
        status, body, _ = arm.call("GET", f"/subscriptions/{subscription}/providers/Microsoft.Storage"
                                          "?api-version=2021-04-01")
        assert status == 200 and body["registrationState"] == "NotRegistered", body
        first = play(fresh, "playbooks/bootstrap.yml", "localhost")
        assert first.returncode == 0, first.output
        assert first.recap.get("changed", 0) >= 2, first.output
        # Every namespace the collection writes to (its per-type registry), but those Azure always registers.
        written = sorted({t.type.split("/", 1)[0] for t in REGISTRY.values()} - ALWAYS_REGISTERED)
        assert "Microsoft.App" in written and "Microsoft.Cache" in written, written
        for namespace in written:
            status, body, _ = arm.call("GET", f"/subscriptions/{subscription}/providers/{namespace}"
                                              "?api-version=2021-04-01")
            assert body["registrationState"] == "Registered", (namespace, body)

        reader = StateReader(fresh)
        props = reader.account["properties"]
        assert props["allowSharedKeyAccess"] is False
        assert props["allowBlobPublicAccess"] is False
        assert props["minimumTlsVersion"] == "TLS1_2"
        assignments = [r for r in fresh.resources()
                       if str(r.get("type", "")).lower() == "microsoft.authorization/roleassignments"
                       and str(r["id"]).lower().startswith(str(reader.account["id"]).lower() + "/")]
        assert [a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for a in assignments] == \
            ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"], assignments
        account_id = reader.account["id"]
        status, blob, _ = arm.call("GET", f"{account_id}/blobServices/default?api-version={STORAGE_API}")
        assert status == 200 and blob["properties"]["isVersioningEnabled"] is True, blob
        assert blob["properties"]["deleteRetentionPolicy"] == {"enabled": True, "days": 30}, blob
        assert blob["properties"]["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}, blob
        status, policy, _ = arm.call("GET", f"{account_id}/managementPolicies/default?api-version={STORAGE_API}")
        assert status == 200, policy
        (rule,) = policy["properties"]["policy"]["rules"]
        assert rule["definition"]["actions"] == {"version": {"delete": {"daysAfterCreationGreaterThan": 90}}}
        status, settings, _ = arm.call("GET", f"{account_id}/blobServices/default/providers/Microsoft.Insights/"
                                              "diagnosticSettings?api-version=2021-05-01-preview")
        assert status == 200, settings
        (setting,) = settings["value"]
        assert {log["category"] for log in setting["properties"]["logs"] if log["enabled"]} == \
            {"StorageRead", "StorageWrite", "StorageDelete"}
        assert setting["properties"]["workspaceId"].lower().endswith("/workspaces/log-cf-state")

        mark = len(fresh.requests())
        second = play(fresh, "playbooks/bootstrap.yml", "localhost")
        assert second.returncode == 0, second.output
        assert second.recap.get("changed") == 0, second.output
        assert writes(fresh.requests()[mark:]) == []
        empty = play(fresh, "playbooks/history.yml", "westeu-test-1")
        assert empty.returncode == 0 and "msg: []" in empty.stdout, empty.output
    finally:
        fresh.set_options(unregistered_providers={})


def test_bootstrap_grants_a_given_runner_its_least_privilege_set(fresh: Any) -> None:
    from tests.emulator import identity

    runner = identity.READER_APP.object_id
    args = ("-e", f"bootstrap_runner_object_id={runner}", "-e", '{"bootstrap_runner_deployments": ["westeu-test-1"]}')
    first = play(fresh, "playbooks/bootstrap.yml", "localhost", *args)
    assert first.returncode == 0, first.output
    subscription = f"/subscriptions/{fresh.env['AZURE_SUBSCRIPTION_ID']}"
    roles = {"b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor", "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
             "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "RBAC Administrator",
             "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor"}
    granted = sorted((a["id"].lower().split("/providers/microsoft.authorization/")[0].replace(subscription.lower(), ""),
                      roles[a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1]])
                     for a in fresh.resources()
                     if str(a.get("type", "")).lower() == "microsoft.authorization/roleassignments"
                     and a["properties"]["principalId"] == runner)
    account = StateReader(fresh).account["name"]
    assert granted == sorted([
        ("", "Reader"),
        ("/resourcegroups/networkwatcherrg", "Contributor"),
        ("/resourcegroups/rg-cf-state/providers/microsoft.storage/storageaccounts/" + account,
         "Storage Blob Data Contributor"),
        ("/resourcegroups/rg-cf-westeu-test-1", "Contributor"),
        ("/resourcegroups/rg-cf-westeu-test-1", "RBAC Administrator"),
    ]), granted
    caller = [a for a in fresh.resources() if str(a.get("type", "")).lower() == "microsoft.authorization/roleassignments"
              and a["properties"]["principalId"] == identity.DEPLOYER.object_id]
    assert caller == [], "with a runner object id, the caller gets nothing"
    mark = len(fresh.requests())
    second = play(fresh, "playbooks/bootstrap.yml", "localhost", *args)
    assert second.returncode == 0 and second.recap.get("changed") == 0, second.output
    assert writes(fresh.requests()[mark:]) == []
    built = play(fresh, "site.yml", "westeu-test-1", *QUICK, *EMULATOR_VARS)
    assert built.returncode == 0, "the group bootstrap created must suit the deployment\n" + built.output


def test_a_run_without_the_state_account_is_refused_before_any_write(fresh: Any) -> None:
    run = play(fresh, "site.yml", "westeu-test-1", *QUICK, *EMULATOR_VARS, *LOCKED)
    assert run.returncode != 0
    assert "playbooks/bootstrap.yml" in run.stdout, run.output
    assert writes(fresh.requests()) == []


def test_two_concurrent_runs_on_one_deployment_one_writer_then_one_secret_version(bootstrapped: Any) -> None:
    emulator = bootstrapped
    reader = StateReader(emulator)
    deployment = "westeu-test-1"
    for phase in ("empty", "converged"):
        first = start(emulator, "site.yml", deployment, *EMULATOR_VARS, *LOCKED, marker=f"cf-first-{phase}")
        try:
            holder = wait_for_lock(reader, deployment, first)
            second = play(emulator, "site.yml", deployment, *EMULATOR_VARS, *LOCKED, marker=f"cf-second-{phase}")
            assert first.poll() is None, f"{phase}: the second run waited for the first instead of being refused"
        finally:
            done = finish(first, deployment)
        assert done.returncode == 0, f"{phase}: the run holding the lock failed\n{done.output}"
        assert second.returncode != 0, f"{phase}: the second run was not refused\n{second.output}"
        message = second.stdout
        assert f"deployment {deployment} is locked" in message, second.output
        for value in (holder["lockid"], holder["who"], holder["host"], holder["since"], "site.yml",
                      "playbooks/unlock.yml"):
            assert value in message, f"{phase}: {value!r} missing from the refusal\n{second.output}"
        second_writes = [f"{e['method']} {e['path']}" for e in write_requests(emulator.requests())
                         if f"cf-second-{phase}" in str(e.get("user_agent") or "")]
        assert second_writes == [], f"{phase}: the refused run wrote to ARM: {second_writes}"
        assert "TASK [complianceflow.azure_infra.resource_group" not in message, second.output
        assert not reader.lock(deployment)["leased"], f"{phase}: the lock was not released at the end"

    vault = next(r for r in emulator.resources() if str(r.get("type", "")).lower() == "microsoft.keyvault/vaults"
                 and deployment.replace("-", "") in str(r["name"]).replace("-", ""))
    secrets = Vault(emulator, vault["properties"]["vaultUri"])
    names = sorted(secrets.values())
    for name in ("postgresql-user-password", "postgresql-case-password", "appinsights-connection-string"):
        assert name in names, names
    for name in names:
        status, body = secrets.get(f"secrets/{name}/versions")
        assert status == 200, body
        assert len(body["value"]) == 1, f"{name} has {len(body['value'])} versions"


def test_two_deployments_run_concurrently_unhindered(bootstrapped: Any) -> None:
    runs = {d: start(bootstrapped, "site.yml", d, *QUICK, *EMULATOR_VARS, *LOCKED, marker=f"cf-{d}")
            for d in ("westeu-test-1", "westeu-prod-1")}
    results = {d: finish(p, d) for d, p in runs.items()}
    for run in results.values():
        assert run.returncode == 0, run.output
        assert "is locked" not in run.stdout
    reader = StateReader(bootstrapped)
    for deployment in results:
        assert len(reader.records(deployment)) == 1
        assert not reader.lock(deployment)["leased"]


def test_a_killed_run_keeps_the_lock_until_unlock_with_its_id(bootstrapped: Any) -> None:
    emulator = bootstrapped
    reader = StateReader(emulator)
    deployment = "westeu-test-1"
    killed = start(emulator, "site.yml", deployment, "--tags", "resource_group,network", *EMULATOR_VARS, *LOCKED,
                   marker="cf-killed")
    holder = wait_for_lock(reader, deployment, killed)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    assert reader.lock(deployment)["leased"], "a killed run cannot release its lock"

    refused = play(emulator, "site.yml", deployment, *QUICK, *EMULATOR_VARS, *LOCKED)
    assert refused.returncode != 0
    shown = re.search(r"-e lock_id=([0-9a-f-]{36})", refused.stdout)
    assert shown and shown.group(1) == holder["lockid"], refused.output

    without_id = play(emulator, "playbooks/unlock.yml", deployment)
    assert without_id.returncode != 0 and "without its lock id" in without_id.stdout, without_id.output
    wrong_id = play(emulator, "playbooks/unlock.yml", deployment, "-e", "lock_id=00000000-0000-4000-8000-000000000000")
    assert wrong_id.returncode != 0 and "is not the lock of" in wrong_id.stdout, wrong_id.output
    assert reader.lock(deployment)["leased"], "a refused unlock must leave the lock alone"

    unlocked = play(emulator, "playbooks/unlock.yml", deployment, "-e", f"lock_id={shown.group(1)}")
    assert unlocked.returncode == 0 and unlocked.recap.get("changed") == 1, unlocked.output
    assert not reader.lock(deployment)["leased"]
    after = play(emulator, "site.yml", deployment, *QUICK, *EMULATOR_VARS, *LOCKED)
    assert after.returncode == 0, after.output


def test_ledger_summary_and_history_record_every_run(bootstrapped: Any, tmp_path: Path) -> None:
    emulator = bootstrapped
    deployment = "westeu-test-1"
    applied = play(emulator, "site.yml", deployment, *QUICK, *EMULATOR_VARS, *LOCKED, summary_dir=tmp_path)
    assert applied.returncode == 0, applied.output
    checked = play(emulator, "site.yml", deployment, "--tags", "resource_group,network", "--check",
                   *EMULATOR_VARS, *LOCKED, summary_dir=tmp_path)
    assert checked.returncode == 0, checked.output

    # The summary line, in Terraform's words, with the changed resources by type and name.
    assert re.search(rf"^{deployment}: 1 to add, 0 to change, 0 to destroy, \d+ unchanged$", applied.stdout,
                     re.MULTILINE), applied.output
    assert "+ Microsoft.Resources/resourceGroups rg-cf-westeu-test-1" in applied.stdout
    line = re.search(rf"^{deployment}: would: (\d+) to add, 0 to change, 0 to destroy, (\d+) unchanged$",
                     checked.stdout, re.MULTILINE)
    assert line and int(line.group(1)) > 0 and int(line.group(2)) >= 1, checked.output
    documents = sorted((tmp_path / deployment).glob("*.json"))
    assert len(documents) == 2
    check_document = json.loads(documents[-1].read_text())
    assert check_document["check_mode"] is True and check_document["counts"]["add"] == int(line.group(1))
    assert len(check_document["changes"]) == int(line.group(1))

    reader = StateReader(emulator)
    records = reader.records(deployment)
    assert [r["check_mode"] for r in records] == [False, True]
    for record in records:
        for field in ("who", "host", "started", "finished", "duration_seconds", "collection_version", "git_commit",
                      "inventory_hash", "playbook", "outcome", "resources", "counts"):
            assert record.get(field) not in (None, ""), (field, record)
        assert record["playbook"] == "site.yml" and record["outcome"] == "succeeded"
    assert records[0]["counts"]["add"] == 1
    assert {r["action"] for r in records[0]["resources"]} <= {"create", "unchanged"}
    assert records[0]["inventory_hash"] == records[1]["inventory_hash"]
    assert records[1]["counts"]["add"] == int(line.group(1))
    plan = reader.json(f"{deployment}/applied-plan.json")
    assert plan["run_id"] == records[0]["run_id"] and plan["resources"], plan.keys()

    history = play(emulator, "playbooks/history.yml", deployment)
    assert history.returncode == 0, history.output
    assert history.stdout.count("site.yml") == 2 and "site.yml (check mode)" in history.stdout, history.output
    listed = play(emulator, "playbooks/history.yml", deployment, "-e", "history_list_deployments=true")
    assert listed.returncode == 0 and f"- {deployment}" in listed.stdout, listed.output

    # Without a summary directory, the JSON goes next to Ansible's log file when one is configured.
    log = tmp_path / "logs" / "ansible.log"
    logged = run_playbook(emulator, "site.yml", deployment, *QUICK, *EMULATOR_VARS, *LOCKED,
                          extra_env={"ANSIBLE_LOG_PATH": str(log)})
    assert logged.returncode == 0, logged.output
    (beside_log,) = (log.parent / "runs" / deployment).glob("*.json")
    assert json.loads(beside_log.read_text())["line"].startswith("0 to add, 0 to change, 0 to destroy")


DRIFT_SLICE = ("--tags", "resource_group,network,keyvault,database")


def test_drift_report_names_exactly_the_changed_resources_and_site_repairs_them(bootstrapped: Any,
                                                                                  tmp_path: Path) -> None:
    emulator = bootstrapped
    deployment = "westeu-test-1"
    built = play(emulator, "site.yml", deployment, *DRIFT_SLICE, *EMULATOR_VARS, *LOCKED)
    assert built.returncode == 0, built.output
    report_dir = ("-e", f"drift_report_dir={tmp_path}")
    clean = play(emulator, "playbooks/drift.yml", deployment, "--check", *DRIFT_SLICE, *EMULATOR_VARS, *report_dir)
    assert clean.returncode == 0, clean.output
    assert json.loads((tmp_path / f"{deployment}.json").read_text())["resources"] == []

    # Behind the collection's back: a rule of an NSG, a tag of the resource group, a PostgreSQL parameter.
    arm = emulator.arm()
    resources = emulator.resources()
    rg = next(r for r in resources if str(r.get("type")).lower() == "microsoft.resources/resourcegroups"
              and r["name"] == "rg-cf-westeu-test-1")
    nsg = next(r for r in resources if str(r.get("type")).lower() == "microsoft.network/networksecuritygroups"
               and r["properties"].get("securityRules") and "/resourcegroups/rg-cf-westeu-test-1/" in r["id"].lower())
    parameter = next(r for r in resources
                     if str(r.get("type")).lower() == "microsoft.dbforpostgresql/flexibleservers/configurations"
                     and r["name"] == "log_min_duration_statement")
    rule = nsg["properties"]["securityRules"][0]
    status, body, _ = arm.call("PUT", f"{rule['id']}?api-version=2024-05-01",
                               {"properties": {**{k: v for k, v in rule["properties"].items()
                                                  if k not in ("provisioningState",)},
                                               "description": "changed by hand"}})
    assert status in (200, 201), body
    status, body, _ = arm.call("PATCH", f"{rg['id']}?api-version=2024-03-01",
                               {"tags": {**rg["tags"], "costCenter": "changed-by-hand"}})
    assert status == 200, body
    status, body, _ = arm.call("PUT", f"{parameter['id']}?api-version=2024-08-01",
                               {"properties": {"value": "12345", "source": "user-override"}})
    assert status in (200, 201, 202), body

    (tmp_path / f"{deployment}.json").unlink()
    drifted = play(emulator, "playbooks/drift.yml", deployment, "--check", *DRIFT_SLICE, *EMULATOR_VARS,
                   *report_dir)
    assert drifted.returncode != 0, "drift must fail the run so that a scheduled job alerts\n" + drifted.output
    assert f"{deployment} drifted:" in drifted.stdout, drifted.output
    report = json.loads((tmp_path / f"{deployment}.json").read_text())
    assert report["drifted"] is True, drifted.output
    found = {r["id"].lower(): r["paths"] for r in report["resources"]}
    assert sorted(found) == sorted(i.lower() for i in (rg["id"], nsg["id"], parameter["id"])), found
    assert found[rg["id"].lower()] == ["tags.costCenter"]
    assert found[parameter["id"].lower()] == ["properties.value"]
    assert any(rule["name"] in p and p.endswith(".description") for p in found[nsg["id"].lower()]), found
    assert "changed-by-hand" not in json.dumps(report) and "12345" not in json.dumps(report)

    repaired = play(emulator, "site.yml", deployment, *DRIFT_SLICE, *EMULATOR_VARS, *LOCKED)
    assert repaired.returncode == 0, repaired.output
    assert re.search(rf"^{deployment}: 0 to add, 3 to change, 0 to destroy, \d+ unchanged$", repaired.stdout,
                     re.MULTILINE), repaired.output
    (tmp_path / f"{deployment}.json").unlink()
    again = play(emulator, "playbooks/drift.yml", deployment, "--check", *DRIFT_SLICE, *EMULATOR_VARS, *report_dir)
    assert again.returncode == 0, again.output
    assert json.loads((tmp_path / f"{deployment}.json").read_text()) == {"deployment": deployment, "drifted": False,
                                                                        "resources": []}


def test_drift_refuses_to_run_without_check_mode(bootstrapped: Any) -> None:
    mark = len(bootstrapped.requests())
    run = play(bootstrapped, "playbooks/drift.yml", "westeu-test-1", *EMULATOR_VARS)
    assert run.returncode != 0 and "run drift.yml with --check" in run.stdout, run.output
    assert writes(bootstrapped.requests()[mark:]) == []


def test_an_interrupted_run_releases_its_lock_and_is_recorded(bootstrapped: Any) -> None:
    reader = StateReader(bootstrapped)
    deployment = "westeu-test-1"
    interrupted = start(bootstrapped, "site.yml", deployment, "--tags", "resource_group,network", *EMULATOR_VARS,
                        *LOCKED, marker="cf-interrupted")
    holder = wait_for_lock(reader, deployment, interrupted)
    # Ctrl-C while the pass is reading Azure, as a user sees it: ansible-playbook is waiting for its module. (A
    # signal that lands while ansible-playbook forks a worker runs in Python's at-fork hooks, which swallow the
    # KeyboardInterrupt: that single Ctrl-C is lost to Ansible itself, and the test would be about timing.)
    bootstrapped.set_options(read_latency=1.0)
    wait_for_request(bootstrapped, "cf-interrupted", "/providers/Microsoft.Network/", interrupted)
    os.kill(interrupted.pid, signal.SIGINT)  # Ctrl-C reaches ansible-playbook
    run = finish(interrupted, deployment)
    assert run.returncode != 0, run.output
    assert not reader.lock(deployment)["leased"], "Ctrl-C must not leave the lock behind\n" + run.output
    (record,) = reader.records(deployment)
    assert record["outcome"] == "interrupted" and record["lock_id"] == holder["lockid"], record
