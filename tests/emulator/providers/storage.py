"""Microsoft.Storage: storage accounts (flow-log and diagnostics targets, the deployments' state), listKeys,
regenerateKey, name checks; the blob service's settings (versioning, soft delete) and lifecycle management policies
of an account (both singletons named ``default``, as the Storage resource provider REST reference describes)."""

from __future__ import annotations

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
    WriteRequest,
    fill_defaults,
)

SKUS = ("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
        "Standard_GZRS", "Standard_RAGZRS", "StandardV2_LRS", "StandardV2_GRS", "StandardV2_ZRS", "StandardV2_GZRS",
        "PremiumV2_LRS", "PremiumV2_ZRS")
KINDS = ("Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage")
PAIRED_REGION = {
    "westeurope": "northeurope", "northeurope": "westeurope", "eastus": "westus", "westus": "eastus",
    "eastus2": "centralus", "centralus": "eastus2", "uksouth": "ukwest", "ukwest": "uksouth",
    "francecentral": "francesouth", "germanywestcentral": "germanynorth", "swedencentral": "swedensouth",
    "switzerlandnorth": "switzerlandwest", "norwayeast": "norwaywest",
}
NAME_HINT = ("Storage account name must be between 3 and 24 characters in length and use numbers and lower-case "
             "letters only.")


def _name_invalid(name: str) -> ArmError:
    return ArmError(400, "AccountNameInvalid", f"{name} is not a valid storage account name. {NAME_HINT}")


