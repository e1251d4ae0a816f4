"""What these providers keep outside the resource bodies survives an emulator restart: soft-deleted vaults (and the
names they hold), access keys, server parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator.pytest_plugin import EmulatorProcess

pytestmark = pytest.mark.emulator


def test_provider_state_survives_restart(tmp_path: Path) -> None:
    from azure.mgmt.eventhub import EventHubManagementClient
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
    from azure.mgmt.redis import RedisManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    emu = EmulatorProcess(tmp_path, postgres="off").start()
    try:
        emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
        vault = {"location": "westeurope", "properties": {"tenantId": emu.env["AZURE_TENANT"],
                                                           "sku": {"family": "A", "name": "standard"}}}
        kv = emu.mgmt_client(KeyVaultManagementClient)
        kv.vaults.begin_create_or_update("rg", "kv-restart", vault).result()
        kv.vaults.delete("rg", "kv-restart")
        redis = emu.mgmt_client(RedisManagementClient)
        basic = {"location": "westeurope", "sku": {"name": "Basic", "family": "C", "capacity": 0}}
        redis.redis.begin_create("rg", "redis-restart", basic).result()
        redis_key = redis.redis.list_keys("rg", "redis-restart").primary_key
        eh = emu.mgmt_client(EventHubManagementClient)
        eh.namespaces.begin_create_or_update("rg", "ehns-restart", {"location": "westeurope",
                                                                    "sku": {"name": "Standard"}}).result()
        eh_key = eh.namespaces.list_keys("rg", "ehns-restart", "RootManageSharedAccessKey").primary_key
        pg = emu.mgmt_client(PostgreSQLManagementClient)
        pg.servers.begin_create_or_update("rg", "pg-restart", {
            "location": "westeurope", "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
            "properties": {"administratorLogin": "cfadmin", "administratorLoginPassword": "Str0ng-Passw0rd!"}},
            polling_interval=0).result()
        pg.configurations.begin_put("rg", "pg-restart", "pgbouncer.enabled",
                                    {"properties": {"value": "true", "source": "user-override"}},
                                    polling_interval=0).result()

        emu.restart()

        kv = emu.mgmt_client(KeyVaultManagementClient)
        assert kv.vaults.get_deleted("kv-restart", "westeurope").properties.vault_id.endswith("/kv-restart")
        with pytest.raises(HttpResponseError) as excinfo:
            kv.vaults.begin_create_or_update("rg", "kv-restart", vault).result()
        assert excinfo.value.error.code == "ConflictError"
        assert emu.mgmt_client(RedisManagementClient).redis.list_keys("rg", "redis-restart").primary_key == redis_key
        eh = emu.mgmt_client(EventHubManagementClient)
        assert eh.namespaces.list_keys("rg", "ehns-restart", "RootManageSharedAccessKey").primary_key == eh_key
        pg = emu.mgmt_client(PostgreSQLManagementClient)
        assert pg.configurations.get("rg", "pg-restart", "pgbouncer.enabled").value == "true"
    finally:
        emu.stop()
