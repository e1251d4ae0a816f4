"""Microsoft.Network: public IP addresses, Application Gateway WAF policies and Application Gateways (v2).

Written from the Microsoft.Network REST specification (applicationGateway.json, publicIpAddress.json,
webapplicationfirewall.json, api-version 2024-05-01) and the Application Gateway documentation ("Application
Gateway infrastructure configuration", "TLS termination with Key Vault certificates", "Autoscaling and zone
redundancy", "Web Application Firewall policy", "Rate limiting"). What Azure does and this module models:

- Public IP addresses: ``Basic`` or ``Standard`` SKU (``Standard`` when none is given: Basic public IPs were
  retired on 30 September 2025); a Standard address is always ``Static``; its zones cannot change after creation; an
  address is assigned on create; one in use by a gateway cannot be deleted. A DNS name label (3-63 lower-case
  letters, digits and hyphens, starting with a letter, ending with a letter or digit) gives the address the FQDN
  ``<label>.<region>.cloudapp.azure.com``, which no other address of the region may hold (``DnsRecordInUse``).
- WAF policies: mode ``Detection`` or ``Prevention``; at least one managed rule set of a known type and version
  (``OWASP`` 3.0-3.2, ``Microsoft_DefaultRuleSet`` 2.1, ``Microsoft_BotManagerRuleSet``, the HTTP DDoS ruleset
  ``Microsoft_HTTPDDoSRuleSet`` 1.0 (preview)); custom rules with unique
  priorities 1-100, a rate-limit rule needs its duration (``OneMin`` or ``FiveMins``) and a threshold of at least 1;
  every custom rule needs match conditions. A policy used by a gateway cannot be deleted; ``applicationGateways``
  (read-only) lists the gateways using it.
- Application gateways, v2 SKUs (``Standard_v2``, ``WAF_v2``; name and tier equal): autoscale bounds
  (``minCapacity`` 0-125, ``maxCapacity`` 2-125 and not below the minimum) or a fixed ``sku.capacity`` 1-125;
  ``WAF_v2`` needs a WAF policy (``firewallPolicy``) or an inline ``webApplicationFirewallConfiguration``, and only
  ``WAF_v2`` takes a WAF policy; exactly one gateway IP configuration, in an existing subnet of the gateway's region
  that holds nothing but application gateways (no private endpoint, no delegation to another service; and no
  private endpoint may enter a gateway's subnet afterwards, see network.py); public frontends on Standard static
  addresses (zone-redundant when the gateway is); zones fixed at creation.
- Uploaded certificates (``sslCertificates[].properties.data``, a base64 PFX, with its ``password``): the PFX must
  open with the password and hold a certificate (``ApplicationGatewaySslCertificateInvalidData`` otherwise); data and
  password are taken on PUT only, and responses carry ``publicCertData`` (the certificate, base64 PKCS #7) instead.
  A later PUT may name an uploaded certificate without its data: the gateway keeps it.
- Certificates from Key Vault (``sslCertificates[]`` and ``trustedRootCertificates[]``, ``keyVaultSecretId``): the
  gateway needs a
  user-assigned identity, and that identity must be allowed to read the secret (RBAC ``getSecret`` on the secret or
  above, or an access policy with secret ``get``) through the vault's firewall (its virtual network rules must
  admit the gateway's subnet, or the vault is open), and the secret must exist; otherwise the write fails with
  ``ApplicationGatewayKeyVaultSecretException`` naming what is wrong.
- References between the gateway's own parts resolve (listeners -> frontend IP, port, certificate; rules ->
  listener and either a redirect or a backend pool with backend settings, and a rewrite rule set; backend settings
  -> probe; listeners -> SSL profile -> trusted client certificates; redirects -> a listener or a URL); HTTPS
  listeners need a certificate; v2 routing rules need unique priorities 1-20000;
  probes name a host (or take it from the backend settings) and a path starting with ``/``.
- Responses carry each part's ``id``, ``etag``, ``type`` and ``provisioningState``, the gateway's
  ``operationalState`` (``Running``) and ``resourceGuid``.
- TLS policies ("Application Gateway TLS policy overview", "Managing your Application Gateway with TLS 1.0 and 1.1
  retirement"), the gateway's ``sslPolicy`` and each SSL profile's alike: ``policyType`` ``Predefined`` takes only a
  ``policyName`` of the five predefined policies (PREDEFINED_SSL_POLICIES: minimum protocol and cipher suites per the
  documentation's table); ``Custom`` and ``CustomV2`` take ``minProtocolVersion`` and ``cipherSuites`` (from the
  documented list; the TLS 1.3 suites and TLS 1.3 itself with ``CustomV2`` only; with TLS 1.3 as the minimum no suite
  need be listed, with TLS 1.2 at least one). Since 31 August 2025 the policies allowing TLS 1.0/1.1 (20150501,
  20170401, a custom minimum of TLSv1_0/TLSv1_1) can no longer be associated, and a ``Custom`` policy no longer takes
  the twelve cipher suites the retirement page lists. Older-generation (20150501, 20170401, 20170401S, Custom) and
  newer-generation (20220101, 20220101S, CustomV2) policies cannot be mixed on one gateway, the gateway's default
  standing in when it names no policy. A gateway created with API version 2023-02-01 or later reports the read-only
  ``defaultPredefinedSslPolicy`` ``AppGwSslPolicy20220101`` (older ones default to 20150501 and do not report it).
  Error codes seen from Azure (quoted in public issue threads): ``ApplicationGatewaySslPolicyPropertyPolicyTypeRequired``,
  ``ApplicationGatewaySslPolicyPropertyNotSupportedForPolicyType``, ``ApplicationGatewayDeprecatedTlsVersionUsedInSslPolicy``,
  ``ApplicationGatewaySslPolicyMisMatch``. The others (``...PolicyNameRequired``, ``...PolicyNameNotSupported``,
  ``...MinProtocolVersionRequired``, ``...MinProtocolVersionNotSupported``, ``...CipherSuitesRequired``,
  ``...CipherSuiteNotSupported``, ``...PolicyTypeNotSupported``) are documented nowhere: best readings in the same
  naming pattern.
- The read-only ``applicationGatewayAvailableSslOptions/default`` of a subscription and its ``predefinedPolicies``
  answer the same table: each predefined policy's minimum protocol and cipher suites (in the table's row order: the
  documentation leaves the negotiation order to these very endpoints), the default policy of the API version asked
  with, the cipher suites and protocols a custom policy may name (all five policies are listed, the retired ones too:
  whether Azure still lists them is not documented).

Known gaps: v1 SKUs, private frontends, path-based rules, what rewrite rules contain, the legacy
``disabledSslProtocols`` form of a TLS policy (taken, not interpreted), listener-level WAF policies and the actual
traffic (no HTTP or TLS is served) are not modelled.
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from ..framework import (
    ArmError,
    Ctx,
    NameRule,
    Resource,
    ResourceType,
    Scope,
    WriteRequest,
    fill_defaults,
    id_equal,
)
from .authorization import has_data_action
from .network import GENERIC_NAME, NS, PE, SUBNET, _NetworkResource

PIP = f"{NS}/publicIPAddresses"
WAF = f"{NS}/ApplicationGatewayWebApplicationFirewallPolicies"
AGW = f"{NS}/applicationGateways"
VAULTS = "Microsoft.KeyVault/vaults"
GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"

WAF_NAME = NameRule(1, 128, r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?", GENERIC_NAME.hint)
RULE_SETS = {"OWASP": {"3.0", "3.1", "3.2"}, "Microsoft_DefaultRuleSet": {"2.1"},
             "Microsoft_BotManagerRuleSet": {"0.1", "1.0", "1.1"}, "Microsoft_HTTPDDoSRuleSet": {"1.0"}}
V2_SKUS = ("Standard_v2", "WAF_v2")
# The parts of a gateway, by the collection name ARM uses, and the child type ARM reports for each (a rewrite rule
# set has none in the API definition).
PARTS: dict[str, str | None] = {
    "gatewayIPConfigurations": "gatewayIPConfigurations", "frontendIPConfigurations": "frontendIPConfigurations",
    "frontendPorts": "frontendPorts", "sslCertificates": "sslCertificates", "httpListeners": "httpListeners",
    "backendAddressPools": "backendAddressPools", "backendHttpSettingsCollection": "backendHttpSettingsCollection",
    "probes": "probes", "redirectConfigurations": "redirectConfigurations",
    "requestRoutingRules": "requestRoutingRules", "trustedRootCertificates": "trustedRootCertificates",
    "trustedClientCertificates": "trustedClientCertificates", "sslProfiles": "sslProfiles",
    "rewriteRuleSets": None,
}
# Collections a response always lists (empty when the request gave none); the others appear only when given.
LISTED = ("gatewayIPConfigurations", "frontendIPConfigurations", "frontendPorts", "sslCertificates", "httpListeners",
          "backendAddressPools", "backendHttpSettingsCollection", "probes", "redirectConfigurations",
          "requestRoutingRules")
# A DNS name label of a public IP address (the "Public IP addresses" documentation: DNS name label).
DNS_LABEL = re.compile(r"[a-z][a-z0-9-]{1,61}[a-z0-9]")

# --- TLS (SSL) policies -------------------------------------------------------------------------------------------
# From "Application Gateway TLS policy overview" (predefined policies table, custom policy cipher suites, default TLS
# policy) and "Managing your Application Gateway with TLS 1.0 and 1.1 retirement". A policy is of the older
# generation (20150501, 20170401, 20170401S, Custom) or the newer one (20220101, 20220101S, CustomV2, with TLS 1.3);
# the two cannot be mixed on one gateway.
OLD, NEW = "older generation", "newer generation"


@dataclass(frozen=True)
class PredefinedSslPolicy:
    min_protocol: str
    generation: str
    cipher_suites: tuple[str, ...]  # the suites the documentation's table marks for the policy, in its row order
    retired: bool = False  # allows TLS 1.0/1.1: no longer associable since 31 August 2025


_TLS13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384")
_ECDHE_RSA_GCM = ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
_ECDHE_RSA_CBC_SHA2 = ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")
_ECDHE_RSA_CBC_SHA = ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")
_DHE_RSA = ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA")
_RSA = ("TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256",
        "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA")
_ECDSA_GCM = ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
_ECDSA_CBC_SHA2 = ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256")
_ECDSA_CBC_SHA = ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")
_DHE_DSS = ("TLS_DHE_DSS_WITH_AES_256_CBC_SHA256", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
            "TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA")
_3DES = ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA")
PREDEFINED_SSL_POLICIES: dict[str, PredefinedSslPolicy] = {
    "AppGwSslPolicy20150501": PredefinedSslPolicy(
        "TLSv1_0", OLD, (*_ECDHE_RSA_GCM, *_ECDHE_RSA_CBC_SHA2, *_ECDHE_RSA_CBC_SHA, *_DHE_RSA, *_RSA, *_ECDSA_GCM,
                         *_ECDSA_CBC_SHA2, *_ECDSA_CBC_SHA, *_DHE_DSS, *_3DES), retired=True),
    "AppGwSslPolicy20170401": PredefinedSslPolicy(
        "TLSv1_1", OLD, (*_ECDHE_RSA_GCM, *_ECDHE_RSA_CBC_SHA, *_RSA, *_ECDSA_GCM, *_ECDSA_CBC_SHA2, *_ECDSA_CBC_SHA),
        retired=True),
    "AppGwSslPolicy20170401S": PredefinedSslPolicy(
        "TLSv1_2", OLD, (*_ECDHE_RSA_GCM, *_ECDHE_RSA_CBC_SHA, *_RSA, *_ECDSA_GCM, *_ECDSA_CBC_SHA2, *_ECDSA_CBC_SHA)),
    "AppGwSslPolicy20220101": PredefinedSslPolicy(
        "TLSv1_2", NEW, (*_TLS13, *_ECDHE_RSA_GCM, *_ECDHE_RSA_CBC_SHA2, *_ECDSA_GCM, *_ECDSA_CBC_SHA2)),
    "AppGwSslPolicy20220101S": PredefinedSslPolicy("TLSv1_2", NEW, (*_TLS13, *_ECDHE_RSA_GCM, *_ECDSA_GCM)),
}
# The cipher suites a custom policy may list ("Custom TLS policy": cipher suites); the TLS 1.3 ones with CustomV2 only.
CUSTOM_CIPHER_SUITES = frozenset(PREDEFINED_SSL_POLICIES["AppGwSslPolicy20150501"].cipher_suites)
CUSTOM_V2_CIPHER_SUITES = CUSTOM_CIPHER_SUITES | frozenset(_TLS13)
# "Beyond August 2025, the older Custom policy will support only TLS v1.2 and the following cipher suites won't be
# supported" (the retirement page's list).
RETIRED_CUSTOM_CIPHER_SUITES = frozenset((*_ECDHE_RSA_CBC_SHA2, *_DHE_RSA, *_DHE_DSS, *_3DES))
TLS_VERSIONS = ("TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3")
RETIRED_TLS_VERSIONS = ("TLSv1_0", "TLSv1_1")
# "For API versions 2023-02-01 or higher ... a read-only property defaultPredefinedSslPolicy: AppGwSslPolicy20220101";
# gateways created with older API versions use AppGwSslPolicy20150501 and do not show the property.
DEFAULT_SSL_POLICY, DEFAULT_SSL_POLICY_SINCE, OLD_DEFAULT_SSL_POLICY = (
    "AppGwSslPolicy20220101", "2023-02-01", "AppGwSslPolicy20150501")
RETIREMENT = "Learn more https://aka.ms/appgw-oldtlsversions"


def _policy_label(policy: Any) -> str:
    if not isinstance(policy, dict):
        return "none"
    return str(policy.get("policyName") if policy.get("policyType") == "Predefined" else policy.get("policyType"))


def ssl_policy_generation(policy: Any, owner: str, gateway_id: str) -> str | None:
    """Check one `sslPolicy` (of the gateway or of an SSL profile) as Azure does; return its generation (OLD or NEW),
    or None when it names no policy (the gateway's default applies)."""
    if not isinstance(policy, dict) or not any(policy.get(k) for k in (
            "policyType", "policyName", "cipherSuites", "minProtocolVersion", "disabledSslProtocols")):
        return None
    policy_type = policy.get("policyType")
    where = f"'SslPolicy' of {owner} for Application Gateway {gateway_id}"
    if not policy_type:
        if policy.get("disabledSslProtocols") and not any(policy.get(k) for k in (
                "policyName", "cipherSuites", "minProtocolVersion")):
            return None  # the legacy form (protocols to disable on the default policy): not modelled further
        raise _bad("ApplicationGatewaySslPolicyPropertyPolicyTypeRequired",
                   f"Property 'PolicyType' is required for {where}.")
    if policy_type not in ("Predefined", "Custom", "CustomV2"):
        raise _bad("ApplicationGatewaySslPolicyTypeNotSupported",
                   f"PolicyType '{policy_type}' of {where} is not supported; Predefined, Custom or CustomV2.")
    allowed = {"Predefined": ("policyName",), "Custom": ("minProtocolVersion", "cipherSuites"),
               "CustomV2": ("minProtocolVersion", "cipherSuites")}[policy_type]
    for key, label in (("policyName", "PolicyName"), ("minProtocolVersion", "MinProtocolVersion"),
                       ("cipherSuites", "CipherSuites"), ("disabledSslProtocols", "DisabledSslProtocols")):
        if key not in allowed and policy.get(key):
            raise _bad("ApplicationGatewaySslPolicyPropertyNotSupportedForPolicyType",
                       f"Specified PolicyType '{policy_type}' does not support property '{label}' for {where}.")
    if policy_type == "Predefined":
        name = policy.get("policyName")
        if not name:
            raise _bad("ApplicationGatewaySslPolicyPropertyPolicyNameRequired",
                       f"Property 'PolicyName' is required for PolicyType 'Predefined' of {where}.")
        predefined = PREDEFINED_SSL_POLICIES.get(str(name))
        if predefined is None:
            raise _bad("ApplicationGatewaySslPolicyNameNotSupported",
                       f"Predefined SSL policy '{name}' of {where} does not exist; known: "
                       f"{', '.join(PREDEFINED_SSL_POLICIES)}.")
        if predefined.retired:
            raise _bad("ApplicationGatewayDeprecatedTlsVersionUsedInSslPolicy",
                       f"The TLS policy {name} for Application Gateway {gateway_id} ({owner}) is using a deprecated TLS "
                       f"version. Update it to a supported version. {RETIREMENT}")
        return predefined.generation
    version = policy.get("minProtocolVersion")
    if not version:
        raise _bad("ApplicationGatewaySslPolicyPropertyMinProtocolVersionRequired",
                   f"Property 'MinProtocolVersion' is required for PolicyType '{policy_type}' of {where}.")
    if version not in TLS_VERSIONS:
        raise _bad("ApplicationGatewaySslPolicyMinProtocolVersionNotSupported",
                   f"MinProtocolVersion '{version}' of {where} is not one of {', '.join(TLS_VERSIONS)}.")
    if version in RETIRED_TLS_VERSIONS:
        raise _bad("ApplicationGatewayDeprecatedTlsVersionUsedInSslPolicy",
                   f"The TLS policy {policy_type} ({version}) for Application Gateway {gateway_id} ({owner}) is using a "
                   f"deprecated TLS version. Update it to a supported version. {RETIREMENT}")
    if version == "TLSv1_3" and policy_type == "Custom":
        raise _bad("ApplicationGatewaySslPolicyMinProtocolVersionNotSupported",
                   f"MinProtocolVersion TLSv1_3 of {where} needs PolicyType CustomV2: TLS 1.3 is available with the "
                   "CustomV2 and the 2022 predefined policies only.")
    suites = policy.get("cipherSuites") or []
    known = CUSTOM_V2_CIPHER_SUITES if policy_type == "CustomV2" else CUSTOM_CIPHER_SUITES
    for suite in suites:
        if suite in _TLS13 and policy_type == "Custom":
            raise _bad("ApplicationGatewaySslPolicyCipherSuiteNotSupported",
                       f"Cipher suite {suite} of {where} is a TLS 1.3 suite, available with PolicyType CustomV2 only.")
        if suite not in known:
            raise _bad("ApplicationGatewaySslPolicyCipherSuiteNotSupported",
                       f"Cipher suite {suite!r} of {where} is not one Application Gateway supports.")
        if policy_type == "Custom" and suite in RETIRED_CUSTOM_CIPHER_SUITES:
            raise _bad("ApplicationGatewaySslPolicyCipherSuiteNotSupported",
                       f"Cipher suite {suite} of {where} is no longer supported in a Custom policy since the retirement "
                       f"of TLS 1.0 and 1.1 on 31 August 2025. {RETIREMENT}")
    # TLS 1.3 needs no listed suite (TLS_AES_128_GCM_SHA256 and TLS_AES_256_GCM_SHA384 are implied); TLS 1.2 needs one.
    if version != "TLSv1_3" and not [s for s in suites if s not in _TLS13]:
        raise _bad("ApplicationGatewaySslPolicyPropertyCipherSuitesRequired",
                   f"Property 'CipherSuites' of {where} needs at least one TLS 1.2 cipher suite for MinProtocolVersion "
                   f"{version}.")
    return NEW if policy_type == "CustomV2" else OLD


def _default_ssl_policy(ctx: Ctx, req: WriteRequest) -> str:
    """The predefined policy a gateway without its own uses: fixed by the API version it was created with."""
    stored = (req.existing.properties if req.existing else {}).get("defaultPredefinedSslPolicy")
    if stored:
        return str(stored)
    return OLD_DEFAULT_SSL_POLICY if req.existing is not None else _default_policy_for(ctx)


def _bad(code: str, message: str) -> ArmError:
    return ArmError(400, code, message)


def _zones(body: dict[str, Any]) -> list[str]:
    return sorted(str(z) for z in body.get("zones") or [])


def _zones_fixed(req: WriteRequest) -> None:
    if req.existing is not None and "zones" in req.body and _zones(req.body) != _zones(req.existing.body):
        raise _bad("ResourceAvailabilityZonesCannotBeModified",
                   f"Resource {req.id} has an existing availability zone constraint {_zones(req.existing.body)} and "
                   f"the request has {_zones(req.body)}, they do not match.")


def _in_use(ctx: Ctx, resource: Resource, kind: str) -> None:
    users = [g for g in ctx.find(AGW) if resource.id.lower() in str(g.body).lower()]
    if users:
        raise _bad(f"{kind}InUse", f"{resource.type.rsplit('/', 1)[1]} {resource.name} is used by application "
                   f"gateway {users[0].id} and cannot be deleted.")


# --- public IP addresses ------------------------------------------------------------------------------------------
class PublicIPAddresses(_NetworkResource):
    type = PIP
    name_rule = GENERIC_NAME
    latency_s = 10.0
    read_only_properties = ("ipAddress", "ipConfiguration", "resourceGuid")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        sku = req.body.get("sku") or {"name": "Standard"}
        name = sku.get("name")
        if name not in ("Basic", "Standard"):
            raise _bad("InvalidPublicIpSku", f"Public IP address SKU '{name}' is invalid; Basic or Standard.")
        if sku.get("tier", "Regional") not in ("Regional", "Global"):
            raise _bad("InvalidPublicIpSkuTier", f"Public IP address SKU tier '{sku.get('tier')}' is invalid.")
        method = req.properties.get("publicIPAllocationMethod", "Static" if name == "Standard" else "Dynamic")
        if name == "Standard" and method != "Static":
            raise _bad("StandardSkuPublicIPAddressesMustBeStatic",
                       f"Standard sku publicIp {req.id} must have AllocationMethod set to Static.")
        if req.existing is not None and (req.existing.body.get("sku") or {}).get("name") != name:
            raise _bad("PublicIpSkuCannotBeChanged", f"The SKU of public IP address {req.id} cannot be changed.")
        timeout = req.properties.get("idleTimeoutInMinutes", 4)
        if not isinstance(timeout, int) or not 4 <= timeout <= 30:
            raise _bad("PublicIPIdleTimeoutIsOutOfRange", f"Idle timeout {timeout} is outside 4-30 minutes.")
        _zones_fixed(req)
        label = (req.properties.get("dnsSettings") or {}).get("domainNameLabel")
        if label:
            if not DNS_LABEL.fullmatch(str(label)):
                raise _bad("InvalidDomainNameLabel",
                           f"The domain name label {label} is invalid. It must conform to the following regular "
                           "expression: ^[a-z][a-z0-9-]{1,61}[a-z0-9]$.")
            fqdn = self._fqdn(str(label), str(req.body.get("location") or ""))
            for other in ctx.find(PIP):
                if not id_equal(other.id, req.id) and \
                        str((other.properties.get("dnsSettings") or {}).get("fqdn", "")).lower() == fqdn:
                    raise _bad("DnsRecordInUse", f"DNS record {fqdn} is already used by another public IP.")

    @staticmethod
    def _fqdn(label: str, location: str) -> str:
        return f"{label}.{location.replace(' ', '').lower()}.cloudapp.azure.com"

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["sku"] = {"name": "Standard", "tier": "Regional", **(req.body.get("sku") or {})}
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        fill_defaults(props, {"publicIPAllocationMethod": "Static" if body["sku"]["name"] == "Standard" else "Dynamic",
                              "publicIPAddressVersion": "IPv4", "idleTimeoutInMinutes": 4, "ipTags": []})
        props["resourceGuid"] = previous.get("resourceGuid") or ctx.new_guid()
        # 20.0.0.0/8: Azure's public ranges; one address per resource, stable across updates.
        props["ipAddress"] = previous.get("ipAddress") or str(ipaddress.IPv4Address(0x14000000 + ctx.rng.randrange(1, 1 << 24)))
        dns = props.get("dnsSettings")
        if isinstance(dns, dict) and dns.get("domainNameLabel"):
            dns["fqdn"] = self._fqdn(str(dns["domainNameLabel"]), str(body.get("location") or ""))
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        for gateway in ctx.find(AGW):
            for frontend in gateway.properties.get("frontendIPConfigurations") or []:
                if id_equal(((frontend.get("properties") or {}).get("publicIPAddress") or {}).get("id"), resource.id):
                    body["properties"]["ipConfiguration"] = {"id": frontend.get("id")}
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        _in_use(ctx, resource, "PublicIPAddress")


# --- WAF policies -------------------------------------------------------------------------------------------------
class WafPolicies(_NetworkResource):
    type = WAF
    name_rule = WAF_NAME
    latency_s = 10.0
    read_only_properties = ("applicationGateways", "httpListeners", "pathBasedRules", "resourceState")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        settings = props.get("policySettings") or {}
        if settings.get("mode", "Detection") not in ("Detection", "Prevention"):
            raise _bad("InvalidWafPolicyMode", f"WAF policy mode '{settings.get('mode')}' is invalid; Detection or "
                       "Prevention.")
        if settings.get("state", "Enabled") not in ("Enabled", "Disabled"):
            raise _bad("InvalidWafPolicyState", f"WAF policy state '{settings.get('state')}' is invalid.")
        sets = (props.get("managedRules") or {}).get("managedRuleSets")
        if not sets:
            raise _bad("ApplicationGatewayFirewallPolicyMustHaveManagedRuleSet",
                       f"WAF policy {req.id} must have at least one managed rule set.")
        for rule_set in sets:
            versions = RULE_SETS.get(str(rule_set.get("ruleSetType")))
            if versions is None or str(rule_set.get("ruleSetVersion")) not in versions:
                raise _bad("ApplicationGatewayFirewallRuleSetNotSupported",
                           f"Managed rule set {rule_set.get('ruleSetType')} {rule_set.get('ruleSetVersion')} is not "
                           f"supported; known: {', '.join(f'{t} {sorted(v)}' for t, v in RULE_SETS.items())}.")
        seen: dict[int, str] = {}
        for rule in props.get("customRules") or []:
            name, priority = str(rule.get("name") or ""), rule.get("priority")
            if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 100:
                raise _bad("ApplicationGatewayFirewallCustomRuleInvalidPriority",
                           f"Custom rule {name} has priority {priority!r}; allowed 1-100.")
            if priority in seen:
                raise _bad("ApplicationGatewayFirewallCustomRulePriorityNotUnique",
                           f"Custom rules {seen[priority]} and {name} have the same priority {priority}.")
            seen[priority] = name
            if rule.get("ruleType") not in ("MatchRule", "RateLimitRule"):
                raise _bad("ApplicationGatewayFirewallCustomRuleInvalidRuleType",
                           f"Custom rule {name} has rule type {rule.get('ruleType')!r}; MatchRule or RateLimitRule.")
            if rule.get("ruleType") == "RateLimitRule":
                threshold = rule.get("rateLimitThreshold")
                if rule.get("rateLimitDuration") not in ("OneMin", "FiveMins") or not isinstance(threshold, int) \
                        or isinstance(threshold, bool) or threshold < 1:
                    raise _bad("ApplicationGatewayFirewallRateLimitRuleInvalid",
                               f"Rate limit rule {name} needs rateLimitDuration OneMin or FiveMins and a "
                               "rateLimitThreshold of at least 1.")
            if rule.get("action") not in ("Allow", "Block", "Log", "JSChallenge"):
                raise _bad("ApplicationGatewayFirewallCustomRuleInvalidAction",
                           f"Custom rule {name} has action {rule.get('action')!r}.")
            if not rule.get("matchConditions"):
                raise _bad("ApplicationGatewayFirewallCustomRuleMustHaveMatchConditions",
                           f"Custom rule {name} must have at least one match condition.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        fill_defaults(props, {"customRules": [], "policySettings": {}})
        fill_defaults(props["policySettings"], {"state": "Enabled", "mode": "Detection", "requestBodyCheck": True,
                                                "maxRequestBodySizeInKb": 128, "fileUploadLimitInMb": 100})
        for rule in props["customRules"]:
            rule.setdefault("state", "Enabled")
        props["resourceState"] = "Enabled"
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        body["properties"]["applicationGateways"] = [
            {"id": g.id} for g in ctx.find(AGW)
            if id_equal((g.properties.get("firewallPolicy") or {}).get("id"), resource.id)]
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        _in_use(ctx, resource, "ApplicationGatewayFirewallPolicy")


# --- application gateways -----------------------------------------------------------------------------------------
class ApplicationGateways(_NetworkResource):
    type = AGW
    name_rule = GENERIC_NAME
    # A v2 gateway takes about 6 minutes to create in Azure.
    latency_s = 360.0
    read_only_properties = ("operationalState", "resourceGuid", "defaultPredefinedSslPolicy")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        self._sku(ctx, req)
        subnet = self._subnet(ctx, req)
        self._frontends(ctx, req)
        names = self._parts(req)
        self._references(req, names)
        self._listeners_and_rules(req, names)
        self._ssl_policies(ctx, req)
        self._certificates(ctx, req, subnet)
        _zones_fixed(req)
        if props.get("enableHttp2") not in (None, True, False):
            raise _bad("InvalidRequestFormat", "enableHttp2 must be true or false.")

    def _sku(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        sku = props.get("sku") or {}
        name, tier = sku.get("name"), sku.get("tier")
        if name not in V2_SKUS or tier != name:
            raise _bad("ApplicationGatewaySkuNotSupported",
                       f"Application gateway {req.id}: SKU name {name!r} and tier {tier!r} are not supported; use "
                       "Standard_v2 or WAF_v2 for both.")
        autoscale = props.get("autoscaleConfiguration")
        if autoscale:
            low, high = autoscale.get("minCapacity"), autoscale.get("maxCapacity", 125)
            if not isinstance(low, int) or isinstance(low, bool) or not 0 <= low <= 125:
                raise _bad("ApplicationGatewayAutoscaleMinCapacityOutOfRange",
                           f"Autoscale minCapacity {low!r} is outside 0-125.")
            if not isinstance(high, int) or isinstance(high, bool) or not 2 <= high <= 125 or high < low:
                raise _bad("ApplicationGatewayAutoscaleMaxCapacityInvalid",
                           f"Autoscale maxCapacity {high!r} must be 2-125 and not below minCapacity {low}.")
        else:
            capacity = sku.get("capacity")
            if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 125:
                raise _bad("ApplicationGatewayCapacityRequired",
                           f"Application gateway {req.id} needs autoscaleConfiguration or sku.capacity 1-125.")
        policy_ref = (props.get("firewallPolicy") or {}).get("id")
        if name == "WAF_v2" and not policy_ref and not props.get("webApplicationFirewallConfiguration"):
            raise _bad("ApplicationGatewayWafV2RequiresFirewallPolicy",
                       f"Application gateway {req.id} with SKU WAF_v2 needs a WAF policy (firewallPolicy) or a "
                       "webApplicationFirewallConfiguration.")
        if policy_ref:
            if name != "WAF_v2":
                raise _bad("ApplicationGatewayFirewallPolicyRequiresWafSku",
                           f"A WAF policy can be associated with a WAF_v2 application gateway only, not {name}.")
            policy = ctx.get(str(policy_ref))
            if policy is None or policy.type.lower() != WAF.lower():
                raise _bad("InvalidResourceReference", f"WAF policy {policy_ref} referenced by {req.id} was not found.")

    def _subnet(self, ctx: Ctx, req: WriteRequest) -> Resource:
        configs = req.properties.get("gatewayIPConfigurations") or []
        if len(configs) != 1:
            raise _bad("ApplicationGatewayMustHaveOneGatewayIpConfiguration",
                       f"Application gateway {req.id} must have exactly one gateway IP configuration.")
        subnet_id = str(((configs[0].get("properties") or {}).get("subnet") or {}).get("id") or "")
        subnet = ctx.get(subnet_id)
        if subnet is None or subnet.type.lower() != SUBNET.lower():
            raise _bad("InvalidResourceReference", f"Subnet {subnet_id} referenced by {req.id} was not found.")
        vnet = ctx.get(subnet.parent_id)
        location = str(req.body.get("location") or "").replace(" ", "").lower()
        if vnet is not None and vnet.location and vnet.location != location:
            raise _bad("InvalidResourceReference", f"Subnet {subnet.id} is in '{vnet.location}', the application "
                       f"gateway in '{location}'.")
        delegated = [d.get("properties", {}).get("serviceName") for d in subnet.properties.get("delegations") or []]
        if any(str(s).lower() != AGW.lower() for s in delegated):
            raise _bad("ApplicationGatewaySubnetCannotHaveDelegations",
                       f"Subnet {subnet.id} of application gateway {req.id} is delegated to {delegated}; a gateway's "
                       "subnet may only be delegated to Microsoft.Network/applicationGateways.")
        endpoints = [pe.id for pe in ctx.find(PE)
                     if id_equal(((pe.properties.get("subnet") or {}).get("id")), subnet.id)]
        if endpoints:
            raise _bad("ApplicationGatewaySubnetCannotBeUsedByOtherResources",
                       f"Subnet {subnet.id} cannot be used for application gateway {req.id}: it holds {endpoints[0]}. "
                       "An application gateway's subnet holds application gateways only.")
        return subnet

    def _frontends(self, ctx: Ctx, req: WriteRequest) -> None:
        frontends = req.properties.get("frontendIPConfigurations") or []
        if not frontends:
            raise _bad("ApplicationGatewayMustHaveFrontendIpConfiguration",
                       f"Application gateway {req.id} needs a frontend IP configuration.")
        for frontend in frontends:
            ref = ((frontend.get("properties") or {}).get("publicIPAddress") or {}).get("id")
            if not ref:
                continue
            pip = ctx.get(str(ref))
            if pip is None:
                raise _bad("InvalidResourceReference", f"Public IP address {ref} referenced by {req.id} was not found.")
            if (pip.body.get("sku") or {}).get("name") != "Standard" \
                    or pip.properties.get("publicIPAllocationMethod") != "Static":
                raise _bad("ApplicationGatewayV2SkuPublicIpRequiresStandardSku",
                           f"Application gateway {req.id} with a v2 SKU needs a Standard SKU static public IP "
                           f"address; {pip.id} is not.")
            if _zones(req.body) and not set(_zones(req.body)) <= set(_zones(pip.body)):
                raise _bad("ApplicationGatewayZonesMustMatchPublicIpZones",
                           f"Application gateway {req.id} spans zones {_zones(req.body)}; its public IP address "
                           f"{pip.id} must span them too ({_zones(pip.body) or 'no zones'}).")

    def _parts(self, req: WriteRequest) -> dict[str, set[str]]:
        names: dict[str, set[str]] = {}
        for collection in PARTS:
            seen: set[str] = set()
            for item in req.properties.get(collection) or []:
                name = str(item.get("name") or "")
                if not name:
                    raise _bad("InvalidRequestFormat", f"Every item of {collection} needs a name.")
                if name.lower() in seen:
                    raise _bad("InvalidRequestFormat", f"{collection} has two items named {name}.")
                seen.add(name.lower())
            names[collection] = seen
        return names

    def _references(self, req: WriteRequest, names: dict[str, set[str]]) -> None:
        prefix = req.id.lower() + "/"

        def walk(value: Any, where: str) -> None:
            if isinstance(value, dict):
                for key, sub in value.items():
                    if key == "id" and isinstance(sub, str) and sub.lower().startswith(prefix):
                        collection, _sep, item = sub[len(prefix):].partition("/")
                        if collection not in names or item.lower() not in names[collection]:
                            raise _bad("InvalidResourceReference",
                                       f"Resource {sub} referenced by {where} of application gateway {req.id} was not "
                                       "found.")
                    else:
                        walk(sub, where)
            elif isinstance(value, list):
                for sub in value:
                    walk(sub, where)

        for collection in PARTS:
            for item in req.properties.get(collection) or []:
                walk(item.get("properties") or {}, f"{collection}/{item.get('name')}")

    def _listeners_and_rules(self, req: WriteRequest, names: dict[str, set[str]]) -> None:
        props = req.properties
        for listener in props.get("httpListeners") or []:
            lp = listener.get("properties") or {}
            if lp.get("protocol") not in ("Http", "Https"):
                raise _bad("InvalidRequestFormat", f"Listener {listener.get('name')} needs protocol Http or Https.")
            if lp.get("protocol") == "Https" and not (lp.get("sslCertificate") or {}).get("id"):
                raise _bad("ApplicationGatewayHttpsListenerMustReferenceSslCert",
                           f"HTTPS listener {listener.get('name')} of {req.id} must reference an SSL certificate.")
            for key in ("frontendIPConfiguration", "frontendPort"):
                if not (lp.get(key) or {}).get("id"):
                    raise _bad("InvalidRequestFormat", f"Listener {listener.get('name')} needs a {key}.")
        priorities: dict[int, str] = {}
        for rule in props.get("requestRoutingRules") or []:
            rp, name = rule.get("properties") or {}, rule.get("name")
            priority = rp.get("priority")
            if not isinstance(priority, int) or isinstance(priority, bool) or not 1 <= priority <= 20000:
                raise _bad("ApplicationGatewayRequestRoutingRulePriorityCannotBeEmpty",
                           f"Request routing rule {name} of a v2 gateway needs a priority of 1-20000.")
            if priority in priorities:
                raise _bad("ApplicationGatewayRequestRoutingRulesWithSamePriority",
                           f"Request routing rules {priorities[priority]} and {name} have the same priority.")
            priorities[priority] = str(name)
            if not (rp.get("httpListener") or {}).get("id"):
                raise _bad("InvalidRequestFormat", f"Request routing rule {name} needs an httpListener.")
            backend = (rp.get("backendAddressPool") or {}).get("id") and (rp.get("backendHttpSettings") or {}).get("id")
            redirect = (rp.get("redirectConfiguration") or {}).get("id")
            if bool(backend) == bool(redirect):
                raise _bad("ApplicationGatewayRequestRoutingRuleInvalid",
                           f"Request routing rule {name} needs either a redirect configuration or a backend address "
                           "pool with backend HTTP settings.")
        for probe in props.get("probes") or []:
            pp = probe.get("properties") or {}
            if not str(pp.get("path") or "").startswith("/"):
                raise _bad("ApplicationGatewayProbePathIsInvalid", f"Probe {probe.get('name')} needs a path starting "
                           "with /.")
            if not pp.get("host") and not pp.get("pickHostNameFromBackendHttpSettings"):
                raise _bad("ApplicationGatewayProbeHostIsRequired",
                           f"Probe {probe.get('name')} needs a host or pickHostNameFromBackendHttpSettings.")
        for redirect in props.get("redirectConfigurations") or []:
            rp = redirect.get("properties") or {}
            if not (rp.get("targetListener") or {}).get("id") and not rp.get("targetUrl"):
                raise _bad("ApplicationGatewayRedirectConfigurationInvalid",
                           f"Redirect configuration {redirect.get('name')} needs a target listener or URL.")

    def _ssl_policies(self, ctx: Ctx, req: WriteRequest) -> None:
        """The gateway's TLS policy and each SSL profile's: each valid on its own (ssl_policy_generation), and all of
        one generation, the gateway's default policy standing in when it names none (ApplicationGatewaySslPolicyMisMatch,
        the code Azure answers: "The newer and older SSL policies can't be used together ...")."""
        own = req.properties.get("sslPolicy")
        generation = ssl_policy_generation(own, f"application gateway {req.id}", req.id)
        global_name = _policy_label(own)
        if generation is None:
            global_name = _default_ssl_policy(ctx, req)
            generation = PREDEFINED_SSL_POLICIES[global_name].generation
        for profile in req.properties.get("sslProfiles") or []:
            policy = (profile.get("properties") or {}).get("sslPolicy")
            name = str(profile.get("name"))
            profile_generation = ssl_policy_generation(policy, f"SSL profile {name}", req.id)
            if profile_generation is not None and profile_generation != generation:
                raise _bad("ApplicationGatewaySslPolicyMisMatch",
                           "The newer and older SSL policies can't be used together for SSLPolicy and listener-specific "
                           f"SSLProfile. The sslProfile {name} ({_policy_label(policy)}, {profile_generation}) of "
                           f"application gateway {req.id} conflicts with the global sslPolicy {global_name} "
                           f"({generation}). Learn more https://aka.ms/appgw-oldtlsversions")

    def _certificates(self, ctx: Ctx, req: WriteRequest, subnet: Resource) -> None:
        identities = ((req.body.get("identity") or {}).get("userAssignedIdentities") or {})
        kept = {str(c.get("name")).lower() for c in (req.existing.properties if req.existing else {}).get(
            "sslCertificates") or [] if (c.get("properties") or {}).get("publicCertData")}
        vault_refs: list[tuple[dict[str, Any], str]] = []
        for cert in req.properties.get("sslCertificates") or []:
            cp = cert.get("properties") or {}
            secret_id = cp.get("keyVaultSecretId")
            if secret_id:
                vault_refs.append((cert, str(secret_id)))
            elif cp.get("data"):
                _public_cert_data(cert)
            elif str(cert.get("name")).lower() not in kept:
                raise _bad("ApplicationGatewaySslCertificateDataMustBeSpecified",
                           f"SSL certificate {cert.get('name')} needs data (a PFX) or a keyVaultSecretId.")
        for cert in req.properties.get("trustedRootCertificates") or []:
            secret_id = (cert.get("properties") or {}).get("keyVaultSecretId")
            if secret_id:
                vault_refs.append((cert, str(secret_id)))
        for cert, secret_id in vault_refs:
            if "userassigned" not in str((req.body.get("identity") or {}).get("type", "")).lower() or not identities:
                raise _bad("ApplicationGatewayKeyVaultSecretException",
                           f"Certificate {cert.get('name')} of {req.id} references Key Vault secret {secret_id}; "
                           "the application gateway needs a user-assigned managed identity to read it.")
            self._check_vault_access(ctx, req, secret_id, list(identities), subnet)

    def _check_vault_access(self, ctx: Ctx, req: WriteRequest, secret_id: str, identities: list[str],
                            subnet: Resource) -> None:
        vault = next((v for v in ctx.find(VAULTS)
                      if secret_id.lower().startswith(str(v.properties.get("vaultUri") or "#").lower())), None)
        if vault is None:
            raise _bad("ApplicationGatewayKeyVaultSecretException",
                       f"Key Vault secret {secret_id} of {req.id}: no key vault answers at that address.")
        rest = secret_id[len(str(vault.properties["vaultUri"])):].strip("/").split("/")
        if len(rest) < 2 or rest[0].lower() != "secrets":
            raise _bad("ApplicationGatewayKeyVaultSecretException",
                       f"{secret_id} is not a Key Vault secret identifier (<vault uri>secrets/<name>[/<version>]).")
        secret_name = rest[1]
        acls = vault.properties.get("networkAcls") or {}
        closed = str(vault.properties.get("publicNetworkAccess", "Enabled")).lower() == "disabled" or \
            str(acls.get("defaultAction", "Allow")).lower() == "deny"
        if closed and not any(id_equal(r.get("id"), subnet.id) for r in acls.get("virtualNetworkRules") or []):
            raise _bad("ApplicationGatewayKeyVaultSecretException",
                       f"Key Vault {vault.name} refuses application gateway {req.id}: its firewall does not admit the "
                       f"gateway's subnet {subnet.id} (add it to the vault's virtual network rules with the "
                       "Microsoft.KeyVault service endpoint, or use a private endpoint).")
        allowed = False
        for identity_id in identities:
            identity = ctx.get(identity_id)
            if identity is None:
                raise _bad("InvalidResourceReference", f"User-assigned identity {identity_id} of {req.id} was not found.")
            principal = str(identity.properties.get("principalId") or "")
            if vault.properties.get("enableRbacAuthorization"):
                allowed = allowed or has_data_action(ctx, principal, f"{vault.id}/secrets/{secret_name}", GET_SECRET)
            else:
                allowed = allowed or any(
                    str(p.get("objectId", "")).lower() == principal.lower()
                    and {"get", "all"} & {s.lower() for s in (p.get("permissions") or {}).get("secrets") or []}
                    for p in vault.properties.get("accessPolicies") or [])
        if not allowed:
            raise _bad("ApplicationGatewayKeyVaultSecretException",
                       f"The user-assigned identity of application gateway {req.id} may not read secret {secret_name} "
                       f"of Key Vault {vault.name} (it needs Key Vault Secrets User on the secret or the vault).")
        plane = ctx.planes.keyvault_secrets
        if plane is not None and not plane.secret_exists(vault.name, secret_name):
            raise _bad("ApplicationGatewayKeyVaultSecretException",
                       f"Secret {secret_name} of Key Vault {vault.name}, referenced by {req.id}, does not exist.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        for collection, child in PARTS.items():
            items = props.get(collection)
            if items is None:
                if collection in LISTED:
                    props[collection] = []
                continue
            for item in items:
                item["id"] = f"{req.id}/{collection}/{item['name']}"
                if child:
                    item["type"] = f"{AGW}/{child}"
                item.setdefault("properties", {})["provisioningState"] = "Succeeded"
        for pool in props.get("backendAddressPools") or []:
            pool["properties"].setdefault("backendAddresses", [])
        earlier = {str(c.get("name")).lower(): c.get("properties") or {}
                   for c in previous.get("sslCertificates") or []}
        for cert in props.get("sslCertificates") or []:
            cp = cert["properties"]
            if cp.get("data"):
                cp["publicCertData"] = _public_cert_data(cert)
            elif not cp.get("keyVaultSecretId") and earlier.get(cert["name"].lower(), {}).get("publicCertData"):
                cp["publicCertData"] = earlier[cert["name"].lower()]["publicCertData"]
            # Taken on PUT only: never stored, never returned.
            cp.pop("data", None)
            cp.pop("password", None)
        fill_defaults(props, {"enableHttp2": False})
        # Read-only, fixed by the API version the gateway was created with (the "Default TLS policy" documentation).
        default_policy = previous.get("defaultPredefinedSslPolicy") if req.existing else (
            DEFAULT_SSL_POLICY if str(ctx.api_version or "") >= DEFAULT_SSL_POLICY_SINCE else None)
        if default_policy:
            props["defaultPredefinedSslPolicy"] = default_policy
        props["operationalState"] = "Running"
        props["resourceGuid"] = previous.get("resourceGuid") or ctx.new_guid()
        return body


    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        # Every part carries its gateway's etag, as ARM reports them.
        for collection in PARTS:
            for item in body.get("properties", {}).get(collection) or []:
                item["etag"] = body.get("etag")
        return body


def _public_cert_data(cert: dict[str, Any]) -> str:
    """The certificates of an uploaded PFX (``data`` opened with ``password``) as Azure answers them, base64 PKCS #7;
    raises ApplicationGatewaySslCertificateInvalidData when the PFX does not open or holds no certificate."""
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7, pkcs12

    cp = cert.get("properties") or {}
    password = cp.get("password")
    try:
        pfx = base64.b64decode(str(cp.get("data")), validate=True)
        key, leaf, chain = pkcs12.load_key_and_certificates(pfx, str(password).encode() if password else None)
    except (ValueError, TypeError, binascii.Error) as err:
        raise _bad("ApplicationGatewaySslCertificateInvalidData",
                   f"Data or password for certificate {cert.get('name')} is invalid: {err}") from None
    if leaf is None or key is None:
        raise _bad("ApplicationGatewaySslCertificateInvalidData",
                   f"The PFX of certificate {cert.get('name')} holds no certificate with its private key.")
    return base64.b64encode(pkcs7.serialize_certificates([leaf, *chain], Encoding.DER)).decode()


# --- available SSL options -----------------------------------------------------------------------------------------
SSL_OPTIONS = f"{NS}/applicationGatewayAvailableSslOptions"


def _default_policy_for(ctx: Ctx) -> str:
    return DEFAULT_SSL_POLICY if str(ctx.api_version or "") >= DEFAULT_SSL_POLICY_SINCE else OLD_DEFAULT_SSL_POLICY


def _options_id(ctx: Ctx) -> str:
    # The form Azure answers (ApplicationGatewayAvailableSslOptionsGet.json): an empty resource group segment.
    return f"/subscriptions/{ctx.subscription_id}/resourceGroups//providers/{NS}/ApplicationGatewayAvailableSslOptions/default"


class AvailableSslOptions(ResourceType):
    """``GET /subscriptions/{s}/providers/Microsoft.Network/applicationGatewayAvailableSslOptions/default``
    (ApplicationGateways_ListAvailableSslOptions): the predefined policies, the default one for the API version asked
    with, the cipher suites and protocols a custom policy may name. Read-only."""

    type = SSL_OPTIONS
    scope = Scope.SUBSCRIPTION
    location = "none"
    tags = False
    system_data = False
    allow_put = False
    patch = None

    def builtin(self, ctx: Ctx, resource_id: str, name: str) -> dict[str, Any] | None:
        if name.lower() != "default":
            return None
        return {"name": "default", "id": _options_id(ctx), "type": f"{NS}/ApplicationGatewayAvailableSslOptions",
                "properties": {
                    "predefinedPolicies": [{"id": f"{_options_id(ctx)}/ApplicationGatewaySslPredefinedPolicy/{n}"}
                                           for n in PREDEFINED_SSL_POLICIES],
                    "defaultPolicy": _default_policy_for(ctx),
                    # In the order of the documentation's list of cipher suites for custom policies.
                    "availableCipherSuites": [*_TLS13, *PREDEFINED_SSL_POLICIES["AppGwSslPolicy20150501"].cipher_suites],
                    "availableProtocols": list(TLS_VERSIONS)}}


class PredefinedSslPolicies(ResourceType):
    """``.../applicationGatewayAvailableSslOptions/default/predefinedPolicies[/{name}]``
    (ApplicationGateways_ListAvailableSslPredefinedPolicies, ApplicationGateways_GetSslPredefinedPolicy): each
    predefined policy's minimum protocol and cipher suites, as the TLS policy overview's table gives them. Read-only."""

    type = f"{SSL_OPTIONS}/predefinedPolicies"
    location = "none"
    tags = False
    system_data = False
    allow_put = False
    patch = None

    @staticmethod
    def _policy(ctx: Ctx, name: str) -> dict[str, Any]:
        policy = PREDEFINED_SSL_POLICIES[name]
        return {"name": name, "id": f"{_options_id(ctx)}/ApplicationGatewaySslPredefinedPolicy/{name}",
                "properties": {"cipherSuites": list(policy.cipher_suites), "minProtocolVersion": policy.min_protocol}}

    def builtin(self, ctx: Ctx, resource_id: str, name: str) -> dict[str, Any] | None:
        known = next((n for n in PREDEFINED_SSL_POLICIES if n.lower() == name.lower()), None)
        return self._policy(ctx, known) if known else None

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        return [self._policy(ctx, name) for name in PREDEFINED_SSL_POLICIES]


RESOURCE_TYPES: list[ResourceType] = [PublicIPAddresses(), WafPolicies(), ApplicationGateways(), AvailableSslOptions(),
                                      PredefinedSslPolicies()]