class StorageAccounts(ResourceType):
    type = "Microsoft.Storage/storageAccounts"
    name_rule = NameRule(3, 24, r"[a-z0-9]+", NAME_HINT, code="AccountNameInvalid")
    global_name = True
    name_taken_code = "StorageAccountAlreadyTaken"
    name_taken_message = "The storage account named {name} is already taken."
    # Create: 202 + Location (the SDK polls it, then reads the result there); replace of an existing account is
    # synchronous 200. PATCH and DELETE are synchronous.
    put = OpStyle(Lro.LOCATION, done=200, pending=200, created_done=200, created_pending=202)
    patch = OpStyle(Lro.NONE, done=200)
    delete = OpStyle(Lro.NONE, done=200, missing=204)
    latency_s = 20.0
    actions = {"listKeys": "list_keys", "regenerateKey": "regenerate_key"}
    read_only_properties = ("creationTime", "primaryEndpoints", "secondaryEndpoints", "primaryLocation",
                            "secondaryLocation", "statusOfPrimary", "statusOfSecondary", "keyCreationTime")

    def latency(self, operation: str, body: dict[str, Any]) -> float:
        # Only the create is long-running; replace and delete answer synchronously (after a short while).
        return {"create": self.latency_s, "update": 0.0}.get(operation, 5.0)

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        sku = (req.body.get("sku") or {}).get("name")
        if sku not in SKUS:
            raise ArmError(400, "InvalidRequestPropertyValue" if sku else "MissingRequiredProperty",
                           f"The value '{sku}' is not valid for property 'sku.name'." if sku
                           else "The 'sku' property is required.")
        kind = req.body.get("kind")
        if kind not in KINDS:
            raise ArmError(400, "InvalidRequestPropertyValue" if kind else "MissingRequiredProperty",
                           f"The value '{kind}' is not valid for property 'kind'." if kind
                           else "The 'kind' property is required.")
        if kind in ("FileStorage", "BlockBlobStorage") and not sku.startswith("Premium"):
            raise ArmError(400, "SkuNotSupported", f"The SKU '{sku}' is not supported for kind '{kind}'.")
        tls = req.properties.get("minimumTlsVersion")
        if tls is not None and tls not in ("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"):
            raise ArmError(400, "InvalidRequestPropertyValue", f"The minimum TLS version '{tls}' is not valid.")
        tier = req.properties.get("accessTier")
        if tier is not None and tier not in ("Hot", "Cool", "Cold", "Premium"):
            raise ArmError(400, "InvalidRequestPropertyValue", f"The access tier '{tier}' is not valid.")
        if req.existing is not None and req.existing.body.get("kind") != kind and kind != "StorageV2":
            raise ArmError(409, "OperationNotAllowedOnKind",
                           f"Changing the kind from '{req.existing.body.get('kind')}' to '{kind}' is not allowed.")
        for rule in (req.properties.get("networkAcls") or {}).get("virtualNetworkRules") or []:
            ctx.require(str(rule.get("id", "")), code="InvalidVirtualNetworkRule",
                        message=f"The subnet {rule.get('id')} referenced by a virtual network rule was not found.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        name, props, location = req.name, body["properties"], body["location"]
        sku = body["sku"]["name"]
        body["sku"] = {"name": sku, "tier": "Premium" if sku.startswith("Premium") else "Standard"}
        previous = req.existing.properties if req.existing else {}
        now = ctx.now()
        defaults: dict[str, Any] = {
            "allowBlobPublicAccess": False,
            "allowSharedKeyAccess": True,
            "minimumTlsVersion": "TLS1_2",
            "supportsHttpsTrafficOnly": True,
            "publicNetworkAccess": "Enabled",
            "networkAcls": {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [],
                            "defaultAction": "Allow"},
            "encryption": {"services": {"blob": {"enabled": True, "keyType": "Account", "lastEnabledTime": now},
                                        "file": {"enabled": True, "keyType": "Account", "lastEnabledTime": now}},
                           "keySource": "Microsoft.Storage", "requireInfrastructureEncryption": False},
        }
        if body.get("kind") in ("StorageV2", "BlobStorage"):
            defaults["accessTier"] = "Hot"
        fill_defaults(props, defaults)
        props["creationTime"] = previous.get("creationTime", now)
        props["keyCreationTime"] = previous.get("keyCreationTime", {"key1": now, "key2": now})
        props["primaryLocation"] = location
        props["statusOfPrimary"] = "available"
        endpoints = {svc: f"https://{name}.{svc}.core.windows.net/" for svc in ("blob", "queue", "table", "file",
                                                                                "dfs", "web")}
        if ctx.planes.blob is not None:
            # Azurite serves the account's blobs (tests/emulator/dataplanes/azurite.py).
            endpoints["blob"] = ctx.planes.blob.endpoint(name)
        props["primaryEndpoints"] = endpoints
        if any(tag in sku for tag in ("GRS", "GZRS")):
            props["secondaryLocation"] = PAIRED_REGION.get(location, location)
            props["statusOfSecondary"] = "available"
            if sku.startswith("Standard_RA"):
                props["secondaryEndpoints"] = {svc: re.sub(r"^https://([^.]+)\.", r"https://\1-secondary.", url)
                                               for svc, url in endpoints.items()}
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        if "keys" not in resource.internal:
            resource.internal["keys"] = {"key1": ctx.new_key(64), "key2": ctx.new_key(64)}
        if ctx.planes.blob is not None:
            ctx.planes.blob.ensure_account(resource.name, resource.internal["keys"]["key1"])

    def after_delete(self, ctx: Ctx, resource: Resource) -> None:
        if ctx.planes.blob is not None:
            ctx.planes.blob.delete_account(resource.name)

    def on_discard(self, ctx: Ctx, resource: Resource) -> None:
        self.after_delete(ctx, resource)

    def list_keys(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        if resource.properties.get("allowSharedKeyAccess") is False:
            # Azure still lists the keys (they just cannot authorize requests); keep that behaviour.
            pass
        created = resource.properties.get("keyCreationTime", {})
        keys = resource.internal.get("keys") or {}
        return ActionResult(200, {"keys": [
            {"keyName": name, "value": keys.get(name, ""), "permissions": "FULL", "creationTime": created.get(name)}
            for name in ("key1", "key2")
        ]})

    def regenerate_key(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        key_name = str(body.get("keyName", ""))
        if key_name not in ("key1", "key2"):
            raise ArmError(400, "InvalidValuesForRequestParameters",
                           f"Values for request parameters are invalid: keyName '{key_name}'.")
        resource.internal.setdefault("keys", {})[key_name] = ctx.new_key(64)
        resource.properties.setdefault("keyCreationTime", {})[key_name] = ctx.now()
        return self.list_keys(ctx, resource, {})


def check_name_availability(ctx: Ctx, scope: str, body: dict[str, Any]) -> ActionResult:
    name = str((body or {}).get("name", ""))
    if not re.fullmatch(r"[a-z0-9]{3,24}", name):
        return ActionResult(200, {"nameAvailable": False, "reason": "AccountNameInvalid",
                                  "message": _name_invalid(name).message})
    if ctx.find(StorageAccounts.type, name=name):
        return ActionResult(200, {"nameAvailable": False, "reason": "AlreadyExists",
                                  "message": f"The storage account named {name} is already taken."})
    return ActionResult(200, {"nameAvailable": True})


SINGLETON_HINT = "The name of this resource must be 'default'."
BLOB_TYPES = ("blockBlob", "appendBlob")


def _retention(props: dict[str, Any], key: str) -> None:
    policy = props.get(key)
    if not isinstance(policy, dict) or not policy.get("enabled"):
        return
    days = policy.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise ArmError(400, "InvalidRequestPropertyValue",
                       f"The value '{days}' is not valid for property '{key}.days': it must be between 1 and 365 "
                       "when the policy is enabled.")


class _AccountSetting(ResourceType):
    """A singleton child of a storage account named `default` (blob service properties, lifecycle policy): no
    location, no tags, PUT only, answered at once."""

    name_rule = NameRule(7, 7, r"default", SINGLETON_HINT)
    location = "none"
    tags = False
    patch = None
    put = OpStyle(Lro.NONE, done=200, created_done=200)
    read_only_properties = ("lastModifiedTime",)


class BlobServices(_AccountSetting):
    """`.../storageAccounts/{a}/blobServices/default`: exists with every account (GET answers its defaults before
    anyone wrote it); PUT sets versioning, blob and container soft delete, change feed."""

    type = "Microsoft.Storage/storageAccounts/blobServices"

    def _defaults(self, account: Resource) -> dict[str, Any]:
        return {"id": f"{account.id}/blobServices/default", "name": "default", "type": self.type,
                "sku": dict(account.body.get("sku") or {}),
                "properties": {"cors": {"corsRules": []},
                               "deleteRetentionPolicy": {"allowPermanentDelete": False, "enabled": False}}}

    def builtin(self, ctx: Ctx, resource_id: str, name: str) -> dict[str, Any] | None:
        account = ctx.get(resource_id.rsplit("/blobServices/", 1)[0]) if name.lower() == "default" else None
        return self._defaults(account) if account is not None else None

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        _retention(props, "deleteRetentionPolicy")
        _retention(props, "containerDeleteRetentionPolicy")
        kind = (req.parent.body.get("kind") if req.parent else None) or ""
        if props.get("isVersioningEnabled") and kind not in ("StorageV2", "BlockBlobStorage"):
            raise ArmError(400, "FeatureNotSupportedForAccount",
                           f"Versioning is not supported for the account kind '{kind}'.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        if req.parent is not None:
            body["sku"] = dict(req.parent.body.get("sku") or {})
        return body


class ManagementPolicies(_AccountSetting):
    """`.../storageAccounts/{a}/managementPolicies/default`: lifecycle rules (delete or tier base blobs, snapshots
    and versions after N days)."""

    type = "Microsoft.Storage/storageAccounts/managementPolicies"

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        rules = (req.properties.get("policy") or {}).get("rules")
        if not isinstance(rules, list) or not rules:
            raise ArmError(400, "InvalidManagementPolicyRules", "The management policy must have at least one rule.")
        seen: set[str] = set()
        for rule in rules:
            name = str((rule or {}).get("name", ""))
            if not re.fullmatch(r"[A-Za-z0-9]{1,256}", name):
                raise ArmError(400, "InvalidManagementPolicyRules",
                               f"Rule name '{name}' is invalid: use 1-256 letters and digits.")
            if name.lower() in seen:
                raise ArmError(400, "InvalidManagementPolicyRules", f"Rule name '{name}' is used more than once.")
            seen.add(name.lower())
            if rule.get("type") != "Lifecycle":
                raise ArmError(400, "InvalidManagementPolicyRules", f"Rule '{name}': type must be 'Lifecycle'.")
            definition = rule.get("definition") or {}
            if not definition.get("actions"):
                raise ArmError(400, "InvalidManagementPolicyRules", f"Rule '{name}' has no actions.")
            blob_types = (definition.get("filters") or {}).get("blobTypes")
            if not blob_types or any(t not in BLOB_TYPES for t in blob_types):
                raise ArmError(400, "InvalidManagementPolicyRules",
                               f"Rule '{name}': filters.blobTypes must list blockBlob and/or appendBlob.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["properties"]["lastModifiedTime"] = ctx.now()
        return body


RESOURCE_TYPES: list[ResourceType] = [StorageAccounts(), BlobServices(), ManagementPolicies()]
PROVIDER_ACTIONS = {"Microsoft.Storage/checkNameAvailability": check_name_availability}
