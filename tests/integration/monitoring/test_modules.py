"""The monitoring and governance modules against the emulator: check -> apply -> idempotent check -> idempotent
apply, what Azure then holds, drift put back, Azure's refusals, and the Application Insights connection string
that never reaches a result unless asked for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, Step, four_steps

pytestmark = pytest.mark.emulator

LOCATION = "westeurope"
RG = "rg-cf-it-monitoring"
WORKSPACE = "log-cf-it-monitoring"
REQUIRE_TAG = "/providers/Microsoft.Authorization/policyDefinitions/871b6d14-10aa-478d-b590-94f262ecfa99"


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("failed"), result.get("msg")
    return result


def stored(emulator: Any, resource_id: str) -> dict[str, Any]:
    for item in emulator.resources():
        if str(item.get("id", "")).lower() == resource_id.lower():
            return item
    raise AssertionError(f"{resource_id} is not in the emulator")


def workspace(run: ModuleRunner) -> str:
    group, result = run.steps([
        Step("resource_group", {"name": RG, "location": LOCATION}),
        Step("log_analytics_workspace", {"resource_group": RG, "name": WORKSPACE, "location": LOCATION,
                                         "retention_days": 90, "daily_quota_gb": 5})])
    ok(group.result)
    return str(ok(result.result)["id"])


def test_workspace_retention_and_cap(run: ModuleRunner, emulator: Any) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))
    args = {"resource_group": RG, "name": WORKSPACE, "location": LOCATION, "retention_days": 90, "daily_quota_gb": 5}
    applied = four_steps(run, "log_analytics_workspace", args)
    assert applied["customer_id"], "the workspace ID that traffic analytics needs must be returned"
    props = stored(emulator, applied["id"])["properties"]
    assert props["retentionInDays"] == 90
    assert props["workspaceCapping"]["dailyQuotaGb"] == 5
    # Production: the cap goes away (-1), in place.
    lifted = ok(run("log_analytics_workspace", {**args, "daily_quota_gb": -1}, diff=True))
    assert lifted["changed"] is True
    assert stored(emulator, applied["id"])["properties"]["workspaceCapping"]["dailyQuotaGb"] == -1


def test_application_insights_keeps_its_connection_string_out_of_results(run: ModuleRunner, emulator: Any) -> None:
    workspace_id = workspace(run)
    args = {"resource_group": RG, "name": "appi-cf-it", "location": LOCATION, "workspace_resource_id": workspace_id,
            "sampling_percentage": 100}
    applied = four_steps(run, "application_insights", args)
    secret = stored(emulator, applied["id"])["properties"]["ConnectionString"]
    key = stored(emulator, applied["id"])["properties"]["InstrumentationKey"]
    assert stored(emulator, applied["id"])["properties"]["WorkspaceResourceId"].lower() == workspace_id.lower()
    plain = run("application_insights", args, diff=True)
    assert "connection_string" not in plain
    assert secret not in json.dumps(plain) and key not in json.dumps(plain)
    asked = ok(run("application_insights", {**args, "return_connection_string": True}))
    assert asked["connection_string"] == secret
    assert asked["changed"] is False


def test_diagnostic_setting_on_a_workspace_target_and_azure_refusal(run: ModuleRunner, emulator: Any) -> None:
    workspace_id = workspace(run)
    nsg = ok(run("network_security_group", {"resource_group": RG, "name": "nsg-cf-it", "location": LOCATION,
                                            "rules": []}))
    args = {"resource_id": nsg["id"], "name": "diag-cf-it", "workspace_id": workspace_id,
            "logs": [{"category_group": "allLogs"}]}
    applied = four_steps(run, "diagnostic_setting", args)
    props = stored(emulator, applied["id"])["properties"]
    assert props["workspaceId"].lower() == workspace_id.lower()
    assert [(e.get("categoryGroup"), e["enabled"]) for e in props["logs"]] == [("allLogs", True)]
    # The same categories listed the other way round are not a change.
    both = {**args, "logs": [{"category": "NetworkSecurityGroupRuleCounter"}, {"category": "NetworkSecurityGroupEvent"}]}
    first, swapped = run.steps([Step("diagnostic_setting", both),
                                Step("diagnostic_setting", {**both, "logs": list(reversed(both["logs"]))})])
    assert ok(first.result)["changed"] is True
    assert ok(swapped.result)["changed"] is False and swapped.writes == []
    # NSGs publish no metrics: Azure's refusal reaches the user with the setting's ID.
    refused = run("diagnostic_setting", {**args, "metrics": [{"category": "AllMetrics"}]})
    assert refused.get("failed")
    assert "not supported" in refused["msg"] and "diag-cf-it" in refused["msg"]


def test_action_group_hides_the_webhook_url(run: ModuleRunner, emulator: Any) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))
    url = "https://example.webhook.office.com/workflows/abc?sig=s3cr3t-signature-value"
    args = {"resource_group": RG, "name": "ag-cf-it", "short_name": "cf-it",
            "email_receivers": [{"name": "email-1", "email_address": "ops@example.com"}],
            "webhook_receivers": [{"name": "teams", "service_uri": url}]}
    applied = four_steps(run, "action_group", args)
    props = stored(emulator, applied["id"])["properties"]
    assert [r["emailAddress"] for r in props["emailReceivers"]] == ["ops@example.com"]
    assert props["webhookReceivers"][0]["serviceUri"] == url
    assert "s3cr3t-signature-value" not in json.dumps(applied) + applied["_stdout"]
    # A receiver dropped from the task is removed from Azure.
    ok(run("action_group", {**args, "webhook_receivers": []}))
    assert stored(emulator, applied["id"])["properties"]["webhookReceivers"] == []


def test_metric_alert_threshold_drift_is_put_back(run: ModuleRunner, emulator: Any, arm_client: Any) -> None:
    workspace_id = workspace(run)
    group = ok(run("action_group", {"resource_group": RG, "name": "ag-cf-it", "short_name": "cf-it",
                                    "email_receivers": [{"name": "e", "email_address": "ops@example.com"}]}))
    args = {"resource_group": RG, "name": "alert-cf-it-ws", "scopes": [workspace_id], "window_size": "PT15M",
            "criteria": [{"name": "ingestion", "metric_name": "Ingestion Volume", "threshold": 80,
                          "metric_namespace": "Microsoft.OperationalInsights/workspaces"}],
            "action_groups": [group["id"]]}
    applied = four_steps(run, "metric_alert", args)
    alert = stored(emulator, applied["id"])
    assert alert["properties"]["criteria"]["allOf"][0]["threshold"] == 80
    assert alert["properties"]["windowSize"] == "PT15M"
    body = arm_client.get(applied["id"], "2018-03-01")
    body["properties"]["criteria"]["allOf"][0]["threshold"] = 95
    arm_client.write("PUT", applied["id"], "2018-03-01", body, 60)
    restored = ok(run("metric_alert", args, diff=True))
    assert restored["changed"] is True
    assert stored(emulator, applied["id"])["properties"]["criteria"]["allOf"][0]["threshold"] == 80
    refused = run("metric_alert", {**args, "name": "alert-cf-it-bad", "window_size": "PT1M",
                                   "evaluation_frequency": "PT5M"})
    assert refused.get("failed") and "shorter than evaluation_frequency" in refused["msg"]


def test_log_alert(run: ModuleRunner, emulator: Any) -> None:
    workspace_id = workspace(run)
    args = {"resource_group": RG, "name": "alert-cf-it-kv", "location": LOCATION, "scopes": [workspace_id],
            "criteria": [{"query": "AzureDiagnostics | summarize Count = count()", "time_aggregation": "Maximum",
                          "metric_measure_column": "Count", "operator": "GreaterThanOrEqual", "threshold": 1}]}
    applied = four_steps(run, "log_alert", args)
    rule = stored(emulator, applied["id"])
    assert rule["kind"] == "LogAlert"
    assert rule["properties"]["criteria"]["allOf"][0]["operator"] == "GreaterThanOrEqual"


def test_budget_notifications_are_the_whole_set(run: ModuleRunner, emulator: Any) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))
    notifications = [{"name": f"actual-{p}", "threshold": p, "contact_emails": ["ops@example.com"]}
                     for p in (50, 80, 100)]
    args = {"scope": run.rg_id(RG), "name": "budget-cf-it", "amount": 200, "notifications": notifications}
    applied = four_steps(run, "budget", args)
    props = stored(emulator, applied["id"])["properties"]
    assert props["amount"] == 200 and props["timeGrain"] == "Monthly"
    assert sorted(n["threshold"] for n in props["notifications"].values()) == [50, 80, 100]
    assert props["timePeriod"]["startDate"].endswith("-01T00:00:00Z")
    fewer = ok(run("budget", {**args, "notifications": notifications[:2], "amount": 300}, diff=True))
    assert fewer["changed"] is True
    props = stored(emulator, applied["id"])["properties"]
    assert sorted(props["notifications"]) == ["actual-50", "actual-80"] and props["amount"] == 300


def test_policy_definition_and_assignment_deny_for_real(run: ModuleRunner, emulator: Any) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))
    rule = {"if": {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                             {"field": "Microsoft.Storage/storageAccounts/sku.name",
                              "in": "[parameters('deniedSkus')]"}]},
            "then": {"effect": "deny"}}
    definition = four_steps(run, "policy_definition", {
        "name": "pd-cf-it-deny-skus", "display_name": "Deny SKUs", "policy_rule": rule,
        "parameters": {"deniedSkus": {"type": "Array"}}})
    assignment = four_steps(run, "policy_assignment", {
        "scope": run.rg_id(RG), "name": "pa-cf-it-deny-skus", "policy_definition_id": definition["id"],
        "parameters": {"deniedSkus": ["Premium_LRS"]}})
    assert stored(emulator, assignment["id"])["properties"]["parameters"] == {"deniedSkus": {"value": ["Premium_LRS"]}}
    premium = run("storage_account", {"resource_group": RG, "name": "stcfitpremium", "location": LOCATION,
                                      "sku": "Premium_LRS", "kind": "StorageV2"})
    assert premium.get("failed") and "RequestDisallowedByPolicy" in premium["msg"]
    ok(run("storage_account", {"resource_group": RG, "name": "stcfitstandard", "location": LOCATION,
                               "sku": "Standard_LRS", "kind": "StorageV2"}))
    # A condition removed from the rule is a change, and the stored rule is the task's, not a merge.
    narrower = {"if": rule["if"]["allOf"][1], "then": rule["then"]}
    changed = ok(run("policy_definition", {"name": "pd-cf-it-deny-skus", "display_name": "Deny SKUs",
                                           "policy_rule": narrower, "parameters": {"deniedSkus": {"type": "Array"}}}))
    assert changed["changed"] is True
    assert stored(emulator, definition["id"])["properties"]["policyRule"] == narrower


def test_required_tag_assignment_of_a_builtin(run: ModuleRunner) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))
    four_steps(run, "policy_assignment", {"scope": run.rg_id(RG), "name": "pa-cf-it-require-tag-owner",
                                          "policy_definition_id": REQUIRE_TAG, "parameters": {"tagName": "owner"}})
    untagged = run("network_security_group", {"resource_group": RG, "name": "nsg-untagged", "location": LOCATION,
                                              "rules": []})
    assert untagged.get("failed") and "RequestDisallowedByPolicy" in untagged["msg"]
    ok(run("network_security_group", {"resource_group": RG, "name": "nsg-tagged", "location": LOCATION, "rules": [],
                                      "tags": {"owner": "platform"}}))


def test_monitoring_info_reads_everything_without_secrets(run: ModuleRunner, emulator: Any) -> None:
    workspace_id = workspace(run)
    ok(run("application_insights", {"resource_group": RG, "name": "appi-cf-it", "location": LOCATION,
                                    "workspace_resource_id": workspace_id}))
    missing = f"{run.rg_id(RG)}/providers/Microsoft.Network/networkSecurityGroups/nsg-never-created"
    info = ok(run("monitoring_info", {"resource_group": RG, "scope": run.rg_id(RG),
                                      "diagnostic_targets": [workspace_id, missing]}))
    assert [w["name"] for w in info["workspaces"]] == [WORKSPACE]
    assert "ConnectionString" not in info["components"][0]["properties"]
    assert info["diagnostic_settings"][workspace_id] == []
    assert info["diagnostic_settings"][missing] is None
    assert info["budgets"] == [] and info["changed"] is False
