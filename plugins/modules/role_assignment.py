#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: role_assignment
short_description: Grant an Azure RBAC role to a principal at a scope (by default, to the runner itself)
version_added: 0.1.0
description:
  - Ensures one role assignment (scope, role, principal). An existing assignment of the same triple is found
    whatever its name, so a grant made by hand or by another tool is not duplicated (Azure would refuse
    it with C(RoleAssignmentExists)).
  - Without O(principal_id), the principal is whoever runs the task (the object id in its token), which is
    what a play needs to give itself data-plane access, for example Key Vault Secrets Officer on a vault
    with RBAC authorization.
  - Role assignments cannot be changed in place; a different role or principal is a new assignment.
  - The caller needs C(Microsoft.Authorization/roleAssignments/write) at the scope (Owner, User Access
    Administrator or Role Based Access Control Administrator).
options:
  scope:
    description: Resource ID the role applies to (a subscription, resource group or resource).
    type: str
    required: true
  role_definition:
    description:
      - The role, as a GUID, a full role definition ID, or one of the built-in names this module knows
        (V(Key Vault Secrets Officer), V(Key Vault Secrets User), V(Key Vault Administrator),
        V(Key Vault Reader), V(Contributor), V(Reader)).
    type: str
    required: true
  principal_id:
    description: Object ID of the user, group or service principal; omit for the caller.
    type: str
  principal_type:
    description: Kind of principal (lets Azure skip a directory lookup for principals created moments ago).
    type: str
    choices: [ServicePrincipal, User, Group]
    default: ServicePrincipal
  name:
    description: Name (a GUID) for a new assignment; defaults to one derived from scope, role and principal.
    type: str
  description:
    description: Free-text description recorded on a new assignment.
    type: str
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  diff_mode:
    support: full
    description: Shows the assignment that would be created or removed.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Let the runner write secrets to the vault
  complianceflow.azure_infra.role_assignment:
    scope: "{{ deployment.ids.key_vault }}"
    role_definition: Key Vault Secrets Officer
"""

RETURN = r"""
id:
  description: Resource ID of the assignment (empty when absent).
  returned: always
  type: str
principal_id:
  description: The principal the role is (or would be) assigned to.
  returned: always
  type: str
role_definition_id:
  description: Full ID of the role definition.
  returned: always
  type: str
"""

import re
import uuid

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import caller_identity
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.Authorization/roleAssignments"
# Built-in role definition IDs are the same in every Azure cloud.
BUILT_IN_ROLES = {
    "key vault secrets officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "key vault secrets user": "4633458b-17de-408a-b874-0445c86b69e6",
    "key vault administrator": "00482a5a-887f-4fb3-b363-3b7fe8e74483",
    "key vault reader": "21090545-7ca7-4776-b22c-e363652d74d2",
    "contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
}
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NAMESPACE = uuid.UUID("6f1c3d2a-8a71-4f6e-9a43-3c1f0e1b7c55")


def role_guid(role: str) -> str | None:
    if GUID_RE.match(role):
        return role.lower()
    if role.lower().startswith("/") and "/roledefinitions/" in role.lower():
        return role.rstrip("/").rsplit("/", 1)[-1].lower()
    return BUILT_IN_ROLES.get(role.strip().lower())


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.STATE,
        scope={"type": "str", "required": True},
        role_definition={"type": "str", "required": True},
        principal_id={"type": "str"},
        principal_type={"type": "str", "choices": ["ServicePrincipal", "User", "Group"], "default": "ServicePrincipal"},
        name={"type": "str"},
        description={"type": "str"},
    ))
    params = az.params
    scope = params["scope"].rstrip("/")
    guid = role_guid(params["role_definition"])
    if guid is None:
        az.module.fail_json(msg=f"role_definition {params['role_definition']!r} is neither a GUID, a role definition "
                                f"ID nor a known built-in name ({', '.join(sorted(BUILT_IN_ROLES))})")
    role_definition_id = f"/subscriptions/{az.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    principal = params["principal_id"] or caller_identity(az.client.credential, az.client.scopes[0])["object_id"]
    if not principal:
        az.module.fail_json(msg="the caller's token has no object id (oid); give principal_id")

    collection = f"{scope}/providers/Microsoft.Authorization/roleAssignments"
    try:
        listed = az.client.list(collection, api_version(TYPE))
    except AzureApiError as exc:
        if not (exc.status == 404 and az.check_mode):
            az.fail(exc)
        # Check mode before the scope itself exists (a vault this run would create): nothing is assigned yet.
        listed = []
    existing = [a for a in listed
                if str((a.get("properties") or {}).get("scope", "")).rstrip("/").lower() == scope.lower()
                and str((a.get("properties") or {}).get("principalId", "")).lower() == principal.lower()
                and str((a.get("properties") or {}).get("roleDefinitionId", "")).rstrip("/").rsplit("/", 1)[-1]
                .lower() == guid]
    result = {"principal_id": principal, "role_definition_id": role_definition_id}
    if params["state"] == "absent":
        for assignment in existing:
            az.ensure_absent(assignment["id"], TYPE, label=assignment["id"], actual=assignment, fetch=False)
        az.exit(id="", **result)
    if existing:
        az.exit(id=existing[0]["id"], **result)
    name = params["name"] or str(uuid.uuid5(NAMESPACE, f"{scope.lower()}|{guid}|{principal.lower()}"))
    props = {"roleDefinitionId": role_definition_id, "principalId": principal,
             "principalType": params["principal_type"]}
    if params["description"]:
        props["description"] = params["description"]
    outcome = az.ensure_present(f"{collection}/{name}", TYPE, {"properties": props}, label="role_assignment")
    az.exit(id=outcome["id"], **result)


if __name__ == "__main__":
    main()
