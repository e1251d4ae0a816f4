"""Microsoft.Resources: resource groups (the subscription-level container every other resource lives in)."""

from __future__ import annotations

from typing import Any

from ..framework import ArmError, Ctx, Lro, NameRule, OpStyle, ResourceType, Scope, WriteRequest


class ResourceGroups(ResourceType):
    type = "Microsoft.Resources/resourceGroups"
    scope = Scope.SUBSCRIPTION
    name_rule = NameRule(
        1, 90, r"[-\w._()]*[-\w_()]",
        "Resource group names only allow alphanumeric characters, periods, underscores, hyphens and parenthesis "
        "and cannot end in a period.",
        code="InvalidResourceGroupName",
    )
    location = "required"
    system_data = False
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    # DELETE: 202 + Location while resources inside are deleted; 404 when the group does not exist.
    delete = OpStyle(Lro.LOCATION, done=200, pending=202, missing=404)
    latency_s = 3.0
    pending_state = {"create": "Succeeded", "update": "Succeeded", "delete": "Deleting"}

    def latency(self, operation: str, body: dict[str, Any]) -> float:
        return self.latency_s

    def location_change_error(self, resource_id: str, old: str, new: str) -> ArmError:
        return ArmError(
            409,
            "InvalidResourceGroupLocation",
            f"Invalid resource group location '{new}'. The Resource group already exists in location '{old}'.",
        )

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        # ARM returns only these keys for a group; anything else a client sends is ignored.
        kept = {k: body[k] for k in ("id", "name", "type", "location", "tags", "managedBy") if k in body}
        kept["properties"] = {}
        return kept


RESOURCE_TYPES: list[ResourceType] = [ResourceGroups()]
