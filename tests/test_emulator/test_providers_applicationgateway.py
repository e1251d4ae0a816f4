"""Public IP addresses, WAF policies and Application Gateways (WAF_v2) through the ARM REST API: Azure's rules for
SKUs, autoscale, the gateway's own subnet, the WAF policy association, a Key Vault certificate read with the
gateway's user-assigned identity, and references between the gateway's parts."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.emulator

API = "2024-05-01"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"


class Arm:
    def __init__(self, emulator: Any, rg: str) -> None:
        self.arm = emulator.arm()
        self.rg_id = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}"

    def id(self, path: str) -> str:
        return f"{self.rg_id}/providers/{path}"

    def put(self, path: str, body: dict[str, Any], api: str = API) -> tuple[int, dict[str, Any]]:
        rid = self.id(path)
        status, answer, _ = self.arm.call("PUT", f"{rid}?api-version={api}", body)
        if status in (200, 201):
            deadline = time.monotonic() + 60
            while str(answer.get("properties", {}).get("provisioningState", "Succeeded")) not in ("Succeeded", "Failed"):
                assert time.monotonic() < deadline, answer
                time.sleep(0.2)
                answer = self.arm.call("GET", f"{rid}?api-version={api}")[1]
        return status, answer

    def ok(self, path: str, body: dict[str, Any], api: str = API) -> dict[str, Any]:
        status, answer = self.put(path, body, api)
        assert status in (200, 201), answer
        return answer

    def refused(self, path: str, body: dict[str, Any]) -> tuple[str, str]:
        status, answer = self.put(path, body)
        assert status == 400, answer
        return answer["error"]["code"], answer["error"]["message"]


@pytest.fixture(scope="module")
def edge(emulator: Any, resource_client: Any) -> dict[str, Any]:
    """A network with a gateway subnet, a Standard address, a WAF policy, an identity allowed to read the certificate's
    secret in an RBAC vault that admits only the gateway's subnet: what a gateway needs."""
    rg = f"rg-agw-{uuid.uuid4().hex[:6]}"
    resource_client.resource_groups.create_or_update(rg, {"location": "westeurope"})
    arm = Arm(emulator, rg)
    arm.ok("Microsoft.Network/virtualNetworks/vnet", {"location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}, "subnets": [
            {"name": "appgw", "properties": {"addressPrefix": "10.9.6.0/24",
                                             "serviceEndpoints": [{"service": "Microsoft.KeyVault"}]}},
            {"name": "other", "properties": {"addressPrefix": "10.9.7.0/24"}}]}})
    arm.ok("Microsoft.Network/publicIPAddresses/pip", {"location": "westeurope", "zones": ["1", "2", "3"],
                                                      "sku": {"name": "Standard", "tier": "Regional"},
                                                      "properties": {"publicIPAllocationMethod": "Static"}})
    arm.ok("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/waf", waf_policy())
    identity = arm.ok("Microsoft.ManagedIdentity/userAssignedIdentities/id-agw", {"location": "westeurope"},
                      api="2023-01-31")
    stranger = arm.ok("Microsoft.ManagedIdentity/userAssignedIdentities/id-other", {"location": "westeurope"},
                      api="2023-01-31")
    from azure.mgmt.keyvault import KeyVaultManagementClient

    vault_name = f"kv{uuid.uuid4().hex[:12]}"
    subnet_id = arm.id("Microsoft.Network/virtualNetworks/vnet/subnets/appgw")
    vault = emulator.mgmt_client(KeyVaultManagementClient).vaults.begin_create_or_update(rg, vault_name, {
        "location": "westeurope", "properties": {
            "tenantId": emulator.env["AZURE_TENANT"], "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices",
                            "virtualNetworkRules": [{"id": subnet_id}]}}}).result()
    from tests.test_emulator.test_keyvault_routing import _assign, _object_id, _secrets

    _assign(emulator, vault.id, SECRETS_OFFICER, _object_id(emulator.credential()))
    _secrets(emulator, vault).set_secret("gateway-tls", "MIIpfx-stand-in")
    _assign(emulator, f"{vault.id}/secrets/gateway-tls", SECRETS_USER, identity["properties"]["principalId"])
    return {"arm": arm, "vault_uri": vault.properties.vault_uri, "identity": identity["id"],
            "stranger": stranger["id"], "vault_id": vault.id}


