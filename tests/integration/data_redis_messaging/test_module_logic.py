"""The pure decisions of the redis and Event Hubs modules (no I/O): what Azure would refuse, which body is
sent, how the secret connection string stays out of results, and how set-like fields are compared."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import compare_rules
from ansible_collections.complianceflow.azure_infra.plugins.modules import eventhub, eventhub_namespace, redis_cache


def redis_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "resource_group": "rg", "name": "redis-cf-x", "location": "westeurope",
        "sku": {"name": "Basic", "family": "C", "capacity": 1}, "shard_count": None, "replicas_per_primary": None,
        "zones": [], "redis_version": None, "minimum_tls_version": "1.2", "enable_non_ssl_port": False,
        "public_network_access": "Disabled", "redis_configuration": {"maxmemory-policy": "allkeys-lru"},
        "rdb_backup": None, "tags": None,
    }
    params.update(overrides)
    return params


PREMIUM = {"name": "Premium", "family": "P", "capacity": 1}
RDB = {"enabled": True, "frequency_minutes": 60, "max_snapshot_count": 1, "storage_account": "stcf"}


def test_basic_cache_without_premium_features_is_allowed() -> None:
    assert redis_cache.capability_problems(redis_params()) == []


@pytest.mark.parametrize(("overrides", "option"), [
    ({"shard_count": 2}, "shard_count"),
    ({"zones": ["1", "2"]}, "zones"),
    ({"rdb_backup": RDB}, "rdb_backup"),
    ({"replicas_per_primary": 1}, "replicas_per_primary"),
    ({"sku": {"name": "Basic", "family": "P", "capacity": 1}}, "sku.family"),
    ({"sku": {"name": "Premium", "family": "P", "capacity": 6}}, "sku.capacity"),
    ({"redis_configuration": {"aof-backup-enabled": "true"}}, "redis_configuration"),
])
def test_what_azure_refuses_is_named_before_any_call(overrides: dict[str, Any], option: str) -> None:
    problems = redis_cache.capability_problems(redis_params(**overrides))
    assert problems, overrides
    assert any(p.startswith(option) for p in problems), problems


def test_premium_with_shards_zones_and_rdb_is_allowed_but_needs_a_storage_account() -> None:
    assert redis_cache.capability_problems(redis_params(sku=PREMIUM, shard_count=2, zones=["1", "2", "3"],
                                                        rdb_backup=RDB)) == []
    problems = redis_cache.capability_problems(redis_params(sku=PREMIUM, rdb_backup={**RDB, "storage_account": None}))
    assert problems == ["rdb_backup.storage_account is required when rdb_backup.enabled is true"]


def test_create_body_has_location_and_zones_update_body_has_neither() -> None:
    params = redis_params(sku=PREMIUM, shard_count=2, zones=["1", "2", "3"], rdb_backup=RDB)
    create = redis_cache.desired_body(params, creating=True)
    assert create["location"] == "westeurope"
    assert create["zones"] == ["1", "2", "3"]
    props = create["properties"]
    assert props["shardCount"] == 2
    assert props["enableNonSslPort"] is False
    assert props["minimumTlsVersion"] == "1.2"
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["redisConfiguration"] == {"maxmemory-policy": "allkeys-lru", "rdb-backup-enabled": "true",
                                           "rdb-backup-frequency": "60", "rdb-backup-max-snapshot-count": "1"}
    update = redis_cache.desired_body(params, creating=False)
    assert "location" not in update and "zones" not in update


def test_configuration_compares_with_what_azure_returns() -> None:
    """Azure returns every configuration value as a string, plus many keys nobody declared."""
    params = redis_params(sku=PREMIUM, rdb_backup=RDB, redis_configuration={"maxmemory-reserved": 50})
    desired = redis_cache.desired_body(params, creating=False)
    actual = {"properties": {**desired["properties"], "redisConfiguration": {
        "maxmemory-reserved": "50", "maxclients": "7500", "rdb-backup-enabled": "true", "rdb-backup-frequency": "60",
        "rdb-backup-max-snapshot-count": "1"}}}
    assert rec.differences(desired, actual) == []
    actual["properties"]["redisConfiguration"]["rdb-backup-frequency"] = "360"
    assert rec.differences(desired, actual) == ["properties.redisConfiguration.rdb-backup-frequency"]


def test_connection_string_names_the_blob_endpoint_of_any_cloud() -> None:
    value = redis_cache.storage_connection_string("stcf", "https://stcf.blob.core.chinacloudapi.cn/", "k3y==")
    assert value == ("DefaultEndpointsProtocol=https;BlobEndpoint=https://stcf.blob.core.chinacloudapi.cn/;"
                     "AccountName=stcf;AccountKey=k3y==")


def test_public_view_hides_keys_and_the_connection_string_without_touching_the_input() -> None:
    resource = {"properties": {"accessKeys": {"primaryKey": "p"}, "redisConfiguration": {
        "rdb-storage-connection-string": "AccountKey=secret", "maxmemory-policy": "allkeys-lru"}}}
    view = redis_cache.public_view(resource)
    assert "accessKeys" not in view["properties"]
    assert "secret" not in repr(view)
    assert view["properties"]["redisConfiguration"]["maxmemory-policy"] == "allkeys-lru"
    assert resource["properties"]["accessKeys"] == {"primaryKey": "p"}
    assert redis_cache.public_view(None) == {}


@pytest.mark.parametrize(("desired", "actual", "same"), [
    ("6", "6.0.14", True), ("6", "4.0.14", False), (None, "6.0", True), ("6.0", "6.0.14", True),
])
def test_redis_version_major_matches_the_full_version(desired: str | None, actual: str, same: bool) -> None:
    assert redis_cache.redis_version_matches(desired, actual) is same


def namespace_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"sku": "Standard", "capacity": 1, "auto_inflate": False, "maximum_throughput_units": None,
                              "kafka_enabled": True, "zone_redundant": False, "minimum_tls_version": "1.2",
                              "disable_local_auth": False, "network_rule_set": None, "tags": None,
                              "location": "westeurope"}
    params.update(overrides)
    return params


@pytest.mark.parametrize(("overrides", "fragment"), [
    ({"auto_inflate": True}, "maximum_throughput_units is required"),
    ({"auto_inflate": True, "maximum_throughput_units": 1, "capacity": 2}, "between capacity"),
    ({"auto_inflate": True, "maximum_throughput_units": 41}, "between capacity"),
    ({"sku": "Basic", "kafka_enabled": True}, "kafka_enabled"),
    ({"sku": "Basic", "kafka_enabled": False, "auto_inflate": True, "maximum_throughput_units": 4}, "Standard tier"),
    ({"capacity": 0}, "capacity 0"),
])
def test_namespace_limits_are_checked_before_any_call(overrides: dict[str, Any], fragment: str) -> None:
    problems = eventhub_namespace.capability_problems(namespace_params(**overrides))
    assert any(fragment in p for p in problems), problems


def test_production_namespace_body() -> None:
    params = namespace_params(capacity=2, auto_inflate=True, maximum_throughput_units=10, zone_redundant=True)
    assert eventhub_namespace.capability_problems(params) == []
    body = eventhub_namespace.desired_namespace(params, creating=True)
    assert body["sku"] == {"name": "Standard", "tier": "Standard", "capacity": 2}
    assert body["properties"]["isAutoInflateEnabled"] is True
    assert body["properties"]["maximumThroughputUnits"] == 10
    assert body["properties"]["zoneRedundant"] is True
    assert body["properties"]["kafkaEnabled"] is True
    test_body = eventhub_namespace.desired_namespace(namespace_params(), creating=False)
    # Switching auto-inflate off must also clear the maximum, or Azure keeps the old one.
    assert test_body["properties"]["maximumThroughputUnits"] == 0
    assert "location" not in test_body


SUBNET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a"
OTHER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/b"


def rule_set(subnets: list[str], ips: list[str] | None = None, action: str = "Deny") -> dict[str, Any]:
    return eventhub_namespace.desired_rule_set({
        "default_action": action, "public_network_access": "Enabled", "trusted_service_access_enabled": True,
        "virtual_network_rules": subnets, "ip_rules": ips or []})


def rule_set_differs(desired: dict[str, Any], actual: dict[str, Any] | None) -> bool:
    """What the module's skeleton decides, with the registry's rules for the rule set type."""
    if actual is None:
        return True
    return bool(rec.differences(desired, actual, rules=compare_rules(eventhub_namespace.RULE_SET)))


def test_rule_set_compares_subnets_as_a_set_ignoring_case() -> None:
    desired = rule_set([SUBNET, OTHER])
    actual = rule_set([OTHER.upper(), SUBNET])
    assert not rule_set_differs(desired, actual)
    assert rule_set_differs(desired, rule_set([SUBNET]))
    assert rule_set_differs(desired, rule_set([SUBNET, OTHER], action="Allow"))
    assert rule_set_differs(desired, rule_set([SUBNET, OTHER], ips=["1.2.3.4"]))
    assert rule_set_differs(desired, None)


def test_manage_right_needs_send_and_listen() -> None:
    assert eventhub.rights_problems([{"name": "send", "rights": ["Send"]}, {"name": "listen", "rights": ["Listen"]}]) == []
    assert eventhub.rights_problems([{"name": "admin", "rights": ["Manage"]}]) == [
        "authorization_rules[admin]: Manage needs Send and Listen too"]


def rights_equal(desired: list[str], actual: list[str]) -> bool:
    rules = compare_rules(eventhub.resource_type(eventhub.TYPE).children["authorizationRules"]["type"])
    return not rec.differences({"properties": {"rights": desired}}, {"properties": {"rights": actual}}, rules=rules)


def test_rights_compare_as_a_set() -> None:
    assert rights_equal(["Send", "Listen"], ["Listen", "Send"])
    assert not rights_equal(["Send"], ["Send", "Listen"])
