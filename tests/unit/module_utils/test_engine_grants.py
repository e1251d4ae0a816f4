"""A write refused because a role assignment has not reached the service yet.

Azure propagates a new role assignment in minutes. An Application Gateway created right after its identity was
allowed to read the certificate's secret is refused with ``ApplicationGatewayKeyVaultSecretException`` until the
grant arrives; Terraform users put a sleep between the two. The engine retries that refusal (the type's
``awaits_grants`` in the registry) for up to ``rbac-wait`` seconds, and only when this run has just created a role
assignment the gateway depends on: the same refusal with a grant that was already there is a real one (a vault
firewall, a missing secret) and fails at once with Azure's code.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.engine import Engine, Options, RuntimeValues
from tests.unit.module_utils.test_engine_ordering import RG, FakeArm

IDENTITY = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-appgw"
SECRET = f"{RG}/providers/Microsoft.KeyVault/vaults/kv/secrets/cert"
GRANT = f"{SECRET}/providers/Microsoft.Authorization/roleAssignments/0f7c3d1e-7f2b-4a39-9d4e-1c5e8a9b2f10"
GATEWAY = f"{RG}/providers/Microsoft.Network/applicationGateways/agw"
GRANT_BODY = {"roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b",
              "principalId": "11111111-2222-3333-4444-555555555555", "principalType": "ServicePrincipal"}


class PropagatingArm(FakeArm):
    """Refuses the gateway's write the first ``refusals`` times, as Azure does while the grant propagates."""

    def __init__(self, resources: dict[str, dict[str, Any]], refusals: int) -> None:
        super().__init__(resources)
        self.refusals = refusals

    def write(self, method: str, resource_id: str, api_version: str, body: dict[str, Any],
              timeout: float) -> dict[str, Any]:
        if "/applicationgateways/" in resource_id.lower() and self.refusals > 0:
            self.refusals -= 1
            self.calls.append((method, resource_id))
            raise AzureApiError(400, "ApplicationGatewayKeyVaultSecretException",
                                "the identity may not read secret cert", resource_id, method)
        return super().write(method, resource_id, api_version, body, timeout)


def _plan() -> list[dict[str, Any]]:
    return [
        {"id": IDENTITY, "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": "westeurope"},
        {"id": GRANT, "type": "Microsoft.Authorization/roleAssignments", "properties": GRANT_BODY,
         "depends_on": [IDENTITY]},
        {"id": GATEWAY, "type": "Microsoft.Network/applicationGateways", "location": "westeurope",
         "properties": {"sku": {"name": "WAF_v2", "tier": "WAF_v2"}}, "depends_on": [IDENTITY, GRANT]},
    ]


def _run(client: PropagatingArm, rbac_wait: float) -> tuple[dict[str, Any], list[float]]:
    engine = Engine(client, _plan(), Options(parallel=1), None)  # type: ignore[arg-type]
    engine.runtime = RuntimeValues(client, given={"rbac-wait": rbac_wait})  # type: ignore[arg-type]
    slept: list[float] = []
    engine.sleep = slept.append  # the waits are recorded, not slept
    return engine.run(), slept


def _gateway_writes(client: FakeArm) -> int:
    return sum(1 for method, rid in client.calls if method == "PUT" and rid == GATEWAY)


def test_a_gateway_refused_while_its_new_grant_propagates_is_written_again_until_azure_takes_it() -> None:
    client = PropagatingArm({}, refusals=3)
    result, slept = _run(client, rbac_wait=300)
    assert result["failed"] == []
    assert _gateway_writes(client) == 4
    assert GATEWAY.lower() in client.resources
    # Growing waits, each bounded: 5, 10, 15 seconds.
    assert slept == [5.0, 10.0, 15.0]


def test_the_same_refusal_with_a_grant_that_was_already_there_fails_at_once() -> None:
    existing = {GRANT: {"id": GRANT, "properties": dict(GRANT_BODY)},
                IDENTITY: {"id": IDENTITY, "location": "westeurope", "properties": {}}}
    client = PropagatingArm(existing, refusals=1)
    result, slept = _run(client, rbac_wait=300)
    assert _gateway_writes(client) == 1 and slept == []
    assert any("ApplicationGatewayKeyVaultSecretException" in f for f in result["failed"])


def test_a_refusal_that_outlasts_rbac_wait_fails_with_azures_code_and_names_the_grant() -> None:
    client = PropagatingArm({}, refusals=100)
    result, _ = _run(client, rbac_wait=0)
    assert _gateway_writes(client) == 1
    failure = next(f for f in result["failed"] if "ApplicationGatewayKeyVaultSecretException" in f)
    assert GRANT in failure and "propagates role assignments" in failure


def test_rbac_wait_zero_means_no_wait_for_the_vault_either() -> None:
    """``keyvault_rbac_wait: 0`` turns the wait off for Key Vault's ForbiddenByRbac as for the gateway (it used to
    read 0 as "not given" there, and waited 300 s)."""
    from types import SimpleNamespace

    client = PropagatingArm({}, refusals=0)
    client.credential, client.verify = object(), True  # type: ignore[attr-defined]
    waits = {}
    for given in (0, 42, None):
        engine = Engine(client, [], Options(parallel=1), None)  # type: ignore[arg-type]
        engine.runtime = RuntimeValues(client, given={} if given is None else {"rbac-wait": given})  # type: ignore[arg-type]
        secrets, _ = engine._secrets_client(SimpleNamespace(vault_uri="https://kv.vault.azure.net/"))  # type: ignore[arg-type]
        waits[given] = secrets.rbac_wait
    assert waits == {0: 0.0, 42: 42.0, None: 300.0}