def waf_policy(**settings: Any) -> dict[str, Any]:
    return {"location": "westeurope", "properties": {
        "policySettings": {"state": "Enabled", "mode": "Prevention", **settings},
        "managedRules": {"managedRuleSets": [{"ruleSetType": "OWASP", "ruleSetVersion": "3.2"}]},
        "customRules": [{"name": "RateLimit", "priority": 10, "ruleType": "RateLimitRule", "action": "Block",
                         "rateLimitDuration": "OneMin", "rateLimitThreshold": 600,
                         "groupByUserSession": [{"groupByVariables": [{"variableName": "ClientAddr"}]}],
                         "matchConditions": [{"matchVariables": [{"variableName": "RemoteAddr"}], "operator": "IPMatch",
                                              "negationConditon": True, "matchValues": ["255.255.255.255/32"]}]}]}}


def gateway(edge: dict[str, Any], name: str = "agw") -> dict[str, Any]:
    arm = edge["arm"]
    gid = arm.id(f"Microsoft.Network/applicationGateways/{name}")

    def ref(collection: str, item: str) -> dict[str, str]:
        return {"id": f"{gid}/{collection}/{item}"}

    return {"location": "westeurope", "zones": ["1", "2", "3"],
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {edge["identity"]: {}}},
            "properties": {
                "sku": {"name": "WAF_v2", "tier": "WAF_v2"},
                "autoscaleConfiguration": {"minCapacity": 2, "maxCapacity": 10},
                "firewallPolicy": {"id": arm.id("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/waf")},
                "gatewayIPConfigurations": [{"name": "gw", "properties": {
                    "subnet": {"id": arm.id("Microsoft.Network/virtualNetworks/vnet/subnets/appgw")}}}],
                "frontendIPConfigurations": [{"name": "public", "properties": {
                    "publicIPAddress": {"id": arm.id("Microsoft.Network/publicIPAddresses/pip")}}}],
                "frontendPorts": [{"name": "https", "properties": {"port": 443}},
                                  {"name": "http", "properties": {"port": 80}}],
                "sslCertificates": [{"name": "tls", "properties": {
                    "keyVaultSecretId": f"{edge['vault_uri']}secrets/gateway-tls"}}],
                "httpListeners": [
                    {"name": "https", "properties": {"frontendIPConfiguration": ref("frontendIPConfigurations", "public"),
                                                     "frontendPort": ref("frontendPorts", "https"), "protocol": "Https",
                                                     "sslCertificate": ref("sslCertificates", "tls")}},
                    {"name": "http", "properties": {"frontendIPConfiguration": ref("frontendIPConfigurations", "public"),
                                                    "frontendPort": ref("frontendPorts", "http"), "protocol": "Http"}}],
                "backendAddressPools": [{"name": "apps", "properties": {"backendAddresses": [{"ipAddress": "10.9.1.4"}]}}],
                "probes": [{"name": "apps", "properties": {"protocol": "Https", "host": "app.example", "path": "/healthz",
                                                           "interval": 30, "timeout": 30, "unhealthyThreshold": 3}}],
                "backendHttpSettingsCollection": [{"name": "apps", "properties": {
                    "port": 443, "protocol": "Https", "cookieBasedAffinity": "Disabled", "probe": ref("probes", "apps")}}],
                "redirectConfigurations": [{"name": "to-https", "properties": {
                    "redirectType": "Permanent", "targetListener": ref("httpListeners", "https")}}],
                "requestRoutingRules": [
                    {"name": "https", "properties": {"ruleType": "Basic", "priority": 100,
                                                     "httpListener": ref("httpListeners", "https"),
                                                     "backendAddressPool": ref("backendAddressPools", "apps"),
                                                     "backendHttpSettings": ref("backendHttpSettingsCollection", "apps")}},
                    {"name": "redirect", "properties": {"ruleType": "Basic", "priority": 200,
                                                        "httpListener": ref("httpListeners", "http"),
                                                        "redirectConfiguration": ref("redirectConfigurations", "to-https")}}],
            }}


def test_public_ip_is_static_standard_with_an_address_and_its_zones_stay(edge: dict[str, Any]) -> None:
    arm = edge["arm"]
    _status, pip = arm.put("Microsoft.Network/publicIPAddresses/pip", {
        "location": "westeurope", "zones": ["1", "2", "3"], "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {"publicIPAllocationMethod": "Static"}})
    assert pip["properties"]["ipAddress"] and pip["properties"]["publicIPAddressVersion"] == "IPv4"
    code, _ = arm.refused("Microsoft.Network/publicIPAddresses/pip", {
        "location": "westeurope", "zones": ["1"], "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static"}})
    assert code == "ResourceAvailabilityZonesCannotBeModified"
    code, _ = arm.refused("Microsoft.Network/publicIPAddresses/dyn", {
        "location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Dynamic"}})
    assert code == "StandardSkuPublicIPAddressesMustBeStatic"


