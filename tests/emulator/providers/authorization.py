"""Microsoft.Authorization: management locks, role definitions and assignments, policy definitions and assignments.

Also the two checks other parts of the emulator need: `has_data_action` (Key Vault data-plane RBAC) and the
policy admission hook (deny-effect policies refuse writes with 403 RequestDisallowedByPolicy).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import time
from typing import Any

from ..framework import (
    ArmError,
    Ctx,
    Lro,
    NameRule,
    OpStyle,
    Resource,
    ResourceType,
    Scope,
    WriteRequest,
    id_equal,
)
from ..identity import Principal, principal_by_object_id

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _is_ancestor_or_self(scope: str, resource_id: str) -> bool:
    """True when `scope` is `resource_id` or one of its parent scopes (case-insensitive)."""
    s, r = scope.rstrip("/").lower(), resource_id.rstrip("/").lower()
    return r == s or r.startswith(s + "/") or s == ""


# ----------------------------------------------------------------------------------------------------------
# locks
class Locks(ResourceType):
    type = "Microsoft.Authorization/locks"
    scope = Scope.EXTENSION
    name_rule = NameRule(1, 260, r"[^<>%&:\\?/*]+", "Lock names cannot contain <, >, %, &, :, \\, ?, / or *.",
                         code="InvalidLockName")
    location = "none"
    tags = False
    system_data = False
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = None
    latency_s = 0.5

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        level = req.properties.get("level")
        if level not in ("CanNotDelete", "ReadOnly"):
            raise ArmError(400, "InvalidLockLevel",
                           f"The lock level '{level}' is invalid. Valid values are 'CanNotDelete' and 'ReadOnly'.")
        notes = req.properties.get("notes")
        if notes is not None and len(str(notes)) > 512:
            raise ArmError(400, "LockNotesTooLong", "The lock notes cannot be longer than 512 characters.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["properties"].pop("provisioningState", None)
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        body.get("properties", {}).pop("provisioningState", None)  # locks have no provisioning state
        return body

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        # Azure lists the locks at the scope and on everything below it.
        found = [r for r in ctx.find(self.type) if _is_ancestor_or_self(scope_id, r.parent_id)]
        return [self.render(ctx, r) for r in sorted(found, key=lambda r: r.id.lower())]


# ----------------------------------------------------------------------------------------------------------
# role definitions (built-in only) and role assignments
def _role(name: str, guid: str, description: str, actions: list[str], not_actions: list[str] | None = None,
          data_actions: list[str] | None = None, not_data_actions: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": name,
            "type": "BuiltInRole",
            "description": description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": actions,
                "notActions": not_actions or [],
                "dataActions": data_actions or [],
                "notDataActions": not_data_actions or [],
            }],
            "createdOn": "2015-02-02T21:55:09.8806423Z",
            "updatedOn": "2025-01-01T00:00:00.0000000Z",
            "createdBy": None,
            "updatedBy": None,
        },
    }


_KV_READ_ACTIONS = [
    "Microsoft.Authorization/*/read", "Microsoft.Insights/alertRules/*", "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read", "Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/operations/read",
]

BUILTIN_ROLES: dict[str, dict[str, Any]] = {
    r["name"]: r
    for r in (
        _role("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
              "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
              ["*"]),
        _role("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c",
              "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC.",
              ["*"], ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                      "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write",
                      "Microsoft.Blueprint/blueprintAssignments/delete",
                      "Microsoft.Compute/galleries/share/action"]),
        _role("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7",
              "View all resources, but does not allow you to make any changes.", ["*/read"]),
        _role("User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
              "Lets you manage user access to Azure resources.",
              ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"]),
        _role("Role Based Access Control Administrator", "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
              "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to "
              "manage access using other ways, such as Azure Policy.",
              ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete",
               "*/read", "Microsoft.Support/*"]),
        _role("Key Vault Administrator", "00482a5a-887f-4fb3-b363-3b7fe8e74483",
              "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, "
              "and secrets. Cannot manage key vault resources or manage role assignments.",
              _KV_READ_ACTIONS, data_actions=["Microsoft.KeyVault/vaults/*"]),
        _role("Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
              "Perform any action on the secrets of a key vault, except manage permissions.",
              _KV_READ_ACTIONS, data_actions=["Microsoft.KeyVault/vaults/secrets/*"]),
        _role("Key Vault Certificates Officer", "a4417e6f-fecd-4de8-b567-7b0420556985",
              "Perform any action on the certificates of a key vault, except manage permissions.",
              _KV_READ_ACTIONS, data_actions=["Microsoft.KeyVault/vaults/certificatecas/*",
                                              "Microsoft.KeyVault/vaults/certificates/*",
                                              "Microsoft.KeyVault/vaults/certificatecontacts/write"]),
        # Azure built-in roles reference (Storage): read, write and delete containers and blobs.
        _role("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
              "Read, write, and delete Azure Storage containers and blobs.",
              ["Microsoft.Storage/storageAccounts/blobServices/containers/delete",
               "Microsoft.Storage/storageAccounts/blobServices/containers/read",
               "Microsoft.Storage/storageAccounts/blobServices/containers/write",
               "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
              data_actions=["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
                            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
                            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
                            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
                            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action"]),
        _role("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6",
              "Read secret contents.", [],
              data_actions=["Microsoft.KeyVault/vaults/secrets/getSecret/action",
                            "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]),
        _role("Key Vault Reader", "21090545-7ca7-4776-b22c-e363652d74d2",
              "Read metadata of key vaults and its certificates, keys, and secrets.", _KV_READ_ACTIONS,
              data_actions=["Microsoft.KeyVault/vaults/*/read",
                            "Microsoft.KeyVault/vaults/secrets/readMetadata/action"]),
        _role("Azure Event Hubs Data Owner", "f526a384-b230-433a-b45c-95f59c4a2dec",
              "Allows for full access to Azure Event Hubs resources.", ["Microsoft.EventHub/*"],
              data_actions=["Microsoft.EventHub/*"]),
        _role("Azure Event Hubs Data Sender", "2b629674-e913-4c01-ae53-ef4638d8f975",
              "Allows send access to Azure Event Hubs resources.", ["Microsoft.EventHub/*/eventhubs/read"],
              data_actions=["Microsoft.EventHub/*/send/action"]),
        _role("Azure Event Hubs Data Receiver", "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
              "Allows receive access to Azure Event Hubs resources.",
              ["Microsoft.EventHub/*/eventhubs/consumergroups/read"],
              data_actions=["Microsoft.EventHub/*/receive/action"]),
        _role("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d", "acr pull",
              ["Microsoft.ContainerRegistry/registries/pull/read"]),
        _role("Monitoring Contributor", "749f88d5-cbae-40b8-bcfc-e573ddc772fa",
              "Can read all monitoring data and update monitoring settings.",
              ["*/read", "Microsoft.Insights/*", "Microsoft.OperationalInsights/workspaces/*",
               "Microsoft.Support/*"]),
        _role("Network Contributor", "4d97b98b-1d4f-4787-a291-c67834d212e7",
              "Lets you manage networks, but not access to them.",
              ["Microsoft.Authorization/*/read", "Microsoft.Network/*",
               "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"]),
    )
}
ROLE_DEFINITIONS_PREFIX = "/providers/Microsoft.Authorization/roleDefinitions/"


def role_definition_guid(role_definition_id: str) -> str | None:
    match = re.search(r"/providers/Microsoft\.Authorization/roleDefinitions/([^/]+)$", role_definition_id or "",
                      re.IGNORECASE)
    return match.group(1).lower() if match else None


def _role_body(guid: str, scope: str) -> dict[str, Any]:
    body = copy.deepcopy(BUILTIN_ROLES[guid])
    body["id"] = f"{scope}{ROLE_DEFINITIONS_PREFIX}{guid}"
    return body


def _subscription_part(scope: str) -> str:
    match = re.match(r"^(/subscriptions/[^/]+)", scope, re.IGNORECASE)
    return match.group(1) if match else ""


class RoleDefinitions(ResourceType):
    type = "Microsoft.Authorization/roleDefinitions"
    scope = Scope.EXTENSION
    also_scopes = (Scope.TENANT,)
    location = "none"
    tags = False
    system_data = False
    allow_put = False  # custom roles are not modelled
    patch = None

    def builtin(self, ctx: Ctx, resource_id: str, name: str) -> dict[str, Any] | None:
        guid = name.lower()
        if guid not in BUILTIN_ROLES:
            return None
        scope = resource_id[: -len(f"{ROLE_DEFINITIONS_PREFIX}{name}")]
        return _role_body(guid, _subscription_part(scope))

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        items = [_role_body(guid, _subscription_part(scope_id)) for guid in sorted(BUILTIN_ROLES)]
        match = re.search(r"roleName\s+eq\s+'([^']*)'", ctx.query.get("$filter", ""), re.IGNORECASE)
        if match:
            items = [i for i in items if i["properties"]["roleName"].lower() == match.group(1).lower()]
        return items


class RoleAssignments(ResourceType):
    type = "Microsoft.Authorization/roleAssignments"
    scope = Scope.EXTENSION
    location = "none"
    tags = False
    system_data = False
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = None
    latency_s = 1.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        if not GUID_RE.match(req.name):
            raise ArmError(400, "InvalidRoleAssignmentId",
                           f"The role assignment ID '{req.name}' is not valid. The role assignment ID must be a GUID.")
        props = req.properties
        role_id = str(props.get("roleDefinitionId") or "")
        guid = role_definition_guid(role_id)
        if guid is None or guid not in BUILTIN_ROLES:
            raise ArmError(400, "RoleDefinitionDoesNotExist",
                           f"The specified role definition with ID '{guid or role_id}' does not exist.")
        principal_id = str(props.get("principalId") or "")
        if not GUID_RE.match(principal_id):
            raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
        principal = _principal(ctx, principal_id)
        if principal is None:
            # Azure looks the principal up in the tenant's directory: an id that is not an object there (a client
            # id given instead of the principal id, an identity deleted since) is refused.
            raise ArmError(400, "PrincipalNotFound",
                           f"Principal {principal_id.replace('-', '')} does not exist in the directory "
                           f"{ctx.caller.tenant_id if ctx.caller else ''}. Check that you have the correct principal "
                           "ID. If you are creating this principal and then immediately assigning a role, this error "
                           "might be related to a replication delay. In this case, set the role assignment "
                           "principalType property to a value, such as ServicePrincipal, User, or Group. See "
                           "https://aka.ms/docs-principaltype")
        wanted_type = props.get("principalType")
        if wanted_type is not None and str(wanted_type).lower() != principal.principal_type.lower():
            raise ArmError(400, "UnmatchedPrincipalType",
                           f"The PrincipalId '{principal_id.replace('-', '')}' has type '{principal.principal_type}', "
                           f"which is different from specified PrincipalType '{wanted_type}'.")
        existing = req.existing
        if existing is not None:
            old = existing.properties
            if (str(old.get("principalId", "")).lower() != principal_id.lower()
                    or role_definition_guid(str(old.get("roleDefinitionId", ""))) != guid):
                raise ArmError(409, "RoleAssignmentUpdateNotPermitted",
                               "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
        for other in ctx.find(self.type, parent=req.scope):
            if id_equal(other.id, req.id):
                continue
            p = other.properties
            if (str(p.get("principalId", "")).lower() == principal_id.lower()
                    and role_definition_guid(str(p.get("roleDefinitionId", ""))) == guid):
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.",
                               details=[{"code": "RoleAssignmentExists", "message": other.name}])

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        guid = role_definition_guid(str(props["roleDefinitionId"]))
        props["roleDefinitionId"] = f"{_subscription_part(req.scope)}{ROLE_DEFINITIONS_PREFIX}{guid}"
        principal = _principal(ctx, str(props["principalId"]))
        if "principalType" not in props:
            props["principalType"] = principal.principal_type if principal else "User"
        props["scope"] = req.scope
        props.setdefault("condition", None)
        props.setdefault("conditionVersion", None)
        now = ctx.now()
        props["createdOn"] = req.existing.properties.get("createdOn", now) if req.existing else now
        props["updatedOn"] = now
        props["createdBy"] = req.existing.properties.get("createdBy") if req.existing else (
            ctx.caller.object_id if ctx.caller else None)
        props["updatedBy"] = ctx.caller.object_id if ctx.caller else None
        props.pop("provisioningState", None)
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        # Azure RBAC changes take minutes to reach data planes (realistic latency, or --rbac-propagation).
        if req.is_create:
            resource.internal["effective_at"] = time.time() + ctx.rbac_propagation()

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        body.get("properties", {}).pop("provisioningState", None)
        return body

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        query_filter = ctx.query.get("$filter", "")
        at_scope = "atscope()" in query_filter.lower()
        principal = re.search(r"(?:principalId|assignedTo\()\s*(?:eq\s*)?'([^']+)'", query_filter, re.IGNORECASE)
        out = []
        for record in ctx.find(self.type):
            scope = record.parent_id
            above = _is_ancestor_or_self(scope, scope_id)
            below = _is_ancestor_or_self(scope_id, scope)
            if not (above or (below and not at_scope)):
                continue
            if principal and str(record.properties.get("principalId", "")).lower() != principal.group(1).lower():
                continue
            out.append(self.render(ctx, record))
        return sorted(out, key=lambda b: b["id"].lower())


def _principal(ctx: Ctx, object_id: str) -> Principal | None:
    """An emulator principal, or the principal of a user-assigned managed identity that exists now."""
    from .managedidentity import USER_ASSIGNED, identity_principal

    return principal_by_object_id(object_id) or identity_principal(
        [r.body for r in ctx.find(USER_ASSIGNED)], object_id=object_id)


def has_data_action(ctx: Ctx, principal_object_id: str, resource_id: str, data_action: str) -> bool:
    """Whether a role assignment at `resource_id` or above grants `data_action` to the principal."""
    for assignment in ctx.find("Microsoft.Authorization/roleAssignments"):
        props = assignment.properties
        if str(props.get("principalId", "")).lower() != principal_object_id.lower():
            continue
        if not _is_ancestor_or_self(assignment.parent_id, resource_id):
            continue
        if assignment.internal.get("effective_at", 0) > time.time():
            continue  # not propagated yet
        guid = role_definition_guid(str(props.get("roleDefinitionId", "")))
        role = BUILTIN_ROLES.get(guid or "")
        if role is None:
            continue
        for perm in role["properties"]["permissions"]:
            allowed = any(fnmatch.fnmatch(data_action.lower(), p.lower()) for p in perm["dataActions"])
            denied = any(fnmatch.fnmatch(data_action.lower(), p.lower()) for p in perm["notDataActions"])
            if allowed and not denied:
                return True
    return False


# ----------------------------------------------------------------------------------------------------------
# policy definitions and assignments
def _policy(guid: str, name: str, description: str, mode: str, parameters: dict[str, Any],
            rule: dict[str, Any], category: str = "General") -> dict[str, Any]:
    return {
        "id": f"/providers/Microsoft.Authorization/policyDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/policyDefinitions",
        "properties": {
            "displayName": name,
            "policyType": "BuiltIn",
            "mode": mode,
            "description": description,
            "metadata": {"version": "1.0.0", "category": category},
            "version": "1.0.0",
            "parameters": parameters,
            "policyRule": rule,
        },
    }


_TAG_PARAM = {"tagName": {"type": "String", "metadata": {"displayName": "Tag Name",
                                                         "description": "Name of the tag, such as 'environment'"}}}
_TAG_FIELD = "[concat('tags[', parameters('tagName'), ']')]"

BUILTIN_POLICIES: dict[str, dict[str, Any]] = {
    p["name"]: p
    for p in (
        _policy("871b6d14-10aa-478d-b590-94f262ecfa99", "Require a tag on resources",
                "Enforces existence of a tag. Does not apply to resource groups.", "Indexed", _TAG_PARAM,
                {"if": {"field": _TAG_FIELD, "exists": "false"}, "then": {"effect": "deny"}}, "Tags"),
        _policy("96670d01-0a4d-4649-9c89-2d3abc0a5025", "Require a tag on resource groups",
                "Enforces existence of a tag on resource groups.", "All", _TAG_PARAM,
                {"if": {"allOf": [{"field": "type", "equals": "Microsoft.Resources/subscriptions/resourceGroups"},
                                  {"field": _TAG_FIELD, "exists": "false"}]}, "then": {"effect": "deny"}}, "Tags"),
        _policy("e56962a6-4747-49cd-b67b-bf8b01975c4c", "Allowed locations",
                "This policy enables you to restrict the locations your organization can specify when deploying "
                "resources. Excludes resource groups and resources with location 'global'.", "Indexed",
                {"listOfAllowedLocations": {"type": "Array", "metadata": {"displayName": "Allowed locations",
                                                                          "strongType": "location"}}},
                {"if": {"allOf": [{"field": "location", "notIn": "[parameters('listOfAllowedLocations')]"},
                                  {"field": "location", "notEquals": "global"},
                                  {"field": "type", "notEquals": "Microsoft.AzureActiveDirectory/b2cDirectories"}]},
                 "then": {"effect": "deny"}}),
        _policy("e765b5de-1225-4ba3-bd56-1ac6695af988", "Allowed locations for resource groups",
                "This policy enables you to restrict the locations your organization can create resource groups in.",
                "All",
                {"listOfAllowedLocations": {"type": "Array", "metadata": {"displayName": "Allowed locations",
                                                                          "strongType": "location"}}},
                {"if": {"allOf": [{"field": "type", "equals": "Microsoft.Resources/subscriptions/resourceGroups"},
                                  {"field": "location", "notIn": "[parameters('listOfAllowedLocations')]"}]},
                 "then": {"effect": "deny"}}),
        _policy("7433c107-6db4-4ad1-b57a-a76dce0154a1", "Storage accounts should be limited by allowed SKUs",
                "Restrict the set of storage account SKUs that your organization can deploy.", "Indexed",
                {"effect": {"type": "String", "allowedValues": ["Audit", "Deny", "Disabled"], "defaultValue": "Deny"},
                 "listOfAllowedSKUs": {"type": "Array", "metadata": {"displayName": "Allowed SKUs"}}},
                {"if": {"allOf": [{"field": "type", "equals": "Microsoft.Storage/storageAccounts"},
                                  {"not": {"field": "Microsoft.Storage/storageAccounts/sku.name",
                                           "in": "[parameters('listOfAllowedSKUs')]"}}]},
                 "then": {"effect": "[parameters('effect')]"}}, "Storage"),
        _policy("cccc23c7-8427-4f53-ad12-b6a63eb452b3", "Allowed virtual machine size SKUs",
                "This policy enables you to specify a set of virtual machine size SKUs that your organization can "
                "deploy.", "Indexed",
                {"listOfAllowedSKUs": {"type": "Array", "metadata": {"displayName": "Allowed Size SKUs"}}},
                {"if": {"allOf": [{"field": "type", "equals": "Microsoft.Compute/virtualMachines"},
                                  {"not": {"field": "Microsoft.Compute/virtualMachines/sku.name",
                                           "in": "[parameters('listOfAllowedSKUs')]"}}]},
                 "then": {"effect": "Deny"}}, "Compute"),
        _policy("a08ec900-254a-4555-9bf5-e42af04b5c5c", "Allowed resource types",
                "This policy enables you to specify the resource types that your organization can deploy.", "Indexed",
                {"listOfResourceTypesAllowed": {"type": "Array",
                                                "metadata": {"displayName": "Allowed resource types"}}},
                {"if": {"not": {"field": "type", "in": "[parameters('listOfResourceTypesAllowed')]"}},
                 "then": {"effect": "deny"}}),
        _policy("ea3f2387-9b95-492a-a190-fcdc54f7b070", "Inherit a tag from the resource group if missing",
                "Adds the specified tag with its value from the parent resource group when any resource missing this "
                "tag is created or updated.", "Indexed", _TAG_PARAM,
                {"if": {"allOf": [{"field": _TAG_FIELD, "exists": "false"},
                                  {"value": "[resourceGroup().tags[parameters('tagName')]]", "notEquals": ""}]},
                 "then": {"effect": "modify", "details": {
                     "roleDefinitionIds": ["/providers/microsoft.authorization/roleDefinitions/"
                                           "b24988ac-6180-42a0-ab88-20f7382dd24c"],
                     "operations": [{"operation": "add", "field": _TAG_FIELD,
                                     "value": "[resourceGroup().tags[parameters('tagName')]]"}]}}}, "Tags"),
    )
}
POLICY_EFFECTS = {"deny", "audit", "auditifnotexists", "deployifnotexists", "disabled", "modify", "append",
                  "denyaction", "manual"}


class PolicyDefinitions(ResourceType):
    type = "Microsoft.Authorization/policyDefinitions"
    scope = Scope.SUBSCRIPTION
    also_scopes = (Scope.TENANT,)
    name_rule = NameRule(1, 128, r"[^<>*%&:\\?+/]*[^<>*%&:\\?+/. ]",
                         "Policy definition names cannot contain <, >, *, %, &, :, \\, ?, +, / or end with a period "
                         "or space.", code="InvalidPolicyDefinitionName")
    location = "none"
    tags = False
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = None
    latency_s = 1.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        if not req.scope:
            raise ArmError(403, "AuthorizationFailed", "Built-in policy definitions cannot be created or changed.")
        if req.name.lower() in BUILTIN_POLICIES:
            raise ArmError(400, "InvalidPolicyDefinitionName",
                           f"The policy definition name '{req.name}' is reserved by a built-in policy definition.")
        rule = req.properties.get("policyRule")
        if not isinstance(rule, dict) or "if" not in rule or not isinstance(rule.get("then"), dict):
            raise ArmError(400, "InvalidPolicyRule", "The policy rule must be an object with 'if' and 'then'.")
        effect = str(rule["then"].get("effect", ""))
        if not effect.startswith("[") and effect.lower() not in POLICY_EFFECTS:
            raise ArmError(400, "InvalidPolicyRule", f"The policy effect '{effect}' is not valid.")
        mode = req.properties.get("mode", "Indexed")
        if str(mode) not in ("All", "Indexed") and "." not in str(mode):
            raise ArmError(400, "InvalidPolicyMode", f"The policy mode '{mode}' is not valid.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        props["policyType"] = "Custom"
        props.setdefault("mode", "Indexed")
        props.setdefault("parameters", {})
        props.setdefault("metadata", {})
        props["metadata"].setdefault("createdBy", ctx.caller.object_id if ctx.caller else None)
        props["metadata"].setdefault("createdOn", ctx.now())
        props.pop("provisioningState", None)
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        body.get("properties", {}).pop("provisioningState", None)
        return body

    def builtin(self, ctx: Ctx, resource_id: str, name: str) -> dict[str, Any] | None:
        found = BUILTIN_POLICIES.get(name.lower())
        return copy.deepcopy(found) if found else None

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        query_filter = ctx.query.get("$filter", "").lower()
        items = [] if "custom" in query_filter else [copy.deepcopy(p) for p in BUILTIN_POLICIES.values()]
        if "builtin" not in query_filter:
            items += [self.render(ctx, r) for r in records]
        return items


def find_policy_definition(ctx: Ctx, definition_id: str) -> dict[str, Any] | None:
    name = definition_id.rstrip("/").rsplit("/", 1)[-1]
    if "/policydefinitions/" not in definition_id.lower():
        return None
    if name.lower() in BUILTIN_POLICIES:
        return copy.deepcopy(BUILTIN_POLICIES[name.lower()])
    found = ctx.get(definition_id)
    return copy.deepcopy(found.body) if found else None


class PolicyAssignments(ResourceType):
    type = "Microsoft.Authorization/policyAssignments"
    scope = Scope.EXTENSION
    name_rule = NameRule(1, 64, r"[^<>*%&:\\?+/]*[^<>*%&:\\?+/. ]",
                         "Policy assignment names cannot contain <, >, *, %, &, :, \\, ?, +, / or end with a period "
                         "or space, and are at most 64 characters long.", code="InvalidPolicyAssignmentName")
    location = "optional"
    tags = False
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = OpStyle(Lro.NONE, done=200)
    latency_s = 1.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        definition_id = str(props.get("policyDefinitionId") or "")
        definition = find_policy_definition(ctx, definition_id)
        if definition is None:
            raise ArmError(404, "PolicyDefinitionNotFound",
                           f"The policy definition '{definition_id.rsplit('/', 1)[-1]}' could not be found.")
        declared = definition["properties"].get("parameters") or {}
        given = props.get("parameters") or {}
        if not isinstance(given, dict):
            raise ArmError(400, "InvalidPolicyParameters", "The policy assignment parameters must be an object.")
        undefined = [k for k in given if k not in declared]
        if undefined:
            raise ArmError(400, "UndefinedPolicyParameter",
                           f"The policy parameter(s) '{', '.join(undefined)}' are not defined in the policy "
                           f"definition '{definition['name']}'.")
        missing = [k for k, spec in declared.items() if "defaultValue" not in spec and k not in given]
        if missing:
            raise ArmError(400, "MissingPolicyParameter",
                           f"The policy assignment '{req.name}' has missing parameter(s) '{', '.join(missing)}' "
                           f"which are defined in the policy definition '{definition['name']}'.")
        for key, spec in declared.items():
            if key not in given:
                continue
            value = given[key].get("value") if isinstance(given[key], dict) else None
            expected = str(spec.get("type", "")).lower()
            if (expected == "array" and not isinstance(value, list)) or (
                    expected == "string" and not isinstance(value, str)):
                raise ArmError(400, "InvalidPolicyParameters",
                               f"The policy parameter '{key}' must be of type '{spec.get('type')}'.")
            allowed = spec.get("allowedValues")
            if allowed and value not in allowed:
                raise ArmError(400, "InvalidPolicyParameters",
                               f"The policy parameter '{key}' value '{value}' is not allowed. Allowed values: "
                               f"{', '.join(map(str, allowed))}.")
        mode = props.get("enforcementMode", "Default")
        if mode not in ("Default", "DoNotEnforce"):
            raise ArmError(400, "InvalidEnforcementMode", f"The enforcement mode '{mode}' is not valid.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        props["scope"] = req.scope
        props.setdefault("notScopes", [])
        props.setdefault("enforcementMode", "Default")
        props.setdefault("parameters", {})
        props.setdefault("metadata", {})
        if "definitionVersion" not in props:
            props["definitionVersion"] = "1.*.*"
        props["instanceId"] = (req.existing.properties.get("instanceId") if req.existing else None) or ctx.new_guid()
        props.pop("provisioningState", None)
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        body.get("properties", {}).pop("provisioningState", None)
        return body

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        # Azure lists assignments that apply to the scope: at it and above it (and below for subscription lists).
        found = [r for r in ctx.find(self.type)
                 if _is_ancestor_or_self(r.parent_id, scope_id) or _is_ancestor_or_self(scope_id, r.parent_id)]
        return [self.render(ctx, r) for r in sorted(found, key=lambda r: r.id.lower())]


# --- policy evaluation (deny effects) -----------------------------------------------------------------------
class _PolicyContext:
    def __init__(self, body: dict[str, Any], type_name: str, params: dict[str, Any]) -> None:
        self.body = body
        self.type_name = type_name
        self.params = params

    def expr(self, value: Any) -> Any:
        if not isinstance(value, str) or not (value.startswith("[") and value.endswith("]")) or value.startswith("[["):
            return value
        return self._call(value[1:-1].strip())

    def _call(self, text: str) -> Any:
        if text.startswith("'") and text.endswith("'"):
            return text[1:-1].replace("''", "'")
        match = re.fullmatch(r"parameters\('([^']+)'\)", text)
        if match:
            return self.params.get(match.group(1))
        match = re.fullmatch(r"concat\((.*)\)", text)
        if match:
            return "".join(str(self._call(arg.strip())) for arg in _split_args(match.group(1)))
        raise ValueError(f"unsupported policy expression: {text}")

    def field(self, name: str) -> Any:
        low = name.lower()
        if low == "type":
            return self.type_name
        if low in ("name", "location", "kind", "id"):
            return self.body.get(low)
        if low == "tags":
            return self.body.get("tags") or {}
        match = re.fullmatch(r"tags\[['\"]?(.+?)['\"]?\]|tags\.(.+)", name, re.IGNORECASE)
        if match:
            tag = match.group(1) or match.group(2)
            tags = self.body.get("tags") or {}
            return next((v for k, v in tags.items() if k.lower() == tag.lower()), None)
        if low.startswith(self.type_name.lower() + "/"):
            path = name[len(self.type_name) + 1:]
            for root in (self.body, self.body.get("properties") or {}):
                value: Any = root
                for part in path.split("."):
                    value = value.get(part) if isinstance(value, dict) else None
                if value is not None:
                    return value
        return None


def _split_args(text: str) -> list[str]:
    args, depth, quoted, current = [], 0, False, ""
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and not quoted and depth == 0:
            args.append(current)
            current = ""
        else:
            current += ch
    args.append(current)
    return args


def _condition(pc: _PolicyContext, cond: dict[str, Any]) -> bool:
    if "allOf" in cond:
        return all(_condition(pc, c) for c in cond["allOf"])
    if "anyOf" in cond:
        return any(_condition(pc, c) for c in cond["anyOf"])
    if "not" in cond:
        return not _condition(pc, cond["not"])
    if "field" in cond:
        actual = pc.field(str(pc.expr(cond["field"])))
    elif "value" in cond:
        try:
            actual = pc.expr(cond["value"])
        except ValueError:
            return False  # expressions outside our subset never match (the policy is not enforced)
    else:
        return False

    def norm(v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    for op, raw in cond.items():
        if op in ("field", "value"):
            continue
        expected = pc.expr(raw)
        if op == "exists":
            return (actual is not None) == (str(expected).lower() == "true")
        if op == "equals":
            return norm(actual) == norm(expected)
        if op == "notEquals":
            return norm(actual) != norm(expected)
        if op == "in":
            return norm(actual) in [norm(v) for v in (expected or [])]
        if op == "notIn":
            return norm(actual) not in [norm(v) for v in (expected or [])]
        if op == "like":
            return actual is not None and fnmatch.fnmatch(str(actual).lower(), str(expected).lower())
        if op == "notLike":
            return actual is None or not fnmatch.fnmatch(str(actual).lower(), str(expected).lower())
        if op == "contains":
            return actual is not None and str(expected).lower() in str(actual).lower()
        if op == "notContains":
            return actual is None or str(expected).lower() not in str(actual).lower()
    return False


def enforce_policies(ctx: Ctx, rtype: ResourceType, req: WriteRequest) -> None:
    """Admission hook: refuse a write that an assigned deny-effect policy disallows."""
    if rtype.namespace.lower() == "microsoft.authorization":
        return
    is_group = rtype.type.lower() == "microsoft.resources/resourcegroups"
    policy_type = "Microsoft.Resources/subscriptions/resourceGroups" if is_group else rtype.type
    body = {**req.body, "name": req.name}
    if "location" in body and isinstance(body["location"], str):
        body["location"] = re.sub(r"\s+", "", body["location"]).lower()
    for assignment in ctx.find("Microsoft.Authorization/policyAssignments"):
        props = assignment.properties
        if props.get("enforcementMode", "Default") != "Default":
            continue
        if not _is_ancestor_or_self(assignment.parent_id, req.id):
            continue
        if any(_is_ancestor_or_self(ns, req.id) for ns in props.get("notScopes") or []):
            continue
        definition = find_policy_definition(ctx, str(props.get("policyDefinitionId", "")))
        if definition is None:
            continue
        dprops = definition["properties"]
        mode = str(dprops.get("mode", "Indexed"))
        if mode == "Indexed" and (is_group or not rtype.tags or rtype.location == "none"):
            continue
        params = {k: v.get("defaultValue") for k, v in (dprops.get("parameters") or {}).items()}
        params.update({k: v.get("value") for k, v in (props.get("parameters") or {}).items() if isinstance(v, dict)})
        pc = _PolicyContext(body, policy_type, params)
        rule = dprops.get("policyRule") or {}
        try:
            effect = str(pc.expr((rule.get("then") or {}).get("effect", ""))).lower()
            matched = _condition(pc, rule.get("if") or {})
        except ValueError:
            continue
        if effect == "deny" and matched:
            identifiers = [{
                "policyAssignment": {"name": props.get("displayName") or assignment.name, "id": assignment.id},
                "policyDefinition": {"name": dprops.get("displayName") or definition.get("name"),
                                     "id": definition.get("id")},
            }]
            raise ArmError(
                403,
                "RequestDisallowedByPolicy",
                f"Resource '{req.name}' was disallowed by policy. Policy identifiers: '{json.dumps(identifiers)}'.",
                target=req.name,
                details=[{"code": "RequestDisallowedByPolicy", "message": f"Policy assignment {assignment.id}",
                          "target": req.name}],
            )


RESOURCE_TYPES: list[ResourceType] = [Locks(), RoleDefinitions(), RoleAssignments(), PolicyDefinitions(),
                                      PolicyAssignments()]
ADMISSION_HOOKS = [enforce_policies]
