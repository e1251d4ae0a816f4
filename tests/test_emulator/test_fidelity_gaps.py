"""Gaps closed where Azure's behaviour is documented: PgBouncer absent on Burstable, Redis storage connection strings
write-only, Key Vault's firewall on the secrets data plane, resource provider registration per subscription."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulator import identity
from tests.emulator.pytest_plugin import EmulatorProcess

pytestmark = pytest.mark.emulator
PG_API = "2024-08-01"
REDIS_API = "2024-11-01"
KV_API = "2023-07-01"


def _group(emulator: Any, rg: str) -> str:
    return f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}"


def _pg_server(tier: str, sku: str) -> dict[str, Any]:
    return {"location": "westeurope", "sku": {"name": sku, "tier": tier},
            "properties": {"administratorLogin": "cfadmin", "administratorLoginPassword": "Str0ng-Passw0rd!",
                           "version": "16", "storage": {"storageSizeGB": 32}}}


@pytest.mark.parametrize(("tier", "sku", "offered"), [("Burstable", "Standard_B1ms", False),
                                                       ("GeneralPurpose", "Standard_D2ds_v5", True)])
def test_pgbouncer_exists_only_outside_burstable(emulator: Any, rg: str, unique: Callable[[str], str], tier: str,
                                                 sku: str, offered: bool) -> None:
    arm = emulator.arm()
    server = f"{_group(emulator, rg)}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{unique('pgb-')}"
    assert arm.call("PUT", f"{server}?api-version={PG_API}", _pg_server(tier, sku))[0] == 202
    status, body, _ = arm.call("PUT", f"{server}/configurations/pgbouncer.enabled?api-version={PG_API}",
                               {"properties": {"value": "true", "source": "user-override"}})
    names: list[str] = []
    page: Any = {"nextLink": f"{server}/configurations?api-version={PG_API}"}
    while page.get("nextLink"):
        page = arm.call("GET", page["nextLink"])[1]
        names += [c["name"] for c in page["value"]]
    if offered:
        assert status == 202, body
        assert "pgbouncer.enabled" in names
    else:
        assert status == 400
        assert body["error"]["code"] == "ConfigurationNotExists"
        assert not [n for n in names if n.startswith("pgbouncer.")], "Azure hides PgBouncer on Burstable"
        assert "max_connections" in names


def test_redis_storage_connection_strings_are_write_only(emulator: Any, rg: str,
                                                         unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    cache = f"{_group(emulator, rg)}/providers/Microsoft.Cache/redis/{unique('redis-wo-')}?api-version={REDIS_API}"
    secret = "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=c2VjcmV0"
    body = {"location": "westeurope", "properties": {
        "sku": {"name": "Premium", "family": "P", "capacity": 1},
        "redisConfiguration": {"rdb-backup-enabled": "true", "rdb-backup-frequency": "60",
                               "rdb-storage-connection-string": secret}}}
    status, created, _ = arm.call("PUT", cache, body)
    assert status in (200, 201), created
    for answer in (created, arm.call("GET", cache)[1]):
        config = answer["properties"]["redisConfiguration"]
        assert config["rdb-backup-enabled"] == "true"
        assert "rdb-storage-connection-string" not in config, "Azure never returns the connection string"
    # A later update need not send it again: the stored one stays in force (persistence stays valid).
    status, patched, _ = arm.call("PATCH", cache, {"properties": {"redisConfiguration": {"maxmemory-policy":
                                                                                           "allkeys-lru"}}})
    assert status in (200, 202), patched
    assert "rdb-storage-connection-string" not in arm.call("GET", cache)[1]["properties"]["redisConfiguration"]
    assert secret not in str(emulator.resources()), "nor does the admin API show it"


# --- Key Vault firewall ---------------------------------------------------------------------------------------
@pytest.fixture
def vault(emulator: Any, rg: str, unique: Callable[[str], str]) -> Iterator[dict[str, Any]]:
    arm = emulator.arm()
    path = f"{_group(emulator, rg)}/providers/Microsoft.KeyVault/vaults/{unique('kvfw')}?api-version={KV_API}"

    def put(**acls: Any) -> str:
        props: dict[str, Any] = {
            "tenantId": identity.TENANT_ID, "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [{"tenantId": identity.TENANT_ID, "objectId": identity.DEPLOYER.object_id,
                                "permissions": {"secrets": ["get", "set", "list"]}}]}
        if acls:
            props["networkAcls"] = acls
        status, body, _ = arm.call("PUT", path, {"location": "westeurope", "properties": props})
        assert status in (200, 201), body
        return str(body["properties"]["vaultUri"])

    yield {"put": put}
    emulator.set_options(keyvault_client_ip=None)


def _set_secret(emulator: Any, vault_uri: str) -> requests.Response:
    verify = emulator.env["REQUESTS_CA_BUNDLE"]
    challenge = requests.get(f"{vault_uri}secrets?api-version=7.5", verify=verify, timeout=30)
    resource = challenge.headers["WWW-Authenticate"].split('resource="', 1)[1].split('"', 1)[0]
    token = emulator.credential().get_token(f"{resource}/.default").token
    return requests.put(f"{vault_uri}secrets/app?api-version=7.5", json={"value": "v"}, verify=verify, timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


def test_key_vault_firewall_refuses_addresses_outside_ip_rules(emulator: Any, vault: dict[str, Any]) -> None:
    uri = vault["put"](defaultAction="Deny", bypass="AzureServices", ipRules=[{"value": "203.0.113.0/24"}])
    assert _set_secret(emulator, uri).status_code == 200, "default: clients reach the vault by a trusted path"

    emulator.set_options(keyvault_client_ip="198.51.100.7")
    refused = _set_secret(emulator, uri)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "Forbidden"
    assert error["innererror"]["code"] == "ForbiddenByFirewall"
    assert "198.51.100.7" in error["message"]

    emulator.set_options(keyvault_client_ip="203.0.113.25")
    assert _set_secret(emulator, uri).status_code == 200, "an address inside ipRules gets in"

    vault["put"](defaultAction="Allow", bypass="AzureServices")
    emulator.set_options(keyvault_client_ip="198.51.100.7")
    assert _set_secret(emulator, uri).status_code == 200, "defaultAction Allow: the firewall is open"


def test_key_vault_without_public_access_refuses_public_clients(emulator: Any, vault: dict[str, Any],
                                                                rg: str) -> None:
    uri = vault["put"](defaultAction="Allow")
    arm = emulator.arm()
    path = next(r for r in emulator.resources() if r.get("properties", {}).get("vaultUri") == uri)["id"]
    current = arm.call("GET", f"{path}?api-version={KV_API}")[1]
    current["properties"]["publicNetworkAccess"] = "Disabled"
    assert arm.call("PUT", f"{path}?api-version={KV_API}", {k: current[k] for k in ("location", "properties")}
                    )[0] == 200
    emulator.set_options(keyvault_client_ip="203.0.113.25")
    refused = _set_secret(emulator, uri)
    assert refused.status_code == 403
    assert refused.json()["error"]["innererror"]["code"] == "ForbiddenByConnection"


def test_bad_client_ip_option_is_refused(emulator: Any) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as err:
        emulator.set_options(keyvault_client_ip="not-an-address")
    assert err.value.code == 400


# --- resource provider registration ---------------------------------------------------------------------------
@pytest.fixture
def unregistered() -> Iterator[EmulatorProcess]:
    tmp = Path(tempfile.mkdtemp(prefix="cf-emu-reg-"))
    proc = EmulatorProcess(tmp, ["--unregistered-providers"], postgres="off", strict_schema=True).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_writes_need_the_namespace_registered(unregistered: EmulatorProcess) -> None:
    arm = unregistered.arm()
    sub = f"/subscriptions/{identity.SUBSCRIPTION_ID}"
    assert arm.call("PUT", f"{sub}/resourceGroups/rg?api-version=2024-03-01", {"location": "westeurope"})[0] == 201, \
        "Microsoft.Resources is always registered"
    vnet = (f"{sub}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1?api-version=2024-05-01",
            {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
    status, body, _ = arm.call("PUT", *vnet)
    assert status == 409
    assert body["error"]["code"] == "MissingSubscriptionRegistration"
    assert "Microsoft.Network" in body["error"]["message"]
    assert body["error"]["details"][0]["target"] == "Microsoft.Network"
    provider = arm.call("GET", f"{sub}/providers/Microsoft.Network?api-version=2021-04-01")[1]
    assert provider["registrationState"] == "NotRegistered"

    registered = arm.call("POST", f"{sub}/providers/Microsoft.Network/register?api-version=2021-04-01")
    assert registered[0] == 200
    assert arm.call("GET", f"{sub}/providers/Microsoft.Network?api-version=2021-04-01")[1][
        "registrationState"] == "Registered"
    assert arm.call("PUT", *vnet)[0] == 201
    # Other namespaces stay unregistered, and registration is per subscription.
    assert arm.call("GET", f"{sub}/providers/Microsoft.Cache?api-version=2021-04-01")[1][
        "registrationState"] == "NotRegistered"
    assert unregistered.options()["unregistered_providers"][identity.SUBSCRIPTION_ID.lower()].count(
        "Microsoft.Network") == 0


def test_namespaces_are_registered_by_default(emulator: Any) -> None:
    arm = emulator.arm()
    sub = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}"
    listed = arm.call("GET", f"{sub}/providers?api-version=2021-04-01")[1]["value"]
    assert {p["namespace"]: p["registrationState"] for p in listed}["Microsoft.DBforPostgreSQL"] == "Registered"
    assert all(p["registrationState"] == "Registered" for p in listed)
