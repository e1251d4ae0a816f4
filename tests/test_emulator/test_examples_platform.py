"""Microsoft's example requests for the application platform's types, accepted by the emulator in strict-schema mode.

Each test sends a request with the shape of one of Microsoft's examples in Azure/azure-rest-api-specs (every property
the example sets, with the same nesting and the same kinds of values), with our own names, IDs and values and the
resources it references created first, and checks that the response carries what the example's response documents
for what the request set (`examples.assert_shape` against a skeleton written here). The shared folder holds no example
for these types and CI has no network: the examples are cited by path and commit, never copied.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.test_emulator.examples import assert_shape, self_signed
from tests.test_emulator.test_providers_applicationgateway import API, SECRETS_OFFICER, SECRETS_USER, Arm

pytestmark = pytest.mark.emulator

APP_API = "2025-07-01"
LOCATION = "westeurope"
PFX_PASSWORD = "pfx-pass-4711"
S, N, B = "", 0, True  # kinds of values in the response skeletons: a string, a number, a boolean


@pytest.fixture(scope="module")
def platform(emulator: Any, resource_client: Any) -> dict[str, Any]:
    """What the examples reference, made first: a network with a gateway subnet (Key Vault service endpoint) and a
    delegated Container Apps subnet, a Standard static address, a user-assigned identity allowed to read a
    certificate's secret in a vault that admits the gateway's subnet, a Log Analytics workspace and an Application
    Insights component."""
    rg = f"rg-examples-{uuid.uuid4().hex[:6]}"
    resource_client.resource_groups.create_or_update(rg, {"location": LOCATION})
    arm = Arm(emulator, rg)
    arm.ok("Microsoft.Network/virtualNetworks/vnet-examples", {"location": LOCATION, "properties": {
        "addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}, "subnets": [
            {"name": "snet-agw", "properties": {"addressPrefix": "10.20.6.0/24",
                                                "serviceEndpoints": [{"service": "Microsoft.KeyVault"}]}},
            {"name": "snet-apps", "properties": {"addressPrefix": "10.20.8.0/23", "delegations": [
                {"name": "apps", "properties": {"serviceName": "Microsoft.App/environments"}}]}}]}})
    arm.ok("Microsoft.Network/publicIPAddresses/pip-agw", {"location": LOCATION, "sku": {"name": "Standard"},
                                                          "properties": {"publicIPAllocationMethod": "Static"}})
    identity = arm.ok("Microsoft.ManagedIdentity/userAssignedIdentities/id-examples", {"location": LOCATION},
                      api="2023-01-31")
    from azure.mgmt.keyvault import KeyVaultManagementClient

    from tests.test_emulator.test_keyvault_routing import _assign, _object_id, _secrets

    vault = emulator.mgmt_client(KeyVaultManagementClient).vaults.begin_create_or_update(rg, f"kv{uuid.uuid4().hex[:12]}", {
        "location": LOCATION, "properties": {
            "tenantId": emulator.env["AZURE_TENANT"], "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": True,
            "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "virtualNetworkRules": [
                {"id": arm.id("Microsoft.Network/virtualNetworks/vnet-examples/subnets/snet-agw")}]}}}).result()
    _assign(emulator, vault.id, SECRETS_OFFICER, _object_id(emulator.credential()))
    _secrets(emulator, vault).set_secret("agw-tls", self_signed("kv.examples.test")[0],
                                         content_type="application/x-pkcs12")
    _assign(emulator, f"{vault.id}/secrets/agw-tls", SECRETS_USER, identity["properties"]["principalId"])
    workspace = arm.ok("Microsoft.OperationalInsights/workspaces/log-examples", {"location": LOCATION},
                       api="2023-09-01")
    keys = arm.arm.call("POST", f"{workspace['id']}/sharedKeys?api-version=2023-09-01")[1]
    component = arm.ok("Microsoft.Insights/components/appi-examples", {
        "location": LOCATION, "kind": "web", "properties": {"Application_Type": "web",
                                                            "WorkspaceResourceId": workspace["id"]}},
        api="2020-02-02")
    return {"arm": arm, "identity": identity, "secret_id": f"{vault.properties.vault_uri}secrets/agw-tls",
            "workspace": workspace, "shared_key": keys["primarySharedKey"], "component": component}


def _accepted(arm: Arm, path: str, request: dict[str, Any], api: str = API) -> dict[str, Any]:
    status, answer = arm.put(path, request, api)
    assert status in (200, 201), answer
    return answer


# --- Microsoft.Network/publicIPAddresses ----------------------------------------------------------------------------
def test_public_ip_defaults_example(platform: dict[str, Any]) -> None:
    """PublicIpAddressCreateDefaults.json: a location only. Its response (written before the Basic SKU was retired on
    30 September 2025) shows Basic and Dynamic; the emulator creates what Azure creates now, a Standard address, which
    is always Static (a rule it enforces), so only the kinds of the defaults are compared.
    Azure/azure-rest-api-specs@118093527e37893ae10b10d2e08291b6bdd7cf8d
    specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/examples/PublicIpAddressCreateDefaults.json"""
    request = {"location": LOCATION}
    answer = _accepted(platform["arm"], "Microsoft.Network/publicIPAddresses/pip-defaults", request)
    documented = {"id": S, "name": S, "type": S, "location": S, "sku": {"name": S}, "properties": {
        "provisioningState": S, "publicIPAddressVersion": S, "publicIPAllocationMethod": S, "idleTimeoutInMinutes": N}}
    assert_shape(answer, documented, request, also=frozenset(
        {"sku", "properties", "publicIPAddressVersion", "publicIPAllocationMethod", "idleTimeoutInMinutes"}))
    assert (answer["properties"]["publicIPAddressVersion"], answer["properties"]["idleTimeoutInMinutes"]) == ("IPv4", 4)


def test_public_ip_customized_values_example(platform: dict[str, Any]) -> None:
    """PublicIpAddressCreateCustomizedValues.json: a Standard Global address, Static, IPv4, a 10-minute idle timeout. The
    example's `zones` sits beside the request body (a parameter of its own, not part of the PUT), so it is not sent.
    Azure/azure-rest-api-specs@ea83a2a3e90ca3f0420e9d0ef55a811523541aba
    specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/examples/PublicIpAddressCreateCustomizedValues.json"""
    request = {"location": LOCATION, "sku": {"name": "Standard", "tier": "Global"}, "properties": {
        "publicIPAllocationMethod": "Static", "idleTimeoutInMinutes": 10, "publicIPAddressVersion": "IPv4"}}
    answer = _accepted(platform["arm"], "Microsoft.Network/publicIPAddresses/pip-custom", request)
    documented = {"id": S, "name": S, "type": S, "location": S, "sku": {"name": S, "tier": S}, "properties": {
        "provisioningState": S, "publicIPAddressVersion": S, "publicIPAllocationMethod": S, "idleTimeoutInMinutes": N}}
    assert_shape(answer, documented, request)
    assert answer["sku"] == {"name": "Standard", "tier": "Global"}
    assert answer["properties"]["idleTimeoutInMinutes"] == 10 and answer["properties"]["ipAddress"]


def test_public_ip_dns_example(platform: dict[str, Any]) -> None:
    """PublicIpAddressCreateDns.json: a DNS name label, for which Azure answers the address's FQDN in the region's
    cloudapp.azure.com zone (the example's response names westus for an eastus address: the region is the address's).
    Azure/azure-rest-api-specs@a7c9826346546150e6bc3b05cab48c3f87b04df8
    specification/network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/PublicIpAddressCreateDns.json
    (no 2024-05-01 copy was at hand)."""
    label = f"pip-{uuid.uuid4().hex[:8]}"
    request = {"location": LOCATION, "properties": {"dnsSettings": {"domainNameLabel": label}}}
    answer = _accepted(platform["arm"], "Microsoft.Network/publicIPAddresses/pip-dns", request)
    documented = {"id": S, "name": S, "type": S, "location": S, "properties": {
        "provisioningState": S, "dnsSettings": {"domainNameLabel": S, "fqdn": S}}}
    assert_shape(answer, documented, request, also=frozenset({"fqdn"}))
    assert answer["properties"]["dnsSettings"] == {"domainNameLabel": label,
                                                   "fqdn": f"{label}.{LOCATION}.cloudapp.azure.com"}
    # The label is the address's name in a shared zone: a second address in the region cannot take it.
    status, refused = platform["arm"].put("Microsoft.Network/publicIPAddresses/pip-dns-twin", request)
    assert status == 400 and refused["error"]["code"] == "DnsRecordInUse", refused


# --- Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies ---------------------------------------------
def _waf_request() -> dict[str, Any]:
    def variable(name: str, selector: str | None = None) -> dict[str, Any]:
        return {"variableName": name, "selector": selector}

    def owasp(*groups: dict[str, Any]) -> dict[str, Any]:
        return {"ruleSetType": "OWASP", "ruleSetVersion": "3.2", **({"ruleGroups": list(groups)} if groups else {})}

    return {"location": LOCATION, "properties": {
        "policySettings": {"jsChallengeCookieExpirationInMins": 45, "logScrubbing": {"state": "Enabled", "scrubbingRules": [
            {"state": "Enabled", "matchVariable": "RequestArgNames", "selectorMatchOperator": "Equals",
             "selector": "password"},
            {"state": "Enabled", "matchVariable": "RequestIPAddress", "selectorMatchOperator": "EqualsAny"}]}},
        "managedRules": {
            "managedRuleSets": [
                {"ruleSetType": "OWASP", "ruleSetVersion": "3.2", "ruleGroupOverrides": [
                    {"ruleGroupName": "REQUEST-942-APPLICATION-ATTACK-SQLI", "rules": [
                        {"ruleId": "942100", "state": "Enabled", "action": "Log"},
                        {"ruleId": "942110", "state": "Disabled", "action": "AnomalyScoring"}]}]},
                {"ruleSetType": "Microsoft_BotManagerRuleSet", "ruleSetVersion": "1.0", "ruleGroupOverrides": [
                    {"ruleGroupName": "UnknownBots", "rules": [
                        {"ruleId": "300300", "state": "Enabled", "action": "JSChallenge"}]}]},
                {"ruleSetType": "Microsoft_HTTPDDoSRuleSet", "ruleSetVersion": "1.0", "ruleGroupOverrides": [
                    {"ruleGroupName": "ExcessiveRequests", "rules": [
                        {"ruleId": "500100", "state": "Enabled", "action": "Block", "sensitivity": "Medium"}]}]}],
            "exclusions": [
                {"matchVariable": "RequestArgNames", "selectorMatchOperator": "StartsWith", "selector": "trace",
                 "exclusionManagedRuleSets": [owasp({"ruleGroupName": "REQUEST-942-APPLICATION-ATTACK-SQLI",
                                                     "rules": [{"ruleId": "942100"}]},
                                                    {"ruleGroupName": "REQUEST-932-APPLICATION-ATTACK-RCE"})]},
                {"matchVariable": "RequestArgNames", "selectorMatchOperator": "EndsWith", "selector": "trace",
                 "exclusionManagedRuleSets": [{"ruleSetType": "OWASP", "ruleSetVersion": "3.1", "ruleGroups": []}]},
                {"matchVariable": "RequestArgNames", "selectorMatchOperator": "StartsWith", "selector": "debug"},
                {"matchVariable": "RequestArgValues", "selectorMatchOperator": "StartsWith", "selector": "debug"}],
            "exceptions": [
                {"matchVariable": "RequestURI", "valueMatchOperator": "Contains", "values": ["healthz", "static/"],
                 "exceptionManagedRuleSets": [owasp()]},
                {"matchVariable": "RequestHeader", "selectorMatchOperator": "StartsWith", "selector": "User-Agent",
                 "valueMatchOperator": "Contains", "values": ["probe/1.0", "monitor/2.1"],
                 "exceptionManagedRuleSets": [owasp({"ruleGroupName": "REQUEST-932-APPLICATION-ATTACK-RCE"})]},
                {"matchVariable": "RemoteAddr", "values": ["10.20.6.10", "10.20.0.0/16"], "valueMatchOperator": "IPMatch",
                 "exceptionManagedRuleSets": [{"ruleSetType": "Microsoft_BotManagerRuleSet", "ruleSetVersion": "1.0",
                                               "ruleGroups": [{"ruleGroupName": "BadBots",
                                                               "rules": [{"ruleId": "100200"}]}]}]}]},
        "customRules": [
            {"name": "BlockRange", "priority": 1, "ruleType": "MatchRule", "action": "Block", "matchConditions": [
                {"matchVariables": [variable("RemoteAddr")], "operator": "IPMatch",
                 "matchValues": ["203.0.113.0/24", "198.51.100.0/24"]}]},
            {"name": "BlockAgent", "priority": 2, "ruleType": "MatchRule", "matchConditions": [
                {"matchVariables": [variable("RemoteAddr")], "operator": "IPMatch", "matchValues": ["203.0.113.0/24"]},
                {"matchVariables": [variable("RequestHeaders", "UserAgent")], "operator": "Contains",
                 "matchValues": ["curl"]}], "action": "Block"},
            {"name": "RateLimit", "priority": 3, "rateLimitDuration": "OneMin", "rateLimitThreshold": 600,
             "ruleType": "RateLimitRule", "matchConditions": [
                 {"matchVariables": [variable("RemoteAddr")], "operator": "IPMatch", "negationConditon": True,
                  "matchValues": ["10.20.0.0/16", "10.21.0.0/16"]}],
             "groupByUserSession": [{"groupByVariables": [{"variableName": "ClientAddr"}]}], "action": "Block"},
            {"name": "ChallengeBots", "priority": 4, "ruleType": "MatchRule", "matchConditions": [
                {"matchVariables": [variable("RemoteAddr")], "operator": "IPMatch", "matchValues": ["203.0.113.0/24"]},
                {"matchVariables": [variable("RequestHeaders", "UserAgent")], "operator": "Contains",
                 "matchValues": ["bot"]}], "action": "JSChallenge"}]}}


def test_waf_policy_example(platform: dict[str, Any]) -> None:
    """WafPolicyCreateOrUpdate.json: JS challenge cookie lifetime and log scrubbing; OWASP 3.2, Bot Manager 1.0 and
    HTTP DDoS 1.0 rule sets with rule overrides; exclusions with and without rule sets; exceptions by URI, header and
    address; match and rate-limit custom rules, one with a JS challenge.
    Azure/azure-rest-api-specs@dea509ed0a4d2b758ee47b9b0710321b24dccbb7
    specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/examples/WafPolicyCreateOrUpdate.json"""
    request = _waf_request()
    answer = _accepted(platform["arm"], "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/waf-examples",
                       request)
    rule_set = {"ruleSetType": S, "ruleSetVersion": S, "ruleGroupOverrides": [
        {"ruleGroupName": S, "rules": [{"ruleId": S, "state": S, "action": S}]}]}
    condition = {"matchVariables": [{"variableName": S}], "operator": S, "negationConditon": B, "matchValues": [S]}
    documented = {"id": S, "name": S, "type": S, "location": S, "properties": {
        "resourceState": S, "provisioningState": S,
        "policySettings": {"state": S, "mode": S, "requestBodyCheck": B, "maxRequestBodySizeInKb": N,
                           "fileUploadLimitInMb": N, "jsChallengeCookieExpirationInMins": N,
                           "logScrubbing": {"state": S, "scrubbingRules": [
                               {"state": S, "matchVariable": S, "selectorMatchOperator": S, "selector": S}]}},
        "managedRules": {
            "managedRuleSets": [rule_set],
            "exclusions": [{"matchVariable": S, "selectorMatchOperator": S, "selector": S, "exclusionManagedRuleSets": [
                {"ruleSetType": S, "ruleSetVersion": S, "ruleGroups": [{"ruleGroupName": S, "rules": [{"ruleId": S}]}]}]}],
            "exceptions": [{"matchVariable": S, "valueMatchOperator": S, "values": [S],
                            "exceptionManagedRuleSets": [{"ruleSetType": S, "ruleSetVersion": S}]}]},
        "customRules": [{"name": S, "priority": N, "state": S, "ruleType": S, "matchConditions": [condition],
                         "action": S}]}}
    assert_shape(answer, documented, request, also=frozenset({"state", "resourceState"}))
    props = answer["properties"]
    assert [s["ruleSetType"] for s in props["managedRules"]["managedRuleSets"]] == [
        "OWASP", "Microsoft_BotManagerRuleSet", "Microsoft_HTTPDDoSRuleSet"]
    assert [(r["name"], r["state"], r["action"]) for r in props["customRules"]] == [
        ("BlockRange", "Enabled", "Block"), ("BlockAgent", "Enabled", "Block"), ("RateLimit", "Enabled", "Block"),
        ("ChallengeBots", "Enabled", "JSChallenge")]
    assert props["policySettings"]["jsChallengeCookieExpirationInMins"] == 45
    assert len(props["managedRules"]["exceptions"]) == 3


# --- Microsoft.Network/applicationGateways --------------------------------------------------------------------------
def _gateway_request(platform: dict[str, Any], name: str) -> dict[str, Any]:
    arm = platform["arm"]
    gid = arm.id(f"Microsoft.Network/applicationGateways/{name}")

    def ref(collection: str, item: str) -> dict[str, str]:
        return {"id": f"{gid}/{collection}/{item}"}

    pfx, _ = self_signed("www.examples.test", PFX_PASSWORD)
    _, root = self_signed("Examples Backend Root")
    _, client = self_signed("Examples Client CA")
    return {
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {platform["identity"]["id"]: {}}},
        "location": LOCATION,
        "properties": {
            "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2},
            "gatewayIPConfigurations": [{"name": "gwip", "properties": {
                "subnet": {"id": arm.id("Microsoft.Network/virtualNetworks/vnet-examples/subnets/snet-agw")}}}],
            "sslCertificates": [
                {"name": "tls-upload", "properties": {"data": pfx, "password": PFX_PASSWORD}},
                {"name": "tls-vault", "properties": {"keyVaultSecretId": platform["secret_id"]}}],
            "trustedRootCertificates": [
                {"name": "backend-root", "properties": {"data": root}},
                {"name": "backend-root-vault", "properties": {"keyVaultSecretId": platform["secret_id"]}}],
            "trustedClientCertificates": [{"name": "client-ca", "properties": {"data": client}}],
            "frontendIPConfigurations": [{"name": "public", "properties": {
                "publicIPAddress": {"id": arm.id("Microsoft.Network/publicIPAddresses/pip-agw")}}}],
            "frontendPorts": [{"name": "https", "properties": {"port": 443}},
                              {"name": "http", "properties": {"port": 80}}],
            "backendAddressPools": [
                {"name": "apps", "properties": {"backendAddresses": [{"ipAddress": "10.20.8.10"},
                                                                     {"ipAddress": "10.20.8.11"}]}},
                {"name": "apps-next", "id": f"{gid}/backendAddressPools/apps-next", "properties": {
                    "backendAddresses": [{"ipAddress": "10.20.9.10"}, {"ipAddress": "10.20.9.11"}]}}],
            "backendHttpSettingsCollection": [{"name": "apps-http", "properties": {
                "port": 8080, "protocol": "Http", "cookieBasedAffinity": "Disabled", "requestTimeout": 45}}],
            # The example's profile is a Custom policy with minProtocolVersion TLSv1_1: Application Gateway stopped
            # taking TLS 1.0 and 1.1 on 31 August 2025, and a gateway created with API version 2023-02-01 or later
            # defaults to AppGwSslPolicy20220101, a newer-generation policy an older-generation Custom profile cannot
            # sit beside (ApplicationGatewaySslPolicyMisMatch). A CustomV2 policy with TLS 1.2 stands in for it.
            "sslProfiles": [{"name": "mtls", "properties": {
                "sslPolicy": {"policyType": "CustomV2", "minProtocolVersion": "TLSv1_2",
                              "cipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]},
                "clientAuthConfiguration": {"verifyClientCertIssuerDN": True},
                "trustedClientCertificates": [ref("trustedClientCertificates", "client-ca")]}}],
            "httpListeners": [
                {"name": "https", "properties": {
                    "frontendIPConfiguration": ref("frontendIPConfigurations", "public"),
                    "frontendPort": ref("frontendPorts", "https"), "protocol": "Https",
                    "sslCertificate": ref("sslCertificates", "tls-upload"), "sslProfile": ref("sslProfiles", "mtls"),
                    "requireServerNameIndication": False}},
                {"name": "http", "properties": {
                    "frontendIPConfiguration": ref("frontendIPConfigurations", "public"),
                    "frontendPort": ref("frontendPorts", "http"), "protocol": "Http"}}],
            "requestRoutingRules": [{"name": "apps", "properties": {
                "ruleType": "Basic", "priority": 100, "httpListener": ref("httpListeners", "https"),
                "backendAddressPool": ref("backendAddressPools", "apps"),
                "backendHttpSettings": ref("backendHttpSettingsCollection", "apps-http"),
                "rewriteRuleSet": ref("rewriteRuleSets", "headers")}}],
            "rewriteRuleSets": [{"name": "headers", "properties": {"rewriteRules": [{
                "name": "Forward client address", "ruleSequence": 100,
                "conditions": [{"variable": "http_req_Authorization", "pattern": "^Bearer", "ignoreCase": True,
                                "negate": False}],
                "actionSet": {
                    "requestHeaderConfigurations": [{"headerName": "X-Forwarded-For",
                                                     "headerValue": "{var_add_x_forwarded_for_proxy}"}],
                    "responseHeaderConfigurations": [{"headerName": "Strict-Transport-Security",
                                                      "headerValue": "max-age=31536000"}],
                    "urlConfiguration": {"modifiedPath": "/api"}}}]}}],
            "globalConfiguration": {"enableRequestBuffering": True, "enableResponseBuffering": False},
        }}


def test_application_gateway_example(platform: dict[str, Any]) -> None:
    """ApplicationGatewayCreate.json: a Standard_v2 gateway of fixed capacity with a
    user-assigned identity; an uploaded PFX with its password and a Key Vault certificate; trusted root certificates
    (uploaded and from Key Vault) and a trusted client certificate; an SSL profile with a custom policy and client
    authentication; HTTPS and HTTP listeners; two backend pools, one given with its ID; a routing rule with a rewrite
    rule set; request and response buffering.
    Azure/azure-rest-api-specs@3cab51ba6ff8243bba2a305420128f9db9047f98
    specification/network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/ApplicationGatewayCreate.json
    The request is the same in 2024-03-01 (@49ec566f) and 2024-10-01 (@df74858b); no 2024-05-01 copy was at hand;
    2025-09-01 (@9f015f48) adds entraJWTValidationConfigs, which API version 2024-05-01 does not have. The example's
    SSL profile asks for TLSv1_1 at least: see the request below."""
    arm = platform["arm"]
    request = _gateway_request(platform, "agw-examples")
    answer = _accepted(arm, "Microsoft.Network/applicationGateways/agw-examples", request)
    item = {"name": S, "id": S, "properties": {"provisioningState": S}}
    ref = {"id": S}
    documented = {"name": S, "id": S, "type": S, "location": S, "properties": {
        "provisioningState": S, "operationalState": S, "sku": {"name": S, "tier": S, "capacity": N},
        "gatewayIPConfigurations": [{**item, "properties": {"provisioningState": S, "subnet": ref}}],
        "sslCertificates": [{**item, "properties": {"provisioningState": S, "publicCertData": S}}],
        "trustedClientCertificates": [{**item, "properties": {"provisioningState": S, "data": S}}],
        "frontendIPConfigurations": [{**item, "properties": {"provisioningState": S, "publicIPAddress": ref}}],
        "frontendPorts": [{**item, "properties": {"provisioningState": S, "port": N}}],
        "backendAddressPools": [{**item, "properties": {"provisioningState": S, "backendAddresses": [{"ipAddress": S}]}}],
        "backendHttpSettingsCollection": [{**item, "properties": {
            "provisioningState": S, "port": N, "protocol": S, "cookieBasedAffinity": S, "requestTimeout": N}}],
        "sslProfiles": [{**item, "properties": {
            "provisioningState": S, "sslPolicy": {"policyType": S, "minProtocolVersion": S, "cipherSuites": [S]},
            "clientAuthConfiguration": {"verifyClientCertIssuerDN": B}, "trustedClientCertificates": [ref]}}],
        "httpListeners": [{**item, "properties": {
            "provisioningState": S, "frontendIPConfiguration": ref, "frontendPort": ref, "protocol": S,
            "sslCertificate": ref, "sslProfile": ref, "requireServerNameIndication": B}}],
        "requestRoutingRules": [{**item, "properties": {
            "provisioningState": S, "ruleType": S, "httpListener": ref, "backendAddressPool": ref,
            "backendHttpSettings": ref, "rewriteRuleSet": ref}}],
        "rewriteRuleSets": [{**item, "properties": {"provisioningState": S, "rewriteRules": [{
            "name": S, "ruleSequence": N,
            "conditions": [{"variable": S, "pattern": S, "ignoreCase": B, "negate": B}],
            "actionSet": {"requestHeaderConfigurations": [{"headerName": S, "headerValue": S}],
                          "responseHeaderConfigurations": [{"headerName": S, "headerValue": S}],
                          "urlConfiguration": {"modifiedPath": S}}}]}}],
        "globalConfiguration": {"enableRequestBuffering": B, "enableResponseBuffering": B}}}
    assert_shape(answer, documented, request,
                 also=frozenset({"provisioningState", "operationalState", "publicCertData"}))
    props = answer["properties"]
    gid = answer["id"]
    # Azure takes a PFX and its password on PUT only and answers the certificate's public part.
    uploaded = props["sslCertificates"][0]["properties"]
    assert "data" not in uploaded and "password" not in uploaded, uploaded
    assert PFX_PASSWORD not in str(answer) and request["properties"]["sslCertificates"][0]["properties"]["data"] \
        not in str(answer)
    assert props["sslCertificates"][1]["properties"]["keyVaultSecretId"] == platform["secret_id"]
    assert [p["id"] for p in props["backendAddressPools"]] == [f"{gid}/backendAddressPools/apps",
                                                               f"{gid}/backendAddressPools/apps-next"]
    assert props["sslProfiles"][0]["id"] == f"{gid}/sslProfiles/mtls"
    assert props["httpListeners"][0]["properties"]["sslProfile"]["id"] == f"{gid}/sslProfiles/mtls"
    assert props["rewriteRuleSets"][0]["properties"]["rewriteRules"][0]["ruleSequence"] == 100
    assert props["globalConfiguration"] == {"enableRequestBuffering": True, "enableResponseBuffering": False}
    # What GET answers can be written back (without the PFX): the gateway keeps the uploaded certificate.
    again = _accepted(arm, "Microsoft.Network/applicationGateways/agw-examples", answer)
    assert again["properties"]["sslCertificates"][0]["properties"]["publicCertData"] == uploaded["publicCertData"]
    # A PFX its password does not open is refused, and so are references to parts the gateway does not have.
    wrong = _gateway_request(platform, "agw-examples-bad")
    wrong["properties"]["sslCertificates"][0]["properties"]["password"] = "not-the-password"
    status, refused = arm.put("Microsoft.Network/applicationGateways/agw-examples-bad", wrong)
    assert status == 400 and refused["error"]["code"] == "ApplicationGatewaySslCertificateInvalidData", refused
    dangling = _gateway_request(platform, "agw-examples-bad")
    dangling["properties"]["rewriteRuleSets"][0]["name"] = "other"
    status, refused = arm.put("Microsoft.Network/applicationGateways/agw-examples-bad", dangling)
    assert status == 400 and refused["error"]["code"] == "InvalidResourceReference", refused
    # A trusted root certificate from Key Vault is read with the gateway's identity too: the secret must be there.
    missing = _gateway_request(platform, "agw-examples-bad")
    missing["properties"]["trustedRootCertificates"][1]["properties"]["keyVaultSecretId"] += "-missing"
    status, refused = arm.put("Microsoft.Network/applicationGateways/agw-examples-bad", missing)
    assert status == 400 and refused["error"]["code"] == "ApplicationGatewayKeyVaultSecretException", refused


# --- Microsoft.App/managedEnvironments ------------------------------------------------------------------------------
def test_managed_environment_example(platform: dict[str, Any], unique: Callable[[str], str]) -> None:
    """ManagedEnvironments_CreateOrUpdate.json: system- and user-assigned identities, a Dapr
    Application Insights connection string, Log Analytics by customer id and shared key, zone redundancy in a custom
    network, a custom DNS suffix with its certificate and password, three dedicated workload profiles and the
    Consumption one, mTLS and peer traffic encryption.
    Azure/azure-rest-api-specs@03cba47b26a9c620b8915d8dca0b4681a488fc9b
    specification/app/resource-manager/Microsoft.App/stable/2025-07-01/examples/ManagedEnvironments_CreateOrUpdate.json"""
    arm = platform["arm"]
    pfx, _ = self_signed("*.apps.examples.test", PFX_PASSWORD)
    identity_id = platform["identity"]["id"]
    request = {
        "location": "West Europe",
        "identity": {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        "properties": {
            "daprAIConnectionString": platform["component"]["properties"]["ConnectionString"],
            "appLogsConfiguration": {"logAnalyticsConfiguration": {
                "customerId": platform["workspace"]["properties"]["customerId"], "sharedKey": platform["shared_key"]}},
            "zoneRedundant": True,
            "vnetConfiguration": {
                "infrastructureSubnetId": arm.id("Microsoft.Network/virtualNetworks/vnet-examples/subnets/snet-apps")},
            "customDomainConfiguration": {"dnsSuffix": "apps.examples.test", "certificateValue": pfx,
                                          "certificatePassword": PFX_PASSWORD},
            "workloadProfiles": [
                {"name": "gp-01", "workloadProfileType": "GeneralPurpose", "minimumCount": 3, "maximumCount": 12},
                {"name": "mo-01", "workloadProfileType": "MemoryOptimized", "minimumCount": 3, "maximumCount": 6},
                {"name": "co-01", "workloadProfileType": "ComputeOptimized", "minimumCount": 3, "maximumCount": 6},
                {"name": "consumption", "workloadProfileType": "Consumption"}],
            "peerAuthentication": {"mtls": {"enabled": True}},
            "peerTrafficConfiguration": {"encryption": {"enabled": True}}}}
    path = f"Microsoft.App/managedEnvironments/{unique('cae-examples-')}"
    answer = _accepted(arm, path, request, api=APP_API)
    documented = {"id": S, "name": S, "type": S, "location": S,
                  "identity": {"type": S, "principalId": S, "tenantId": S,
                               "userAssignedIdentities": {identity_id: {"principalId": S, "clientId": S}}},
                  "properties": {
                      "provisioningState": S, "defaultDomain": S, "staticIp": S,
                      "appLogsConfiguration": {"logAnalyticsConfiguration": {"customerId": S}},
                      "zoneRedundant": B, "vnetConfiguration": {"infrastructureSubnetId": S},
                      "customDomainConfiguration": {"customDomainVerificationId": S, "dnsSuffix": S, "subjectName": S,
                                                    "expirationDate": S, "thumbprint": S},
                      "eventStreamEndpoint": S,
                      "workloadProfiles": [{"name": S, "workloadProfileType": S, "minimumCount": N, "maximumCount": N}],
                      "infrastructureResourceGroup": S, "peerAuthentication": {"mtls": {"enabled": B}}}}
    assert_shape(answer, documented, request, also=frozenset(
        {"principalId", "tenantId", "clientId", "defaultDomain", "staticIp", "customDomainVerificationId",
         "subjectName", "expirationDate", "thumbprint", "eventStreamEndpoint", "infrastructureResourceGroup"}))
    granted = answer["identity"]["userAssignedIdentities"][identity_id]
    assert granted == {"principalId": platform["identity"]["properties"]["principalId"],
                       "clientId": platform["identity"]["properties"]["clientId"]}
    domain = answer["properties"]["customDomainConfiguration"]
    assert domain["subjectName"] == "CN=*.apps.examples.test" and len(domain["thumbprint"]) == 40
    assert [p["name"] for p in answer["properties"]["workloadProfiles"]] == ["gp-01", "mo-01", "co-01", "consumption"]
    for secret in (platform["shared_key"], PFX_PASSWORD, pfx, "InstrumentationKey="):
        assert secret not in str(answer)
    # What GET answers can be written back: the certificate's facts, the principal and the generated names stay.
    again = _accepted(arm, path, answer, api=APP_API)
    for key in ("identity", "properties.customDomainConfiguration", "properties.defaultDomain", "properties.staticIp"):
        first, second = answer, again
        for part in key.split("."):
            first, second = first[part], second[part]
        assert second == first, key