@pytest.mark.parametrize(("change", "code"), [
    (lambda p: p["policySettings"].update(mode="Block"), "InvalidWafPolicyMode"),
    (lambda p: p["managedRules"].update(managedRuleSets=[]), "ApplicationGatewayFirewallPolicyMustHaveManagedRuleSet"),
    (lambda p: p["managedRules"].update(managedRuleSets=[{"ruleSetType": "OWASP", "ruleSetVersion": "2.2.9"}]),
     "ApplicationGatewayFirewallRuleSetNotSupported"),
    (lambda p: p["customRules"][0].pop("rateLimitThreshold"), "ApplicationGatewayFirewallRateLimitRuleInvalid"),
    (lambda p: p["customRules"].append({**p["customRules"][0], "name": "Twin"}),
     "ApplicationGatewayFirewallCustomRulePriorityNotUnique"),
    (lambda p: p["customRules"][0].update(matchConditions=[]), "ApplicationGatewayFirewallCustomRuleMustHaveMatchConditions"),
])
def test_waf_policy_rules(edge: dict[str, Any], change: Callable[[dict[str, Any]], Any], code: str) -> None:
    body = waf_policy()
    change(body["properties"])
    assert edge["arm"].refused("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/bad", body)[0] == code


def test_waf_v2_gateway_with_its_policy_and_a_key_vault_certificate(edge: dict[str, Any]) -> None:
    arm = edge["arm"]
    created = arm.ok("Microsoft.Network/applicationGateways/agw", gateway(edge))
    props = created["properties"]
    assert props["operationalState"] == "Running" and props["provisioningState"] == "Succeeded"
    listener = props["httpListeners"][0]
    assert listener["id"] == f"{created['id']}/httpListeners/https" and listener["etag"]
    policy = arm.arm.call("GET", arm.id("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/waf")
                          + f"?api-version={API}")[1]
    assert policy["properties"]["applicationGateways"] == [{"id": created["id"]}]
    pip = arm.arm.call("GET", arm.id("Microsoft.Network/publicIPAddresses/pip") + f"?api-version={API}")[1]
    assert pip["properties"]["ipConfiguration"]["id"] == f"{created['id']}/frontendIPConfigurations/public"
    # What the gateway uses cannot go while it does.
    for used in ("Microsoft.Network/publicIPAddresses/pip",
                 "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/waf"):
        status, answer, _ = arm.arm.call("DELETE", f"{arm.id(used)}?api-version={API}")
        assert status == 400 and answer["error"]["code"].endswith("InUse"), answer
    # Its subnet holds application gateways only: no private endpoint enters it.
    code, _ = arm.refused("Microsoft.Network/privateEndpoints/pe", {"location": "westeurope", "properties": {
        "subnet": {"id": arm.id("Microsoft.Network/virtualNetworks/vnet/subnets/appgw")},
        "privateLinkServiceConnections": [{"name": "pe", "properties": {"privateLinkServiceId": edge["vault_id"],
                                                                         "groupIds": ["vault"]}}]}})
    assert code == "SubnetUsedByApplicationGateway"
    # A second write of the same body changes nothing Azure reports.
    again = arm.ok("Microsoft.Network/applicationGateways/agw", gateway(edge))
    assert again["properties"]["resourceGuid"] == props["resourceGuid"]


