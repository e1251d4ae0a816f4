"""Key Vault secrets data plane through the official azure-keyvault-secrets SecretClient.

Two routes:
- in process: the SecretClient's HTTP transport hands requests straight to KeyVaultSecretsPlane (after the
  bearer challenge Key Vault starts every session with), so the SDK's models, pagers and pollers are checked
  against the plane's responses without any server;
- through the emulator (`emulator` fixture of tests/emulator/pytest_plugin.py): a vault created with
  azure-mgmt-keyvault, RBAC enforced by the core, secrets handled by the plane.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline.transport import HttpTransport
from azure.keyvault.secrets import SecretClient
from requests.structures import CaseInsensitiveDict

from tests.emulator.dataplanes.keyvault_secrets import KeyVaultSecretsPlane

# azure-core has no public in-memory response type; the requests-backed one is what its own transport returns.
rest_requests = pytest.importorskip("azure.core.rest._requests_basic", reason="azure-core internals moved")

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE_READY = (REPO_ROOT / "tests/emulator/__main__.py").exists() and (
    REPO_ROOT / "tests/emulator/pytest_plugin.py"
).exists()
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
VAULT_HOST = "kv-sdk.vault.azure.net"


class StaticCredential:
    """A credential whose token the in-process transport accepts; the plane itself never sees tokens."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("emulator-test-token", 4_000_000_000)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        return AccessTokenInfo("emulator-test-token", 4_000_000_000)


class PlaneTransport(HttpTransport):
    """Send each request to the plane, answering unauthenticated ones with Key Vault's bearer challenge."""

    def __init__(self, plane: KeyVaultSecretsPlane) -> None:
        self.plane = plane
        self.calls: list[tuple[str, str, int]] = []

    def __enter__(self) -> PlaneTransport:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, request: Any, **kwargs: Any) -> Any:
        url = urlsplit(request.url)
        if "Authorization" not in request.headers:
            status, headers, body = (
                401,
                {
                    "WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/tenant", '
                    'resource="https://vault.azure.net"'
                },
                b"",
            )
        else:
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            content = (
                request.content
                if isinstance(request.content, bytes)
                else (request.content.encode() if request.content else None)
            )
            status, headers, body = self.plane.handle(
                "kv-sdk", request.method, unquote(url.path.lstrip("/")), query, content, f"https://{VAULT_HOST}/"
            )
        self.calls.append((request.method, url.path, status))
        raw = requests.Response()
        raw.status_code = status
        raw.headers = CaseInsensitiveDict(headers)
        raw._content = body
        raw.raw = io.BytesIO(body)
        raw.url = request.url
        raw.reason = "emulated"
        response = rest_requests.RestRequestsTransportResponse(request=request, internal_response=raw)
        response.read()
        return response


@pytest.fixture
def sdk(tmp_path: pathlib.Path) -> tuple[SecretClient, PlaneTransport]:
    transport = PlaneTransport(KeyVaultSecretsPlane(tmp_path))
    client = SecretClient(f"https://{VAULT_HOST}", StaticCredential(), transport=transport)  # type: ignore[arg-type]
    return client, transport


def test_sdk_set_get_versions_and_update(sdk: tuple[SecretClient, PlaneTransport]) -> None:
    client, _ = sdk
    first = client.set_secret("db-password", "v1", content_type="text/plain", tags={"env": "test"})
    assert first.name == "db-password"
    assert first.properties.vault_url == f"https://{VAULT_HOST}"
    assert len(first.properties.version or "") == 32
    assert first.properties.created_on is not None
    assert first.properties.recovery_level == "Recoverable+Purgeable"
    second = client.set_secret("db-password", "v2")
    assert client.get_secret("db-password").value == "v2"
    assert client.get_secret("db-password", first.properties.version).value == "v1"
    versions = {p.version for p in client.list_properties_of_secret_versions("db-password")}
    assert versions == {first.properties.version, second.properties.version}
    updated = client.update_secret_properties("db-password", content_type="application/json", enabled=False)
    assert updated.content_type == "application/json" and updated.enabled is False
    with pytest.raises(HttpResponseError) as err:
        client.get_secret("db-password")
    assert err.value.status_code == 403
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("missing")


