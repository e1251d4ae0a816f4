"""The pure decisions inside the keyvault and database modules (no I/O, so no emulator needed)."""

from __future__ import annotations

import base64
import json
import string

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import key_vault_data as kvd
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import fixed_at_creation
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import resource_type
from ansible_collections.complianceflow.azure_infra.plugins.modules import postgresql_server, role_assignment


def test_generated_passwords_are_long_mixed_and_different() -> None:
    values = {kvd.generate_secret("password", 40) for _ in range(50)}
    assert len(values) == 50
    for value in values:
        assert len(value) == 40
        assert any(c in string.ascii_uppercase for c in value)
        assert any(c in string.ascii_lowercase for c in value)
        assert any(c in string.digits for c in value)
        assert any(c in kvd.PASSWORD_CLASSES[3] for c in value)
        # Quotes, backslashes, spaces, @ and : break connection strings and shell snippets.
        assert not set(value) & set("'\"\\ @:/;")


def test_generated_signing_keys_are_random_bytes_in_base64() -> None:
    key = kvd.generate_secret("base64", 64)
    assert len(base64.b64decode(key)) == 64
    assert kvd.generate_secret("base64", 64) != key


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        kvd.generate_secret("password", 16)


@pytest.mark.parametrize(("header", "scope"), [
    ('Bearer authorization="https://login.microsoftonline.com/t", resource="https://vault.azure.net"',
     "https://vault.azure.net/.default"),
    ('Bearer authorization="https://login/t", scope="https://vault.azure.net/.default"',
     "https://vault.azure.net/.default"),
    ("Basic realm=x", None),
])
def test_key_vault_challenge_gives_the_token_scope(header: str, scope: str | None) -> None:
    assert kvd._parse_challenge(header) == scope


def test_caller_identity_comes_from_the_token_claims() -> None:
    claims = {"tid": "tenant-1", "oid": "object-1", "appid": "app-1"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    class Credential:
        def get_token(self, scope: str) -> object:
            assert scope == "https://management.core.windows.net/.default"
            return type("Token", (), {"token": f"e30.{payload}.sig"})()

    assert kvd.caller_identity(Credential(), "https://management.core.windows.net/.default") == \
        {"tenant_id": "tenant-1", "object_id": "object-1", "app_id": "app-1", "token_type": "app"}
    # A signed-in user's token (az login) says so: the runner's role assignment then names a User.
    claims.update({"upn": "someone@example.com", "scp": "user_impersonation"})
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert kvd.caller_identity(Credential(), "https://management.core.windows.net/.default")["token_type"] == "user"


def test_secret_metadata_never_holds_the_value() -> None:
    secret = {"id": "https://v/secrets/a/1", "value": "s3cr3t", "contentType": "password",
              "attributes": {"enabled": True}, "tags": {"env": "test"}}
    assert "s3cr3t" not in json.dumps(kvd.metadata(secret))


@pytest.mark.parametrize(("wanted", "actual", "same"), [
    ("pg_stat_statements,pg_trgm,uuid-ossp", "UUID-OSSP,pg_trgm, pg_stat_statements", True),
    ("pg_stat_statements", "pg_cron,pg_stat_statements", False),
    ("on", "ON", True),
    ("true", "on", True),
    ("1000", "1000", True),
    ("1000", "-1", False),
])
def test_server_parameters_compare_as_postgresql_reads_them(wanted: str, actual: str, same: bool) -> None:
    assert (postgresql_server.normalize_parameter(wanted) == postgresql_server.normalize_parameter(actual)) is same


def _server_params(**overrides: object) -> dict[str, object]:
    params: dict[str, object] = {
        "delegated_subnet_id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/db",
        "private_dns_zone_id": None, "public_network_access": "Disabled", "geo_redundant_backup": True,
        "administrator_login": "cfadmin", "version": "16", "sku_name": None, "sku_tier": None,
        "storage_size_gb": None, "storage_auto_grow": None, "backup_retention_days": None,
        "high_availability": None, "availability_zone": None, "tags": None}
    params.update(overrides)
    return params


def test_settings_azure_cannot_change_are_named() -> None:
    actual = {"properties": {"version": "16", "administratorLogin": "cfadmin",
                             "backup": {"geoRedundantBackup": "Disabled"},
                             "network": {"delegatedSubnetResourceId": "/SUBSCRIPTIONS/s/resourceGroups/g/providers/"
                                         "Microsoft.Network/virtualNetworks/v/subnets/db",
                                         "publicNetworkAccess": "Disabled"}}}
    server = resource_type(postgresql_server.TYPE)

    def conflicts(**overrides: object) -> list[str]:
        return fixed_at_creation(postgresql_server.server_body(_server_params(**overrides), creating=True), actual,
                                 server)

    assert conflicts() == ["properties.backup.geoRedundantBackup is fixed at creation (Azure has 'Disabled', "
                           "the task asks for 'Enabled')"]
    assert conflicts(geo_redundant_backup=False) == []
    # createMode is sent on create only: never a conflict.
    assert conflicts(geo_redundant_backup=False, version="17") == [
        "properties.version is fixed at creation (Azure has '16', the task asks for '17')"]


def test_create_body_carries_network_and_geo_backup_but_an_update_does_not() -> None:
    params = _server_params(sku_name="Standard_B1ms", sku_tier="Burstable", storage_size_gb=32,
                            storage_auto_grow=False, backup_retention_days=7, high_availability="Disabled",
                            availability_zone=None, tags=None)
    create = postgresql_server.server_body(params, creating=True)
    assert create["properties"]["network"]["publicNetworkAccess"] == "Disabled"
    assert create["properties"]["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Enabled"}
    assert "administratorLoginPassword" not in json.dumps(create)
    update = postgresql_server.server_body(params, creating=False)
    assert "network" not in update["properties"]
    assert update["properties"]["backup"] == {"backupRetentionDays": 7}
    assert update["properties"]["storage"] == {"storageSizeGB": 32, "autoGrow": "Disabled"}


@pytest.mark.parametrize(("role", "guid"), [
    ("Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"),
    ("B86A8FE4-44CE-4948-AEE5-ECCB2C155CD7", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"),
    ("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
     "4633458b-17de-408a-b874-0445c86b69e6"),
    ("Owner of everything", None),
])
def test_role_definitions_resolve_by_name_guid_or_id(role: str, guid: str | None) -> None:
    assert role_assignment.role_guid(role) == guid
