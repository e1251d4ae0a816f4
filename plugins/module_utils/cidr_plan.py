# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address planning for deployments: pure functions, no I/O.

Every deployment owns one private block from the org-wide allocation table; its subnets are
carved from that block by tier. The filters in plugins/filter/cidr.py are thin wrappers over
these functions, and the preflight role relies on the error messages naming what is wrong.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

# Azure's smallest IPv4 subnet is a /29 (five addresses of every subnet are reserved).
AZURE_MIN_SUBNET_PREFIXLEN = 29
# Services that need a larger subnet than that when it is delegated to them: a Container Apps environment with
# workload profiles needs at least a /27 (a consumption-only environment a /23; the collection plans workload
# profiles).
DELEGATION_MIN_PREFIXLEN = {"Microsoft.App/environments": 27}


class CidrPlanError(ValueError):
    """An address plan that cannot be used; the message names the offending entry."""


def parse_network(value: Any, what: str) -> ipaddress.IPv4Network:
    """Parse an IPv4 network in strict CIDR form, naming ``what`` in the error."""
    if not isinstance(value, str) or "/" not in value:
        raise CidrPlanError(f"{what}: {value!r} is not a CIDR block such as 10.10.0.0/16")
    try:
        network = ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise CidrPlanError(f"{what}: {value!r} is not a valid network ({exc})") from None
    if not isinstance(network, ipaddress.IPv4Network):
        raise CidrPlanError(f"{what}: {value!r} is IPv6; deployments use IPv4 address space")
    return network


def is_private(network: ipaddress.IPv4Network) -> bool:
    return any(network.subnet_of(block) for block in RFC1918)


def check_allocations(allocations: Mapping[str, Any]) -> dict[str, ipaddress.IPv4Network]:
    """Parse the whole allocation table; refuse malformed, public or overlapping entries."""
    if not isinstance(allocations, Mapping):
        raise CidrPlanError("cf_cidr_allocations must be a mapping of deployment name to CIDR block")
    parsed: dict[str, ipaddress.IPv4Network] = {}
    for name, value in allocations.items():
        network = parse_network(value, f"cf_cidr_allocations[{name}]")
        if not is_private(network):
            raise CidrPlanError(
                f"cf_cidr_allocations[{name}]: {value} is not private address space (RFC 1918: "
                "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
            )
        parsed[str(name)] = network
    names = sorted(parsed)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if parsed[first].overlaps(parsed[second]):
                raise CidrPlanError(
                    f"cf_cidr_allocations: {first} ({parsed[first]}) overlaps {second} ({parsed[second]})"
                )
    return parsed


def deployment_cidr(deployment: str, allocations: Mapping[str, Any]) -> str:
    """The deployment's block, after checking it against every other allocation."""
    if not isinstance(allocations, Mapping) or deployment not in allocations:
        raise CidrPlanError(
            f"cf_cidr_allocations has no entry for deployment {deployment!r}: add one "
            "(the next free block is given by the next_free_cidr filter, or `make next-cidr`)"
        )
    network = parse_network(allocations[deployment], f"cf_cidr_allocations[{deployment}]")
    if not is_private(network):
        raise CidrPlanError(
            f"cf_cidr_allocations[{deployment}]: {network} is not private address space (RFC 1918)"
        )
    for other, value in allocations.items():
        if other == deployment:
            continue
        other_network = parse_network(value, f"cf_cidr_allocations[{other}]")
        if network.overlaps(other_network):
            raise CidrPlanError(
                f"cf_cidr_allocations[{deployment}]: {network} overlaps {other} ({other_network})"
            )
    return str(network)


def next_free_cidr(allocations: Mapping[str, Any], pool: str = "10.0.0.0/8", prefixlen: int = 16) -> str:
    """The lowest block of size ``prefixlen`` in ``pool`` that overlaps no allocation."""
    pool_network = parse_network(pool, "pool")
    if not isinstance(prefixlen, int) or isinstance(prefixlen, bool):
        raise CidrPlanError(f"prefixlen: {prefixlen!r} is not an integer")
    if not pool_network.prefixlen <= prefixlen <= 32:
        raise CidrPlanError(f"prefixlen: /{prefixlen} does not fit in pool {pool_network}")
    taken = sorted(check_allocations(allocations).values())
    for candidate in pool_network.subnets(new_prefix=prefixlen):
        if not any(candidate.overlaps(block) for block in taken):
            return str(candidate)
    raise CidrPlanError(f"pool {pool_network} has no free /{prefixlen} block left")