def test_sdk_pages_through_more_than_one_page(sdk: tuple[SecretClient, PlaneTransport]) -> None:
    client, transport = sdk
    for i in range(30):
        client.set_secret(f"s{i}", "x")
    names = [p.name for p in client.list_properties_of_secrets()]
    assert sorted(names) == sorted(f"s{i}" for i in range(30))
    list_calls = [c for c in transport.calls if c[0] == "GET" and c[1] == "/secrets"]
    assert len(list_calls) == 2


def test_sdk_delete_recover_purge(sdk: tuple[SecretClient, PlaneTransport]) -> None:
    client, _ = sdk
    client.set_secret("api-key", "v1")
    deleted = client.begin_delete_secret("api-key").result()
    assert deleted.recovery_id == f"https://{VAULT_HOST}/deletedsecrets/api-key"
    assert deleted.deleted_date is not None and deleted.scheduled_purge_date is not None
    assert (deleted.scheduled_purge_date - deleted.deleted_date).days == 90
    with pytest.raises(ResourceExistsError):
        client.set_secret("api-key", "v2")
    assert [d.name for d in client.list_deleted_secrets()] == ["api-key"]
    client.begin_recover_deleted_secret("api-key").result()
    assert client.get_secret("api-key").value == "v1"
    client.begin_delete_secret("api-key").result()
    client.purge_deleted_secret("api-key")
    assert list(client.list_deleted_secrets()) == []
    assert client.set_secret("api-key", "fresh").value == "fresh"


# ------------------------------------------------------------------------------------ through the emulator
def _token_oid(token: str) -> str:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["oid"])


class EmulatedVault:
    """A vault with Azure RBAC created through ARM, and what a test needs to reach its data plane."""

    def __init__(self, emulator: Any) -> None:
        from azure.mgmt.keyvault import KeyVaultManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient

        self.emulator = emulator
        self.env = emulator.env
        suffix = uuid.uuid4().hex[:8]
        self.group, self.name = f"rg-dp-{suffix}", f"kv-dp-{suffix}"
        emulator.mgmt_client(ResourceManagementClient).resource_groups.create_or_update(
            self.group, {"location": "westeurope"}
        )
        self.vaults = emulator.mgmt_client(KeyVaultManagementClient)
        self.body = {
            "location": "westeurope",
            "properties": {
                "tenantId": self.env["AZURE_TENANT"],
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": True,
            },
        }
        self.vault = self.vaults.vaults.begin_create_or_update(self.group, self.name, self.body).result()
        self.uri: str = self.vault.properties.vault_uri
        self.credential = emulator.credential()

    def grant_secrets_officer(self) -> None:
        from azure.mgmt.authorization import AuthorizationManagementClient

        token = self.credential.get_token("https://management.core.windows.net/.default").token
        subscription = self.env["AZURE_SUBSCRIPTION_ID"]
        try:
            self.emulator.mgmt_client(AuthorizationManagementClient).role_assignments.create(
                self.vault.id,
                str(uuid.uuid4()),
                {
                    "role_definition_id": f"/subscriptions/{subscription}/providers/Microsoft.Authorization/"
                    f"roleDefinitions/{KEY_VAULT_SECRETS_OFFICER}",
                    "principal_id": _token_oid(token),
                    "principal_type": "ServicePrincipal",
                },
            )
        except HttpResponseError as err:
            # An assignment kept across a vault's soft delete and recovery still grants the role.
            if err.error is None or err.error.code != "RoleAssignmentExists":
                raise


class RestVaultClient:
    """Key Vault REST as any client speaks it: challenge first, then a token for the challenge's resource."""

    def __init__(self, vault: EmulatedVault) -> None:
        self.vault = vault
        self.session = requests.Session()
        self.session.verify = vault.env["REQUESTS_CA_BUNDLE"]
        challenge = self.session.get(f"{vault.uri}secrets", params={"api-version": "7.5"})
        assert challenge.status_code == 401
        header = challenge.headers["WWW-Authenticate"]
        resource = header.split('resource="', 1)[1].split('"', 1)[0]
        token = vault.credential.get_token(f"{resource}/.default").token
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, subpath: str, body: Any = None, **params: str) -> tuple[int, Any]:
        params.setdefault("api-version", "7.5")
        url = subpath if subpath.startswith("https://") else f"{self.vault.uri}{subpath}"
        response = self.session.request(method, url, json=body, params=params)
        return response.status_code, (response.json() if response.content else None)


