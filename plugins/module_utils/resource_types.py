# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the engine needs to know about each ARM type the collection manages: the one registry.

Every API version the collection sends lives here (``api_version``), next to the rules that decide what
counts as a difference and how a resource is written:

- ``update``: ``PUT`` (the merged body) or ``PATCH`` (only what the plan declares) for an existing resource;
- ``write_only``: paths Azure accepts but never returns (secrets); sent on every write, never compared, never
  shown in a result or a diff;
- ``create_only``: paths Azure fixes at creation; sent on create, kept as Azure has them on update, and a
  planned value that differs from Azure's is an error (the resource would have to be replaced);
- ``initial_only``: paths sent on create and never compared (a budget's start date);
- ``exact_maps``: maps compared key for key, so a key only Azure has is a difference and is removed
  (``tags`` everywhere: ``purge_tags``);
- ``list_keys``: the field(s) identifying the items of an unordered list of objects (a diagnostic setting's
  log categories); lists of objects with a ``name`` need no entry;
- ``sets``: lists of scalars Azure treats as sets (an authorization rule's rights);
- ``partial_lists``: keyed lists whose undeclared items are kept (rules someone added by hand, when asked);
- ``children``: child collections a run may purge (items Azure creates itself are ``keep``);
- ``serial_writes``: writes of siblings one at a time (PostgreSQL configurations: the server takes one
  parameter change at a time);
- ``restart``: ``(flag path, action)``: a write that leaves ``flag`` true needs the parent's ``action`` POST;
- ``awaits_grants``: error codes with which the type's service refuses a write while a role assignment it needs
  has not reached it yet (Azure propagates role assignments in minutes): when the run has just created a role
  assignment the resource depends on, such a refusal is retried for up to ``rbac-wait`` seconds.

Paths are dotted (``properties.networkAcls.ipRules``); ``[]`` stands for "every item of this list"
(``properties.securityRules[].properties.sourceAddressPrefixes``).
Pure data and lookups: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec


@dataclass(frozen=True)
class ResourceType:
    type: str
    api_version: str
    update: str = "PUT"
    write_only: tuple[str, ...] = ()
    create_only: tuple[str, ...] = ()
    initial_only: tuple[str, ...] = ()
    exact_maps: tuple[str, ...] = ("tags",)
    list_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sets: tuple[str, ...] = ()
    partial_lists: tuple[str, ...] = ()
    children: dict[str, dict[str, Any]] = field(default_factory=dict)
    serial_writes: bool = False
    restart: tuple[str, str] | None = None
    awaits_grants: tuple[str, ...] = ()
    # Fields ARM computes; a PUT built from a GET leaves them out.
    read_only: tuple[str, ...] = ()
    # Siblings of this type are read with one LIST of their collection (ARM lists full bodies for these types).
    list_read: bool = False

    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0]


NETWORK = "2024-05-01"
MONITOR_DIAGNOSTICS = "2021-05-01-preview"

_TYPES = [
    ResourceType("Microsoft.Resources/resourceGroups", "2024-03-01", create_only=("location",)),
    ResourceType("Microsoft.Authorization/locks", "2020-05-01", exact_maps=()),
    ResourceType("Microsoft.Authorization/policyDefinitions", "2023-04-01", exact_maps=("properties.parameters",)),
    ResourceType("Microsoft.Authorization/policyAssignments", "2023-04-01", exact_maps=("properties.parameters",),
                 create_only=("properties.policyDefinitionId",)),
    ResourceType("Microsoft.Authorization/roleAssignments", "2022-04-01", exact_maps=(),
                 create_only=("properties.roleDefinitionId", "properties.principalId")),
    ResourceType("Microsoft.Consumption/budgets", "2023-05-01", exact_maps=("properties.notifications",),
                 initial_only=("properties.timePeriod.startDate",),
                 sets=("properties.notifications.contactEmails",)),
    ResourceType("Microsoft.Network/networkSecurityGroups", NETWORK, list_read=True,
                 read_only=("properties.defaultSecurityRules",),
                 sets=("properties.securityRules[].properties.sourceAddressPrefixes",
                       "properties.securityRules[].properties.destinationAddressPrefixes",
                       "properties.securityRules[].properties.sourcePortRanges",
                       "properties.securityRules[].properties.destinationPortRanges")),
    ResourceType("Microsoft.Network/virtualNetworks", NETWORK, sets=("properties.addressSpace.addressPrefixes",
                                                                     "properties.dhcpOptions.dnsServers")),
    # Azure takes one subnet write at a time per virtual network.
    ResourceType("Microsoft.Network/virtualNetworks/subnets", NETWORK, list_read=True, exact_maps=(), serial_writes=True,
                 list_keys={"properties.serviceEndpoints": ("service",)}),
    ResourceType("Microsoft.Network/privateDnsZones", "2024-06-01", list_read=True),
    ResourceType("Microsoft.Network/privateDnsZones/virtualNetworkLinks", "2024-06-01"),
    # Record sets of a zone (the Container Apps environment's wildcard and apex records); no tags of their own.
    ResourceType("Microsoft.Network/privateDnsZones/A", "2024-06-01", exact_maps=(),
                 list_keys={"properties.aRecords": ("ipv4Address",)}),
    ResourceType("Microsoft.Network/privateEndpoints", NETWORK,
                 create_only=("properties.subnet.id",),
                 sets=("properties.privateLinkServiceConnections[].properties.groupIds",)),
    ResourceType("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", NETWORK, exact_maps=()),
    # Zones are chosen at creation (a zonal or zone-redundant address cannot move).
    ResourceType("Microsoft.Network/publicIPAddresses", NETWORK, create_only=("zones", "sku.name"),
                 read_only=("properties.ipAddress", "properties.ipConfiguration")),
    ResourceType("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies", NETWORK,
                 read_only=("properties.applicationGateways", "properties.httpListeners",
                            "properties.pathBasedRules", "properties.resourceState"),
                 list_keys={"properties.managedRules.managedRuleSets": ("ruleSetType",)}),
    # The gateway's zones are fixed at creation; its sub-resources are keyed by name (the engine's default). It reads
    # its certificate from Key Vault with its identity: a grant made moments before is not there yet.
    ResourceType("Microsoft.Network/applicationGateways", NETWORK, create_only=("zones",),
                 read_only=("properties.operationalState", "properties.resourceState",
                            "properties.defaultPredefinedSslPolicy"),
                 awaits_grants=("ApplicationGatewayKeyVaultSecretException",)),
    ResourceType("Microsoft.Network/networkWatchers", NETWORK),
    ResourceType("Microsoft.Network/networkWatchers/flowLogs", NETWORK),
    ResourceType("Microsoft.Storage/storageAccounts", "2023-05-01", update="PATCH",
                 create_only=("kind",),
                 list_keys={"properties.networkAcls.virtualNetworkRules": ("id",),
                            "properties.networkAcls.ipRules": ("value",)}),
    # The state storage account's blob service settings and lifecycle rules (playbooks/bootstrap.yml).
    ResourceType("Microsoft.Storage/storageAccounts/blobServices", "2023-05-01", exact_maps=()),
    ResourceType("Microsoft.Storage/storageAccounts/managementPolicies", "2023-05-01", exact_maps=()),
    ResourceType("Microsoft.KeyVault/vaults", "2023-07-01", update="PATCH",
                 create_only=("properties.softDeleteRetentionInDays",),
                 initial_only=("properties.accessPolicies",),
                 list_keys={"properties.networkAcls.virtualNetworkRules": ("id",),
                            "properties.networkAcls.ipRules": ("value",)}),
    # Written through the vault's data plane by the engine (values never pass ARM); the ARM version reads metadata.
    ResourceType("Microsoft.KeyVault/vaults/secrets", "2023-07-01", write_only=("properties.value",)),
    # A certificate lives in the vault's data plane only (Key Vault REST 7.4): the engine issues it (a Self issuer
    # policy) or imports the operators' PFX once, and never issues a new version on a later run.
    ResourceType("Microsoft.KeyVault/vaults/certificates", "7.4", exact_maps=(),
                 write_only=("properties.value", "properties.pwd")),
    ResourceType("Microsoft.DBforPostgreSQL/flexibleServers", "2024-08-01",
                 write_only=("properties.administratorLoginPassword",),
                 create_only=("properties.version", "properties.administratorLogin", "properties.network",
                              "properties.backup.geoRedundantBackup"),
                 initial_only=("properties.createMode",)),
    ResourceType("Microsoft.DBforPostgreSQL/flexibleServers/configurations", "2024-08-01", exact_maps=(),
                 serial_writes=True, restart=("properties.isConfigPendingRestart", "restart")),
    # A flexible server takes one operation at a time (ServerIsBusy): its parameters, databases and administrators
    # are written one after another (serial writes are grouped by parent, whatever the child type).
    ResourceType("Microsoft.DBforPostgreSQL/flexibleServers/databases", "2024-08-01", list_read=True, exact_maps=(),
                 create_only=("properties.charset", "properties.collation"), serial_writes=True),
    ResourceType("Microsoft.DBforPostgreSQL/flexibleServers/administrators", "2024-08-01", exact_maps=(),
                 serial_writes=True),
    ResourceType("Microsoft.Cache/redis", "2024-11-01",
                 write_only=("properties.redisConfiguration.rdb-storage-connection-string",),
                 create_only=("zones",)),
    # Zone redundancy is chosen when the registry is created.
    ResourceType("Microsoft.ContainerRegistry/registries", "2025-04-01", create_only=("properties.zoneRedundancy",)),
    # A Defender for Cloud plan of the subscription: always exists (Free until set), never deleted.
    # The plan exists before any write, so every write is an update built from a GET: leave out what Azure computes.
    ResourceType("Microsoft.Security/pricings", "2024-01-01", exact_maps=(),
                 read_only=("id", "name", "type", "properties.freeTrialRemainingTime", "properties.enablementTime",
                            "properties.deprecated", "properties.replacedBy", "properties.resourcesCoverageStatus",
                            "properties.inherited", "properties.inheritedFrom",
                            "properties.extensions[].operationStatus")),
    # The environment's network (its subnet, internal load balancer) and zone redundancy are chosen when it is
    # created; its default domain and static IP are Azure's.
    ResourceType("Microsoft.App/managedEnvironments", "2025-07-01",
                 create_only=("properties.vnetConfiguration", "properties.zoneRedundant"),
                 read_only=("properties.defaultDomain", "properties.staticIp", "properties.provisioningState",
                            "properties.deploymentErrors", "properties.eventStreamEndpoint",
                            "properties.privateEndpointConnections")),
    ResourceType("Microsoft.EventHub/namespaces", "2024-01-01"),
    ResourceType("Microsoft.EventHub/namespaces/networkRuleSets", "2024-01-01", exact_maps=(),
                 list_keys={"properties.virtualNetworkRules": ("subnet.id",),
                            "properties.ipRules": ("ipMask",)}),
    # A Standard namespace's hub keeps its partition count: changing it means a new hub (and losing its events).
    ResourceType("Microsoft.EventHub/namespaces/eventhubs", "2024-01-01", list_read=True, exact_maps=(),
                 create_only=("properties.partitionCount",),
                 children={"consumergroups": {"type": "Microsoft.EventHub/namespaces/eventhubs/consumergroups",
                                              "keep": ("$Default",)},
                           "authorizationRules": {
                               "type": "Microsoft.EventHub/namespaces/eventhubs/authorizationRules", "keep": ()}}),
    ResourceType("Microsoft.EventHub/namespaces/eventhubs/consumergroups", "2024-01-01", list_read=True, exact_maps=()),
    ResourceType("Microsoft.EventHub/namespaces/eventhubs/authorizationRules", "2024-01-01", list_read=True, exact_maps=(),
                 sets=("properties.rights",)),
    # Its principal and client ids are Azure's (read-only); a grant names the principal id.
    ResourceType("Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31",
                 read_only=("properties.principalId", "properties.clientId", "properties.tenantId")),
    ResourceType("Microsoft.OperationalInsights/workspaces", "2023-09-01"),
    ResourceType("Microsoft.Insights/components", "2020-02-02", create_only=("kind",)),
    ResourceType("Microsoft.Insights/diagnosticSettings", MONITOR_DIAGNOSTICS, exact_maps=(),
                 list_keys={"properties.logs": ("categoryGroup", "category"),
                            "properties.metrics": ("category",)}),
    ResourceType("Microsoft.Insights/actionGroups", "2023-01-01"),
    ResourceType("Microsoft.Insights/metricAlerts", "2018-03-01", list_read=True, sets=("properties.scopes",),
                 list_keys={"properties.actions": ("actionGroupId",)}),
    ResourceType("Microsoft.Insights/activityLogAlerts", "2020-10-01", sets=("properties.scopes",),
                 list_keys={"properties.condition.allOf": ("field",),
                            "properties.actions.actionGroups": ("actionGroupId",)}),
    ResourceType("Microsoft.Insights/scheduledQueryRules", "2023-03-15-preview", list_read=True,
                 sets=("properties.scopes", "properties.actions.actionGroups")),
    # A standard availability test; its tags hold the hidden-link to its Application Insights resource (planned, so
    # purge_tags keeps it). Its kind is fixed at creation.
    # Cost Management's anomaly alert (kind InsightAlert) at the subscription's scope: its schedule's dates are chosen
    # on create; Azure returns the scope it belongs to and an eTag.
    ResourceType("Microsoft.CostManagement/scheduledActions", "2023-11-01", exact_maps=(),
                 initial_only=("properties.schedule.startDate", "properties.schedule.endDate"),
                 sets=("properties.notification.to",), read_only=("eTag", "properties.scope")),
    ResourceType("Microsoft.Insights/webtests", "2022-06-15", create_only=("kind",),
                 list_keys={"properties.Locations": ("Id",)}),
]

REGISTRY: dict[str, ResourceType] = {t.type.lower(): t for t in _TYPES}


class UnknownResourceType(KeyError):
    """A type the collection does not manage: add it to the registry with its API version and rules."""


def resource_type(arm_type: str) -> ResourceType:
    """The registry entry of ``arm_type`` (ARM types are case-insensitive)."""
    entry = REGISTRY.get(str(arm_type).lower())
    if entry is None:
        raise UnknownResourceType(f"{arm_type} is not a type this collection manages "
                                  "(plugins/module_utils/resource_types.py)")
    return entry


def api_version(arm_type: str) -> str:
    return resource_type(arm_type).api_version


def type_of_id(resource_id: str) -> str:
    """The ARM type of a resource ID (``/subscriptions/s/resourceGroups/g`` is a resource group;
    extension resources such as diagnostic settings take the type after their last ``/providers/``)."""
    parts = [p for p in resource_id.strip("/").split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        if len(parts) == 4 and lowered[2] == "resourcegroups":
            return "Microsoft.Resources/resourceGroups"
        raise UnknownResourceType(f"cannot tell the type of {resource_id}")
    index = len(lowered) - 1 - lowered[::-1].index("providers")
    rest = parts[index + 1:]
    namespace, segments = rest[0], rest[1:]
    types = [segments[i] for i in range(0, len(segments), 2)]
    return "/".join([namespace, *types])


def api_versions_by_namespace() -> dict[str, str]:
    """Every type's API version (the deployment fact's ``api_versions``), by type name."""
    return {t.type: t.api_version for t in _TYPES}


def compare_rules(entry: ResourceType | str, *, purge_tags: bool = True,
                  partial_lists: Iterable[str] = ()) -> rec.CompareRules:
    """The registry's compare rules for one type: tags compared exactly only with ``purge_tags``; write-only
    and initial-only paths skipped; ``partial_lists`` (paths) added to the type's own."""
    if isinstance(entry, str):
        entry = resource_type(entry)
    exact = set(entry.exact_maps)
    if not purge_tags:
        exact.discard("tags")
    return rec.CompareRules.of(partial_lists={*entry.partial_lists, *(rec.rule_path(p) for p in partial_lists)},
                               exact_maps=exact, list_keys=entry.list_keys, sets=entry.sets,
                               skip={*entry.write_only, *entry.initial_only})