def _mutate(edge: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    body = copy.deepcopy(gateway(edge, "agw-bad"))
    change(body)
    return body


@pytest.mark.parametrize(("change", "code"), [
    (lambda b: b["properties"].pop("firewallPolicy"), "ApplicationGatewayWafV2RequiresFirewallPolicy"),
    (lambda b: b["properties"]["sku"].update(name="Standard_v2", tier="Standard_v2"),
     "ApplicationGatewayFirewallPolicyRequiresWafSku"),
    (lambda b: b["properties"]["sku"].update(name="WAF_Medium", tier="WAF"), "ApplicationGatewaySkuNotSupported"),
    (lambda b: b["properties"]["autoscaleConfiguration"].update(minCapacity=5, maxCapacity=3),
     "ApplicationGatewayAutoscaleMaxCapacityInvalid"),
    (lambda b: b["properties"]["autoscaleConfiguration"].update(minCapacity=126),
     "ApplicationGatewayAutoscaleMinCapacityOutOfRange"),
    (lambda b: b["properties"]["httpListeners"][0]["properties"].pop("sslCertificate"),
     "ApplicationGatewayHttpsListenerMustReferenceSslCert"),
    (lambda b: b["properties"]["requestRoutingRules"][0]["properties"].pop("priority"),
     "ApplicationGatewayRequestRoutingRulePriorityCannotBeEmpty"),
    (lambda b: b["properties"]["requestRoutingRules"][1]["properties"].update(priority=100),
     "ApplicationGatewayRequestRoutingRulesWithSamePriority"),
    (lambda b: b["properties"]["backendHttpSettingsCollection"][0]["properties"]["probe"].update(
        id=b["properties"]["backendHttpSettingsCollection"][0]["properties"]["probe"]["id"] + "-missing"),
     "InvalidResourceReference"),
    (lambda b: b["properties"]["gatewayIPConfigurations"][0]["properties"]["subnet"].update(
        id=b["properties"]["gatewayIPConfigurations"][0]["properties"]["subnet"]["id"][:-5] + "nope"),
     "InvalidResourceReference"),
    (lambda b: b.pop("identity"), "ApplicationGatewayKeyVaultSecretException"),
    (lambda b: b["properties"]["sslCertificates"][0]["properties"].update(
        keyVaultSecretId=b["properties"]["sslCertificates"][0]["properties"]["keyVaultSecretId"] + "-missing"),
     "ApplicationGatewayKeyVaultSecretException"),
])
def test_gateways_azure_refuses(edge: dict[str, Any], change: Callable[[dict[str, Any]], Any], code: str) -> None:
    assert edge["arm"].refused("Microsoft.Network/applicationGateways/agw-bad", _mutate(edge, change))[0] == code


def test_key_vault_certificate_needs_an_identity_that_may_read_it(edge: dict[str, Any]) -> None:
    body = _mutate(edge, lambda b: b.update(identity={"type": "UserAssigned",
                                                      "userAssignedIdentities": {edge["stranger"]: {}}}))
    code, message = edge["arm"].refused("Microsoft.Network/applicationGateways/agw-bad", body)
    assert code == "ApplicationGatewayKeyVaultSecretException" and "may not read secret gateway-tls" in message


def test_basic_public_ip_and_a_subnet_shared_with_an_endpoint_are_refused(edge: dict[str, Any]) -> None:
    arm = edge["arm"]
    arm.ok("Microsoft.Network/publicIPAddresses/basic", {"location": "westeurope", "sku": {"name": "Basic"},
                                                        "properties": {"publicIPAllocationMethod": "Static"}})
    body = _mutate(edge, lambda b: b["properties"]["frontendIPConfigurations"][0]["properties"].update(
        publicIPAddress={"id": arm.id("Microsoft.Network/publicIPAddresses/basic")}))
    body.pop("zones")
    assert arm.refused("Microsoft.Network/applicationGateways/agw-bad", body)[0] == \
        "ApplicationGatewayV2SkuPublicIpRequiresStandardSku"
    arm.ok("Microsoft.Network/privateEndpoints/pe-other", {"location": "westeurope", "properties": {
        "subnet": {"id": arm.id("Microsoft.Network/virtualNetworks/vnet/subnets/other")},
        "privateLinkServiceConnections": [{"name": "pe", "properties": {"privateLinkServiceId": edge["vault_id"],
                                                                         "groupIds": ["vault"]}}]}})
    body = _mutate(edge, lambda b: b["properties"]["gatewayIPConfigurations"][0]["properties"].update(
        subnet={"id": arm.id("Microsoft.Network/virtualNetworks/vnet/subnets/other")}))
    assert arm.refused("Microsoft.Network/applicationGateways/agw-bad", body)[0] == \
        "ApplicationGatewaySubnetCannotBeUsedByOtherResources"


# --- TLS (SSL) policies ----------------------------------------------------------------------------------------------
def _with_tls(edge: dict[str, Any], policy: dict[str, Any] | None, *profiles: dict[str, Any],
              name: str = "agw-bad") -> dict[str, Any]:
    """The gateway with `policy` as its own TLS policy (none when None) and one SSL profile per policy given."""
    body = copy.deepcopy(gateway(edge, name))
    if policy is not None:
        body["properties"]["sslPolicy"] = policy
    if profiles:
        body["properties"]["sslProfiles"] = [{"name": f"profile{i}", "properties": {"sslPolicy": p}}
                                             for i, p in enumerate(profiles)]
    return body


PREDEFINED_2022S = {"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"}
CUSTOM_TLS12 = {"policyType": "Custom", "minProtocolVersion": "TLSv1_2",
                "cipherSuites": ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}


@pytest.mark.parametrize(("policy", "profiles", "code"), [
    ({"policyName": "AppGwSslPolicy20220101S"}, (), "ApplicationGatewaySslPolicyPropertyPolicyTypeRequired"),
    ({**PREDEFINED_2022S, "minProtocolVersion": "TLSv1_2"}, (),
     "ApplicationGatewaySslPolicyPropertyNotSupportedForPolicyType"),
    ({"policyType": "Predefined"}, (), "ApplicationGatewaySslPolicyPropertyPolicyNameRequired"),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20230101"}, (),
     "ApplicationGatewaySslPolicyNameNotSupported"),
    # Retired with TLS 1.0 and 1.1 on 31 August 2025.
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"}, (),
     "ApplicationGatewayDeprecatedTlsVersionUsedInSslPolicy"),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20170401"}, (),
     "ApplicationGatewayDeprecatedTlsVersionUsedInSslPolicy"),
    ({**CUSTOM_TLS12, "minProtocolVersion": "TLSv1_1"}, (), "ApplicationGatewayDeprecatedTlsVersionUsedInSslPolicy"),
    ({**CUSTOM_TLS12, "cipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"]}, (),
     "ApplicationGatewaySslPolicyCipherSuiteNotSupported"),
    ({**CUSTOM_TLS12, "policyName": "AppGwSslPolicy20170401S"}, (),
     "ApplicationGatewaySslPolicyPropertyNotSupportedForPolicyType"),
    # TLS 1.3 and its suites come with CustomV2 only.
    ({**CUSTOM_TLS12, "minProtocolVersion": "TLSv1_3"}, (), "ApplicationGatewaySslPolicyMinProtocolVersionNotSupported"),
    ({**CUSTOM_TLS12, "cipherSuites": ["TLS_AES_128_GCM_SHA256"]}, (), "ApplicationGatewaySslPolicyCipherSuiteNotSupported"),
    ({"policyType": "CustomV2", "cipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}, (),
     "ApplicationGatewaySslPolicyPropertyMinProtocolVersionRequired"),
    ({"policyType": "CustomV2", "minProtocolVersion": "TLSv1_2"}, (),
     "ApplicationGatewaySslPolicyPropertyCipherSuitesRequired"),
    ({"policyType": "CustomV2", "minProtocolVersion": "TLSv1_2", "cipherSuites": ["TLS_ECDHE_RSA_WITH_RC4_128_SHA"]},
     (), "ApplicationGatewaySslPolicyCipherSuiteNotSupported"),
    # An SSL profile is checked the same way, and older and newer policies do not mix on one gateway.
    (PREDEFINED_2022S, ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20150501"},),
     "ApplicationGatewayDeprecatedTlsVersionUsedInSslPolicy"),
    (PREDEFINED_2022S, (CUSTOM_TLS12,), "ApplicationGatewaySslPolicyMisMatch"),
    ({"policyType": "Predefined", "policyName": "AppGwSslPolicy20170401S"}, (PREDEFINED_2022S,),
     "ApplicationGatewaySslPolicyMisMatch"),
    # Without a policy of its own the gateway uses its default, AppGwSslPolicy20220101: a newer one.
    (None, (CUSTOM_TLS12,), "ApplicationGatewaySslPolicyMisMatch"),
])
def test_tls_policies_azure_refuses(edge: dict[str, Any], policy: dict[str, Any] | None,
                                    profiles: tuple[dict[str, Any], ...], code: str) -> None:
    assert edge["arm"].refused("Microsoft.Network/applicationGateways/agw-bad", _with_tls(edge, policy, *profiles))[0] \
        == code


