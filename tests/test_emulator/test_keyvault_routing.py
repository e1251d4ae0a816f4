"""Key Vault data plane front door: SecretClient's challenge auth against the emulator, RBAC and access policies."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

pytestmark = pytest.mark.emulator
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def _object_id(credential: Any) -> str:
    import base64
    import json

    token = credential.get_token("https://management.core.windows.net//.default").token
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"])


@pytest.fixture(scope="module")
def keyvault(emulator: Any) -> Any:
    # The data plane and the provider are part of the emulator: no skip, a regression fails here.
    assert emulator.dataplanes()["keyvault"]["enabled"] is True, "the emulator serves no Key Vault data plane"
    from azure.mgmt.keyvault import KeyVaultManagementClient

    return emulator.mgmt_client(KeyVaultManagementClient)


def _vault(emulator: Any, keyvault: Any, rg: str, name: str, **props: Any) -> Any:
    body = {"location": "westeurope", "properties": {"tenantId": emulator.env["AZURE_TENANT"],
                                                     "sku": {"family": "A", "name": "standard"}, **props}}
    return keyvault.vaults.begin_create_or_update(rg, name, body).result()


def _assign(emulator: Any, scope: str, role: str, principal: str) -> None:
    from azure.mgmt.authorization import AuthorizationManagementClient

    client = emulator.mgmt_client(AuthorizationManagementClient)
    role_id = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    client.role_assignments.create(scope, str(uuid.uuid4()), {"properties": {
        "roleDefinitionId": role_id, "principalId": principal, "principalType": "ServicePrincipal"}})


def _secrets(emulator: Any, vault: Any, credential: Any = None) -> Any:
    from azure.keyvault.secrets import SecretClient

    emulator.apply_env()
    return SecretClient(vault.properties.vault_uri, credential or emulator.credential())


def test_vault_uri_points_at_the_emulator(emulator: Any, keyvault: Any, rg: str) -> None:
    vault = _vault(emulator, keyvault, rg, f"kv{uuid.uuid4().hex[:10]}")
    assert vault.properties.vault_uri.startswith("https://127.0.0.1:")


def test_secret_ids_use_the_vault_origin_which_serves_the_vault(emulator: Any, keyvault: Any, rg: str) -> None:
    from azure.keyvault.secrets import KeyVaultSecretIdentifier

    vault = _vault(emulator, keyvault, rg, f"kv{uuid.uuid4().hex[:10]}", enableRbacAuthorization=True)
    _assign(emulator, vault.id, SECRETS_OFFICER, _object_id(emulator.credential()))
    secret = _secrets(emulator, vault).set_secret("token", "abc")
    origin = KeyVaultSecretIdentifier(secret.id).vault_url
    assert origin.startswith("https://127.0.0.1:") and origin != emulator.base_url

    class AtOrigin:
        properties = type("P", (), {"vault_uri": origin + "/"})

    by_origin = _secrets(emulator, AtOrigin())
    assert by_origin.get_secret("token", secret.properties.version).value == "abc"


def test_rbac_vault_refuses_callers_without_a_data_role(emulator: Any, keyvault: Any, rg: str) -> None:
    vault = _vault(emulator, keyvault, rg, f"kv{uuid.uuid4().hex[:10]}", enableRbacAuthorization=True)
    client = _secrets(emulator, vault)
    with pytest.raises(HttpResponseError) as excinfo:
        client.set_secret("db-password", "s3cret")
    assert excinfo.value.status_code == 403
    assert "ForbiddenByRbac" in str(excinfo.value)


def test_role_at_parent_scope_grants_access(emulator: Any, keyvault: Any, rg: str) -> None:
    vault = _vault(emulator, keyvault, rg, f"kv{uuid.uuid4().hex[:10]}", enableRbacAuthorization=True)
    me = _object_id(emulator.credential())
    _assign(emulator, f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}", SECRETS_OFFICER, me)
    client = _secrets(emulator, vault)
    client.set_secret("db-password", "s3cret")
    assert client.get_secret("db-password").value == "s3cret"
    assert [s.name for s in client.list_properties_of_secrets()] == ["db-password"]


def test_secrets_user_can_read_but_not_write(emulator: Any, keyvault: Any, rg: str) -> None:
    vault = _vault(emulator, keyvault, rg, f"kv{uuid.uuid4().hex[:10]}", enableRbacAuthorization=True)
    me = _object_id(emulator.credential())
    _assign(emulator, vault.id, SECRETS_OFFICER, me)
    _secrets(emulator, vault).set_secret("api-key", "v1")
    reader_credential = emulator.credential(emulator.env["AZURE_EMULATOR_READER_CLIENT_ID"],
                                            emulator.env["AZURE_EMULATOR_READER_SECRET"])
    _assign(emulator, vault.id, SECRETS_USER, _object_id(reader_credential))
    reader = _secrets(emulator, vault, reader_credential)
    assert reader.get_secret("api-key").value == "v1"
    with pytest.raises(HttpResponseError) as excinfo:
        reader.set_secret("api-key", "v2")
    assert excinfo.value.status_code == 403


def test_access_policy_vault(emulator: Any, keyvault: Any, rg: str) -> None:
    me = _object_id(emulator.credential())
    vault = _vault(emulator, keyvault, rg, f"kv{uuid.uuid4().hex[:10]}", enableRbacAuthorization=False,
                   accessPolicies=[{"tenantId": emulator.env["AZURE_TENANT"], "objectId": me,
                                    "permissions": {"secrets": ["get", "set", "list"]}}])
    client = _secrets(emulator, vault)
    client.set_secret("conn", "value")
    assert client.get_secret("conn").value == "value"
    with pytest.raises(HttpResponseError) as excinfo:
        client.begin_delete_secret("conn").result()
    assert excinfo.value.status_code == 403, "no 'delete' permission in the access policy"


def test_unauthenticated_request_gets_the_challenge(emulator: Any, keyvault: Any, rg: str) -> None:
    import ssl
    import urllib.error
    import urllib.request

    vault = _vault(emulator, keyvault, rg, f"kv{uuid.uuid4().hex[:10]}")
    context = ssl.create_default_context(cafile=emulator.env["SSL_CERT_FILE"])
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(f"{vault.properties.vault_uri}secrets?api-version=7.5", context=context, timeout=10)
    assert excinfo.value.code == 401
    challenge = excinfo.value.headers["WWW-Authenticate"]
    assert f'authorization="{emulator.base_url}/{emulator.env["AZURE_TENANT"]}"' in challenge
    assert 'resource="https://' in challenge


def _set_once_propagated(client: Any, name: str, value: str, within: float) -> None:
    """Set a secret as soon as the caller's new role assignment reaches the data plane (refused with 403 until
    then); fails when it has not within `within` seconds."""
    import time

    deadline = time.monotonic() + within
    while True:
        try:
            client.set_secret(name, value)
            return
        except HttpResponseError as err:
            assert err.status_code == 403, err
            assert time.monotonic() < deadline, "the assignment never reached the data plane"
            time.sleep(0.2)


PROPAGATION_S = 60 * 0.05  # the emulator's RBAC propagation (60 s in Azure) at --time-scale 0.05


def test_role_assignments_take_time_to_propagate_in_realistic_mode(tmp_path: Any) -> None:
    """A fresh assignment is refused by the data plane until it propagates, then accepted.

    Timing-proof: the assignment takes effect no earlier than PROPAGATION_S after the PUT was *sent*, so every
    write whose response came back before that instant must be refused. A slow machine may miss the window on one
    vault; the test then tries a fresh vault and assignment (the condition is waited for, never dropped), and fails
    only when no attempt could be made inside the window at all."""
    import time

    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from tests.emulator.pytest_plugin import EmulatorProcess

    emu = EmulatorProcess(tmp_path, ["--latency", "realistic", "--time-scale", "0.05"]).start()
    try:
        assert emu.dataplanes()["keyvault"]["enabled"] is True
        emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
        keyvault = emu.mgmt_client(KeyVaultManagementClient)
        me = _object_id(emu.credential())
        refused_inside_window = 0
        for attempt in range(5):
            vault = _vault(emu, keyvault, "rg", f"kv-propagation-{attempt}", enableRbacAuthorization=True)
            client = _secrets(emu, vault)
            sent = time.time()
            _assign(emu, vault.id, SECRETS_OFFICER, me)
            try:
                client.set_secret("early", "x")
                early_status = 200
            except HttpResponseError as err:
                early_status = err.status_code
            answered = time.time()
            if answered < sent + PROPAGATION_S:
                assert early_status == 403, "a fresh assignment must not reach the data plane at once"
                refused_inside_window += 1
                break
        assert refused_inside_window == 1, "no write could be made inside the propagation window in 5 attempts"

        _set_once_propagated(client, "late", "y", within=30)
        assert time.time() >= sent + PROPAGATION_S, "the data plane accepted the assignment before it propagated"
        assert client.get_secret("late").value == "y"
    finally:
        emu.stop()


def test_rbac_propagation_option_delays_new_assignments_in_instant_mode(emulator: Any, keyvault: Any, rg: str) -> None:
    """`--rbac-propagation` (runtime option `rbac_propagation`) models Azure's propagation without realistic latency:
    the instant emulator's data plane refuses a new assignment for that long, then takes it; null goes back to the
    latency mode's default (none in instant)."""
    import time
    import urllib.error

    me = _object_id(emulator.credential())
    emulator.set_options(rbac_propagation=3)
    try:
        vault = _vault(emulator, keyvault, rg, "kv-propagation-option", enableRbacAuthorization=True)
        client = _secrets(emulator, vault)
        sent = time.time()
        _assign(emulator, vault.id, SECRETS_OFFICER, me)
        with pytest.raises(HttpResponseError) as early:
            client.set_secret("early", "x")
        assert early.value.status_code == 403 and time.time() < sent + 3
        _set_once_propagated(client, "late", "y", within=20)
        assert time.time() >= sent + 3, "the data plane took the assignment before it propagated"
        for bad in (-1, "soon", True):
            with pytest.raises(urllib.error.HTTPError) as err:
                emulator.set_options(rbac_propagation=bad)
            assert err.value.code == 400
        assert emulator.set_options()["rbac_propagation"] == 3
    finally:
        emulator.set_options(rbac_propagation=None)
    # Back to instant: a new assignment counts at once.
    other = _vault(emulator, keyvault, rg, "kv-propagation-none", enableRbacAuthorization=True)
    _assign(emulator, other.id, SECRETS_OFFICER, me)
    assert _secrets(emulator, other).set_secret("now", "z").value == "z"