def tier_applies(tier: Mapping[str, Any], env: str) -> bool:
    envs = tier.get("envs")
    return not envs or env in envs


def subnet_plan(vnet_cidr: str, tiers: Sequence[Mapping[str, Any]], env: str) -> dict[str, str]:
    """Tier name -> subnet CIDR for one environment.

    A tier is ``{name, offset, prefixlen=24, envs=[...]}``: its subnet is the ``offset``-th
    block of size ``/prefixlen`` inside the VNet. Tiers whose ``envs`` leave out ``env`` are
    skipped. Subnets outside the VNet, overlapping each other or smaller than Azure allows are
    refused.
    """
    vnet = parse_network(vnet_cidr, "vnet_cidr")
    if not isinstance(tiers, Sequence) or isinstance(tiers, (str, bytes)):
        raise CidrPlanError("cf_subnet_tiers must be a list of tiers")
    plan: dict[str, ipaddress.IPv4Network] = {}
    for index, tier in enumerate(tiers):
        if not isinstance(tier, Mapping) or not tier.get("name"):
            raise CidrPlanError(f"cf_subnet_tiers[{index}] needs a name")
        name = str(tier["name"])
        what = f"cf_subnet_tiers[{name}]"
        if name in plan or any(str(t.get("name")) == name for t in tiers[:index] if isinstance(t, Mapping)):
            raise CidrPlanError(f"{what}: the tier name is used twice")
        if not tier_applies(tier, env):
            continue
        offset = tier.get("offset")
        prefixlen = tier.get("prefixlen", 24)
        for key, value in (("offset", offset), ("prefixlen", prefixlen)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise CidrPlanError(f"{what}.{key}: {value!r} is not a non-negative integer")
        if prefixlen < vnet.prefixlen:
            raise CidrPlanError(f"{what}: a /{prefixlen} subnet is larger than the VNet {vnet}")
        if prefixlen > AZURE_MIN_SUBNET_PREFIXLEN:
            raise CidrPlanError(f"{what}: /{prefixlen} is smaller than Azure's smallest subnet (/29)")
        for service in tier.get("delegations") or []:
            smallest = DELEGATION_MIN_PREFIXLEN.get(str(service))
            if smallest is not None and prefixlen > smallest:
                raise CidrPlanError(f"{what}: /{prefixlen} is smaller than a subnet delegated to {service} may be "
                                    f"(/{smallest} at least)")
        size = 2 ** (32 - prefixlen)
        start = int(vnet.network_address) + offset * size
        if start + size > int(vnet.broadcast_address) + 1:
            raise CidrPlanError(f"{what}: offset {offset} of a /{prefixlen} lies outside the VNet {vnet}")
        subnet = ipaddress.ip_network(f"{ipaddress.IPv4Address(start)}/{prefixlen}")
        for other, other_net in plan.items():
            if subnet.overlaps(other_net):
                raise CidrPlanError(f"{what}: {subnet} overlaps tier {other} ({other_net})")
        plan[name] = subnet
    return {name: str(net) for name, net in plan.items()}


def check_source_ranges(ranges: Iterable[Any], what: str) -> list[str]:
    """Normalise a list of admin source ranges (CIDR or single address); refuse bad entries."""
    if ranges is None:
        return []
    if isinstance(ranges, (str, bytes)) or not isinstance(ranges, Iterable):
        raise CidrPlanError(f"{what} must be a list of CIDR ranges")
    result = []
    for value in ranges:
        if not isinstance(value, str):
            raise CidrPlanError(f"{what}: {value!r} is not a CIDR range")
        try:
            network = ipaddress.ip_network(value.strip(), strict=True)
        except ValueError as exc:
            raise CidrPlanError(f"{what}: {value!r} is not a valid CIDR range ({exc})") from None
        if network.prefixlen == 0:
            raise CidrPlanError(f"{what}: {value!r} opens the whole Internet; list the admin networks instead")
        result.append(str(network))
    return result