@pytest.fixture
def vault(emulator: Any) -> EmulatedVault:
    return EmulatedVault(emulator)


@pytest.mark.skipif(not CORE_READY, reason="emulator core (tests/emulator/__main__.py, pytest_plugin.py) not there yet")
def test_emulator_rest_secrets_follow_rbac_and_vault_soft_delete(vault: EmulatedVault) -> None:
    client = RestVaultClient(vault)
    status, body = client.call("PUT", "secrets/app-password", {"value": "v1"})
    assert status == 403
    assert body["error"]["innererror"]["code"] == "ForbiddenByRbac"

    vault.grant_secrets_officer()
    status, created = client.call("PUT", "secrets/app-password", {"value": "v1"})
    assert status == 200, created
    assert created["id"].startswith(f"{vault.uri}secrets/app-password/")
    for i in range(3):
        client.call("PUT", f"secrets/extra-{i}", {"value": "x"})
    names: list[str] = []
    status, page = client.call("GET", "secrets", maxresults="2")
    while True:
        assert status == 200
        names += [item["id"].rsplit("/", 1)[1] for item in page["value"]]
        if not page["nextLink"]:
            break
        # The nextLink is a full URL on the emulator: following it as given must work.
        status, page = client.call("GET", page["nextLink"])
    assert names == ["app-password", "extra-0", "extra-1", "extra-2"]

    status, _ = client.call("DELETE", "secrets/extra-0")
    assert status == 200
    status, body = client.call("PUT", "secrets/extra-0", {"value": "again"})
    assert (status, body["error"]["code"]) == (409, "Conflict")

    # Soft-deleting the vault takes its secrets out of reach; recovering it brings them back.
    vault.vaults.vaults.delete(vault.group, vault.name)
    assert client.call("GET", "secrets/app-password")[0] == 404
    recover = {**vault.body, "properties": {**vault.body["properties"], "createMode": "recover"}}
    vault.vaults.vaults.begin_create_or_update(vault.group, vault.name, recover).result()
    vault.grant_secrets_officer()
    status, got = client.call("GET", "secrets/app-password")
    assert (status, got["value"]) == (200, "v1")
    assert client.call("GET", "deletedsecrets/extra-0")[0] == 200


@pytest.mark.skipif(not CORE_READY, reason="emulator core (tests/emulator/__main__.py, pytest_plugin.py) not there yet")
def test_emulator_secret_client_roundtrip(vault: EmulatedVault) -> None:
    client = SecretClient(vault.uri, vault.credential, connection_verify=vault.env["REQUESTS_CA_BUNDLE"])
    with pytest.raises(HttpResponseError) as err:
        client.set_secret("app-password", "v1")
    assert err.value.status_code == 403
    # Key Vault answers code Forbidden with the reason in the inner error.
    assert err.value.error is not None and err.value.error.code == "Forbidden"
    assert "ForbiddenByRbac" in str(err.value)
    vault.grant_secrets_officer()
    # azure-keyvault-secrets parses ids as https://host[:port]/secrets/<name>[/<version>]: a vault URL with a path
    # would make every call below raise ValueError.
    assert not urlsplit(vault.uri).path.strip("/")
    assert client.set_secret("app-password", "v1").value == "v1"
    assert client.get_secret("app-password").value == "v1"
    assert [p.name for p in client.list_properties_of_secrets()] == ["app-password"]
    client.begin_delete_secret("app-password").result()
    with pytest.raises(ResourceExistsError):
        client.set_secret("app-password", "v2")
    client.begin_recover_deleted_secret("app-password").result()
    assert client.get_secret("app-password").value == "v1"