def test_tls_policies_azure_takes_and_the_default_it_reports(edge: dict[str, Any]) -> None:
    arm = edge["arm"]
    path = "Microsoft.Network/applicationGateways/agw-tls"
    # What the collection plans: the strict 2022 predefined policy, answered as sent; a client's value for the
    # read-only default is ignored, the gateway reports AppGwSslPolicy20220101 (created with API version >= 2023-02-01).
    body = _with_tls(edge, PREDEFINED_2022S, name="agw-tls")
    body["properties"]["defaultPredefinedSslPolicy"] = "AppGwSslPolicy20170401S"
    props = arm.ok(path, body)["properties"]
    assert props["sslPolicy"] == PREDEFINED_2022S
    assert props["defaultPredefinedSslPolicy"] == "AppGwSslPolicy20220101"
    # CustomV2 with TLS 1.3 at least needs no cipher suite listed; a profile of the same generation sits beside it.
    tls13 = {"policyType": "CustomV2", "minProtocolVersion": "TLSv1_3"}
    props = arm.ok(path, _with_tls(edge, tls13, PREDEFINED_2022S, name="agw-tls"))["properties"]
    assert props["sslPolicy"] == tls13 and props["sslProfiles"][0]["properties"]["sslPolicy"] == PREDEFINED_2022S
    # Older-generation policies that allow TLS 1.2 only are still taken together.
    props = arm.ok(path, _with_tls(edge, {"policyType": "Predefined", "policyName": "AppGwSslPolicy20170401S"},
                                   CUSTOM_TLS12, name="agw-tls"))["properties"]
    assert props["sslProfiles"][0]["properties"]["sslPolicy"] == CUSTOM_TLS12
    assert props["defaultPredefinedSslPolicy"] == "AppGwSslPolicy20220101"


