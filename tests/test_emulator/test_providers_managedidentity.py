"""Microsoft.ManagedIdentity/userAssignedIdentities, their tokens, and role assignments scoped to one secret."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

pytestmark = pytest.mark.emulator
API = "2023-01-31"
AUTHZ_API = "2022-04-01"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
EVENT_HUBS_SENDER = "2b629674-e913-4c01-ae53-ef4638d8f975"
EVENT_HUBS_RECEIVER = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"


def _object_id(credential: Any, scope: str = "https://management.core.windows.net//.default") -> str:
    import base64
    import json

    token = credential.get_token(scope).token
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"])


def _identity(emulator: Any, rg: str, name: str) -> dict[str, Any]:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    status, body, _ = emulator.arm().call(
        "PUT", f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
               f"{name}?api-version={API}", {"location": "westeurope", "tags": {"app": "test"}})
    assert status in (200, 201), body
    return dict(body)


def _assign(emulator: Any, scope: str, role: str, principal: str, principal_type: str = "ServicePrincipal") -> Any:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    return emulator.arm().call(
        "PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}?api-version={AUTHZ_API}",
        {"properties": {"roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/"
                                            f"{role}", "principalId": principal, "principalType": principal_type}})


def test_identity_gets_ids_azure_generates_and_keeps_them(emulator: Any, rg: str) -> None:
    created = _identity(emulator, rg, "id-orders")
    props = created["properties"]
    assert props["tenantId"] == emulator.env["AZURE_TENANT"]
    assert props["principalId"] != props["clientId"]
    again = _identity(emulator, rg, "id-orders")
    assert again["properties"] == props, "a second PUT keeps the identity's ids"
    status, body, _ = emulator.arm().call(
        "PUT", f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}/providers/"
               f"Microsoft.ManagedIdentity/userAssignedIdentities/-bad?api-version={API}", {"location": "westeurope"})
    assert status == 400 and body["error"]["code"] == "InvalidResourceName"


def test_identity_token_from_the_managed_identity_endpoint(emulator: Any, rg: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ManagedIdentityCredential

    created = _identity(emulator, rg, "id-tokens")
    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.env["AZURE_EMULATOR_IDENTITY_ENDPOINT"])
    monkeypatch.setenv("IDENTITY_HEADER", emulator.env["AZURE_EMULATOR_IDENTITY_HEADER"])
    credential = ManagedIdentityCredential(client_id=created["properties"]["clientId"])
    assert _object_id(credential) == created["properties"]["principalId"]
    from tests.test_emulator.test_core_identity import _get

    status, body, _ = _get(emulator, f"/msi/token?api-version=2019-08-01&resource=https://vault.azure.net"
                                     f"&client_id={uuid.uuid4()}",
                           headers={"X-IDENTITY-HEADER": emulator.env["AZURE_EMULATOR_IDENTITY_HEADER"]})
    assert status == 400 and "No managed identity found" in body["error"]["message"]


def test_role_assignment_needs_an_existing_principal_of_the_given_type(emulator: Any, rg: str) -> None:
    scope = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}"
    created = _identity(emulator, rg, "id-grants")
    status, body, _ = _assign(emulator, scope, EVENT_HUBS_SENDER, created["properties"]["clientId"])
    assert status == 400 and body["error"]["code"] == "PrincipalNotFound", "the client id is not the principal id"
    status, body, _ = _assign(emulator, scope, EVENT_HUBS_SENDER, created["properties"]["principalId"], "User")
    assert status == 400 and body["error"]["code"] == "UnmatchedPrincipalType"
    for role in (EVENT_HUBS_SENDER, EVENT_HUBS_RECEIVER):
        status, body, _ = _assign(emulator, scope, role, created["properties"]["principalId"])
        assert status == 201, body


def test_secret_scoped_role_grants_that_secret_only(emulator: Any, rg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ManagedIdentityCredential
    from azure.keyvault.secrets import SecretClient
    from azure.mgmt.keyvault import KeyVaultManagementClient

    keyvault = emulator.mgmt_client(KeyVaultManagementClient)
    vault = keyvault.vaults.begin_create_or_update(rg, f"kv{uuid.uuid4().hex[:10]}", {
        "location": "westeurope", "properties": {"tenantId": emulator.env["AZURE_TENANT"], "enableRbacAuthorization": True,
                                                 "sku": {"family": "A", "name": "standard"}}}).result()
    assert _assign(emulator, vault.id, SECRETS_OFFICER, _object_id(emulator.credential()))[0] == 201
    emulator.apply_env()
    admin = SecretClient(vault.properties.vault_uri, emulator.credential())
    admin.set_secret("orders-password", "mine")
    admin.set_secret("billing-password", "theirs")
    status, body, _ = _assign(emulator, f"{vault.id}/secrets/missing", SECRETS_USER, str(uuid.uuid4()))
    assert status == 404 and body["error"]["code"] == "ResourceNotFound", "a secret that does not exist is no scope"

    orders = _identity(emulator, rg, "id-orders-kv")
    status, body, _ = _assign(emulator, f"{vault.id}/secrets/orders-password", SECRETS_USER,
                              orders["properties"]["principalId"])
    assert status == 201, body
    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.env["AZURE_EMULATOR_IDENTITY_ENDPOINT"])
    monkeypatch.setenv("IDENTITY_HEADER", emulator.env["AZURE_EMULATOR_IDENTITY_HEADER"])
    service = SecretClient(vault.properties.vault_uri,
                           ManagedIdentityCredential(client_id=orders["properties"]["clientId"]))
    assert service.get_secret("orders-password").value == "mine"
    with pytest.raises(HttpResponseError) as excinfo:
        service.get_secret("billing-password")
    assert excinfo.value.status_code == 403 and "ForbiddenByRbac" in str(excinfo.value)
    with pytest.raises(HttpResponseError) as excinfo:
        list(service.list_properties_of_secrets())
    assert excinfo.value.status_code == 403, "listing the vault needs a role on the vault"
