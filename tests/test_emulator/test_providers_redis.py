"""Azure Cache for Redis through azure-mgmt-redis: create/read/update/delete/list, keys, SKU rules, global names,
the long-running create in realistic latency, and Microsoft's examples."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator.pytest_plugin import EmulatorProcess
from tests.test_emulator.examples import assert_shape, load_example

pytestmark = pytest.mark.emulator
API = "2024-11-01"


@pytest.fixture(scope="module")
def redis(emulator: Any) -> Any:
    from azure.mgmt.redis import RedisManagementClient

    return emulator.mgmt_client(RedisManagementClient)


def _cache(tier: str = "Standard", family: str = "C", capacity: int = 1, **props: Any) -> dict[str, Any]:
    return {"location": "westeurope", "sku": {"name": tier, "family": family, "capacity": capacity}, **props}


def _error(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(HttpResponseError) as excinfo:
        call()
    return excinfo.value.status_code, excinfo.value.error.code, excinfo.value.error.message


def test_cache_lifecycle_and_read_only_fields(redis: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("redis-life-")
    cache = redis.redis.begin_create(rg, name, _cache()).result()
    assert cache.provisioning_state == "Succeeded"
    assert cache.host_name == f"{name}.redis.cache.windows.net"
    assert (cache.port, cache.ssl_port) == (6379, 6380)
    assert cache.enable_non_ssl_port is False and cache.minimum_tls_version == "1.2"
    assert cache.redis_version.startswith("6.")
    assert cache.redis_configuration.maxclients == "1000"
    assert len(cache.instances) == 2, "Standard is a primary and a replica"
    assert [c.name for c in redis.redis.list_by_resource_group(rg)] == [name]
    updated = redis.redis.begin_update(rg, name, {"tags": {"env": "test"},
                                                  "redis_configuration": {"maxmemory_policy": "allkeys-lru"}}).result()
    assert updated.tags == {"env": "test"}
    assert updated.redis_configuration.maxmemory_policy == "allkeys-lru"
    assert updated.redis_configuration.maxclients == "1000", "PATCH merges the configuration"
    redis.redis.begin_delete(rg, name).result()
    assert list(redis.redis.list_by_resource_group(rg)) == []


def test_list_and_regenerate_keys(redis: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("redis-keys-")
    redis.redis.begin_create(rg, name, _cache("Basic", capacity=0)).result()
    keys = redis.redis.list_keys(rg, name)
    assert len(keys.primary_key) == 44 and keys.primary_key != keys.secondary_key
    assert redis.redis.list_keys(rg, name).primary_key == keys.primary_key, "keys are stable"
    again = redis.redis.regenerate_key(rg, name, {"key_type": "Secondary"})
    assert again.primary_key == keys.primary_key and again.secondary_key != keys.secondary_key
    assert _error(lambda: redis.redis.regenerate_key(rg, name, {"key_type": "Tertiary"}))[0] == 400


def test_premium_only_features_are_refused_below_premium(redis: Any, rg: str,
                                                         unique: Callable[[str], str]) -> None:
    refusals = [
        _cache(redis_configuration={"rdb_backup_enabled": "true", "rdb_backup_frequency": "60"}),
        _cache(redis_configuration={"aof_backup_enabled": "true"}),
        _cache(shard_count=2),
        _cache(replicas_per_primary=2),
        _cache(subnet_id="/subscriptions/x/resourceGroups/y/providers/Microsoft.Network/virtualNetworks/v/subnets/s"),
        _cache("Basic", capacity=1, zones=["1"]),
        _cache(minimum_tls_version="1.0"),
        _cache(family="P"),
        _cache("Premium", "P", 6),
    ]
    for body in refusals:
        status, code, _ = _error(lambda b=body: redis.redis.begin_create(rg, unique("redis-no-"), b).result())
        assert (status, code) == (400, "InvalidRequestBody"), body


def test_premium_clustering_persistence_and_zones(redis: Any, rg: str, unique: Callable[[str], str]) -> None:
    body = _cache("Premium", "P", 1, shard_count=2, replicas_per_primary=1, zones=["1", "2"],
                  redis_configuration={"rdb_backup_enabled": "true", "rdb_backup_frequency": "60",
                                       "rdb_storage_connection_string": "DefaultEndpointsProtocol=https;..."})
    cache = redis.redis.begin_create(rg, unique("redis-prem-"), body).result()
    assert cache.shard_count == 2
    assert len(cache.instances) == 4 and {i.shard_id for i in cache.instances} == {0, 1}
    assert {i.zone for i in cache.instances} == {"1", "2"}
    assert cache.zonal_allocation_policy == "UserDefined"
    missing_storage = _cache("Premium", "P", 1, redis_configuration={"rdb_backup_enabled": "true",
                                                                   "rdb_backup_frequency": "60"})
    assert _error(lambda: redis.redis.begin_create(rg, unique("redis-nos-"), missing_storage).result())[0] == 400
    name = unique("redis-down-")
    redis.redis.begin_create(rg, name, _cache("Premium", "P", 1)).result()
    assert _error(lambda: redis.redis.begin_create(rg, name, _cache()).result())[0] == 400, \
        "a Premium cache cannot be scaled down to Standard"


@pytest.mark.parametrize("name", ["double--hyphen", "-start", "end-", "under_score", "x" * 64])
def test_invalid_names(redis: Any, rg: str, name: str) -> None:
    assert _error(lambda: redis.redis.begin_create(rg, name, _cache()).result())[0] == 400


def test_cache_names_are_global(emulator: Any, redis: Any, rg: str, unique: Callable[[str], str]) -> None:
    from azure.mgmt.redis import RedisManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    name = unique("redis-glob-")
    redis.redis.begin_create(rg, name, _cache()).result()
    cred = emulator.second_credential()
    sub2 = emulator.env["AZURE_EMULATOR_SUBSCRIPTION_ID_2"]
    emulator.mgmt_client(ResourceManagementClient, sub2, cred).resource_groups.create_or_update(
        "rg-redis-other", {"location": "westeurope"})
    other = emulator.mgmt_client(RedisManagementClient, sub2, cred)
    status, code, message = _error(lambda: other.redis.begin_create("rg-redis-other", name, _cache()).result())
    assert (status, code) == (409, "NameNotAvailable")
    assert "DNS name" in message
    assert _error(lambda: redis.redis.check_name_availability({"name": name, "type": "Microsoft.Cache/redis"}))[:2] \
        == (409, "NameNotAvailable")
    redis.redis.check_name_availability({"name": unique("redis-free-"), "type": "Microsoft.Cache/redis"})


def test_create_is_long_running_in_realistic_latency(tmp_path: Path) -> None:
    from azure.mgmt.redis import RedisManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    # Basic/Standard take 20 minutes in Azure; x0.0005 -> 0.6 s. The first cache PUT gets an injected LRO failure.
    emu = EmulatorProcess(tmp_path,
                          ["--latency", "realistic", "--time-scale", "0.0005",
                           "--faults", "put:Microsoft.Cache/redis:lro-failed:once"], postgres="off").start()
    try:
        emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
        path = (f"/subscriptions/{emu.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/rg/providers/Microsoft.Cache/"
                f"redis/slow-cache?api-version={API}")
        status, body, headers = emu.arm().call("PUT", path, _cache_rest())
        assert status == 201
        assert body["properties"]["provisioningState"] == "Creating"
        assert headers["Retry-After"] == "1"
        client = emu.mgmt_client(RedisManagementClient)
        assert client.redis.get("rg", "slow-cache").provisioning_state == "Creating"
        # The first create carried the injected fault: its operation ends Failed, and so does the cache.
        deadline = time.monotonic() + 30
        while (state := client.redis.get("rg", "slow-cache").provisioning_state) == "Creating":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state == "Failed"
        poller = client.redis.begin_create("rg", "slow-cache2", _cache(), polling_interval=0.2)
        assert poller.result().provisioning_state == "Succeeded"
        retried = client.redis.begin_create("rg", "slow-cache", _cache(), polling_interval=0.2).result()
        assert retried.provisioning_state == "Succeeded", "a re-run of the failed create repairs the cache"
    finally:
        emu.stop()


def _cache_rest() -> dict[str, Any]:
    return {"location": "westeurope", "properties": {"sku": {"name": "Standard", "family": "C", "capacity": 1}}}


def test_microsoft_examples(emulator: Any, network_client: Any, rg: str, unique: Callable[[str], str]) -> None:
    create = load_example("Microsoft.Cache/2024-11-01/RedisCacheCreate.json")
    keys = load_example("Microsoft.Cache/2024-11-01/RedisCacheListKeys.json")
    request = create["parameters"]["parameters"]
    # The example injects the cache in a subnet of another group: give it one in this test's group.
    network_client.virtual_networks.begin_create_or_update(rg, "network1", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["192.168.0.0/16"]},
                                                 "subnets": [{"name": "subnet1",
                                                              "properties": {"addressPrefix": "192.168.0.0/24"}}]}}
    ).result()
    request["properties"]["subnetId"] = network_client.subnets.get(rg, "network1", "subnet1").id
    name = unique("cache-ex-")
    path = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}/providers/Microsoft.Cache/"
            f"redis/{name}")
    status, body, _ = emulator.arm().call("PUT", f"{path}?api-version={API}", request)
    assert str(status) in create["responses"]
    documented = create["responses"]["201"]["body"]
    assert_shape(body, documented, request, also=frozenset({
        "hostName", "port", "sslPort", "instances", "redisVersion", "replicasPerMaster", "updateChannel",
        "zonalAllocationPolicy", "isMaster", "isPrimary", "nonSslPort", "shardId", "zone"}))
    assert len(body["properties"]["instances"]) == 6, "2 shards x (1 primary + 2 replicas), as documented"
    status, listed, _ = emulator.arm().call("POST", f"{path}/listKeys?api-version={API}")
    assert status == 200
    assert_shape(listed, keys["responses"]["200"]["body"], also=frozenset({"primaryKey", "secondaryKey"}))
