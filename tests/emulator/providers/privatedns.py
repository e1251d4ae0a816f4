"""Microsoft.Network private DNS zones and their virtual network links (the privatedns REST API)."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from ..framework import ArmError, Ctx, Lro, NameRule, OpStyle, Resource, ResourceType, WriteRequest, id_equal

ZONE = "Microsoft.Network/privateDnsZones"
LINK = "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
A_RECORDS = "Microsoft.Network/privateDnsZones/A"
# PrivateZones_CreateOrUpdate / Update / Delete and the link operations: 200/201/202 with Azure-AsyncOperation.
DNS_PUT = OpStyle(Lro.AZURE_ASYNC, done=200, pending=202, created_done=201, created_pending=202)
DNS_PATCH = OpStyle(Lro.AZURE_ASYNC, done=200, pending=202)
DNS_DELETE = OpStyle(Lro.AZURE_ASYNC, done=200, pending=202, missing=204)
LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"


class PrivateDnsZones(ResourceType):
    type = ZONE
    name_rule = NameRule(1, 253, rf"{LABEL}(?:\.{LABEL})+",
                         "A private DNS zone name must be a valid domain name with at least two labels.",
                         code="InvalidZoneName")
    location = "global"
    etag = True
    etag_weak = False
    put = DNS_PUT
    patch = DNS_PATCH
    delete = DNS_DELETE
    latency_s = 35.0
    pending_state = {"create": "Creating", "update": "Updating", "delete": "Deleting"}
    read_only_properties = ("maxNumberOfRecordSets", "numberOfRecordSets", "maxNumberOfVirtualNetworkLinks",
                            "numberOfVirtualNetworkLinks", "maxNumberOfVirtualNetworkLinksWithRegistration",
                            "numberOfVirtualNetworkLinksWithRegistration", "internalId")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        previous = req.existing.properties if req.existing else {}
        body["properties"]["internalId"] = previous.get("internalId") or ctx.new_key(24)
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        links = ctx.children(resource.id, LINK)
        body["properties"].update({
            "maxNumberOfRecordSets": 25000,
            "numberOfRecordSets": 1 + len(ctx.children(resource.id, A_RECORDS)),  # the SOA record every zone has
            "maxNumberOfVirtualNetworkLinks": 1000,
            "numberOfVirtualNetworkLinks": len(links),
            "maxNumberOfVirtualNetworkLinksWithRegistration": 100,
            "numberOfVirtualNetworkLinksWithRegistration": sum(
                1 for link in links if link.properties.get("registrationEnabled")),
        })
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        if ctx.children(resource.id, LINK):
            raise ArmError(409, "CannotDeleteZoneWithVirtualNetworkLinks",
                           f"The private DNS zone '{resource.name}' cannot be deleted because it has virtual network "
                           "links. Delete the virtual network links first.")


class VirtualNetworkLinks(ResourceType):
    type = LINK
    name_rule = NameRule(1, 80, r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?",
                         "Link names may contain letters, numbers, underscores, periods and hyphens.")
    location = "global"
    etag = True
    etag_weak = False
    put = DNS_PUT
    patch = DNS_PATCH
    delete = DNS_DELETE
    latency_s = 30.0
    pending_state = {"create": "Creating", "update": "Updating", "delete": "Deleting"}
    read_only_properties = ("virtualNetworkLinkState",)

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        zone = req.parent
        assert zone is not None
        vnet_id = str((req.properties.get("virtualNetwork") or {}).get("id") or "")
        vnet = ctx.get(vnet_id)
        if vnet is None or vnet.type.lower() != "microsoft.network/virtualnetworks":
            raise ArmError(400, "InvalidVirtualNetworkId" if vnet_id else "VirtualNetworkRequired",
                           f"The virtual network '{vnet_id}' referenced by link '{req.name}' was not found.")
        if req.existing is not None and not id_equal(
                (req.existing.properties.get("virtualNetwork") or {}).get("id"), vnet.id):
            raise ArmError(400, "VirtualNetworkCannotBeChanged",
                           "The virtual network of an existing virtual network link cannot be changed.")
        for other in ctx.children(zone.id, LINK):
            if not id_equal(other.id, req.id) and id_equal((other.properties.get("virtualNetwork") or {}).get("id"),
                                                           vnet.id):
                raise ArmError(409, "Conflict",
                               f"A virtual network link ({other.name}) to virtual network '{vnet.id}' already exists "
                               f"for zone '{zone.name}'.")
        if req.properties.get("registrationEnabled"):
            for other in ctx.find(LINK):
                if other.parent_id == zone.id.lower() or id_equal(other.id, req.id):
                    continue
                if other.properties.get("registrationEnabled") and id_equal(
                        (other.properties.get("virtualNetwork") or {}).get("id"), vnet.id):
                    raise ArmError(409, "Conflict",
                                   f"Virtual network '{vnet.id}' already has auto-registration enabled with another "
                                   "private DNS zone; only one registration zone is allowed per virtual network.")
        policy = req.properties.get("resolutionPolicy")
        if policy is not None and policy not in ("Default", "NxDomainRedirect"):
            raise ArmError(400, "InvalidResolutionPolicy", f"The resolution policy '{policy}' is not valid.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        vnet = ctx.get(str(props["virtualNetwork"]["id"]))
        assert vnet is not None
        props["virtualNetwork"] = {"id": vnet.id}
        props.setdefault("registrationEnabled", False)
        props.setdefault("resolutionPolicy", "Default")
        props["virtualNetworkLinkState"] = "Completed"
        return body


class ARecordSets(ResourceType):
    """A record sets (RecordSets_CreateOrUpdate with recordType A): ``@`` is the zone's apex, ``*`` a wildcard."""

    type = A_RECORDS
    name_rule = NameRule(1, 253, r"@|\*|(?:\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                                 r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*",
                         "A record set name is @, * or relative DNS labels.", code="InvalidRecordSetName")
    location = "none"
    tags = False
    etag = True
    etag_weak = False
    # RecordSets_CreateOrUpdate answers 200/201 at once; delete 200/204.
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = OpStyle(Lro.NONE, done=200)
    delete = OpStyle(Lro.NONE, done=200, missing=204)
    latency_s = 2.0
    read_only_properties = ("fqdn", "isAutoRegistered")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        ttl = req.properties.get("ttl")
        if ttl is not None and (not isinstance(ttl, int) or not 0 <= ttl <= 2147483647):
            raise ArmError(400, "InvalidTtl", "The record set's TTL must be between 0 and 2147483647 seconds.")
        records = req.properties.get("aRecords") or []
        if not records:
            raise ArmError(400, "BadRequest", "An A record set needs at least one record (aRecords).")
        for record in records:
            try:
                ipaddress.IPv4Address(str(record.get("ipv4Address") or ""))
            except ValueError as exc:
                raise ArmError(400, "InvalidIPv4Address",
                               f"'{record.get('ipv4Address')}' is not a valid IPv4 address.") from exc

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        zone = req.parent
        assert zone is not None
        label = "" if req.name == "@" else f"{req.name}."
        body["properties"]["fqdn"] = f"{label}{zone.name}."
        body["properties"]["isAutoRegistered"] = False
        body["properties"].setdefault("ttl", 3600)
        return body


RESOURCE_TYPES: list[ResourceType] = [PrivateDnsZones(), VirtualNetworkLinks(), ARecordSets()]
