"""Event Hubs through azure-mgmt-eventhub: namespaces, event hubs, consumer groups, SAS rules with listKeys and
regenerateKeys, network rule sets, tier limits, global names and Microsoft's examples."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.test_emulator.examples import assert_shape, load_example

pytestmark = pytest.mark.emulator
API = "2026-01-01"


@pytest.fixture(scope="module")
def eh(emulator: Any) -> Any:
    from azure.mgmt.eventhub import EventHubManagementClient

    return emulator.mgmt_client(EventHubManagementClient)


def _namespace(tier: str = "Standard", capacity: int = 1, **props: Any) -> dict[str, Any]:
    return {"location": "westeurope", "sku": {"name": tier, "tier": tier, "capacity": capacity}, "properties": props}


def _error(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(HttpResponseError) as excinfo:
        call()
    return excinfo.value.status_code, excinfo.value.error.code, excinfo.value.error.message


@pytest.fixture
def namespace(eh: Any, rg: str, unique: Callable[[str], str]) -> str:
    name = unique("ehns-std-")
    eh.namespaces.begin_create_or_update(rg, name, _namespace()).result()
    return name


def test_namespace_lifecycle_and_defaults(eh: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("ehns-life-")
    ns = eh.namespaces.begin_create_or_update(rg, name, _namespace()).result()
    assert ns.provisioning_state == "Succeeded"
    assert ns.service_bus_endpoint == f"https://{name}.servicebus.windows.net:443/"
    assert ns.kafka_enabled is True and ns.minimum_tls_version == "1.2"
    assert ns.status == "Active" and ns.created_at is not None
    assert [r.name for r in eh.namespaces.list_authorization_rules(rg, name)] == ["RootManageSharedAccessKey"]
    rules = eh.namespaces.get_network_rule_set(rg, name)
    assert (rules.default_action, rules.public_network_access) == ("Allow", "Enabled")
    updated = eh.namespaces.update(rg, name, {"tags": {"env": "test"},
                                              "properties": {"isAutoInflateEnabled": True,
                                                             "maximumThroughputUnits": 4}})
    assert updated.is_auto_inflate_enabled is True and updated.maximum_throughput_units == 4
    assert updated.tags == {"env": "test"}
    assert name in [n.name for n in eh.namespaces.list_by_resource_group(rg)]
    eh.namespaces.begin_delete(rg, name).result()
    assert name not in [n.name for n in eh.namespaces.list_by_resource_group(rg)]


def test_namespace_rules(eh: Any, rg: str, unique: Callable[[str], str]) -> None:
    for name in ("short", "1starts-with-digit", "ends-with-", "reserved-sb", "reserved-mgmt", "x" * 51):
        assert _error(lambda n=name: eh.namespaces.begin_create_or_update(rg, n, _namespace()).result())[:2] == (
            400, "BadRequest"), name
    for body in (_namespace("Basic", isAutoInflateEnabled=True, maximumThroughputUnits=2),
                 _namespace("Standard", 41), _namespace("Premium", 3), _namespace(maximumThroughputUnits=5),
                 _namespace("Gold")):
        assert _error(lambda b=body: eh.namespaces.begin_create_or_update(rg, unique("ehns-bad-"), b).result())[
            :2] == (400, "BadRequest"), body
    name = unique("ehns-prem-")
    eh.namespaces.begin_create_or_update(rg, name, _namespace("Premium", 2)).result()
    assert _error(lambda: eh.namespaces.begin_create_or_update(rg, name, _namespace()).result())[0] == 400


def test_namespace_names_are_global(emulator: Any, eh: Any, rg: str, unique: Callable[[str], str]) -> None:
    from azure.mgmt.eventhub import EventHubManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    name = unique("ehns-glob-")
    eh.namespaces.begin_create_or_update(rg, name, _namespace()).result()
    cred = emulator.second_credential()
    sub2 = emulator.env["AZURE_EMULATOR_SUBSCRIPTION_ID_2"]
    emulator.mgmt_client(ResourceManagementClient, sub2, cred).resource_groups.create_or_update(
        "rg-eh-other", {"location": "westeurope"})
    other = emulator.mgmt_client(EventHubManagementClient, sub2, cred)
    status, code, message = _error(lambda: other.namespaces.begin_create_or_update("rg-eh-other", name,
                                                                                   _namespace()).result())
    assert (status, code) == (400, "BadRequest") and "not available" in message
    check = eh.namespaces.check_name_availability({"name": name})
    assert (check.name_available, check.reason) == (False, "NameInUse")


def test_event_hubs_consumer_groups_and_tier_limits(eh: Any, rg: str, namespace: str,
                                                    unique: Callable[[str], str]) -> None:
    hub = eh.event_hubs.create_or_update(rg, namespace, "orders", {"properties": {"partitionCount": 8,
                                                                                  "messageRetentionInDays": 7}})
    assert hub.partition_ids == [str(i) for i in range(8)]
    assert hub.retention_description.retention_time_in_hours == 168
    assert [g.name for g in eh.consumer_groups.list_by_event_hub(rg, namespace, "orders")] == ["$Default"]
    group = eh.consumer_groups.create_or_update(rg, namespace, "orders", "analytics",
                                               {"properties": {"userMetadata": "bi"}})
    assert group.user_metadata == "bi" and group.created_at is not None
    assert _error(lambda: eh.consumer_groups.delete(rg, namespace, "orders", "$Default"))[0] == 400
    eh.consumer_groups.delete(rg, namespace, "orders", "analytics")

    def hub_error(name: str, props: dict[str, Any]) -> int:
        return _error(lambda: eh.event_hubs.create_or_update(rg, namespace, name, {"properties": props}))[0]

    assert hub_error("too-long-retention", {"messageRetentionInDays": 8}) == 400
    assert hub_error("too-many-partitions", {"partitionCount": 33}) == 400
    assert hub_error("orders", {"partitionCount": 4}) == 400, "partitions cannot be decreased"
    assert hub_error("orders", {"partitionCount": 16}) == 400, "nor changed below Premium"
    for index in range(9):
        eh.event_hubs.create_or_update(rg, namespace, f"hub{index}", {"properties": {}})
    status, code, _ = _error(lambda: eh.event_hubs.create_or_update(rg, namespace, "hub-eleven", {"properties": {}}))
    assert (status, code) == (400, "QuotaExceeded"), "10 event hubs per Standard namespace"


def test_basic_tier_limits(eh: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("ehns-basic-")
    eh.namespaces.begin_create_or_update(rg, name, _namespace("Basic")).result()
    assert eh.namespaces.get(rg, name).kafka_enabled is False
    assert _error(lambda: eh.event_hubs.create_or_update(rg, name, "h", {"properties": {
        "messageRetentionInDays": 2}}))[0] == 400
    hub = eh.event_hubs.create_or_update(rg, name, "h", {"properties": {}})
    assert hub.message_retention_in_days == 1
    assert _error(lambda: eh.consumer_groups.create_or_update(rg, name, "h", "cg", {"properties": {}}))[0] == 400
    assert _error(lambda: eh.namespaces.create_or_update_network_rule_set(rg, name, {"properties": {
        "defaultAction": "Deny", "ipRules": [{"ipMask": "1.2.3.4"}]}}))[0] == 400


def test_premium_allows_more_partitions_and_growth(eh: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("ehns-p-")
    eh.namespaces.begin_create_or_update(rg, name, _namespace("Premium", 1)).result()
    eh.event_hubs.create_or_update(rg, name, "big", {"properties": {"partitionCount": 40,
                                                                    "messageRetentionInDays": 90}})
    grown = eh.event_hubs.create_or_update(rg, name, "big", {"properties": {"partitionCount": 64}})
    assert len(grown.partition_ids) == 64


def test_authorization_rules_and_keys(eh: Any, rg: str, namespace: str) -> None:
    eh.event_hubs.create_or_update(rg, namespace, "telemetry", {"properties": {}})
    rule = eh.event_hubs.create_or_update_authorization_rule(rg, namespace, "telemetry", "sender",
                                                             {"properties": {"rights": ["Send"]}})
    assert rule.rights == ["Send"]
    keys = eh.event_hubs.list_keys(rg, namespace, "telemetry", "sender")
    assert len(base64.b64decode(keys.primary_key)) == 32
    assert keys.primary_connection_string == (
        f"Endpoint=sb://{namespace}.servicebus.windows.net/;SharedAccessKeyName=sender;"
        f"SharedAccessKey={keys.primary_key};EntityPath=telemetry")
    regenerated = eh.event_hubs.regenerate_keys(rg, namespace, "telemetry", "sender", {"keyType": "SecondaryKey"})
    assert regenerated.primary_key == keys.primary_key and regenerated.secondary_key != keys.secondary_key
    root = eh.namespaces.list_keys(rg, namespace, "RootManageSharedAccessKey")
    assert "EntityPath" not in root.primary_connection_string
    listener = eh.namespaces.create_or_update_authorization_rule(rg, namespace, "listener",
                                                                 {"properties": {"rights": ["Listen"]}})
    assert listener.rights == ["Listen"]
    for rights in ([], ["Manage"], ["Read"]):
        assert _error(lambda r=rights: eh.namespaces.create_or_update_authorization_rule(
            rg, namespace, "bad", {"properties": {"rights": r}}))[0] == 400, rights
    eh.namespaces.delete_authorization_rule(rg, namespace, "listener")
    assert "listener" not in [r.name for r in eh.namespaces.list_authorization_rules(rg, namespace)]


def test_network_rule_set(eh: Any, network_client: Any, rg: str, namespace: str) -> None:
    network_client.virtual_networks.begin_create_or_update(rg, "vnet-eh", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.30.0.0/16"]}, "subnets": [
            {"name": "with-endpoint", "properties": {"addressPrefix": "10.30.1.0/24",
                                                     "serviceEndpoints": [{"service": "Microsoft.EventHub"}]}},
            {"name": "without", "properties": {"addressPrefix": "10.30.2.0/24"}}]}}).result()
    with_endpoint = network_client.subnets.get(rg, "vnet-eh", "with-endpoint").id
    without = network_client.subnets.get(rg, "vnet-eh", "without").id
    rules = eh.namespaces.create_or_update_network_rule_set(rg, namespace, {"properties": {
        "defaultAction": "Deny", "publicNetworkAccess": "Enabled", "ipRules": [{"ipMask": "203.0.113.0/24"}],
        "virtualNetworkRules": [{"subnet": {"id": with_endpoint}}]}})
    assert rules.default_action == "Deny" and rules.ip_rules[0].action == "Allow"
    assert eh.namespaces.get_network_rule_set(rg, namespace).virtual_network_rules[0].subnet.id == with_endpoint
    assert _error(lambda: eh.namespaces.create_or_update_network_rule_set(rg, namespace, {"properties": {
        "defaultAction": "Deny", "virtualNetworkRules": [{"subnet": {"id": without}}]}}))[0] == 400
    eh.namespaces.create_or_update_network_rule_set(rg, namespace, {"properties": {
        "defaultAction": "Deny", "virtualNetworkRules": [{"subnet": {"id": without},
                                                          "ignoreMissingVnetServiceEndpoint": True}]}})
    disabled = eh.namespaces.create_or_update_network_rule_set(rg, namespace, {"properties": {
        "publicNetworkAccess": "Disabled"}})
    assert disabled.public_network_access == "Disabled"
    assert eh.namespaces.get(rg, namespace).public_network_access == "Disabled"


def test_microsoft_examples(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    arm = emulator.arm()
    ns_example = load_example("Microsoft.EventHub/2026-01-01/EHNameSpaceCreate.json")
    name = unique("ehns-example-")
    ns_path = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.EventHub/namespaces/{name}"
    request = ns_example["parameters"]["parameters"]
    status, body, _ = arm.call("PUT", f"{ns_path}?api-version={API}", request)
    assert str(status) in ns_example["responses"]
    _, body, _ = arm.call("GET", f"{ns_path}?api-version={API}")
    assert_shape(body, ns_example["responses"]["200"]["body"], request, also=frozenset({
        "createdAt", "updatedAt", "serviceBusEndpoint", "metricId", "kafkaEnabled", "isAutoInflateEnabled",
        "maximumThroughputUnits", "minimumTlsVersion", "disableLocalAuth", "zoneRedundant", "sku"}))

    for example, path, response_key in (
        ("EHEventHubCreate.json", f"{ns_path}/eventhubs/hub-ex", "200"),
        ("EHConsumerGroupCreate.json", f"{ns_path}/eventhubs/hub-ex/consumergroups/cg-ex", "200"),
        ("EHEventHubAuthorizationRuleCreate.json", f"{ns_path}/eventhubs/hub-ex/authorizationRules/rule-ex", "200"),
    ):
        data = load_example(f"Microsoft.EventHub/2026-01-01/{example}")
        request = data["parameters"]["parameters"]
        status, body, _ = arm.call("PUT", f"{path}?api-version={API}", request)
        assert status == 200, (example, body)
        assert_shape(body, data["responses"][response_key]["body"], request, also=frozenset({
            "createdAt", "updatedAt", "partitionIds", "retentionDescription", "messageRetentionInDays", "status",
            "retentionTimeInHours", "cleanupPolicy"}))
    keys = load_example("Microsoft.EventHub/2026-01-01/EHEventHubAuthorizationRuleListKey.json")
    status, body, _ = arm.call("POST", f"{ns_path}/eventhubs/hub-ex/authorizationRules/rule-ex/listKeys"
                                       f"?api-version={API}")
    assert status == 200
    documented = keys["responses"]["200"]["body"]
    assert_shape(body, documented, also=frozenset(documented))
    assert len(body["primaryKey"]) == len(documented["primaryKey"]) == 44
