"""Microsoft.Authorization: role definitions/assignments (azure-mgmt-authorization), policy and locks (REST)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

pytestmark = pytest.mark.emulator
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
REQUIRE_TAG = "871b6d14-10aa-478d-b590-94f262ecfa99"
POLICY_API = "2025-11-01"


@pytest.fixture(scope="module")
def authz(emulator: Any) -> Any:
    from azure.mgmt.authorization import AuthorizationManagementClient

    return emulator.mgmt_client(AuthorizationManagementClient)


def _principal(emulator: Any) -> str:
    token = emulator.credential().get_token("https://management.core.windows.net//.default").token
    import base64
    import json

    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"])


def test_builtin_role_definitions(emulator: Any, authz: Any) -> None:
    scope = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}"
    officer = authz.role_definitions.get(scope, SECRETS_OFFICER)
    assert officer.role_name == "Key Vault Secrets Officer"
    assert officer.permissions[0].data_actions == ["Microsoft.KeyVault/vaults/secrets/*"]
    found = list(authz.role_definitions.list(scope, filter="roleName eq 'Contributor'"))
    assert [r.name for r in found] == ["b24988ac-6180-42a0-ab88-20f7382dd24c"]
    names = {r.role_name for r in authz.role_definitions.list(scope)}
    assert {"Owner", "Reader", "Key Vault Secrets User", "Key Vault Administrator",
            "Role Based Access Control Administrator"} <= names


def test_role_assignment_lifecycle_and_rules(emulator: Any, authz: Any, rg: str) -> None:
    scope = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}"
    role = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{SECRETS_OFFICER}")
    principal = _principal(emulator)
    name = str(uuid.uuid4())
    body = {"properties": {"roleDefinitionId": role, "principalId": principal, "principalType": "ServicePrincipal"}}
    created = authz.role_assignments.create(scope, name, body)
    assert created.scope == scope and created.principal_id == principal
    assert authz.role_assignments.get(scope, name).role_definition_id.endswith(SECRETS_OFFICER)
    with pytest.raises(HttpResponseError) as excinfo:
        authz.role_assignments.create(scope, str(uuid.uuid4()), body)
    assert excinfo.value.error.code == "RoleAssignmentExists"
    with pytest.raises(HttpResponseError) as excinfo:
        authz.role_assignments.create(scope, "not-a-guid", body)
    assert excinfo.value.error.code == "InvalidRoleAssignmentId"
    bad_role = {"properties": {**body["properties"], "roleDefinitionId": role[:-4] + "0000"}}
    with pytest.raises(HttpResponseError) as excinfo:
        authz.role_assignments.create(scope, str(uuid.uuid4()), bad_role)
    assert excinfo.value.error.code == "RoleDefinitionDoesNotExist"
    listed = [a.name for a in authz.role_assignments.list_for_scope(scope, filter=f"principalId eq '{principal}'")]
    assert name in listed
    authz.role_assignments.delete(scope, name)
    assert name not in [a.name for a in authz.role_assignments.list_for_scope(scope)]


def test_builtin_policy_definition(emulator: Any) -> None:
    status, body, _ = emulator.arm().call(
        "GET", f"/providers/Microsoft.Authorization/policyDefinitions/{REQUIRE_TAG}?api-version={POLICY_API}")
    assert status == 200
    assert body["properties"]["displayName"] == "Require a tag on resources"
    assert body["properties"]["policyType"] == "BuiltIn"


def test_policy_assignment_parameters_are_checked(emulator: Any, rg: str) -> None:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    path = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/policyAssignments/"
            f"require-owner?api-version={POLICY_API}")
    definition = f"/providers/Microsoft.Authorization/policyDefinitions/{REQUIRE_TAG}"
    status, body, _ = emulator.arm().call("PUT", path, {"properties": {"policyDefinitionId": definition}})
    assert (status, body["error"]["code"]) == (400, "MissingPolicyParameter")
    status, body, _ = emulator.arm().call("PUT", path, {"properties": {
        "policyDefinitionId": definition, "parameters": {"tagName": {"value": "owner"}, "extra": {"value": 1}}}})
    assert (status, body["error"]["code"]) == (400, "UndefinedPolicyParameter")
    status, body, _ = emulator.arm().call("PUT", path, {"properties": {
        "policyDefinitionId": definition[:-4] + "ffff", "parameters": {"tagName": {"value": "owner"}}}})
    assert (status, body["error"]["code"]) == (404, "PolicyDefinitionNotFound")


def test_require_tag_policy_denies_untagged_resources(emulator: Any, network_client: Any, rg: str) -> None:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    path = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/policyAssignments/"
            f"require-owner?api-version={POLICY_API}")
    status, body, _ = emulator.arm().call("PUT", path, {"properties": {
        "displayName": "owner tag", "policyDefinitionId": f"/providers/Microsoft.Authorization/policyDefinitions/{REQUIRE_TAG}",
        "parameters": {"tagName": {"value": "owner"}}}})
    assert status == 201
    assert body["properties"]["scope"].lower() == f"/subscriptions/{sub}/resourcegroups/{rg}".lower()
    assert body["properties"]["enforcementMode"] == "Default"
    with pytest.raises(HttpResponseError) as excinfo:
        network_client.network_security_groups.begin_create_or_update(rg, "untagged", {"location": "westeurope"}).result()
    assert excinfo.value.status_code == 403
    assert excinfo.value.error.code == "RequestDisallowedByPolicy"
    tagged = network_client.network_security_groups.begin_create_or_update(
        rg, "tagged", {"location": "westeurope", "tags": {"owner": "platform"}}).result()
    assert tagged.provisioning_state == "Succeeded"
    emulator.arm().call("DELETE", path)
    network_client.network_security_groups.begin_create_or_update(rg, "untagged", {"location": "westeurope"}).result()


def test_custom_policy_definition_and_assignment(emulator: Any, rg: str) -> None:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    definition = f"/subscriptions/{sub}/providers/Microsoft.Authorization/policyDefinitions/deny-eastus"
    rule = {"if": {"field": "location", "equals": "eastus"}, "then": {"effect": "deny"}}
    status, body, _ = emulator.arm().call("PUT", f"{definition}?api-version={POLICY_API}", {"properties": {
        "displayName": "No East US", "mode": "Indexed", "policyRule": rule}})
    assert status == 201 and body["properties"]["policyType"] == "Custom"
    status, body, _ = emulator.arm().call("PUT", f"{definition}?api-version={POLICY_API}", {"properties": {
        "policyRule": {"if": {}, "then": {"effect": "explode"}}}})
    assert (status, body["error"]["code"]) == (400, "InvalidPolicyRule")
    assignment = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/policyAssignments/"
                  f"no-eastus?api-version={POLICY_API}")
    assert emulator.arm().call("PUT", assignment, {"properties": {"policyDefinitionId": definition}})[0] == 201
    nsg = (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/networkSecurityGroups/n"
           "?api-version=2024-05-01")
    status, body, _ = emulator.arm().call("PUT", nsg, {"location": "East US"})
    assert (status, body["error"]["code"]) == (403, "RequestDisallowedByPolicy")
    assert emulator.arm().call("PUT", nsg, {"location": "westeurope"})[0] == 201
    emulator.arm().call("DELETE", assignment)


def test_lock_rules(emulator: Any, rg: str) -> None:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    base = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Authorization/locks"
    status, body, _ = emulator.arm().call("PUT", f"{base}/l1?api-version=2020-05-01", {"properties": {"level": "Maybe"}})
    assert (status, body["error"]["code"]) == (400, "InvalidLockLevel")
    emulator.arm().call("PUT", f"{base}/l1?api-version=2020-05-01", {"properties": {"level": "CanNotDelete"}})
    status, body, _ = emulator.arm().call("GET", f"{base}?api-version=2020-05-01")
    assert [lock["name"] for lock in body["value"]] == ["l1"]
    assert "provisioningState" not in body["value"][0]["properties"]
    emulator.arm().call("DELETE", f"{base}/l1?api-version=2020-05-01")