def test_available_ssl_options_say_what_each_predefined_policy_means(emulator: Any) -> None:
    """ApplicationGateways_ListAvailableSslOptions, _ListAvailableSslPredefinedPolicies and _GetSslPredefinedPolicy:
    the predefined policies with their minimum protocol and cipher suites as the TLS policy overview's table gives
    them, and the default policy of the API version asked with."""
    arm = emulator.arm()
    base = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/providers/Microsoft.Network/" \
           "applicationGatewayAvailableSslOptions/default"
    status, options, _ = arm.call("GET", f"{base}?api-version={API}")
    assert status == 200, options
    props = options["properties"]
    assert props["defaultPolicy"] == "AppGwSslPolicy20220101"
    assert [p["id"].rsplit("/", 1)[1] for p in props["predefinedPolicies"]] == [
        "AppGwSslPolicy20150501", "AppGwSslPolicy20170401", "AppGwSslPolicy20170401S", "AppGwSslPolicy20220101",
        "AppGwSslPolicy20220101S"]
    assert props["availableCipherSuites"][:2] == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]
    assert len(props["availableCipherSuites"]) == 30 and props["availableProtocols"][-1] == "TLSv1_3"
    assert arm.call("GET", f"{base}?api-version=2022-07-01")[1]["properties"]["defaultPolicy"] == \
        "AppGwSslPolicy20150501"
    status, listed, _ = arm.call("GET", f"{base}/predefinedPolicies?api-version={API}")
    assert status == 200, listed
    by_name = {p["name"]: p["properties"] for p in listed["value"]}
    assert {n: p["minProtocolVersion"] for n, p in by_name.items()} == {
        "AppGwSslPolicy20150501": "TLSv1_0", "AppGwSslPolicy20170401": "TLSv1_1", "AppGwSslPolicy20170401S": "TLSv1_2",
        "AppGwSslPolicy20220101": "TLSv1_2", "AppGwSslPolicy20220101S": "TLSv1_2"}
    assert by_name["AppGwSslPolicy20220101S"]["cipherSuites"] == [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    assert len(by_name["AppGwSslPolicy20150501"]["cipherSuites"]) == 28
    assert "TLS_RSA_WITH_AES_128_GCM_SHA256" in by_name["AppGwSslPolicy20170401S"]["cipherSuites"]
    assert "TLS_RSA_WITH_AES_128_GCM_SHA256" not in by_name["AppGwSslPolicy20220101"]["cipherSuites"]
    status, one, _ = arm.call("GET", f"{base}/predefinedPolicies/AppGwSslPolicy20220101?api-version={API}")
    assert status == 200 and one["properties"] == by_name["AppGwSslPolicy20220101"], one
    assert arm.call("GET", f"{base}/predefinedPolicies/AppGwSslPolicy20230101?api-version={API}")[0] == 404
    # Read-only: nothing can be written there.
    assert arm.call("PUT", f"{base}/predefinedPolicies/Mine?api-version={API}", {"properties": {}})[0] >= 400
