"""Microsoft.ManagedIdentity: user-assigned managed identities.

An identity is an ARM resource and, behind it, a service principal in the subscription's tenant: ``properties``
(all read-only) name its tenant, its principal (the object id role assignments take) and its client id (what a
workload asks the managed identity endpoint for). Azure generates both ids; the emulator derives the principal id
from the client id the way it derives every principal's object id (``identity.Principal.object_id``), so that the
token endpoint (``/msi/token?client_id=...``) and RBAC agree on who the identity is. Deleting the identity deletes
its principal; role assignments that name it stay, as in Azure, orphaned.
"""

from __future__ import annotations

from typing import Any

from ..framework import Ctx, Lro, NameRule, OpStyle, Resource, ResourceType, WriteRequest
from ..identity import SUBSCRIPTIONS, TENANT_ID, Principal

USER_ASSIGNED = "Microsoft.ManagedIdentity/userAssignedIdentities"


class UserAssignedIdentities(ResourceType):
    type = USER_ASSIGNED
    # resource-name-rules: 3-128 characters, alphanumerics, hyphens and underscores, starting with a letter or digit.
    name_rule = NameRule(3, 128, r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}",
                         "The name must be 3-128 characters long, start with a letter or number, and contain only "
                         "letters, numbers, hyphens and underscores.", code="InvalidResourceName")
    location = "required"
    # The REST spec: PUT answers 200 (update) or 201 (create) synchronously; PATCH 200; DELETE 200 or 204.
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = OpStyle(Lro.NONE, done=200)
    latency_s = 2.0
    read_only_properties = ("tenantId", "principalId", "clientId")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        if req.existing is not None:
            kept = req.existing.properties
            body["properties"] = {k: kept[k] for k in ("tenantId", "principalId", "clientId") if k in kept}
            return body
        client_id = ctx.new_guid()
        tenant = SUBSCRIPTIONS.get(ctx.subscription_id or "", {}).get("tenantId", TENANT_ID)
        principal = Principal(req.name, client_id, None, tenant)
        body["properties"] = {"tenantId": tenant, "principalId": principal.object_id, "clientId": client_id}
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = super().render(ctx, resource)
        body.get("properties", {}).pop("provisioningState", None)  # identities carry no provisioning state
        return body


def identity_principal(bodies: Any, *, client_id: str | None = None,
                       object_id: str | None = None, resource_id: str | None = None) -> Principal | None:
    """The principal behind a user-assigned identity (its stored ARM body), by client id, principal id or ID."""
    for record in bodies:
        props = record.get("properties") or {}
        if (client_id and str(props.get("clientId", "")).lower() == client_id.lower()) \
                or (object_id and str(props.get("principalId", "")).lower() == object_id.lower()) \
                or (resource_id and str(record.get("id", "")).lower() == resource_id.lower()):
            return Principal(str(record.get("name")), str(props["clientId"]), None, str(props["tenantId"]))
    return None


RESOURCE_TYPES: list[ResourceType] = [UserAssignedIdentities()]
