"""Microsoft.App/managedEnvironments: Azure Container Apps environments, their network rules and generated names.

Written from the Container Apps REST spec (Azure/azure-rest-api-specs, ManagedEnvironments.json 2025-07-01) and the
Azure Container Apps documentation (networking: environment types, custom virtual network, subnet size and
delegation, internal environments and their private DNS; zone redundancy; log options).

Modelled, as Azure does it:
- Names: 2-60 characters, lower-case letters, digits and hyphens, starting with a letter and ending with a letter or
  digit.
- A custom virtual network (``vnetConfiguration.infrastructureSubnetId``): the subnet must exist in the
  environment's region. A workload-profiles environment needs the subnet delegated to
  ``Microsoft.App/environments`` and at least a /27; a consumption-only environment (no ``workloadProfiles``) needs
  at least a /23. The subnet is the environment's alone: no private endpoint, and no second environment.
- ``internal: true`` (an internal load balancer, no public endpoint) and ``zoneRedundant: true`` need a custom
  virtual network.
- The network and zone redundancy are fixed at creation.
- Workload profiles: unique names; at most one Consumption profile, with no node counts; a dedicated profile
  (GeneralPurpose, MemoryOptimized, D4, E8 ...) has ``0 <= minimumCount <= maximumCount``.
- Logs: ``appLogsConfiguration.destination`` is ``log-analytics`` (the default when a ``logAnalyticsConfiguration``
  is given; needs the workspace's customer id and, on create, its shared key, which is never returned),
  ``azure-monitor`` (diagnostic settings carry them) or none.
- A custom DNS suffix (``customDomainConfiguration``) comes with its certificate: a base64 PFX
  (``certificateValue``) that ``certificatePassword`` opens and that holds one certificate with its private key
  (``InvalidCertificate`` otherwise). Value and password are never returned; responses carry the certificate's
  ``subjectName``, ``thumbprint`` and ``expirationDate`` and a ``customDomainVerificationId``.
- Managed identities: a system-assigned identity gets a principal and the tenant; each user-assigned identity
  (which must exist) is answered with its principal and client ids.
- Azure generates ``defaultDomain`` (``<word>-<hash>.<region>.azurecontainerapps.io``) and ``staticIp``: an address
  of the subnet for an internal environment, a public address otherwise; ``infrastructureResourceGroup``
  (``ME_<environment>_<group>_<region>``) when none is given.
- Create and update are long-running (Azure-AsyncOperation, 200/201); delete answers 202 with a Location, or 204.

Known gaps: the system-assigned identity's principal cannot be given roles here; container apps, jobs, certificates,
Dapr components, storages and the environment's infrastructure resource group (not created) are not modelled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
from typing import Any

from ..framework import ArmError, Ctx, Lro, NameRule, OpStyle, ResourceType, WriteRequest, fill_defaults, id_equal
from ..identity import SUBSCRIPTIONS, TENANT_ID

ENVIRONMENTS = "Microsoft.App/managedEnvironments"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
PRIVATE_ENDPOINT = "Microsoft.Network/privateEndpoints"
DELEGATION = "Microsoft.App/environments"
USER_ASSIGNED = "Microsoft.ManagedIdentity/userAssignedIdentities"
# Smallest subnet per environment type (documented minimums).
MIN_PREFIXLEN = {"workload-profiles": 27, "consumption-only": 23}
LOG_DESTINATIONS = ("log-analytics", "azure-monitor", "none", "")
# Azure's generated default domains start with a pair of words; a handful stand in for its list.
WORDS = ("happy", "gentle", "lively", "proud", "calm", "brave", "wonderful", "polite")
PLACES = ("hill", "river", "sea", "forest", "field", "stone", "meadow", "island")


def _invalid(message: str, code: str = "ManagedEnvironmentInvalidNetworkConfiguration") -> ArmError:
    return ArmError(400, code, message)


class ManagedEnvironments(ResourceType):
    type = ENVIRONMENTS
    name_rule = NameRule(2, 60, r"[a-z][a-z0-9-]*[a-z0-9]",
                         "The environment name must be 2-60 characters of lower-case letters, digits and hyphens, "
                         "start with a letter and end with a letter or digit.", code="InvalidName")
    # ManagedEnvironments_CreateOrUpdate 200/201, _Update (PATCH) 200/202, _Delete 200/202/204.
    put = OpStyle(Lro.AZURE_ASYNC, done=200, pending=201, created_done=201, created_pending=201)
    patch = OpStyle(Lro.AZURE_ASYNC, done=200, pending=202)
    delete = OpStyle(Lro.LOCATION, done=200, pending=202, missing=204)
    latency_s = 8 * 60.0
    pending_state = {"create": "InitializationInProgress", "update": "UpgradeRequested", "delete": "ScheduledForDelete"}
    read_only_properties = ("defaultDomain", "staticIp", "deploymentErrors", "eventStreamEndpoint",
                            "privateEndpointConnections")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        vnet = props.get("vnetConfiguration") or {}
        subnet_id = str(vnet.get("infrastructureSubnetId") or "")
        if vnet.get("internal") and not subnet_id:
            raise _invalid("An internal environment (vnetConfiguration.internal) needs an infrastructure subnet "
                           "(vnetConfiguration.infrastructureSubnetId).")
        if props.get("zoneRedundant") and not subnet_id:
            raise _invalid("A zone-redundant environment needs a custom virtual network "
                           "(vnetConfiguration.infrastructureSubnetId).")
        if req.existing is not None:
            before = req.existing.properties
            old_vnet = before.get("vnetConfiguration") or {}
            if "vnetConfiguration" in props and (
                    not id_equal(old_vnet.get("infrastructureSubnetId"), subnet_id or None)
                    or bool(old_vnet.get("internal")) != bool(vnet.get("internal"))):
                raise _invalid("The virtual network configuration of an environment cannot be changed after it is "
                               "created.", code="ManagedEnvironmentCannotChangeVnetConfiguration")
            if "zoneRedundant" in props and bool(props.get("zoneRedundant")) != bool(before.get("zoneRedundant")):
                raise _invalid("Zone redundancy of an environment cannot be changed after it is created.",
                               code="ManagedEnvironmentCannotChangeZoneRedundancy")
        profiles = props.get("workloadProfiles")
        self._check_profiles(profiles)
        domain = props.get("customDomainConfiguration") or {}
        if domain.get("certificateValue"):
            _certificate(domain)
        for identity_id in (req.body.get("identity") or {}).get("userAssignedIdentities") or {}:
            found = ctx.get(str(identity_id))
            if found is None or found.type.lower() != USER_ASSIGNED.lower():
                raise ArmError(400, "InvalidUserAssignedIdentity",
                               f"The user-assigned identity '{identity_id}' was not found.")
        if subnet_id and req.existing is None:
            self._check_subnet(ctx, req, subnet_id, "workload-profiles" if profiles else "consumption-only")
        logs = props.get("appLogsConfiguration") or {}
        destination = str(logs.get("destination") or "")
        if destination not in LOG_DESTINATIONS:
            raise ArmError(400, "InvalidAppLogsDestination",
                           f"The logs destination '{destination}' is not valid: log-analytics, azure-monitor or none.")
        analytics = logs.get("logAnalyticsConfiguration") or {}
        if destination in ("", "log-analytics") and analytics and req.existing is None \
                and not (analytics.get("customerId") and analytics.get("sharedKey")):
            raise ArmError(400, "InvalidLogAnalyticsConfiguration",
                           "The log-analytics destination needs the workspace's customerId and sharedKey.")
        if destination == "log-analytics" and not analytics.get("customerId"):
            raise ArmError(400, "InvalidLogAnalyticsConfiguration",
                           "The log-analytics destination needs the workspace's customerId and sharedKey.")
        if destination not in ("", "log-analytics") and analytics:
            raise ArmError(400, "InvalidLogAnalyticsConfiguration",
                           "logAnalyticsConfiguration may only be given with the log-analytics destination.")

    @staticmethod
    def _check_profiles(profiles: Any) -> None:
        if profiles is None:
            return
        names = set()
        consumption = 0
        for profile in profiles:
            name = str(profile.get("name") or "")
            kind = str(profile.get("workloadProfileType") or "")
            if name.lower() in names:
                raise ArmError(400, "InvalidWorkloadProfile", f"The workload profile name '{name}' is used twice.")
            names.add(name.lower())
            low, high = profile.get("minimumCount"), profile.get("maximumCount")
            if kind == "Consumption":
                consumption += 1
                if low is not None or high is not None:
                    raise ArmError(400, "InvalidWorkloadProfile",
                                   f"The Consumption workload profile '{name}' takes no minimumCount or maximumCount.")
            elif not isinstance(low, int) or not isinstance(high, int) or not 0 <= low <= high:
                raise ArmError(400, "InvalidWorkloadProfile",
                               f"The dedicated workload profile '{name}' ({kind}) needs 0 <= minimumCount <= "
                               "maximumCount.")
        if consumption > 1:
            raise ArmError(400, "InvalidWorkloadProfile", "An environment has at most one Consumption profile.")

    @staticmethod
    def _check_subnet(ctx: Ctx, req: WriteRequest, subnet_id: str, kind: str) -> None:
        subnet = ctx.get(subnet_id)
        if subnet is None or subnet.type.lower() != SUBNET.lower():
            raise _invalid(f"The subnet '{subnet_id}' was not found.", code="InvalidSubnetId")
        vnet = ctx.get(subnet.parent_id)
        location = str(req.body.get("location") or "").replace(" ", "").lower()
        if vnet is not None and vnet.location and vnet.location != location:
            raise _invalid(f"The subnet's virtual network is in '{vnet.location}', the environment in '{location}'.")
        prefix = ipaddress.ip_network(str(subnet.properties.get("addressPrefix")
                                          or (subnet.properties.get("addressPrefixes") or ["0.0.0.0/32"])[0]))
        if prefix.prefixlen > MIN_PREFIXLEN[kind]:
            raise _invalid(f"The subnet '{subnet.name}' is a /{prefix.prefixlen}: a {kind} environment needs at least "
                           f"a /{MIN_PREFIXLEN[kind]}.", code="ManagedEnvironmentSubnetTooSmall")
        services = {str((d.get("properties") or {}).get("serviceName") or "").lower()
                    for d in subnet.properties.get("delegations") or []}
        if kind == "workload-profiles" and DELEGATION.lower() not in services:
            raise _invalid(f"The subnet '{subnet.name}' must be delegated to {DELEGATION} for a workload-profiles "
                           "environment.", code="ManagedEnvironmentSubnetNotDelegated")
        if kind == "consumption-only" and services:
            raise _invalid(f"The subnet '{subnet.name}' of a consumption-only environment must not be delegated.")
        for other in ctx.find(ENVIRONMENTS):
            if not id_equal(other.id, req.id) and id_equal(
                    (other.properties.get("vnetConfiguration") or {}).get("infrastructureSubnetId"), subnet.id):
                raise _invalid(f"The subnet '{subnet.name}' is used by environment '{other.name}'.",
                               code="ManagedEnvironmentSubnetInUse")
        for endpoint in ctx.find(PRIVATE_ENDPOINT):
            if id_equal((endpoint.properties.get("subnet") or {}).get("id"), subnet.id):
                raise _invalid(f"The subnet '{subnet.name}' holds private endpoint '{endpoint.name}'; an environment "
                               "needs a subnet of its own.", code="ManagedEnvironmentSubnetInUse")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        location = str(body.get("location") or "")
        analytics = (props.get("appLogsConfiguration") or {}).get("logAnalyticsConfiguration")
        if isinstance(analytics, dict):
            analytics.pop("sharedKey", None)  # write-only: never returned
        # Secrets Azure takes and never returns (the spec's write-only and secure properties).
        for key in ("daprAIConnectionString", "daprAIInstrumentationKey"):
            props.pop(key, None)
        domain = props.get("customDomainConfiguration")
        if isinstance(domain, dict):
            earlier = previous.get("customDomainConfiguration") or {}
            if domain.get("certificateValue"):
                domain.update(_certificate(domain))
            else:
                domain.update({k: earlier[k] for k in ("subjectName", "thumbprint", "expirationDate") if k in earlier})
            domain.pop("certificateValue", None)
            domain.pop("certificatePassword", None)
            domain["customDomainVerificationId"] = earlier.get("customDomainVerificationId") or \
                hashlib.sha256(f"{req.id.split('/')[2]}|{ctx.new_guid()}".encode()).hexdigest().upper()
        fill_defaults(props, {
            "zoneRedundant": False,
            "peerAuthentication": {"mtls": {"enabled": False}},
            "peerTrafficConfiguration": {"encryption": {"enabled": False}},
            "publicNetworkAccess": "Disabled" if (props.get("vnetConfiguration") or {}).get("internal") else "Enabled",
        })
        rg = req.id.split("/resourceGroups/", 1)[1].split("/", 1)[0]
        props.setdefault("infrastructureResourceGroup",
                         previous.get("infrastructureResourceGroup") or f"ME_{req.name}_{rg}_{location}")
        digest = hashlib.sha256(f"{req.id.lower()}|{ctx.new_guid()}".encode()).hexdigest()[:8]
        word = f"{WORDS[int(digest[:2], 16) % len(WORDS)]}{PLACES[int(digest[2:4], 16) % len(PLACES)]}"
        props["defaultDomain"] = previous.get("defaultDomain") or f"{word}-{digest}.{location}.azurecontainerapps.io"
        props["staticIp"] = previous.get("staticIp") or self._static_ip(ctx, props)
        props["eventStreamEndpoint"] = (f"https://{location}.azurecontainerapps.dev/subscriptions/"
                                        f"{req.id.split('/')[2]}/resourceGroups/{rg}/managedEnvironments/{req.name}"
                                        "/eventstream")
        props["deploymentErrors"] = None
        props["privateEndpointConnections"] = previous.get("privateEndpointConnections", [])
        self._identity(ctx, body, req)
        return body

    @staticmethod
    def _identity(ctx: Ctx, body: dict[str, Any], req: WriteRequest) -> None:
        identity = body.get("identity")
        if not isinstance(identity, dict):
            return
        before = (req.existing.body.get("identity") or {}) if req.existing else {}
        kinds = {k.strip().lower() for k in str(identity.get("type") or "").split(",")}
        if "systemassigned" in kinds:
            identity["principalId"] = before.get("principalId") or ctx.new_guid()
            identity["tenantId"] = before.get("tenantId") or \
                SUBSCRIPTIONS.get(ctx.subscription_id or "", {}).get("tenantId", TENANT_ID)
        else:
            identity.pop("principalId", None)
            identity.pop("tenantId", None)
        for identity_id in list(identity.get("userAssignedIdentities") or {}):
            found = ctx.get(str(identity_id))
            if found is not None:
                identity["userAssignedIdentities"][identity_id] = {
                    "principalId": found.properties.get("principalId"), "clientId": found.properties.get("clientId")}

    @staticmethod
    def _static_ip(ctx: Ctx, props: dict[str, Any]) -> str:
        vnet = props.get("vnetConfiguration") or {}
        if vnet.get("internal") and vnet.get("infrastructureSubnetId"):
            subnet = ctx.get(str(vnet["infrastructureSubnetId"]))
            if subnet is not None:
                network = ipaddress.ip_network(str(subnet.properties.get("addressPrefix")))
                # Past the five addresses Azure reserves in every subnet, away from the first nodes.
                return str(list(network.hosts())[min(250, network.num_addresses - 3)])
        return f"20.{ctx.rng.randrange(1, 255)}.{ctx.rng.randrange(0, 255)}.{ctx.rng.randrange(1, 255)}"


def _certificate(domain: dict[str, Any]) -> dict[str, str]:
    """subjectName, thumbprint and expirationDate of a custom domain's PFX; InvalidCertificate when the password does
    not open it or it holds no certificate with its private key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs12

    password = domain.get("certificatePassword")
    try:
        pfx = base64.b64decode(str(domain.get("certificateValue")), validate=True)
        key, cert, _chain = pkcs12.load_key_and_certificates(pfx, str(password).encode() if password else None)
    except (ValueError, TypeError, binascii.Error):
        key = cert = None
    if key is None or cert is None:
        raise ArmError(400, "InvalidCertificate",
                       f"The certificate for {domain.get('dnsSuffix')} is invalid or password is incorrect.")
    return {"subjectName": cert.subject.rfc4514_string(), "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper(),
            "expirationDate": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")}


RESOURCE_TYPES: list[ResourceType] = [ManagedEnvironments()]
