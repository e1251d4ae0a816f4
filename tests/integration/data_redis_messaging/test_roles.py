"""The redis and messaging roles end to end against the emulator, for a test and a production deployment:
check mode creates nothing, the first run builds the tier's cache and Event Hubs (their creates overlapping),
the second run changes nothing and writes nothing, and no secret value appears in a -vvv log of the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbooks.runner import REPO, run_playbook
from tests.integration.request_log import writes

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PLAYBOOK = str(Path(__file__).with_name("site_data.yml").relative_to(REPO))
REDIS_API = "2024-11-01"
EVENTHUB_API = "2024-01-01"
STORAGE_API = "2023-05-01"
# Services consuming each hub (group_vars/all.yml cf_event_hubs), restated so that a broken mapping fails here.
CONSUMERS = {
    "user-events": (2, {"notification", "analytics"}),
    "declaration-events": (4, {"ruleengine", "review", "analytics"}),
    "review-events": (2, {"case", "notification", "analytics"}),
    "case-events": (2, {"notification", "analytics"}),
    "notification-events": (4, {"analytics"}),
    "analytics-events": (2, {"analytics"}),
}


def play(emulator: Any, deployment: str, *args: str) -> Any:
    run = run_playbook(emulator, PLAYBOOK, deployment, *args)
    assert run.returncode == 0, run.output[-6000:]
    return run


def resources_of(emulator: Any, arm_type: str) -> list[dict[str, Any]]:
    return [r for r in emulator.resources() if str(r.get("type", "")).lower() == arm_type.lower()]


def only(emulator: Any, arm_type: str) -> dict[str, Any]:
    found = resources_of(emulator, arm_type)
    assert len(found) == 1, [r.get("id") for r in found]
    return found[0]


def secret_values(emulator: Any, client: Any) -> list[str]:
    """Every secret value these roles handle, read from the emulator: the cache's keys, the storage account's keys
    (in the persistence connection string) and each hub rule's keys and connection strings."""
    values: list[str] = []
    for cache in resources_of(emulator, "Microsoft.Cache/redis"):
        keys = client.post(f"{cache['id']}/listKeys", REDIS_API)
        values += [keys["primaryKey"], keys["secondaryKey"]]
    for account in resources_of(emulator, "Microsoft.Storage/storageAccounts"):
        values += [k["value"] for k in client.post(f"{account['id']}/listKeys", STORAGE_API)["keys"]]
    for rule in resources_of(emulator, "Microsoft.EventHub/namespaces/eventhubs/authorizationRules"):
        keys = client.post(f"{rule['id']}/listKeys", EVENTHUB_API)
        values += [keys[k] for k in ("primaryKey", "secondaryKey", "primaryConnectionString",
                                     "secondaryConnectionString")]
    return [v for v in values if v]


def stored_secrets_match_azure(emulator: Any, client: Any, hubs: dict[str, dict[str, Any]]) -> None:
    """The vault holds the cache's primary key and every hub's send and listen connection strings, as Azure
    reports them now (read through the vault's data plane, as the services will)."""
    from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import SecretsClient

    vault = only(emulator, "Microsoft.KeyVault/vaults")
    secrets = SecretsClient(vault["properties"]["vaultUri"], emulator.credential(), rbac_wait=0)
    cache = only(emulator, "Microsoft.Cache/redis")
    stored = secrets.get("redis-primary-key")
    assert stored is not None, "redis-primary-key is not in the vault"
    assert stored["value"] == client.post(f"{cache['id']}/listKeys", REDIS_API)["primaryKey"]
    for name, hub in hubs.items():
        for right in ("send", "listen"):
            secret = secrets.get(f"eventhub-{name}-{right}-connection-string")
            assert secret is not None, f"eventhub-{name}-{right}-connection-string is not in the vault"
            keys = client.post(f"{hub['id']}/authorizationRules/{right}/listKeys", EVENTHUB_API)
            assert secret["value"] == keys["primaryConnectionString"]


