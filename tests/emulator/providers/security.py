"""Microsoft.Security/pricings: the Microsoft Defender for Cloud plans of a subscription.

Written from the Security Center REST spec (Azure/azure-rest-api-specs, pricings.json 2024-01-01) and the
Defender for Cloud documentation (plans, sub-plans, extensions of Defender for Containers).

Modelled, as Azure does it:
- A subscription has every plan from the start, on the Free tier: ``GET .../providers/Microsoft.Security/pricings/
  Containers`` answers ``pricingTier: Free`` before anyone wrote it; a PUT sets a plan (200, synchronous).
- Plans cannot be deleted (DELETE is not an operation of the API): turning one off is a PUT with ``Free``.
- ``pricingTier`` is Free or Standard; a sub-plan is known per plan (VirtualMachines P1/P2, Api P1-P5, ...), and
  a plan without sub-plans refuses one. Extensions (Defender for Containers' ContainerRegistriesVulnerability-
  Assessments, AgentlessDiscoveryForKubernetes, ...) are accepted on Standard only.
- Read-only fields: freeTrialRemainingTime, enablementTime (set when the plan turns Standard), deprecated,
  replacedBy, resourcesCoverageStatus.

Known gaps: resource-level pricings (on a VM or a Function app), inherited plans from a management group, the
trial clock and the extensions' operation status are not modelled.
"""

from __future__ import annotations

from typing import Any

from ..framework import ArmError, Ctx, Lro, OpStyle, Resource, ResourceType, Scope, WriteRequest

PRICINGS = "Microsoft.Security/pricings"
# Plans of the 2024-01-01 API, with the sub-plans each accepts (empty: none).
PLANS: dict[str, tuple[str, ...]] = {
    "VirtualMachines": ("P1", "P2"), "SqlServers": (), "AppServices": (), "StorageAccounts": ("PerTransaction",
                                                                                               "PerStorageAccount",
                                                                                               "DefenderForStorageV2"),
    "SqlServerVirtualMachines": (), "KeyVaults": ("PerTransaction", "PerKeyVault"), "Dns": (), "Arm": (
        "PerSubscription", "PerApiCall"), "OpenSourceRelationalDatabases": (), "CosmosDbs": (), "Containers": (),
    "CloudPosture": (), "Api": ("P1", "P2", "P3", "P4", "P5"), "KubernetesService": (), "ContainerRegistry": (),
}
# Extensions each plan accepts on the Standard tier.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "Containers": ("ContainerRegistriesVulnerabilityAssessments", "AgentlessDiscoveryForKubernetes",
                   "AgentlessVmScanning", "ContainerSensor", "ContainerIntegrityContribution"),
    "CloudPosture": ("SensitiveDataDiscovery", "ContainerRegistriesVulnerabilityAssessments",
                     "AgentlessDiscoveryForKubernetes", "AgentlessVmScanning", "EntraPermissionsManagement",
                     "ApiPosture"),
    "VirtualMachines": ("MdeDesignatedSubscription", "AgentlessVmScanning", "FileIntegrityMonitoring"),
    "StorageAccounts": ("OnUploadMalwareScanning", "SensitiveDataDiscovery"),
}


def _plan(name: str) -> str | None:
    return next((p for p in PLANS if p.lower() == name.lower()), None)


class Pricings(ResourceType):
    type = PRICINGS
    scope = Scope.SUBSCRIPTION
    location = "none"
    tags = False
    system_data = False
    # Pricings_Update answers 200 whether the plan was written before or not (every plan always exists).
    put = OpStyle(Lro.NONE, done=200, created_done=200)
    patch = None
    latency_s = 2.0
    read_only_properties = ("freeTrialRemainingTime", "enablementTime", "deprecated", "replacedBy",
                            "resourcesCoverageStatus", "inherited", "inheritedFrom")

    def builtin(self, ctx: Ctx, resource_id: str, name: str) -> dict[str, Any] | None:
        plan = _plan(name)
        if plan is None:
            return None
        return {"id": resource_id, "name": plan, "type": PRICINGS,
                "properties": {"pricingTier": "Free", "freeTrialRemainingTime": "PT0S", "deprecated": False}}

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        plan = _plan(req.name)
        if plan is None:
            raise ArmError(400, "InvalidInputJson", f"'{req.name}' is not a Microsoft Defender for Cloud plan; "
                           f"known plans: {', '.join(PLANS)}.")
        props = req.properties
        tier = props.get("pricingTier")
        if tier not in ("Free", "Standard"):
            raise ArmError(400, "InvalidInputJson", f"The pricing tier '{tier}' is not valid; allowed values: Free, "
                           "Standard.")
        sub_plan = props.get("subPlan")
        if sub_plan is not None and sub_plan not in PLANS[plan]:
            allowed = ", ".join(PLANS[plan]) or "none"
            raise ArmError(400, "InvalidInputJson", f"The sub-plan '{sub_plan}' is not valid for plan '{plan}'; "
                           f"allowed: {allowed}.")
        extensions = props.get("extensions") or []
        if extensions and tier != "Standard":
            raise ArmError(400, "InvalidInputJson", "Extensions can only be set on a plan with the Standard pricing "
                           "tier.")
        for extension in extensions:
            if extension.get("name") not in EXTENSIONS.get(plan, ()):
                raise ArmError(400, "InvalidInputJson", f"The extension '{extension.get('name')}' is not available "
                               f"for plan '{plan}'.")
            if extension.get("isEnabled") not in ("True", "False"):
                raise ArmError(400, "InvalidInputJson", "An extension's isEnabled is 'True' or 'False'.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        plan = _plan(req.name) or req.name
        body["name"] = plan
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        props["freeTrialRemainingTime"] = "PT0S"
        props["deprecated"] = False
        if props["pricingTier"] == "Standard":
            props["enablementTime"] = (previous.get("enablementTime") if previous.get("pricingTier") == "Standard"
                                       else None) or ctx.now()
            for extension in props.get("extensions") or []:
                extension.setdefault("operationStatus", {"code": "Succeeded"})
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        raise ArmError(405, "MethodNotAllowed", "The requested method 'DELETE' is not allowed: a plan is turned off "
                       "with pricingTier Free.")


RESOURCE_TYPES: list[ResourceType] = [Pricings()]
