"""Microsoft.KeyVault: vaults with soft delete (deletedVaults, purge, recover via createMode), name rules.

Written from the Key Vault management REST spec (Azure/azure-rest-api-specs, keyvault.json 2026-02-01 and its
examples) and the Key Vault soft-delete documentation. What Azure does and this module models:

- Vault names are 3-24 characters, start with a letter, end with a letter or digit, no consecutive hyphens
  (``VaultNameNotValid``), and global: a live vault anywhere holds the name (``VaultAlreadyExists``), and so does
  a soft-deleted one until it is purged (``ConflictError``: recover or purge it).
- DELETE soft-deletes: the vault becomes ``/subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/
  deletedVaults/{name}`` with ``deletionDate`` and ``scheduledPurgeDate`` (retention days later); the secrets
  data plane stops answering for it. ``createMode: recover`` brings back the vault and its secrets; ``purge``
  destroys both, refused while purge protection holds the vault (405 ``MethodNotAllowed``).
- ``enablePurgeProtection`` cannot be turned off, ``softDeleteRetentionInDays`` (7-90) cannot change after
  creation, soft delete cannot be disabled.
- From api-version 2026-02-01 a new vault uses Azure RBAC unless ``enableRbacAuthorization: false`` is sent
  (older api-versions default to access policies).

- ``PUT .../accessPolicies/{add|replace|remove}`` edits the vault's access policies (union, replace, or removal
  of permissions per principal; a principal left with no permission disappears).

Known gaps: deleted vaults are not purged automatically at their scheduled purge date; managed HSMs and private
endpoint connections are not modelled.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from ..framework import (
    ActionResult,
    ArmError,
    Ctx,
    Lro,
    NameRule,
    OpStyle,
    Resource,
    ResourceType,
    Scope,
    WriteRequest,
    fill_defaults,
    normalise_location,
)

VAULTS = "Microsoft.KeyVault/vaults"
DELETED = "Microsoft.KeyVault/locations/deletedVaults"
NAME_PATTERN = r"[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]"
NAME_HINT = ("A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end "
             "with a letter or digit, and not contain consecutive hyphens. Follow this link for more information: "
             "https://go.microsoft.com/fwlink/?linkid=2147742")
# The first api-version whose vaults default to Azure RBAC instead of access policies.
RBAC_DEFAULT_SINCE = "2026-02-01"
RETENTION_DEFAULT = 90


class _VaultNameRule(NameRule):
    def check(self, name: str, type_name: str) -> None:
        if self.min_len <= len(name) <= self.max_len and re.fullmatch(self.pattern, name):
            return
        raise ArmError(400, "VaultNameNotValid", f"The vault name '{name}' is invalid. {NAME_HINT}")


def _deleted_twin(ctx: Ctx, name: str) -> Resource | None:
    """The soft-deleted vault holding `name`, in any subscription (vault names are global)."""
    found = ctx.find(DELETED, name=name)
    return found[0] if found else None


def _deleted_id(subscription: str, location: str, name: str) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}"


def _plane(ctx: Ctx) -> Any:
    return ctx.planes.keyvault_secrets


class Vaults(ResourceType):
    type = VAULTS
    name_rule = _VaultNameRule(3, 24, NAME_PATTERN, NAME_HINT, code="VaultNameNotValid")
    global_name = True
    name_taken_code = "VaultAlreadyExists"
    name_taken_message = (
        "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name "
        "is already taken. If you are sure that the vault name was not taken then it is possible that a vault with "
        "the same name was recently deleted but not purged after being placed in a recoverable state. If the vault "
        "is in a recoverable state then the vault will need to be purged before reusing the name. For more "
        "information on soft delete and purging a vault follow this link https://go.microsoft.com/fwlink/?linkid="
        "2147740."
    )
    # Vaults_CreateOrUpdate is a long-running PUT answering 200/201; PATCH and DELETE answer 200 (DELETE of a
    # missing vault 204), as azure-mgmt-keyvault expects.
    put = OpStyle(Lro.LOCATION, done=200, pending=200, created_done=201, created_pending=201)
    patch = OpStyle(Lro.NONE, done=200)
    delete = OpStyle(Lro.NONE, done=200, missing=204)
    latency_s = 60.0
    pending_state = {"create": "RegisteringDns", "update": "RegisteringDns", "delete": "Deleting"}
    read_only_properties = ("vaultUri", "hsmPoolResourceId", "privateEndpointConnections", "createMode")

    def latency(self, operation: str, body: dict[str, Any]) -> float:
        return self.latency_s if operation == "create" else 5.0

    # --- writes ------------------------------------------------------------------------------------------------
    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        if not isinstance(req.body.get("properties"), dict):
            raise ArmError(400, "BadRequest", "The request is missing the 'properties' of the vault.")
        create_mode = str(props.get("createMode") or "default").lower()
        if create_mode not in ("default", "recover"):
            raise ArmError(400, "BadRequest", f"The value '{props.get('createMode')}' of 'createMode' is invalid. "
                           "Allowed values are 'default' and 'recover'.")
        twin = _deleted_twin(ctx, req.name) if req.is_create else None
        if create_mode == "recover":
            if req.is_create and twin is None:
                raise ArmError(404, "DeletedVaultNotFound",
                               f"The vault '{req.name}' could not be found in the deleted vaults of the subscription; "
                               "there is nothing to recover.")
            if twin is not None:
                self._check_recover_target(req, twin)
            return
        if twin is not None:
            raise ArmError(409, "ConflictError",
                           "A vault with the same name already exists in deleted state. You need to either recover or "
                           "purge existing key vault. Follow this link https://go.microsoft.com/fwlink/?linkid="
                           "2149745 for more information on soft delete.")
        if not re.fullmatch(r"[0-9a-fA-F-]{36}", str(props.get("tenantId") or "")):
            raise ArmError(400, "BadRequest", "The 'tenantId' property of the vault must be a directory (tenant) ID.")
        sku = props.get("sku") or {}
        if str(sku.get("name", "")).lower() not in ("standard", "premium") or str(sku.get("family", "A")) != "A":
            raise ArmError(400, "BadRequest", f"The vault SKU '{sku}' is invalid. Allowed names are 'standard' and "
                           "'premium', family 'A'.")
        if props.get("enableSoftDelete") is False:
            raise ArmError(400, "BadRequest", "The property \"enableSoftDelete\" cannot be set to false: soft delete "
                           "is always on for key vaults and can no longer be disabled.")
        retention = props.get("softDeleteRetentionInDays")
        if retention is not None and (not isinstance(retention, int) or not 7 <= retention <= 90):
            raise ArmError(400, "BadRequest", f"The value '{retention}' of 'softDeleteRetentionInDays' is invalid. "
                           "It must be between 7 and 90 days.")
        if req.existing is not None:
            old = req.existing.properties
            if old.get("enablePurgeProtection") and props.get("enablePurgeProtection") is False:
                raise ArmError(400, "BadRequest", "The property \"enablePurgeProtection\" cannot be set to false. "
                               "Enabling the purge protection for a vault is an irreversible action.")
            if retention is not None and retention != old.get("softDeleteRetentionInDays", RETENTION_DEFAULT):
                raise ArmError(400, "BadRequest", "The property \"softDeleteRetentionInDays\" cannot be changed "
                               "once the vault has been created.")
        for policy in props.get("accessPolicies") or []:
            if not isinstance(policy, dict) or not policy.get("objectId") or not policy.get("tenantId"):
                raise ArmError(400, "BadRequest", "Every access policy needs 'tenantId', 'objectId' and "
                               "'permissions'.")

    @staticmethod
    def _check_recover_target(req: WriteRequest, twin: Resource) -> None:
        twin_props = twin.properties
        if str(twin_props.get("vaultId", "")).lower() != req.id.lower():
            raise ArmError(400, "BadRequest", f"The deleted vault '{req.name}' belonged to "
                           f"'{twin_props.get('vaultId')}'; it can only be recovered there.")
        location = normalise_location(str(req.body.get("location") or ""))
        if location != normalise_location(str(twin_props.get("location", ""))):
            raise ArmError(400, "BadRequest", f"The deleted vault '{req.name}' is in location "
                           f"'{twin_props.get('location')}'; recover it in that location.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        create_mode = str(req.properties.get("createMode") or "default").lower()
        twin = _deleted_twin(ctx, req.name) if req.is_create and create_mode == "recover" else None
        if twin is not None:
            # Recovery restores the vault as it was when deleted; the request only names it.
            body = copy.deepcopy(twin.internal.get("vault_body") or {})
            body.pop("systemData", None)
            body.pop("etag", None)
            body["id"] = req.id
            body.setdefault("properties", {})["vaultUri"] = ctx.vault_uri(req.name)
            if req.body.get("tags") is not None:
                body["tags"] = copy.deepcopy(req.body["tags"])
            return body
        body = super().build(ctx, req)
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        rbac_default = (ctx.api_version or "") >= RBAC_DEFAULT_SINCE
        fill_defaults(props, {
            "accessPolicies": [],
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": previous.get("softDeleteRetentionInDays", RETENTION_DEFAULT),
            "enableRbacAuthorization": previous.get("enableRbacAuthorization", rbac_default),
            "publicNetworkAccess": "Enabled",
        })
        if previous.get("enablePurgeProtection") and "enablePurgeProtection" not in props:
            props["enablePurgeProtection"] = True
        props["sku"] = {"family": "A", "name": str(props["sku"]["name"]).lower()}
        acls = props.get("networkAcls")
        if isinstance(acls, dict):
            fill_defaults(acls, {"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [],
                                 "virtualNetworkRules": []})
            for rule in acls["ipRules"]:
                # Key Vault stores single addresses as /32 ranges.
                value = str(rule.get("value", ""))
                if re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", value):
                    rule["value"] = value + "/32"
            for rule in acls["virtualNetworkRules"]:
                rule["id"] = str(rule.get("id", "")).lower()
        props["vaultUri"] = ctx.vault_uri(req.name)
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        plane = _plane(ctx)
        twin = _deleted_twin(ctx, resource.name) if req.is_create else None
        if twin is not None:
            ctx.delete_record(twin.id)
            if plane is not None:
                plane.vault_recovered(resource.name)
        if plane is not None:
            props = resource.properties
            plane.configure_vault(resource.name,
                                  recoverable_days=int(props.get("softDeleteRetentionInDays", RETENTION_DEFAULT)),
                                  purge_protection=bool(props.get("enablePurgeProtection")))

    # --- delete ------------------------------------------------------------------------------------------------
    def after_delete(self, ctx: Ctx, resource: Resource) -> None:
        props = resource.properties
        location = normalise_location(str(resource.location or ""))
        deleted_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        days = int(props.get("softDeleteRetentionInDays", RETENTION_DEFAULT))
        twin_id = _deleted_id(str(resource.subscription_id or ""), location, resource.name)
        ctx.put_record(
            twin_id,
            DELETED,
            {
                "id": twin_id,
                "name": resource.name,
                "type": "Microsoft.KeyVault/deletedVaults",
                "properties": {
                    "vaultId": resource.id,
                    "location": location,
                    "deletionDate": deleted_at.isoformat().replace("+00:00", "Z"),
                    "scheduledPurgeDate": (deleted_at + dt.timedelta(days=days)).isoformat().replace("+00:00", "Z"),
                    "tags": copy.deepcopy(resource.body.get("tags") or {}),
                    "purgeProtectionEnabled": bool(props.get("enablePurgeProtection")),
                },
            },
            internal={"vault_body": copy.deepcopy(resource.body)},
        )
        plane = _plane(ctx)
        if plane is not None:
            plane.vault_deleted(resource.name)

    def on_discard(self, ctx: Ctx, resource: Resource) -> None:
        plane = _plane(ctx)
        if plane is not None:
            plane.vault_purged(resource.name)


class VaultAccessPolicies(ResourceType):
    """PUT .../vaults/{name}/accessPolicies/{add|replace|remove}: edit the vault's access policies in place."""

    type = f"{VAULTS}/accessPolicies"
    location = "none"
    tags = False
    system_data = False
    put = OpStyle(Lro.NONE, done=200, created_done=200)
    patch = None
    kinds = ("add", "replace", "remove")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        if req.name.lower() not in self.kinds:
            raise ArmError(400, "BadRequest", f"The operation kind '{req.name}' is invalid. Allowed values: add, "
                           "replace, remove.")
        policies = req.properties.get("accessPolicies")
        if not isinstance(policies, list) or not policies:
            raise ArmError(400, "BadRequest", "The request must list at least one access policy.")
        for policy in policies:
            if not isinstance(policy, dict) or not policy.get("objectId") or not policy.get("tenantId"):
                raise ArmError(400, "BadRequest", "Every access policy needs 'tenantId', 'objectId' and "
                               "'permissions'.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        vault = req.parent
        return {"id": req.id, "name": req.name.lower(), "type": self.type,
                "location": vault.location if vault else None,
                "properties": {"accessPolicies": copy.deepcopy(req.properties["accessPolicies"])}}

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        vault = req.parent
        if vault is not None:
            current = vault.properties.setdefault("accessPolicies", [])
            vault.properties["accessPolicies"] = _edit_policies(current, req.properties["accessPolicies"],
                                                                req.name.lower())
        # The operation is not a resource of its own: it only changes the vault.
        ctx.delete_record(resource.id)

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        out = copy.deepcopy(resource.body)
        out.get("properties", {}).pop("provisioningState", None)
        return out


def _edit_policies(current: list[dict[str, Any]], changes: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    def key(policy: dict[str, Any]) -> tuple[str, str, str]:
        return (str(policy.get("tenantId", "")).lower(), str(policy.get("objectId", "")).lower(),
                str(policy.get("applicationId") or "").lower())

    result = copy.deepcopy(current)
    for change in changes:
        match = next((p for p in result if key(p) == key(change)), None)
        wanted = change.get("permissions") or {}
        if kind == "replace" or (kind == "add" and match is None):
            if match is not None:
                result.remove(match)
            result.append(copy.deepcopy(change))
        elif kind == "add" and match is not None:
            perms = match.setdefault("permissions", {})
            for family, values in wanted.items():
                merged = perms.setdefault(family, [])
                merged.extend(v for v in values if v.lower() not in {m.lower() for m in merged})
        elif kind == "remove" and match is not None:
            perms = match.setdefault("permissions", {})
            for family, values in wanted.items():
                drop = {v.lower() for v in values}
                perms[family] = [v for v in perms.get(family, []) if v.lower() not in drop]
            if not any(perms.values()):
                result.remove(match)
    return result


class LocationDeletedVaults(ResourceType):
    """GET/purge of one soft-deleted vault: /subscriptions/{s}/providers/Microsoft.KeyVault/locations/{l}/
    deletedVaults/{name}."""

    type = DELETED
    scope = Scope.SUBSCRIPTION
    location = "none"
    tags = False
    system_data = False
    allow_put = False
    patch = None
    actions = {"purge": "purge"}

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        raise ArmError(405, "MethodNotAllowed", "The requested method 'DELETE' is not allowed; purge a deleted vault "
                       "with POST .../purge.")

    def purge(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        props = resource.properties
        if props.get("purgeProtectionEnabled"):
            # Key Vault answers 405 here: the vault is purged only at its scheduled purge date.
            raise ArmError(405, "MethodNotAllowed", "Operation 'DeletedVaultPurge' is not allowed.")
        ctx.delete_record(resource.id)
        plane = _plane(ctx)
        if plane is not None:
            plane.vault_purged(resource.name)
        return ActionResult(200, None)

    def on_discard(self, ctx: Ctx, resource: Resource) -> None:
        plane = _plane(ctx)
        if plane is not None:
            plane.vault_purged(resource.name)


class DeletedVaults(ResourceType):
    """GET /subscriptions/{s}/providers/Microsoft.KeyVault/deletedVaults: every deleted vault of the subscription."""

    type = "Microsoft.KeyVault/deletedVaults"
    scope = Scope.SUBSCRIPTION
    location = "none"
    tags = False
    system_data = False
    allow_put = False
    patch = None

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        found = ctx.find(DELETED, under=scope_id)
        return [copy.deepcopy(r.body) for r in sorted(found, key=lambda r: r.id.lower())]


def check_name_availability(ctx: Ctx, scope: str, body: dict[str, Any]) -> ActionResult:
    name = str((body or {}).get("name", ""))
    if not (3 <= len(name) <= 24 and re.fullmatch(NAME_PATTERN, name)):
        return ActionResult(200, {"nameAvailable": False, "reason": "AccountNameInvalid",
                                  "message": f"The vault name '{name}' is invalid. {NAME_HINT}"})
    if ctx.find(VAULTS, name=name) or _deleted_twin(ctx, name) is not None:
        return ActionResult(200, {"nameAvailable": False, "reason": "AlreadyExists",
                                  "message": f"The vault name '{name}' is already in use."})
    return ActionResult(200, {"nameAvailable": True})


RESOURCE_TYPES: list[ResourceType] = [Vaults(), VaultAccessPolicies(), LocationDeletedVaults(), DeletedVaults()]
PROVIDER_ACTIONS = {"Microsoft.KeyVault/checkNameAvailability": check_name_availability}
