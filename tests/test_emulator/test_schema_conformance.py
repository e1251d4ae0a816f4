"""Request bodies against Microsoft's API definitions (tests/emulator/schemas/), per resource type and API version
the collection uses: a misspelled property (strict mode), a wrong enum value, a wrong JSON type and a changed
create-only property are refused with Azure's error shape; outside strict mode an unknown property is dropped.

Top-level types go through the emulator over HTTPS (the session emulator of this suite is strict); child types,
whose parents are costly to build, through the same checker in process (the error body is the one the engine sends).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import identity
from tests.emulator.framework import ArmError
from tests.emulator.pytest_plugin import EmulatorProcess
from tests.emulator.schema import Schemas

pytestmark = pytest.mark.emulator
SUB = identity.SUBSCRIPTION_ID
SCOPE = f"/subscriptions/{SUB}/resourceGroups/rg-placeholder/providers/Microsoft.Network/virtualNetworks/v"


@dataclass
class Case:
    type: str
    api: str
    path: str  # "{rg}" is the resource group ID, "{sub}" the subscription ID; "{n}" a fresh name
    body: dict[str, Any]
    misspelled: tuple[str, Any]  # dotted path of a property that does not exist in the definition, and a value
    wrong_type: tuple[str, Any]  # dotted path of a known property and a value of another JSON type
    enum: tuple[str, Any] | None = None  # a closed enum and a value outside it
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.type}@{self.api}"


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


LOC = "westeurope"
TOP_LEVEL = [
    Case("Microsoft.Resources/resourceGroups", "2024-03-01", "{sub}/resourceGroups/{n}", {"location": LOC},
         ("managedByy", "x"), ("location", 7)),
    Case("Microsoft.Resources/resourceGroups", "2021-04-01", "{sub}/resourceGroups/{n}", {"location": LOC},
         ("properties.provisioningStat", "x"), ("tags", ["a"])),
    Case("Microsoft.Network/virtualNetworks", "2024-05-01", "{rg}/providers/Microsoft.Network/virtualNetworks/{n}",
         {"location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}},
         ("properties.adressSpace", {"addressPrefixes": ["10.1.0.0/16"]}),
         ("properties.enableDdosProtection", "yes")),
    Case("Microsoft.Network/networkSecurityGroups", "2024-05-01",
         "{rg}/providers/Microsoft.Network/networkSecurityGroups/{n}", {"location": LOC, "properties": {}},
         ("properties.flushConection", True), ("properties.flushConnection", "true")),
    Case("Microsoft.Network/privateEndpoints", "2024-05-01", "{rg}/providers/Microsoft.Network/privateEndpoints/{n}",
         {"location": LOC, "properties": {}}, ("properties.customNetworkInterfacName", "nic"),
         ("properties.customNetworkInterfaceName", 5)),
    Case("Microsoft.Network/networkWatchers", "2024-05-01", "{rg}/providers/Microsoft.Network/networkWatchers/{n}",
         {"location": LOC, "properties": {}}, ("properties.watcherMode", "x"), ("tags", "t")),
    Case("Microsoft.Network/privateDnsZones", "2024-06-01",
         "{rg}/providers/Microsoft.Network/privateDnsZones/{n}.example.internal", {"location": "global"},
         ("properties.zoneTyp", "Private"), ("etag", 1)),
    Case("Microsoft.Storage/storageAccounts", "2023-05-01", "{rg}/providers/Microsoft.Storage/storageAccounts/{n}",
         {"location": LOC, "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
         ("properties.minimumTLSVersion", "TLS1_2"), ("properties.supportsHttpsTrafficOnly", "true"),
         enum=("properties.accessTier", "Lukewarm")),
    Case("Microsoft.KeyVault/vaults", "2023-07-01", "{rg}/providers/Microsoft.KeyVault/vaults/{n}",
         {"location": LOC, "properties": {"tenantId": identity.TENANT_ID, "sku": {"family": "A", "name": "standard"},
                                          "accessPolicies": []}},
         ("properties.enableRbacAuthorisation", True), ("properties.enablePurgeProtection", "true"),
         enum=("properties.sku.name", "gold")),
    Case("Microsoft.DBforPostgreSQL/flexibleServers", "2024-08-01",
         "{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{n}",
         {"location": LOC, "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
          "properties": {"administratorLogin": "cfadmin", "administratorLoginPassword": "Str0ng-Passw0rd!",
                         "version": "16", "storage": {"storageSizeGB": 32}}},
         ("properties.storage.storageSizeGb", 64), ("properties.storage.storageSizeGB", "32")),
    Case("Microsoft.Cache/redis", "2024-11-01", "{rg}/providers/Microsoft.Cache/redis/{n}",
         {"location": LOC, "properties": {"sku": {"name": "Basic", "family": "C", "capacity": 0}}},
         ("properties.enableNonSSLPort", False), ("properties.sku.capacity", "0")),
    Case("Microsoft.ContainerRegistry/registries", "2025-04-01",
         "{rg}/providers/Microsoft.ContainerRegistry/registries/{n}", {"location": LOC, "sku": {"name": "Standard"}},
         ("properties.adminEnabled", False), ("properties.adminUserEnabled", "false")),
    Case("Microsoft.Security/pricings", "2024-01-01", "{sub}/providers/Microsoft.Security/pricings/Containers",
         {"properties": {"pricingTier": "Free"}}, ("properties.pricingTeir", "Free"),
         ("properties.extensions", "all")),
    Case("Microsoft.EventHub/namespaces", "2024-01-01", "{rg}/providers/Microsoft.EventHub/namespaces/{n}",
         {"location": LOC, "sku": {"name": "Standard", "tier": "Standard", "capacity": 1}},
         ("properties.autoInflateEnabled", True), ("properties.isAutoInflateEnabled", "no"),
         enum=("identity.type", "Magic")),
    Case("Microsoft.OperationalInsights/workspaces", "2023-09-01",
         "{rg}/providers/Microsoft.OperationalInsights/workspaces/{n}",
         {"location": LOC, "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30}},
         ("properties.retentionDays", 30), ("properties.retentionInDays", "30"), enum=("identity.type", "Magic")),
    Case("Microsoft.Insights/components", "2020-02-02", "{rg}/providers/Microsoft.Insights/components/{n}",
         {"location": LOC, "kind": "web", "properties": {"Application_Type": "web"}},
         ("properties.ApplicationType", "web"), ("properties.DisableIpMasking", "true")),
    Case("Microsoft.Insights/actionGroups", "2023-01-01", "{rg}/providers/Microsoft.Insights/actionGroups/{n}",
         {"location": "global", "properties": {"groupShortName": "cf", "enabled": True}},
         ("properties.emailRecievers", []), ("properties.enabled", "true")),
    Case("Microsoft.Insights/metricAlerts", "2018-03-01", "{rg}/providers/Microsoft.Insights/metricAlerts/{n}",
         {"location": "global", "properties": {
             "severity": 2, "enabled": True, "scopes": [], "evaluationFrequency": "PT5M", "windowSize": "PT15M",
             "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": []}}},
         ("properties.autoMitigatee", True), ("properties.severity", "2"),
         enum=("properties.criteria.odata.type", "Microsoft.Azure.Monitor.NoSuchCriteria")),
    Case("Microsoft.Insights/scheduledQueryRules", "2023-03-15-preview",
         "{rg}/providers/Microsoft.Insights/scheduledQueryRules/{n}",
         {"location": LOC, "properties": {"severity": 2, "enabled": True}},
         ("properties.autoMitigatee", True), ("properties.enabled", "true"), enum=("identity.type", "Magic")),
    Case("Microsoft.Insights/activityLogAlerts", "2020-10-01", "{rg}/providers/Microsoft.Insights/activityLogAlerts/{n}",
         {"location": "global", "properties": {"scopes": ["/subscriptions/x"], "actions": {"actionGroups": []},
                                               "condition": {"allOf": [{"field": "category",
                                                                        "equals": "Administrative"}]}}},
         ("properties.scope", []), ("properties.enabled", "true")),
    Case("Microsoft.Authorization/locks", "2020-05-01", "{rg}/providers/Microsoft.Authorization/locks/{n}",
         {"properties": {"level": "CanNotDelete"}}, ("properties.note", "x"), ("properties.notes", 5)),
    Case("Microsoft.Authorization/policyDefinitions", "2023-04-01",
         "{sub}/providers/Microsoft.Authorization/policyDefinitions/{n}",
         {"properties": {"mode": "All", "policyRule": {"if": {"field": "location", "equals": "x"},
                                                       "then": {"effect": "deny"}}}},
         ("properties.policyRules", {}), ("properties.displayName", 5)),
    Case("Microsoft.Authorization/policyAssignments", "2023-04-01",
         "{rg}/providers/Microsoft.Authorization/policyAssignments/{n}",
         {"properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/"
                                               "871b6d14-10aa-478d-b590-94f262ecfa99"}},
         ("properties.enforcmentMode", "Default"), ("properties.displayName", 5), enum=("identity.type", "Magic")),
    Case("Microsoft.Authorization/roleAssignments", "2022-04-01",
         "{rg}/providers/Microsoft.Authorization/roleAssignments/{guid}",
         {"properties": {"roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                                             "roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
                         "principalId": identity.READER_APP.object_id}},
         ("properties.principalTyp", "User"), ("properties.principalId", 5)),
    Case("Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31",
         "{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}", {"location": LOC},
         ("propertie", {}), ("tags", ["a"])),
    Case("Microsoft.Insights/webtests", "2022-06-15", "{rg}/providers/Microsoft.Insights/webtests/{n}",
         {"location": LOC, "kind": "standard",
          "properties": {"SyntheticMonitorId": "t", "Name": "t", "Kind": "standard", "Locations": [{"Id": "us-va-ash-azr"}]}},
         ("properties.RetriesEnabled", True), ("properties.Frequency", "300"), enum=("properties.Kind", "classic")),
    Case("Microsoft.CostManagement/scheduledActions", "2023-11-01",
         "{sub}/providers/Microsoft.CostManagement/scheduledActions/{n}",
         {"kind": "InsightAlert", "properties": {
             "displayName": "a", "status": "Enabled", "viewId": "/v",
             "notification": {"to": ["a@example.com"], "subject": "s"},
             "schedule": {"frequency": "Daily", "startDate": "2026-01-01T00:00:00Z", "endDate": "2027-01-01T00:00:00Z"}}},
         # Its enums (kind, status, frequency) are open strings in the definition: the provider refuses other values.
         ("properties.notifications", {}), ("properties.displayName", 5)),
    Case("Microsoft.Consumption/budgets", "2023-05-01", "{rg}/providers/Microsoft.Consumption/budgets/{n}",
         {"properties": {"category": "Cost", "amount": 100, "timeGrain": "Monthly",
                         "timePeriod": {"startDate": "2026-01-01T00:00:00Z"}}},
         ("properties.notification", {}), ("properties.amount", "100")),
    Case("Microsoft.Network/publicIPAddresses", "2024-05-01", "{rg}/providers/Microsoft.Network/publicIPAddresses/{n}",
         {"location": LOC, "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}},
         ("properties.publicIPAllocMethod", "Static"), ("properties.idleTimeoutInMinutes", "4")),
    Case("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies", "2024-05-01",
         "{rg}/providers/Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/{n}",
         {"location": LOC, "properties": {"managedRules": {"managedRuleSets": [
             {"ruleSetType": "OWASP", "ruleSetVersion": "3.2"}]}}},
         ("properties.policySetting", {}), ("properties.customRules", {})),
    # A consumption-only environment in Azure's own network: no subnet needed.
    Case("Microsoft.App/managedEnvironments", "2025-07-01", "{rg}/providers/Microsoft.App/managedEnvironments/{n}",
         {"location": LOC, "properties": {"zoneRedundant": False}},
         ("properties.zoneRedundnt", False), ("properties.workloadProfiles", {})),
]

CHILDREN = [
    # Top-level, but a gateway needs a network, an address and a WAF policy to pass Azure's other rules: checked in
    # process like the children.
    Case("Microsoft.Network/applicationGateways", "2024-05-01", "",
         {"location": LOC, "properties": {"sku": {"name": "WAF_v2", "tier": "WAF_v2"}}},
         ("properties.autoscaleConfig", {}), ("properties.enableHttp2", "true")),
    Case("Microsoft.Network/privateDnsZones/A", "2024-06-01", "",
         {"properties": {"ttl": 3600, "aRecords": [{"ipv4Address": "10.0.1.4"}]}},
         ("properties.aRecord", []), ("properties.ttl", "3600")),
    Case("Microsoft.Network/virtualNetworks/subnets", "2024-05-01", "", {"properties": {"addressPrefix": "10.0.0.0/24"}},
         ("properties.adressPrefix", "10.0.0.0/24"), ("properties.defaultOutboundAccess", "false")),
    Case("Microsoft.Network/networkSecurityGroups/securityRules", "2024-05-01", "",
         {"properties": {"access": "Allow", "direction": "Inbound", "priority": 100, "protocol": "Tcp"}},
         ("properties.destinationPortRang", "443"), ("properties.priority", "100")),
    Case("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "2024-05-01", "", {"properties": {}},
         ("properties.privateDnsZoneConfig", []), ("properties.privateDnsZoneConfigs", {})),
    Case("Microsoft.Network/networkWatchers/flowLogs", "2024-05-01", "",
         {"location": LOC, "properties": {"storageId": "/x", "targetResourceId": "/y"}},
         ("properties.retentionPolicy.day", 7), ("properties.enabled", "true"), enum=("identity.type", "Magic")),
    Case("Microsoft.Network/privateDnsZones/virtualNetworkLinks", "2024-06-01", "",
         {"location": "global", "properties": {"virtualNetwork": {"id": "/v"}}},
         ("properties.registrationEnable", False), ("properties.registrationEnabled", "false")),
    Case("Microsoft.KeyVault/vaults/accessPolicies", "2023-07-01", "",
         {"properties": {"accessPolicies": [{"tenantId": identity.TENANT_ID, "objectId": "o",
                                             "permissions": {"secrets": ["get"]}}]}},
         ("properties.accessPolicy", []), ("properties.accessPolicies", {})),
    Case("Microsoft.DBforPostgreSQL/flexibleServers/configurations", "2024-08-01", "",
         {"properties": {"value": "on", "source": "user-override"}}, ("properties.val", "on"), ("properties.value", 1)),
    Case("Microsoft.DBforPostgreSQL/flexibleServers/databases", "2024-08-01", "",
         {"properties": {"charset": "UTF8"}}, ("properties.charSet", "UTF8"), ("properties.collation", 1)),
    Case("Microsoft.DBforPostgreSQL/flexibleServers/firewallRules", "2024-08-01", "",
         {"properties": {"startIpAddress": "10.0.0.1", "endIpAddress": "10.0.0.2"}},
         ("properties.startIPAddress2", "1.1.1.1"), ("properties.endIpAddress", 10)),
    Case("Microsoft.DBforPostgreSQL/flexibleServers/administrators", "2024-08-01", "",
         {"properties": {"principalType": "User", "principalName": "a", "tenantId": identity.TENANT_ID}},
         ("properties.principalNam", "a"), ("properties.principalName", ["a"])),
    Case("Microsoft.EventHub/namespaces/authorizationRules", "2024-01-01", "", {"properties": {"rights": ["Listen"]}},
         ("properties.right", ["Listen"]), ("properties.rights", "Listen")),
    Case("Microsoft.EventHub/namespaces/networkRuleSets", "2024-01-01", "", {"properties": {"defaultAction": "Deny"}},
         ("properties.ipRule", []), ("properties.trustedServiceAccessEnabled", "true")),
    Case("Microsoft.EventHub/namespaces/eventhubs", "2024-01-01", "", {"properties": {"partitionCount": 2}},
         ("properties.partitionCnt", 2), ("properties.partitionCount", "2"), enum=("properties.status", "Paused")),
    Case("Microsoft.EventHub/namespaces/eventhubs/authorizationRules", "2024-01-01", "",
         {"properties": {"rights": ["Send"]}}, ("properties.right", ["Send"]), ("properties.rights", [1])),
    Case("Microsoft.EventHub/namespaces/eventhubs/consumergroups", "2024-01-01", "", {"properties": {}},
         ("properties.userMetaData", "x"), ("properties.userMetadata", 1)),
    Case("Microsoft.Insights/diagnosticSettings", "2021-05-01-preview", "",
         {"properties": {"workspaceId": "/w", "logs": [{"categoryGroup": "allLogs", "enabled": True}]}},
         ("properties.workspaceID2", "/w"), ("properties.logs", {"enabled": True})),
    # The state storage account's blob service settings and lifecycle rules (playbooks/bootstrap.yml).
    Case("Microsoft.Storage/storageAccounts/blobServices", "2023-05-01", "",
         {"properties": {"isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 7}}},
         ("properties.isVersioningEnable", True), ("properties.deleteRetentionPolicy.days", "7")),
    Case("Microsoft.Storage/storageAccounts/managementPolicies", "2023-05-01", "",
         {"properties": {"policy": {"rules": [{
             "enabled": True, "name": "deleteOldVersions", "type": "Lifecycle",
             "definition": {"actions": {"version": {"delete": {"daysAfterCreationGreaterThan": 30}}},
                            "filters": {"blobTypes": ["blockBlob"]}}}]}}},
         ("properties.policy.rule", []), ("properties.policy.rules", {})),
]


def _path(case: Case, rg_id: str, name: str) -> str:
    import uuid

    return (case.path.replace("{rg}", rg_id).replace("{sub}", f"/subscriptions/{SUB}").replace("{n}", name)
            .replace("{guid}", str(uuid.uuid4())))


def test_every_type_and_version_the_collection_uses_has_facts_and_a_case() -> None:
    covered = {(t, v) for t, v in Schemas().covered()}
    cases = {(c.type.lower(), c.api) for c in TOP_LEVEL + CHILDREN}
    assert covered == cases, "every schema-checked type has a conformance case here (and nothing else)"


@pytest.mark.parametrize("case", TOP_LEVEL, ids=lambda c: c.id)
def test_top_level_type_refuses_what_its_definition_does_not_allow(
        emulator: Any, rg: str, unique: Callable[[str], str], case: Case) -> None:
    arm = emulator.arm()
    rg_id = f"/subscriptions/{SUB}/resourceGroups/{rg}"
    name = unique("sc") + "x"
    url = f"{_path(case, rg_id, name)}?api-version={case.api}"
    faults = [("misspelled property (strict)", _set(case.body, *case.misspelled), case.misspelled[0]),
              ("wrong JSON type", _set(case.body, *case.wrong_type), case.wrong_type[0])]
    if case.enum is not None:
        faults.append(("value outside a closed enum", _set(case.body, *case.enum), case.enum[0]))
    for label, body, where in faults:
        status, answer, _ = arm.call("PUT", url, body)
        assert status == 400, f"{label}: {status} {answer}"
        assert set(answer) == {"error"} and {"code", "message"} <= set(answer["error"]), answer
        assert answer["error"]["code"] == "InvalidRequestContent", f"{label}: {answer}"
        assert where.split(".")[-1] in answer["error"]["message"], f"{label}: the message names the property"
    # The same body without the fault is not refused for its content (it may fail Azure's other rules).
    status, answer, _ = arm.call("PUT", url, case.body)
    assert status < 400 or answer["error"]["code"] != "InvalidRequestContent", answer
    if status < 400:
        # Leave nothing behind for the session's other tests: some types are one per region and subscription
        # (a network watcher).
        arm.call("DELETE", url)


@pytest.mark.parametrize("case", CHILDREN, ids=lambda c: c.id)
def test_child_type_refuses_what_its_definition_does_not_allow(case: Case) -> None:
    schemas = Schemas()
    faults = [_set(case.body, *case.misspelled), _set(case.body, *case.wrong_type)]
    if case.enum is not None:
        faults.append(_set(case.body, *case.enum))
    for body in faults:
        with pytest.raises(ArmError) as err:
            schemas.check(case.type, case.api, body, method="PUT", existing=None, strict=True)
        assert err.value.status == 400
        assert err.value.to_body()["error"]["code"] == "InvalidRequestContent"
    schemas.check(case.type, case.api, case.body, method="PUT", existing=None, strict=True)


def test_required_properties_are_required_on_put_not_on_patch(emulator: Any, rg: str,
                                                              unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    url = (f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Authorization/locks/{unique('lk')}"
           "?api-version=2020-05-01")
    status, answer, _ = arm.call("PUT", url, {"properties": {"notes": "no level"}})
    assert status == 400
    assert answer["error"]["code"] == "InvalidRequestContent"
    assert "Required property 'level'" in answer["error"]["message"]


def test_read_only_properties_are_ignored(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    url = (f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{unique('ro')}"
           "?api-version=2024-05-01")
    # systemData is ARM's read-only envelope: Microsoft.Network's definitions do not list it, Azure ignores it.
    body = {"location": LOC, "etag": "W/\"mine\"", "systemData": {"createdBy": "someone"}, "properties": {
        "addressSpace": {"addressPrefixes": ["10.2.0.0/16"]}, "resourceGuid": "not-mine",
        "provisioningState": "Failed"}}
    status, answer, _ = arm.call("PUT", url, body)
    assert status in (200, 201), answer
    assert answer["properties"]["provisioningState"] == "Succeeded"
    assert answer["properties"].get("resourceGuid") != "not-mine"
    assert answer.get("etag") != 'W/"mine"'
    assert answer["systemData"]["createdBy"] != "someone"


def test_enums_compare_case_insensitively_and_open_enums_take_any_string(emulator: Any, rg: str,
                                                                         unique: Callable[[str], str]) -> None:
    schemas = Schemas()
    vault = {"location": LOC, "properties": {"tenantId": identity.TENANT_ID, "accessPolicies": [],
                                             "sku": {"family": "A", "name": "Standard"}}}
    schemas.check("Microsoft.KeyVault/vaults", "2023-07-01", vault, method="PUT", existing=None, strict=True)
    # networkAcls.defaultAction is modelAsString: the definition takes any string (the provider may not).
    schemas.check("Microsoft.KeyVault/vaults", "2023-07-01",
                  _set(vault, "properties.networkAcls", {"defaultAction": "Sometimes"}),
                  method="PUT", existing=None, strict=True)


@pytest.mark.parametrize(("type_name", "api", "existing", "change"), [
    ("Microsoft.DBforPostgreSQL/flexibleServers", "2024-08-01",
     {"properties": {"administratorLogin": "cfadmin", "availabilityZone": "1"}},
     {"location": LOC, "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
      "properties": {"administratorLogin": "someoneelse"}}),
    ("Microsoft.DBforPostgreSQL/flexibleServers", "2024-08-01",
     {"properties": {"backup": {"geoRedundantBackup": "Disabled"}}},
     {"location": LOC, "sku": {"name": "Standard_D2ds_v5", "tier": "GeneralPurpose"},
      "properties": {"backup": {"geoRedundantBackup": "Enabled"}}}),
    ("Microsoft.Cache/redis", "2024-11-01", {"properties": {"staticIP": "10.0.1.4"}},
     {"location": LOC, "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1},
                                      "staticIP": "10.0.1.5"}}),
])
def test_create_only_property_cannot_change(type_name: str, api: str, existing: dict[str, Any],
                                            change: dict[str, Any]) -> None:
    schemas = Schemas()
    with pytest.raises(ArmError) as err:
        schemas.check(type_name, api, change, method="PUT", existing=existing, strict=True)
    assert err.value.status == 400
    assert err.value.to_body()["error"]["code"] == "PropertyChangeNotAllowed"
    # The same value again, or leaving it out, is fine.
    same = copy.deepcopy(change)
    for path in schemas.facts_for(type_name, api).create_only:  # type: ignore[union-attr]
        found, value = True, existing
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                found = False
                break
            value = value[part]
        if found:
            same = _set(same, path, value)
    schemas.check(type_name, api, same, method="PUT", existing=existing, strict=True)


def test_changed_administrator_login_is_refused_over_http(emulator: Any, rg: str,
                                                          unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    url = (f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/"
           f"{unique('pgco-')}?api-version=2024-08-01")
    body = {"location": LOC, "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
            "properties": {"administratorLogin": "cfadmin", "administratorLoginPassword": "Str0ng-Passw0rd!",
                           "version": "16", "storage": {"storageSizeGB": 32}}}
    assert arm.call("PUT", url, body)[0] == 202
    status, answer, _ = arm.call("PUT", url, _set(body, "properties.administratorLogin", "intruder"))
    assert status == 400
    assert answer["error"]["code"] == "PropertyChangeNotAllowed"
    assert "administratorLogin" in answer["error"]["message"]


# --- outside strict mode --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lenient() -> Iterator[EmulatorProcess]:
    tmp = Path(tempfile.mkdtemp(prefix="cf-emu-lenient-"))
    proc = EmulatorProcess(tmp, postgres="off", strict_schema=False).start()
    try:
        yield proc
    finally:
        proc.stop()


def test_unknown_property_is_dropped_as_azure_does_unless_strict(lenient: EmulatorProcess) -> None:
    arm = lenient.arm()
    group = f"/subscriptions/{SUB}/resourceGroups/rg-lenient"
    assert arm.call("PUT", f"{group}?api-version=2024-03-01", {"location": LOC})[0] in (200, 201)
    url = f"{group}/providers/Microsoft.Network/virtualNetworks/v1?api-version=2024-05-01"
    body = {"location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.3.0.0/16"]},
                                            "enableDdosProtectionn": True}}
    status, answer, _ = arm.call("PUT", url, body)
    assert status in (200, 201), answer
    assert "enableDdosProtectionn" not in arm.call("GET", url)[1]["properties"], \
        "the misspelled setting is silently dropped, so a re-run sees the difference"
    # Wrong types are refused in either mode.
    status, answer, _ = arm.call("PUT", url, _set(body, "properties.enableVmProtection", "yes"))
    assert (status, answer["error"]["code"]) == (400, "InvalidRequestContent")
    lenient.set_options(strict_schema=True)
    try:
        status, answer, _ = arm.call("PUT", url, body)
        assert (status, answer["error"]["code"]) == (400, "InvalidRequestContent")
        assert "enableDdosProtectionn" in answer["error"]["message"]
    finally:
        lenient.set_options(strict_schema=False)


def test_api_versions_without_facts_are_not_checked(lenient: EmulatorProcess) -> None:
    lenient.set_options(strict_schema=True)
    try:
        arm = lenient.arm()
        status, answer, _ = arm.call("PUT", f"/subscriptions/{SUB}/resourceGroups/rg-nofacts?api-version=2025-04-01",
                                     {"location": LOC, "madeUp": 1})
        assert status in (200, 201), answer
    finally:
        lenient.set_options(strict_schema=False)
