"""Monitoring through the official SDKs (azure-mgmt-loganalytics, -applicationinsights, -monitor) and the ARM
REST API (diagnostic settings: azure-mgmt-monitor 7 has no diagnosticSettings operations): workspaces and shared
keys, components, diagnostic settings per target type, action groups, metric alerts, scheduled query rules."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.test_emulator.examples import assert_shape, load_example, rewrite

pytestmark = pytest.mark.emulator
DIAG_API = "2021-05-01-preview"


@pytest.fixture(scope="module")
def la(emulator: Any) -> Any:
    from azure.mgmt.loganalytics import LogAnalyticsManagementClient

    return emulator.mgmt_client(LogAnalyticsManagementClient)


@pytest.fixture(scope="module")
def appinsights(emulator: Any) -> Any:
    from azure.mgmt.applicationinsights import ApplicationInsightsManagementClient

    return emulator.mgmt_client(ApplicationInsightsManagementClient)


@pytest.fixture(scope="module")
def monitor(emulator: Any) -> Any:
    from azure.mgmt.monitor import MonitorManagementClient

    return emulator.mgmt_client(MonitorManagementClient)


def _error(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(HttpResponseError) as excinfo:
        call()
    return excinfo.value.status_code, excinfo.value.error.code, excinfo.value.error.message


@pytest.fixture
def workspace(la: Any, rg: str, unique: Callable[[str], str]) -> Any:
    return la.workspaces.begin_create_or_update(rg, unique("law-"), {"location": "westeurope"}).result()


def test_workspace_lifecycle_and_shared_keys(la: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("law-life-")
    ws = la.workspaces.begin_create_or_update(rg, name, {"location": "westeurope",
                                                         "properties": {"retentionInDays": 60}}).result()
    assert ws.provisioning_state == "Succeeded"
    assert ws.sku.name == "PerGB2018" and ws.retention_in_days == 60
    assert ws.public_network_access_for_ingestion == "Enabled"
    again = la.workspaces.begin_create_or_update(rg, name, {"location": "westeurope"}).result()
    assert again.customer_id == ws.customer_id, "the workspace ID is stable across updates"
    keys = la.shared_keys.get_shared_keys(rg, name)
    assert len(base64.b64decode(keys.primary_shared_key)) == 64
    regenerated = la.workspaces.regenerate_shared_key(rg, name) if hasattr(la.workspaces, "regenerate_shared_key") \
        else la.shared_keys.regenerate(rg, name)
    assert regenerated.primary_shared_key != keys.primary_shared_key
    assert la.shared_keys.get_shared_keys(rg, name).primary_shared_key == regenerated.primary_shared_key
    for props in ({"retentionInDays": 10}, {"retentionInDays": 731}, {"sku": {"name": "Gold"}}):
        assert _error(lambda p=props: la.workspaces.begin_create_or_update(
            rg, unique("law-bad-"), {"location": "westeurope", "properties": p}).result())[0] == 400, props
    assert _error(lambda: la.workspaces.begin_create_or_update(rg, "abc", {"location": "westeurope"}).result())[
        0] == 400, "workspace names have at least 4 characters"
    la.workspaces.begin_delete(rg, name).result()
    assert name not in [w.name for w in la.workspaces.list_by_resource_group(rg)]


def test_component_connection_string(appinsights: Any, workspace: Any, rg: str,
                                     unique: Callable[[str], str]) -> None:
    name = unique("appi-")
    body = {"location": "westeurope", "kind": "web", "application_type": "web",
            "workspace_resource_id": workspace.id}
    component = appinsights.components.create_or_update(rg, name, body)
    key = component.instrumentation_key
    assert component.connection_string.startswith(f"InstrumentationKey={key};IngestionEndpoint=https://westeurope")
    assert component.app_id and component.provisioning_state == "Succeeded"
    assert component.ingestion_mode == "LogAnalytics"
    again = appinsights.components.create_or_update(rg, name, body)
    assert again.instrumentation_key == key, "an idempotent re-run keeps the instrumentation key"
    tagged = appinsights.components.update_tags(rg, name, {"tags": {"team": "ops"}})
    assert tagged.tags == {"team": "ops"}
    missing_ws = dict(body, workspace_resource_id=workspace.id + "-gone")
    assert _error(lambda: appinsights.components.create_or_update(rg, unique("appi-"), missing_ws))[0] == 400
    assert _error(lambda: appinsights.components.create_or_update(rg, unique("appi-"), dict(
        body, application_type="desktop")))[0] == 400
    appinsights.components.delete(rg, name)
    assert name not in [c.name for c in appinsights.components.list_by_resource_group(rg)]


# --- diagnostic settings ---------------------------------------------------------------------------------------------
@pytest.fixture
def targets(emulator: Any, rg: str, unique: Callable[[str], str], network_client: Any) -> dict[str, str]:
    """Resources of several types to attach diagnostic settings to (IDs)."""
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.redis import RedisManagementClient

    kv = emulator.mgmt_client(KeyVaultManagementClient).vaults.begin_create_or_update(rg, unique("kv-diag-"), {
        "location": "westeurope", "properties": {"tenantId": emulator.env["AZURE_TENANT"],
                                                 "sku": {"family": "A", "name": "standard"}}}).result()
    cache = emulator.mgmt_client(RedisManagementClient).redis.begin_create(rg, unique("redis-diag-"), {
        "location": "westeurope", "sku": {"name": "Basic", "family": "C", "capacity": 0}}).result()
    nsg = network_client.network_security_groups.begin_create_or_update(rg, "nsg-diag",
                                                                        {"location": "westeurope"}).result()
    return {"kv": kv.id, "redis": cache.id, "nsg": nsg.id,
            "subscription": f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}"}


def _diag(emulator: Any, target: str, name: str, props: dict[str, Any]) -> tuple[int, Any]:
    status, body, _ = emulator.arm().call(
        "PUT", f"{target}/providers/Microsoft.Insights/diagnosticSettings/{name}?api-version={DIAG_API}",
        {"properties": props})
    return status, body


def test_diagnostic_settings_accept_the_target_types_categories(emulator: Any, workspace: Any,
                                                                targets: dict[str, str]) -> None:
    cases = {
        "kv": {"logs": [{"category": "AuditEvent", "enabled": True}],
               "metrics": [{"category": "AllMetrics", "enabled": True}]},
        "redis": {"logs": [{"categoryGroup": "allLogs", "enabled": True}]},
        "nsg": {"logs": [{"category": "NetworkSecurityGroupEvent", "enabled": True},
                         {"category": "NetworkSecurityGroupRuleCounter", "enabled": True}]},
        "subscription": {"logs": [{"category": "Administrative", "enabled": True},
                                  {"category": "Policy", "enabled": True}]},
    }
    for target, props in cases.items():
        status, body = _diag(emulator, targets[target], "to-law", {"workspaceId": workspace.id, **props})
        assert status == 200, (target, body)
        assert body["id"].lower() == f"{targets[target]}/providers/Microsoft.Insights/diagnosticSettings/to-law".lower()
        assert "provisioningState" not in body["properties"]
    status, body, _ = emulator.arm().call(
        "GET", f"{targets['kv']}/providers/Microsoft.Insights/diagnosticSettings?api-version={DIAG_API}")
    assert [s["name"] for s in body["value"]] == ["to-law"]


def test_diagnostic_settings_refuse_what_the_target_does_not_publish(emulator: Any, workspace: Any,
                                                                     targets: dict[str, str]) -> None:
    refused = [
        ("kv", {"logs": [{"category": "PostgreSQLLogs", "enabled": True}]}, "Category 'PostgreSQLLogs'"),
        ("redis", {"logs": [{"category": "AuditEvent", "enabled": True}]}, "Category 'AuditEvent'"),
        ("nsg", {"metrics": [{"category": "AllMetrics", "enabled": True}]}, "Category 'AllMetrics'"),
        ("nsg", {"logs": [{"categoryGroup": "audit", "enabled": True}]}, "Category group 'audit'"),
        ("kv", {"logs": [{"category": "AuditEvent", "categoryGroup": "audit", "enabled": True}]}, "exactly one"),
        ("kv", {}, "At least one log or metric"),
    ]
    for target, props, fragment in refused:
        status, body = _diag(emulator, targets[target], "bad", {"workspaceId": workspace.id, **props})
        assert (status, body["error"]["code"]) == (400, "BadRequest"), (target, props)
        assert fragment in body["error"]["message"], body
    status, body = _diag(emulator, targets["kv"], "nowhere", {"logs": [{"category": "AuditEvent", "enabled": True}]})
    assert status == 400 and "destination" in body["error"]["message"]
    status, _ = _diag(emulator, targets["kv"], "gone", {"workspaceId": workspace.id + "x",
                                                         "logs": [{"category": "AuditEvent", "enabled": True}]})
    assert status == 400
    status, body = _diag(emulator, targets["kv"], "retention", {"workspaceId": workspace.id, "logs": [
        {"category": "AuditEvent", "enabled": True, "retentionPolicy": {"enabled": True, "days": 30}}]})
    assert status == 400 and "deprecated" in body["error"]["message"]
    rg_id = targets["kv"].split("/providers/")[0]
    status, body = _diag(emulator, rg_id, "on-group", {"workspaceId": workspace.id,
                                                       "logs": [{"category": "AuditEvent", "enabled": True}]})
    assert (status, body["error"]["code"]) == (400, "ResourceTypeNotSupported")
    status, body, _ = emulator.arm().call(
        "GET", f"{rg_id}/providers/Microsoft.Insights/diagnosticSettings?api-version={DIAG_API}")
    assert (status, body["error"]["code"]) == (400, "ResourceTypeNotSupported"), "listing says so too"


def test_diagnostic_settings_cannot_reuse_a_sink_for_a_category(emulator: Any, workspace: Any,
                                                                targets: dict[str, str]) -> None:
    first = {"workspaceId": workspace.id, "logs": [{"category": "AuditEvent", "enabled": True}]}
    assert _diag(emulator, targets["kv"], "first", first)[0] == 200
    status, body = _diag(emulator, targets["kv"], "second", first)
    assert status == 400 and "already used" in body["error"]["message"]
    other_category = {"workspaceId": workspace.id,
                      "logs": [{"category": "AzurePolicyEvaluationDetails", "enabled": True}]}
    assert _diag(emulator, targets["kv"], "second", other_category)[0] == 200
    assert _diag(emulator, targets["kv"], "first", first)[0] == 200, "a setting may be re-PUT unchanged"


def test_diagnostic_settings_go_with_their_resource(emulator: Any, workspace: Any, targets: dict[str, str],
                                                    rg: str) -> None:
    from azure.mgmt.keyvault import KeyVaultManagementClient

    _diag(emulator, targets["kv"], "cascade", {"workspaceId": workspace.id,
                                               "logs": [{"category": "AuditEvent", "enabled": True}]})
    emulator.mgmt_client(KeyVaultManagementClient).vaults.delete(rg, targets["kv"].rsplit("/", 1)[-1])
    assert not [r for r in emulator.resources() if r["id"].lower().startswith(targets["kv"].lower() + "/")]


def test_diagnostic_setting_example(emulator: Any, workspace: Any, targets: dict[str, str], rg: str,
                                    unique: Callable[[str], str]) -> None:
    from azure.mgmt.eventhub import EventHubManagementClient
    from azure.mgmt.storage import StorageManagementClient

    data = load_example("Microsoft.Insights/2021-05-01-preview/createOrUpdateDiagnosticSetting.json")
    storage = emulator.mgmt_client(StorageManagementClient).storage_accounts.begin_create(rg, unique("stdiag"), {
        "location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}).result()
    eh = emulator.mgmt_client(EventHubManagementClient)
    namespace = unique("ehns-diag-")
    eh.namespaces.begin_create_or_update(rg, namespace, {"location": "westeurope",
                                                         "sku": {"name": "Standard", "capacity": 1}}).result()
    rule = eh.namespaces.get_authorization_rule(rg, namespace, "RootManageSharedAccessKey")
    request = data["parameters"]["parameters"]
    request = rewrite(request, {request["properties"]["storageAccountId"]: storage.id,
                                request["properties"]["eventHubAuthorizationRuleId"]: rule.id})
    # The example targets a Logic App workflow (not emulated), whose metric category is WorkflowMetrics; the same
    # body is sent to a Key Vault, with the Key Vault's metric category.
    request["properties"]["metrics"][0]["category"] = "AllMetrics"
    status, body, _ = emulator.arm().call(
        "PUT", f"{targets['kv']}/providers/Microsoft.Insights/diagnosticSettings/mysetting?api-version={DIAG_API}",
        request)
    assert status == 200
    assert_shape(body, data["responses"]["200"]["body"], request)


# --- action groups, metric alerts, scheduled query rules -------------------------------------------------------------
def test_action_groups(monitor: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("ag-")
    group = monitor.action_groups.create_or_update(rg, name, {
        "location": "Global", "group_short_name": "ops", "enabled": True,
        "email_receivers": [{"name": "oncall", "email_address": "oncall@example.com"}],
        "webhook_receivers": [{"name": "hook", "service_uri": "https://example.com/hook"}]})
    assert group.email_receivers[0].status == "Enabled"
    assert group.email_receivers[0].use_common_alert_schema is False
    patched = monitor.action_groups.update(rg, name, {"tags": {"team": "ops"}, "enabled": False})
    assert patched.enabled is False and patched.tags == {"team": "ops"}
    refusals = [
        {"group_short_name": "much-too-long-name"},
        {"group_short_name": "ops", "email_receivers": [{"name": "a", "email_address": "not-an-email"}]},
        {"group_short_name": "ops", "email_receivers": [{"name": "same", "email_address": "a@example.com"}],
         "sms_receivers": [{"name": "same", "country_code": "1", "phone_number": "5551234"}]},
        {"group_short_name": "ops", "webhook_receivers": [{"name": "h", "service_uri": "ftp://example.com"}]},
    ]
    for props in refusals:
        assert _error(lambda p=props: monitor.action_groups.create_or_update(
            rg, unique("ag-bad-"), {"location": "Global", "enabled": True, **p}))[:2] == (400, "BadRequest"), props
    monitor.action_groups.delete(rg, name)
    assert name not in [g.name for g in monitor.action_groups.list_by_resource_group(rg)]


def _alert(scopes: list[str], action_group: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "location": "global", "severity": 2, "enabled": True, "scopes": scopes, "evaluation_frequency": "PT5M",
        "window_size": "PT15M",
        "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "all_of": [
            {"criterion_type": "StaticThresholdCriterion", "name": "availability", "metric_name": "Availability",
             "operator": "LessThan", "threshold": 99.9, "time_aggregation": "Average"}]},
        "actions": [{"action_group_id": action_group}] if action_group else [],
    }
    body.update(overrides)
    return body


def test_metric_alerts(monitor: Any, targets: dict[str, str], rg: str, unique: Callable[[str], str]) -> None:
    group = monitor.action_groups.create_or_update(rg, unique("ag-ma-"), {
        "location": "Global", "group_short_name": "ops", "enabled": True})
    name = unique("ma-")
    alert = monitor.metric_alerts.create_or_update(rg, name, _alert([targets["kv"]], group.id))
    assert alert.auto_mitigate is True and alert.criteria.all_of[0].threshold == 99.9
    patched = monitor.metric_alerts.update(rg, name, {"enabled": False})
    assert patched.enabled is False and patched.severity == 2
    refusals = [
        _alert([targets["kv"]], severity=5),
        _alert([targets["kv"]], evaluation_frequency="PT2M"),
        _alert([targets["kv"]], evaluation_frequency="PT1H", window_size="PT15M"),
        _alert([]),
        _alert([targets["kv"], targets["redis"]]),
        _alert([targets["kv"] + "-gone"]),
        _alert([targets["kv"]], group.id + "-gone"),
    ]
    for body in refusals:
        assert _error(lambda b=body: monitor.metric_alerts.create_or_update(rg, unique("ma-bad-"), b))[0] == 400
    multi = _alert([targets["kv"]], criteria={
        "odata.type": "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria", "all_of": [
            {"criterion_type": "StaticThresholdCriterion", "name": "c", "metric_name": "Availability",
             "operator": "LessThan", "threshold": 99, "time_aggregation": "Average"}]})
    created = monitor.metric_alerts.create_or_update(rg, unique("ma-multi-"), multi)
    assert (created.target_resource_type, created.target_resource_region) == ("Microsoft.KeyVault/vaults",
                                                                              "westeurope")
    monitor.metric_alerts.delete(rg, name)
    assert name not in [a.name for a in monitor.metric_alerts.list_by_resource_group(rg)]


def test_scheduled_query_rules(monitor: Any, workspace: Any, rg: str, unique: Callable[[str], str]) -> None:
    body = {"location": "westeurope", "kind": "LogAlert", "severity": 3, "enabled": True,
            "scopes": [workspace.id], "evaluation_frequency": "PT5M", "window_size": "PT10M",
            "criteria": {"all_of": [{"query": "AzureDiagnostics | where Category == 'AuditEvent'",
                                     "time_aggregation": "Count", "operator": "GreaterThan", "threshold": 10}]}}
    name = unique("sqr-")
    rule = monitor.scheduled_query_rules.create_or_update(rg, name, body)
    assert rule.enabled is True and rule.is_workspace_alerts_storage_configured is False
    refusals = [dict(body, scopes=[workspace.id + "-gone"]), dict(body, severity=7),
                dict(body, criteria={"all_of": [{"query": " "}]}), dict(body, window_size=None)]
    for bad in refusals:
        assert _error(lambda b=bad: monitor.scheduled_query_rules.create_or_update(rg, unique("sqr-bad-"), b))[0] \
            == 400
    monitor.scheduled_query_rules.delete(rg, name)


# --- Microsoft's examples ------------------------------------------------------------------------------------------
def test_microsoft_monitoring_examples(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    from azure.mgmt.keyvault import KeyVaultManagementClient

    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers"
    arm = emulator.arm()

    def put(example: str, path: str, request: dict[str, Any], response: str = "200",
            also: frozenset[str] = frozenset()) -> dict[str, Any]:
        data = load_example(example)
        status, body, _ = arm.call("PUT", f"{path}?api-version={data['parameters']['api-version']}", request)
        assert str(status) in data["responses"], (example, body)
        assert_shape(body, data["responses"][response]["body"], request, also=also)
        return body

    ws_example = load_example("Microsoft.OperationalInsights/2026-03-01/WorkspacesCreate.json")
    ws_name = unique("law-ex-")
    workspace = put("Microsoft.OperationalInsights/2026-03-01/WorkspacesCreate.json",
                    f"{base}/Microsoft.OperationalInsights/workspaces/{ws_name}",
                    ws_example["parameters"]["parameters"], "201",
                    frozenset({"customerId", "publicNetworkAccessForIngestion", "publicNetworkAccessForQuery"}))
    get_example = load_example("Microsoft.OperationalInsights/2026-03-01/WorkspacesGet.json")
    _, got, _ = arm.call("GET", f"{workspace['id']}?api-version=2026-03-01")
    assert_shape(got, get_example["responses"]["200"]["body"], also=frozenset({"properties", "customerId", "sku",
                                                                             "retentionInDays"}))

    component = load_example("Microsoft.Insights/2020-02-02/ComponentsCreate.json")["parameters"]["InsightProperties"]
    component["properties"]["WorkspaceResourceId"] = workspace["id"]
    put("Microsoft.Insights/2020-02-02/ComponentsCreate.json",
        f"{base}/Microsoft.Insights/components/{unique('appi-ex-')}", component,
        also=frozenset({"AppId", "InstrumentationKey", "ConnectionString", "CreationDate", "TenantId",
                        "IngestionMode", "provisioningState"}))

    group_example = load_example("Microsoft.Insights/2023-01-01/createOrUpdateActionGroup.json")
    group = put("Microsoft.Insights/2023-01-01/createOrUpdateActionGroup.json",
                f"{base}/Microsoft.Insights/actionGroups/{unique('ag-ex-')}",
                group_example["parameters"]["actionGroup"], "201", frozenset({"status"}))

    vault = emulator.mgmt_client(KeyVaultManagementClient).vaults.begin_create_or_update(rg, unique("kv-ma-"), {
        "location": "southcentralus", "properties": {"tenantId": emulator.env["AZURE_TENANT"],
                                                     "sku": {"family": "A", "name": "standard"}}}).result()
    for example in ("Microsoft.Insights/2026-06-01/createOrUpdateMetricAlertWithDimensions.json",
                    "Microsoft.Insights/2026-01-01/createOrUpdateMetricAlertSingleResource.json"):
        data = load_example(example)
        request = data["parameters"]["parameters"]
        request = rewrite(request, {s: vault.id for s in request["properties"]["scopes"]
                                    if "Microsoft.KeyVault" in s})
        for action in request["properties"].get("actions", []):
            action["actionGroupId"] = group["id"]
        alert = put(example, f"{base}/Microsoft.Insights/metricAlerts/{unique('ma-ex-')}", request,
                    also=frozenset({"targetResourceType", "targetResourceRegion"}
                                   if "MultipleResource" in json.dumps(request) else set()))
    # MetricAlerts_Get: the single-resource rule reads back with the documented shape.
    get_alert = load_example("Microsoft.Insights/2026-06-01/getMetricAlertSingleResource.json")
    status, got, _ = arm.call("GET", f"{alert['id']}?api-version={get_alert['parameters']['api-version']}")
    assert str(status) in get_alert["responses"]
    assert_shape(got, get_alert["responses"]["200"]["body"], also=frozenset({
        "properties", "criteria", "allOf", "odata.type", "scopes", "severity", "enabled", "evaluationFrequency",
        "windowSize", "actions", "actionGroupId", "metricName", "operator", "threshold", "timeAggregation"}))

    rule = load_example("Microsoft.Insights/2026-03-01/createOrUpdateSimpleLogAlertScheduledQueryRule.json")
    request = rule["parameters"]["parameters"]
    request["properties"]["actions"]["actionGroups"] = [group["id"]]
    put("Microsoft.Insights/2026-03-01/createOrUpdateSimpleLogAlertScheduledQueryRule.json",
        f"{base}/Microsoft.Insights/scheduledQueryRules/{unique('sqr-ex-')}", request, "201")


def test_activity_log_alerts(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    """Activity log alert rules (2020-10-01): scopes, a category in the condition, Activity Log fields only."""
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}"
    arm = emulator.arm()
    url = f"{scope}/providers/Microsoft.Insights/activityLogAlerts/{unique('ala-')}?api-version=2020-10-01"
    rule = {"location": "global", "properties": {
        "scopes": [scope], "enabled": True, "actions": {"actionGroups": []},
        "condition": {"allOf": [{"field": "category", "equals": "Administrative"},
                                {"field": "status", "equals": "Failed"}]}}}
    status, body, _ = arm.call("PUT", url, rule)
    assert status == 201, body
    assert body["properties"]["condition"] == rule["properties"]["condition"] and body["location"] == "global"
    status, _, _ = arm.call("PUT", url, rule)
    assert status == 200
    no_category = {**rule, "properties": {**rule["properties"], "condition": {"allOf": [
        {"field": "status", "equals": "Failed"}]}}}
    status, body, _ = arm.call("PUT", url, no_category)
    assert status == 400 and "category" in body["error"]["message"]
    odd_field = {**rule, "properties": {**rule["properties"], "condition": {"allOf": [
        {"field": "category", "equals": "Administrative"}, {"field": "colour", "equals": "red"}]}}}
    status, body, _ = arm.call("PUT", url, odd_field)
    assert status == 400 and "colour" in body["error"]["message"]
    status, body, _ = arm.call("PUT", url, {**rule, "properties": {**rule["properties"], "scopes": []}})
    assert status == 400
    missing_group = {**rule, "properties": {**rule["properties"], "actions": {"actionGroups": [
        {"actionGroupId": f"{scope}/providers/Microsoft.Insights/actionGroups/none"}]}}}
    status, body, _ = arm.call("PUT", url, missing_group)
    assert status == 400 and body["error"]["code"] == "ResourceNotFound"


# --- availability tests (web tests) --------------------------------------------------------------------------------
WEBTEST_API = "2022-06-15"


def _webtest(component_id: str, **overrides: Any) -> dict[str, Any]:
    props = {"SyntheticMonitorId": "avail-health", "Name": "avail-health", "Enabled": True, "Kind": "standard",
             "Frequency": 300, "Timeout": 30, "RetryEnabled": True,
             "Locations": [{"Id": "emea-nl-ams-azr"}, {"Id": "emea-gb-db3-azr"}, {"Id": "us-va-ash-azr"}],
             "Request": {"RequestUrl": "https://api.example.com/healthz", "HttpVerb": "GET"},
             "ValidationRules": {"ExpectedHttpStatusCode": 200, "SSLCheck": True, "SSLCertRemainingLifetimeCheck": 7}}
    props.update(overrides.pop("properties", {}))
    return {"location": "westeurope", "kind": "standard", "tags": {f"hidden-link:{component_id}": "Resource"},
            "properties": props, **overrides}


def test_web_tests_link_to_their_component_by_the_hidden_link_tag(emulator: Any, appinsights: Any, workspace: Any,
                                                                  rg: str, unique: Callable[[str], str]) -> None:
    component = appinsights.components.create_or_update(rg, unique("appi-"), {
        "location": "westeurope", "kind": "web", "application_type": "web", "workspace_resource_id": workspace.id})
    arm = emulator.arm()
    test_id = f"{component.id.rsplit('/providers/', 1)[0]}/providers/Microsoft.Insights/webtests/{unique('avail-')}"

    def put(body: dict[str, Any], rid: str = test_id) -> tuple[int, Any]:
        status, answer, _ = arm.call("PUT", f"{rid}?api-version={WEBTEST_API}", body)
        return status, answer

    status, created = put(_webtest(component.id))
    assert status == 200, created
    assert created["tags"] == {f"hidden-link:{component.id}": "Resource"}, "the link tag is kept as sent"
    assert created["properties"]["provisioningState"] == "Succeeded" and created["kind"] == "standard"
    status, read, _ = arm.call("GET", f"{test_id}?api-version={WEBTEST_API}")
    assert status == 200 and read["properties"]["Request"]["RequestUrl"] == "https://api.example.com/healthz"

    refused = {
        "no link": _webtest(component.id, tags={"env": "test"}),
        "link to a missing component": _webtest(component.id + "-gone"),
        "a slash outside the link tag": _webtest(component.id, tags={f"hidden-link:{component.id}": "Resource",
                                                                       "team/ops": "x"}),
        "frequency": _webtest(component.id, properties={"Frequency": 60}),
        "timeout": _webtest(component.id, properties={"Timeout": 45}),
        "location": _webtest(component.id, properties={"Locations": [{"Id": "westeurope"}]}),
        "no URL": _webtest(component.id, properties={"Request": {"HttpVerb": "GET"}}),
        "lifetime without TLS check": _webtest(component.id, properties={"ValidationRules": {
            "SSLCheck": False, "SSLCertRemainingLifetimeCheck": 7}}),
    }
    for label, body in refused.items():
        status, answer = put(body, f"{test_id}-x")
        assert status == 400, (label, answer)
    status, answer = put(_webtest(component.id, tags={f"hidden-link:{component.id}": "Resource", "team/ops": "x"}),
                         f"{test_id}-x")
    assert answer["error"]["code"] == "InvalidTagNameCharacters"
