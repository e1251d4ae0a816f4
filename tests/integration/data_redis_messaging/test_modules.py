"""redis_cache, redis_info, eventhub_namespace, eventhub, eventhub_keys and eventhub_info against the emulator:
check -> apply -> idempotent check -> idempotent apply, what Azure then holds, Azure's refusals, and secrets that
never reach a result."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, four_steps
from tests.integration.request_log import write_requests

pytestmark = pytest.mark.emulator

LOCATION = "westeurope"
RG = "rg-cf-it-data"
STORAGE = "stcfitdata"
REDIS_API = "2024-11-01"
EVENTHUB_API = "2024-01-01"
STORAGE_API = "2023-05-01"


def by_id(emulator: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in emulator.resources():
        body = item.get("body", item) if isinstance(item, dict) else item
        out[str(item.get("id") or body.get("id")).lower()] = body
    return out


def log_mark(run: ModuleRunner) -> int:
    return len(run.emulator.requests())


def writes_since(run: ModuleRunner, mark: int) -> list[dict[str, Any]]:
    """ARM writes (PUT, PATCH, DELETE, POST) the emulator logged since ``mark``."""
    return write_requests(run.emulator.requests()[mark:])


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("failed"), result.get("msg")
    return result


def group(run: ModuleRunner) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))


def cache_id(run: ModuleRunner, name: str) -> str:
    return f"{run.rg_id(RG)}/providers/Microsoft.Cache/redis/{name}"


def namespace_id(run: ModuleRunner, name: str) -> str:
    return f"{run.rg_id(RG)}/providers/Microsoft.EventHub/namespaces/{name}"


# --- redis ------------------------------------------------------------------------------------------------

def test_basic_cache_is_tls_only_private_and_idempotent(run: ModuleRunner, emulator: Any) -> None:
    group(run)
    args = {"resource_group": RG, "name": "redis-cf-it-basic", "location": LOCATION,
            "sku": {"name": "Basic", "family": "C", "capacity": 1},
            "redis_configuration": {"maxmemory-policy": "allkeys-lru"}}
    applied = four_steps(run, "redis_cache", args)
    assert applied["host_name"]
    cache = by_id(emulator)[cache_id(run, "redis-cf-it-basic").lower()]
    props = cache["properties"]
    assert props["sku"] == {"name": "Basic", "family": "C", "capacity": 1}
    assert props["enableNonSslPort"] is False
    assert props["minimumTlsVersion"] == "1.2"
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["redisConfiguration"]["maxmemory-policy"] == "allkeys-lru"
    assert "accessKeys" not in applied["redis"].get("properties", {})

    # A change made behind Ansible's back is shown by --diff and put right.
    changed = ok(run("redis_cache", {**args, "redis_configuration": {"maxmemory-policy": "volatile-lru"}}, diff=True))
    assert changed["changed"] is True
    assert "maxmemory-policy" in json.dumps(changed["diff"])
    restored = ok(run("redis_cache", args))
    assert restored["changed"] is True
    assert by_id(emulator)[cache_id(run, "redis-cf-it-basic").lower()]["properties"]["redisConfiguration"][
        "maxmemory-policy"] == "allkeys-lru"


def test_premium_features_on_basic_fail_before_any_write(run: ModuleRunner) -> None:
    group(run)
    mark = log_mark(run)
    refused = run("redis_cache", {"resource_group": RG, "name": "redis-cf-it-refused", "location": LOCATION,
                                  "sku": {"name": "Basic", "family": "C", "capacity": 1}, "shard_count": 2,
                                  "rdb_backup": {"storage_account": STORAGE}})
    assert refused.get("failed") is True
    assert "shard_count (clustering) needs the Premium SKU" in refused["msg"]
    assert "rdb_backup (persistence) needs the Premium SKU" in refused["msg"]
    assert cache_id(run, "redis-cf-it-refused") in refused["msg"]
    assert writes_since(run, mark) == []


def premium_args() -> dict[str, Any]:
    return {"resource_group": RG, "name": "redis-cf-it-premium", "location": LOCATION,
            "sku": {"name": "Premium", "family": "P", "capacity": 1}, "shard_count": 2, "zones": ["1", "2", "3"],
            "redis_configuration": {"maxmemory-policy": "allkeys-lru"},
            "rdb_backup": {"enabled": True, "frequency_minutes": 60, "storage_account": STORAGE}}


def test_premium_cache_with_shards_zones_and_rdb_never_returns_the_storage_key(
        run: ModuleRunner, emulator: Any, arm_client: Any) -> None:
    group(run)
    ok(run("storage_account", {"resource_group": RG, "name": STORAGE, "location": LOCATION}))
    applied = four_steps(run, "redis_cache", premium_args())
    cache = by_id(emulator)[cache_id(run, "redis-cf-it-premium").lower()]
    assert cache["properties"]["shardCount"] == 2
    assert sorted(cache["zones"]) == ["1", "2", "3"]
    config = cache["properties"]["redisConfiguration"]
    assert config["rdb-backup-enabled"] == "true"
    assert config["rdb-backup-frequency"] == "60"

    account_id = f"{run.rg_id(RG)}/providers/Microsoft.Storage/storageAccounts/{STORAGE}"
    keys = arm_client.post(f"{account_id}/listKeys", STORAGE_API)
    storage_key = keys["keys"][0]["value"]
    assert storage_key
    assert storage_key not in json.dumps(applied)
    assert storage_key not in applied["_stdout"]

    # A persistence change sends the connection string again (Azure never returns it) and still hides it.
    changed = ok(run("redis_cache", {**premium_args(), "rdb_backup": {**premium_args()["rdb_backup"],
                                                                      "frequency_minutes": 360}}, diff=True))
    assert changed["changed"] is True
    assert storage_key not in json.dumps(changed)
    assert by_id(emulator)[cache_id(run, "redis-cf-it-premium").lower()]["properties"]["redisConfiguration"][
        "rdb-backup-frequency"] == "360"


def test_zones_are_fixed_at_creation(run: ModuleRunner) -> None:
    group(run)
    args = {"resource_group": RG, "name": "redis-cf-it-zones", "location": LOCATION,
            "sku": {"name": "Premium", "family": "P", "capacity": 1}, "zones": ["1"]}
    ok(run("redis_cache", args))
    refused = run("redis_cache", {**args, "zones": ["1", "2"]})
    assert refused.get("failed") is True
    assert "zones is fixed at creation" in refused["msg"]


def test_primary_key_is_returned_only_when_asked(run: ModuleRunner, arm_client: Any) -> None:
    group(run)
    args = {"resource_group": RG, "name": "redis-cf-it-keys", "location": LOCATION}
    created = ok(run("redis_cache", args))
    assert "primary_key" not in created
    expected = arm_client.post(f"{cache_id(run, 'redis-cf-it-keys')}/listKeys", REDIS_API)["primaryKey"]
    assert expected
    with_key = ok(run("redis_cache", {**args, "return_primary_key": True}))
    assert with_key["changed"] is False
    assert with_key["primary_key"] == expected

    info = ok(run("redis_info", {"resource_group": RG, "name": "redis-cf-it-keys"}))
    assert info["exists"] is True
    assert expected not in json.dumps(info)
    assert ok(run("redis_info", {"resource_group": RG, "name": "redis-cf-it-keys",
                                 "return_primary_key": True}))["primary_key"] == expected
    listed = ok(run("redis_info", {"resource_group": RG}))
    assert [c["name"] for c in listed["caches"]] == ["redis-cf-it-keys"]
    missing = ok(run("redis_info", {"resource_group": RG, "name": "redis-cf-it-none", "return_primary_key": True}))
    assert missing["exists"] is False
    assert missing["primary_key"] == ""


def test_cache_absent(run: ModuleRunner, emulator: Any) -> None:
    group(run)
    args = {"resource_group": RG, "name": "redis-cf-it-gone", "location": LOCATION}
    ok(run("redis_cache", args))
    assert ok(run("redis_cache", {**args, "state": "absent"}, check=True))["changed"] is True
    assert cache_id(run, "redis-cf-it-gone").lower() in by_id(emulator)
    assert ok(run("redis_cache", {**args, "state": "absent"}))["changed"] is True
    assert cache_id(run, "redis-cf-it-gone").lower() not in by_id(emulator)
    assert ok(run("redis_cache", {**args, "state": "absent"}))["changed"] is False


# --- event hubs ---------------------------------------------------------------------------------------------

def network(run: ModuleRunner) -> str:
    """A subnet with the Microsoft.EventHub service endpoint, as the network role builds the apps subnet."""
    ok(run("virtual_network", {"resource_group": RG, "name": "vnet-cf-it", "location": LOCATION,
                               "address_prefixes": ["10.90.0.0/16"],
                               "subnets": [{"name": "apps", "address_prefix": "10.90.1.0/24",
                                            "service_endpoints": ["Microsoft.EventHub"]}]}))
    return f"{run.rg_id(RG)}/providers/Microsoft.Network/virtualNetworks/vnet-cf-it/subnets/apps"


@pytest.mark.parametrize(("tier", "expected"), [
    ({"capacity": 1}, {"capacity": 1, "isAutoInflateEnabled": False, "maximumThroughputUnits": 0,
                       "zoneRedundant": False}),
    ({"capacity": 2, "auto_inflate": True, "maximum_throughput_units": 10, "zone_redundant": True},
     {"capacity": 2, "isAutoInflateEnabled": True, "maximumThroughputUnits": 10, "zoneRedundant": True}),
], ids=["test-tier", "production-tier"])
def test_namespace_tiers_and_network_rules(run: ModuleRunner, emulator: Any, tier: dict[str, Any],
                                           expected: dict[str, Any]) -> None:
    group(run)
    subnet = network(run)
    args = {"resource_group": RG, "name": "evhns-cf-it-data", "location": LOCATION, "sku": "Standard", **tier,
            "network_rule_set": {"default_action": "Deny", "virtual_network_rules": [subnet]}}
    applied = four_steps(run, "eventhub_namespace", args)
    namespace = by_id(emulator)[namespace_id(run, "evhns-cf-it-data").lower()]
    assert namespace["sku"]["name"] == "Standard"
    assert namespace["sku"]["capacity"] == expected["capacity"]
    for key in ("isAutoInflateEnabled", "maximumThroughputUnits", "zoneRedundant"):
        assert namespace["properties"][key] == expected[key], key
    assert namespace["properties"]["kafkaEnabled"] is True
    rules = applied["network_rule_set"]["properties"]
    assert rules["defaultAction"] == "Deny"
    assert [r["subnet"]["id"].lower() for r in rules["virtualNetworkRules"]] == [subnet.lower()]

    info = ok(run("eventhub_info", {"resource_group": RG, "namespace": "evhns-cf-it-data"}))
    assert info["exists"] is True
    assert info["network_rule_set"]["properties"]["defaultAction"] == "Deny"


def test_namespace_limits_fail_before_any_write(run: ModuleRunner) -> None:
    group(run)
    mark = log_mark(run)
    refused = run("eventhub_namespace", {"resource_group": RG, "name": "evhns-cf-it-data", "location": LOCATION,
                                         "capacity": 2, "auto_inflate": True, "maximum_throughput_units": 1})
    assert refused.get("failed") is True
    assert "maximum_throughput_units 1 must be between capacity (2) and 40" in refused["msg"]
    assert writes_since(run, mark) == []


def hub_args(**overrides: Any) -> dict[str, Any]:
    args = {"resource_group": RG, "namespace": "evhns-cf-it-data", "name": "declaration-events",
            "partition_count": 4, "message_retention_in_days": 7,
            "consumer_groups": [{"name": "ruleengine-consumer", "user_metadata": "ruleengine service"},
                                {"name": "review-consumer", "user_metadata": "review service"}],
            "authorization_rules": [{"name": "send", "rights": ["Send"]}, {"name": "listen", "rights": ["Listen"]}]}
    args.update(overrides)
    return args


def hub_id(run: ModuleRunner) -> str:
    return f"{namespace_id(run, 'evhns-cf-it-data')}/eventhubs/declaration-events"


def namespace(run: ModuleRunner) -> None:
    group(run)
    ok(run("eventhub_namespace", {"resource_group": RG, "name": "evhns-cf-it-data", "location": LOCATION}))


def test_hub_with_consumer_groups_and_send_listen_rules(run: ModuleRunner, emulator: Any) -> None:
    namespace(run)
    applied = four_steps(run, "eventhub", hub_args())
    assert applied["authorization_rules"] == {"send": ["Send"], "listen": ["Listen"]}
    resources = by_id(emulator)
    hub = resources[hub_id(run).lower()]
    assert hub["properties"]["partitionCount"] == 4
    assert hub["properties"]["messageRetentionInDays"] == 7
    for name in ("ruleengine-consumer", "review-consumer"):
        assert f"{hub_id(run)}/consumergroups/{name}".lower() in resources
    assert resources[f"{hub_id(run)}/authorizationRules/send".lower()]["properties"]["rights"] == ["Send"]
    assert resources[f"{hub_id(run)}/authorizationRules/listen".lower()]["properties"]["rights"] == ["Listen"]

    info = ok(run("eventhub_info", {"resource_group": RG, "namespace": "evhns-cf-it-data"}))
    [found] = info["event_hubs"]
    assert found["partition_count"] == 4
    assert found["authorization_rules"] == {"send": ["Send"], "listen": ["Listen"]}
    assert set(found["consumer_groups"]) >= {"ruleengine-consumer", "review-consumer"}


def test_purge_removes_undeclared_groups_and_rules_but_never_default(run: ModuleRunner, emulator: Any) -> None:
    namespace(run)
    ok(run("eventhub", hub_args(consumer_groups=[{"name": "old-consumer"}],
                                authorization_rules=[{"name": "manage", "rights": ["Manage", "Send", "Listen"]}])))
    kept = ok(run("eventhub", hub_args()))
    assert "old-consumer" in kept["consumer_groups"], "without purge, undeclared groups stay"
    purged = ok(run("eventhub", hub_args(purge_consumer_groups=True, purge_authorization_rules=True), diff=True))
    assert purged["changed"] is True
    assert "old-consumer" not in purged["consumer_groups"]
    assert purged["authorization_rules"] == {"send": ["Send"], "listen": ["Listen"]}
    resources = by_id(emulator)
    assert f"{hub_id(run)}/consumergroups/old-consumer".lower() not in resources
    assert f"{hub_id(run)}/authorizationRules/manage".lower() not in resources
    groups = {g.split("/")[-1] for g in resources if g.startswith(f"{hub_id(run)}/consumergroups/".lower())}
    assert "$default" in groups


def test_standard_partition_count_cannot_change(run: ModuleRunner) -> None:
    namespace(run)
    ok(run("eventhub", hub_args()))
    mark = log_mark(run)
    refused = run("eventhub", hub_args(partition_count=8))
    assert refused.get("failed") is True
    assert "cannot change to 8" in refused["msg"]
    assert writes_since(run, mark) == []


def test_connection_strings_are_read_for_key_vault(run: ModuleRunner, arm_client: Any) -> None:
    namespace(run)
    ok(run("eventhub", hub_args()))
    mark = log_mark(run)
    keys = ok(run("eventhub_keys", {"resource_group": RG, "namespace": "evhns-cf-it-data",
                                    "event_hub": "declaration-events", "rules": ["send", "listen", "nope"]}))
    assert keys["changed"] is False
    assert keys["missing"] == ["nope"]
    for rule in ("send", "listen"):
        expected = arm_client.post(f"{hub_id(run)}/authorizationRules/{rule}/listKeys", EVENTHUB_API)
        got = keys["rule_keys"][rule]
        assert got["primary_connection_string"] == expected["primaryConnectionString"]
        assert f"SharedAccessKeyName={rule}" in got["primary_connection_string"]
        assert "EntityPath=declaration-events" in got["primary_connection_string"]
    # listKeys is a POST that changes nothing: not a write (tests/integration/request_log.py).
    assert writes_since(run, mark) == []


def test_hub_absent(run: ModuleRunner, emulator: Any) -> None:
    namespace(run)
    ok(run("eventhub", hub_args()))
    assert ok(run("eventhub", hub_args(state="absent")))["changed"] is True
    resources = by_id(emulator)
    assert hub_id(run).lower() not in resources
    assert not [r for r in resources if r.startswith(hub_id(run).lower() + "/")]
    assert ok(run("eventhub", hub_args(state="absent")))["changed"] is False