@pytest.mark.parametrize("deployment", ["westeu-test-1", "westeu-prod-1"])
def test_check_create_rerun_and_tier(fresh: Any, arm_client: Any, deployment: str) -> None:
    mark = len(fresh.requests())
    checked = play(fresh, deployment, "--check")
    assert checked.recap["changed"] > 0
    assert writes(fresh.requests()[mark:]) == [], "check mode must write nothing"
    assert fresh.resources() == []

    created = play(fresh, deployment, "-vvv")
    assert created.recap["changed"] > 0

    mark = len(fresh.requests())
    again = play(fresh, deployment)
    assert again.recap["changed"] == 0, again.output[-6000:]
    assert writes(fresh.requests()[mark:]) == [], "a converged deployment must get no write"

    prod = deployment.endswith("-prod-1")
    cache = only(fresh, "Microsoft.Cache/redis")
    props = cache["properties"]
    config = props["redisConfiguration"]
    assert props["enableNonSslPort"] is False
    assert props["minimumTlsVersion"] == "1.2"
    assert props["publicNetworkAccess"] == "Disabled"
    assert config["maxmemory-policy"] == "allkeys-lru"
    if prod:
        assert props["sku"] == {"name": "Premium", "family": "P", "capacity": 1}
        assert props["shardCount"] == 2
        assert sorted(cache["zones"]) == ["1", "2", "3"]
        assert config["rdb-backup-enabled"] == "true"
        assert config["rdb-backup-frequency"] == "60"
    else:
        assert props["sku"] == {"name": "Basic", "family": "C", "capacity": 1}
        assert not props.get("shardCount")
        assert not cache.get("zones")
        assert config.get("rdb-backup-enabled", "false") == "false"

    [endpoint] = [e for e in resources_of(fresh, "Microsoft.Network/privateEndpoints") if e["name"].endswith("-redis")]
    assert endpoint["properties"]["subnet"]["id"].lower().endswith("-redis")
    [connection] = endpoint["properties"]["privateLinkServiceConnections"]
    assert connection["properties"]["privateLinkServiceId"].lower() == cache["id"].lower()
    assert connection["properties"]["groupIds"] == ["redisCache"]

    namespace = only(fresh, "Microsoft.EventHub/namespaces")
    ns = namespace["properties"]
    assert namespace["sku"]["name"] == "Standard"
    assert ns["kafkaEnabled"] is True
    if prod:
        assert namespace["sku"]["capacity"] == 2
        assert ns["isAutoInflateEnabled"] is True
        assert ns["maximumThroughputUnits"] == 10
        assert ns["zoneRedundant"] is True
    else:
        assert namespace["sku"]["capacity"] == 1
        assert ns["isAutoInflateEnabled"] is False
        assert ns["zoneRedundant"] is False
    rule_set = only(fresh, "Microsoft.EventHub/namespaces/networkRuleSets")["properties"]
    assert rule_set["defaultAction"] == "Deny"
    assert [r["subnet"]["id"].lower().rsplit("/", 1)[1] for r in rule_set["virtualNetworkRules"]] == [
        f"snet-cf-{deployment}-containerapps"]

    hubs = {h["name"]: h for h in resources_of(fresh, "Microsoft.EventHub/namespaces/eventhubs")}
    assert set(hubs) == set(CONSUMERS)
    groups = resources_of(fresh, "Microsoft.EventHub/namespaces/eventhubs/consumergroups")
    rules = resources_of(fresh, "Microsoft.EventHub/namespaces/eventhubs/authorizationRules")
    for name, (partitions, consumers) in CONSUMERS.items():
        assert hubs[name]["properties"]["partitionCount"] == partitions, name
        assert hubs[name]["properties"]["messageRetentionInDays"] == 7, name
        prefix = hubs[name]["id"].lower() + "/"
        have = {g["name"] for g in groups if g["id"].lower().startswith(prefix)} - {"$Default"}
        assert have == {f"{c}-consumer" for c in consumers}, name
        hub_rules = {r["name"]: sorted(r["properties"]["rights"]) for r in rules if r["id"].lower().startswith(prefix)}
        assert hub_rules == {"send": ["Send"], "listen": ["Listen"]}, name

    stored_secrets_match_azure(fresh, arm_client, hubs)
    values = secret_values(fresh, arm_client)
    assert len(values) >= 2 + 2 * 4 * len(CONSUMERS)
    for run in (checked, created, again):
        leaked = [v[:6] + "..." for v in values if v in run.stdout or v in run.stderr]
        assert leaked == [], f"secret values in the output of {' '.join(run.command)}"
