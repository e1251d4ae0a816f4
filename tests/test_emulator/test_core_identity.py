"""Cloud metadata, Entra ID token endpoint, managed identity, and ARM's refusal of bad authentication."""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError

pytestmark = pytest.mark.emulator


def _get(emulator: Any, path: str, headers: dict[str, str] | None = None, data: bytes | None = None,
         method: str | None = None) -> tuple[int, Any, dict[str, str]]:
    context = ssl.create_default_context(cafile=emulator.env["SSL_CERT_FILE"])
    request = urllib.request.Request(emulator.base_url + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None, dict(response.headers)
    except urllib.error.HTTPError as err:
        body = err.read()
        return err.code, json.loads(body) if body else None, dict(err.headers)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_metadata_single_object_for_msrestazure(emulator: Any) -> None:
    status, body, _ = _get(emulator, "/metadata/endpoints?api-version=2015-01-01")
    assert status == 200
    assert body["authentication"]["loginEndpoint"].startswith(emulator.base_url)
    assert body["authentication"]["audiences"][0] == "https://management.core.windows.net/"


def test_metadata_list_for_azure_cli(emulator: Any) -> None:
    status, body, _ = _get(emulator, "/metadata/endpoints?api-version=2022-09-01")
    assert status == 200
    assert isinstance(body, list)
    assert body[0]["resourceManager"] == emulator.base_url + "/"
    assert body[0]["authentication"]["loginEndpoint"] == emulator.base_url + "/"


def test_env_file_has_the_contract_variables(emulator: Any) -> None:
    env = emulator.env
    for key in ("AZURE_CLOUD_ENVIRONMENT", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_SECRET",
                "AZURE_TENANT", "AZURE_DISABLE_INSTANCE_DISCOVERY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        assert env.get(key), key
    assert env["AZURE_SUBSCRIPTION_ID"] == "c0ffee00-0000-4000-8000-000000000001"
    assert env["AZURE_EMULATOR_SUBSCRIPTION_ID_2"] == "c0ffee00-0000-4000-8000-000000000002"
    assert env["AZURE_EMULATOR_TENANT_2"] != env["AZURE_TENANT"]


def test_token_is_jwt_shaped_with_entra_claims(emulator: Any) -> None:
    token = emulator.credential().get_token("https://management.core.windows.net//.default")
    claims = _claims(token.token)
    assert claims["aud"] == "https://management.core.windows.net/"
    assert claims["tid"] == emulator.env["AZURE_TENANT"]
    assert claims["appid"] == emulator.env["AZURE_CLIENT_ID"]
    assert claims["oid"] and claims["oid"] != claims["appid"]
    assert claims["exp"] > time.time() + 600
    again = emulator.credential().get_token("https://management.core.windows.net//.default")
    assert _claims(again.token)["oid"] == claims["oid"], "a client id maps to one stable object id"


def test_wrong_secret_is_refused_like_entra_id(emulator: Any) -> None:
    credential = emulator.credential(secret="not-the-secret")
    with pytest.raises(ClientAuthenticationError) as excinfo:
        credential.get_token("https://management.core.windows.net//.default")
    assert "AADSTS7000215" in str(excinfo.value)


def test_unknown_client_is_refused(emulator: Any) -> None:
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "nope",
                                   "client_secret": "x", "scope": "https://management.core.windows.net//.default"})
    status, body, _ = _get(emulator, f"/{emulator.env['AZURE_TENANT']}/oauth2/v2.0/token", data=form.encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400
    assert body["error"] == "unauthorized_client"
    assert body["error_codes"] == [700016]


def test_managed_identity_endpoint(emulator: Any) -> None:
    path = "/msi/token?api-version=2019-08-01&resource=" + urllib.parse.quote("https://management.azure.com/")
    status, _, _ = _get(emulator, path)
    assert status == 401, "the X-IDENTITY-HEADER secret is required"
    status, body, _ = _get(emulator, path, headers={"X-IDENTITY-HEADER": emulator.env["AZURE_EMULATOR_IDENTITY_HEADER"]})
    assert status == 200
    claims = _claims(body["access_token"])
    assert claims["appid"] == emulator.env["AZURE_EMULATOR_MI_CLIENT_ID"]
    assert claims["aud"] == "https://management.azure.com/"


def test_managed_identity_credential_reaches_arm(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ManagedIdentityCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    monkeypatch.setenv("IDENTITY_ENDPOINT", emulator.env["AZURE_EMULATOR_IDENTITY_ENDPOINT"])
    monkeypatch.setenv("IDENTITY_HEADER", emulator.env["AZURE_EMULATOR_IDENTITY_HEADER"])
    client = emulator.mgmt_client(ResourceManagementClient, credential=ManagedIdentityCredential())
    assert client.resource_groups.check_existence("does-not-exist") is False


def test_arm_refuses_missing_token(emulator: Any) -> None:
    status, body, headers = _get(emulator, f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourcegroups"
                                           "?api-version=2025-04-01")
    assert status == 401
    assert body["error"]["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in headers


def test_arm_refuses_forged_token(emulator: Any) -> None:
    token = emulator.credential().get_token("https://management.core.windows.net//.default").token
    header, _payload, signature = token.split(".")
    claims = _claims(token)
    claims["oid"] = "00000000-0000-0000-0000-000000000000"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    status, body, _ = _get(emulator, f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourcegroups"
                                     "?api-version=2025-04-01",
                           headers={"Authorization": f"Bearer {header}.{forged_payload}.{signature}"})
    assert status == 401
    assert body["error"]["code"] == "InvalidAuthenticationToken"


def test_arm_refuses_token_for_another_audience(emulator: Any) -> None:
    token = emulator.credential().get_token("https://vault.azure.net/.default").token
    status, body, _ = _get(emulator, f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourcegroups"
                                     "?api-version=2025-04-01", headers={"Authorization": f"Bearer {token}"})
    assert status == 401
    assert body["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_arm_refuses_missing_api_version(emulator: Any) -> None:
    token = emulator.credential().get_token("https://management.core.windows.net//.default").token
    status, body, _ = _get(emulator, f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourcegroups",
                           headers={"Authorization": f"Bearer {token}"})
    assert status == 400
    assert body["error"]["code"] == "MissingApiVersionParameter"


def test_token_of_other_tenant_is_refused_on_default_subscription(emulator: Any) -> None:
    token = emulator.second_credential().get_token("https://management.core.windows.net//.default").token
    status, body, _ = _get(emulator, f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourcegroups"
                                     "?api-version=2025-04-01", headers={"Authorization": f"Bearer {token}"})
    assert status == 401
    assert body["error"]["code"] == "InvalidAuthenticationTokenTenant"


def test_unknown_subscription(emulator: Any) -> None:
    token = emulator.credential().get_token("https://management.core.windows.net//.default").token
    status, body, _ = _get(emulator, "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups"
                                     "?api-version=2025-04-01", headers={"Authorization": f"Bearer {token}"})
    assert status == 404
    assert body["error"]["code"] == "SubscriptionNotFound"


def test_admin_dataplanes_reports_planes(emulator: Any) -> None:
    planes = emulator.dataplanes()
    assert set(planes) == {"postgres", "keyvault", "redis", "blob"}
    assert isinstance(planes["postgres"]["servers"], dict)
    assert isinstance(planes["redis"]["caches"], dict)
    assert isinstance(planes["blob"]["accounts"], dict)
    assert planes["keyvault"]["enabled"] is True


def test_request_log_records_arm_calls(emulator: Any, resource_client: Any) -> None:
    resource_client.resource_groups.check_existence("log-probe")
    entry = emulator.requests()[-1]
    assert entry["method"] == "HEAD" and entry["path"].endswith("/resourcegroups/log-probe")
    assert entry["status"] == 404 and entry["api_version"]
    assert entry["client_request_id"] and entry["duration_ms"] >= 0
