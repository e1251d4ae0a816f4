"""The address plan: deployment_cidr, next_free_cidr, subnet_plan, check_source_ranges."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.cidr_plan import (
    CidrPlanError,
    check_source_ranges,
    deployment_cidr,
    next_free_cidr,
    subnet_plan,
)

REPO = Path(__file__).resolve().parents[2]
REGISTRY = yaml.safe_load((REPO / "group_vars" / "all.yml").read_text())
ALLOCATIONS: dict[str, str] = REGISTRY["cf_cidr_allocations"]
TIERS: list[dict[str, Any]] = REGISTRY["cf_subnet_tiers"]


# --- deployment_cidr ---------------------------------------------------------------------------

def test_platform_table_gives_each_deployment_its_block() -> None:
    assert deployment_cidr("westeu-test-1", ALLOCATIONS) == "10.10.0.0/16"
    assert deployment_cidr("westeu-prod-1", ALLOCATIONS) == "10.30.0.0/16"
    assert deployment_cidr("northeu-prod-1", ALLOCATIONS) == "10.50.0.0/16"


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"eastus-test-1": "10.11.0.0/16"}, "has no entry for deployment 'westeu-test-1'"),
        ({"westeu-test-1": "10.10.0/16"}, "not a valid network"),
        ({"westeu-test-1": "10.10.0.0"}, "is not a CIDR block"),
        ({"westeu-test-1": 167772160}, "is not a CIDR block"),
        ({"westeu-test-1": "10.10.1.0/16"}, "has host bits set"),
        ({"westeu-test-1": "fd00::/48"}, "is IPv6"),
        ({"westeu-test-1": "20.10.0.0/16"}, "not private address space"),
        ({"westeu-test-1": "172.32.0.0/16"}, "not private address space"),
        ({"westeu-test-1": "10.10.0.0/16", "westeu-stg-9": "10.10.128.0/17"}, "overlaps westeu-stg-9"),
        ({"westeu-test-1": "10.10.0.0/16", "eastus-prod-9": "10.0.0.0/12"}, "overlaps eastus-prod-9"),
        ({"westeu-test-1": "10.10.0.0/16", "eastus-prod-9": "not-a-cidr"}, "cf_cidr_allocations[eastus-prod-9]"),
    ],
)
def test_deployment_cidr_refuses(table: dict[str, Any], fragment: str) -> None:
    with pytest.raises(CidrPlanError) as error:
        deployment_cidr("westeu-test-1", table)
    assert fragment in str(error.value)


def test_deployment_cidr_error_names_the_table() -> None:
    with pytest.raises(CidrPlanError, match=r"^cf_cidr_allocations"):
        deployment_cidr("westeu-test-1", {"westeu-test-1": "8.8.0.0/16"})


@pytest.mark.parametrize("block", ["10.0.0.0/8", "172.16.0.0/12", "172.31.255.0/24", "192.168.0.0/16"])
def test_every_rfc1918_range_is_accepted(block: str) -> None:
    assert deployment_cidr("westeu-test-1", {"westeu-test-1": block}) == block


def test_deployment_cidr_refuses_a_table_that_is_not_a_mapping() -> None:
    with pytest.raises(CidrPlanError):
        deployment_cidr("westeu-test-1", ["westeu-test-1", "10.10.0.0/16"])  # type: ignore[arg-type]


# --- next_free_cidr ----------------------------------------------------------------------------

def test_next_free_is_the_lowest_free_16_of_the_platform_table() -> None:
    assert next_free_cidr(ALLOCATIONS) == "10.0.0.0/16"
    taken_low = {**ALLOCATIONS, **{f"x-test-{i}": f"10.{i}.0.0/16" for i in range(1, 10)}, "x-test-99": "10.0.0.0/16"}
    # 10.0-10.9 taken here, 10.10 and 10.11 by the platform: the next is 10.12.
    assert next_free_cidr(taken_low) == "10.12.0.0/16"


def test_next_free_skips_a_block_partly_used_by_a_smaller_allocation() -> None:
    assert next_free_cidr({"a-test-1": "10.0.128.0/24"}) == "10.1.0.0/16"


def test_next_free_honours_pool_and_prefixlen() -> None:
    assert next_free_cidr(ALLOCATIONS, pool="172.16.0.0/12", prefixlen=20) == "172.16.0.0/20"
    assert next_free_cidr({"a-test-1": "192.168.0.0/24"}, pool="192.168.0.0/16", prefixlen=24) == "192.168.1.0/24"


def test_next_free_reports_a_full_pool() -> None:
    full = {f"x-test-{i}": f"192.168.{i * 64}.0/18" for i in range(4)}
    with pytest.raises(CidrPlanError, match=r"no free /18"):
        next_free_cidr(full, pool="192.168.0.0/16", prefixlen=18)


@pytest.mark.parametrize(
    ("table", "kwargs", "fragment"),
    [
        ({"a-test-1": "10.0.0.0/16", "b-test-1": "10.0.1.0/24"}, {}, "overlaps"),
        ({"a-test-1": "8.8.8.0/24"}, {}, "not private"),
        ({}, {"prefixlen": 4}, "does not fit"),
        ({}, {"prefixlen": 33}, "does not fit"),
        ({}, {"prefixlen": "16"}, "not an integer"),
        ({}, {"pool": "10.0.0.0"}, "not a CIDR block"),
    ],
)
def test_next_free_refuses_bad_input(table: dict[str, str], kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(CidrPlanError, match=fragment):
        next_free_cidr(table, **kwargs)


@st.composite
def disjoint_tables(draw: st.DrawFn) -> dict[str, str]:
    """Random allocation tables of disjoint blocks (sizes /12 to /24) inside 10.0.0.0/8."""
    table: dict[str, str] = {}
    blocks: list[ipaddress.IPv4Network] = []
    for index in range(draw(st.integers(0, 30))):
        prefix = draw(st.integers(12, 24))
        start = draw(st.integers(0, 2 ** (prefix - 8) - 1)) << (32 - prefix)
        block = ipaddress.ip_network(f"{ipaddress.IPv4Address(int(ipaddress.IPv4Address('10.0.0.0')) + start)}/{prefix}")
        if not any(block.overlaps(b) for b in blocks):
            blocks.append(block)
            table[f"r{index}-test-1"] = str(block)
    return table


@settings(max_examples=150, deadline=None)
@given(table=disjoint_tables(), prefixlen=st.integers(12, 24))
def test_next_free_never_overlaps_and_is_the_lowest(table: dict[str, str], prefixlen: int) -> None:
    taken = [ipaddress.ip_network(b) for b in table.values()]
    try:
        found = ipaddress.ip_network(next_free_cidr(table, prefixlen=prefixlen))
    except CidrPlanError:
        # Only acceptable when every block of that size really is taken.
        assert all(any(c.overlaps(t) for t in taken) for c in ipaddress.ip_network("10.0.0.0/8").subnets(new_prefix=prefixlen))
        return
    assert found.prefixlen == prefixlen
    assert found.subnet_of(ipaddress.ip_network("10.0.0.0/8"))
    assert not any(found.overlaps(t) for t in taken)
    # Lowest: every aligned block below it is taken.
    size = 2 ** (32 - prefixlen)
    for lower in range(int(ipaddress.IPv4Address("10.0.0.0")), int(found.network_address), size):
        candidate = ipaddress.ip_network(f"{ipaddress.IPv4Address(lower)}/{prefixlen}")
        assert any(candidate.overlaps(t) for t in taken), candidate
    # And it can be added: the table stays valid for the new deployment.
    assert deployment_cidr("new-test-1", {**table, "new-test-1": str(found)}) == str(found)


# --- subnet_plan -------------------------------------------------------------------------------

def test_test_env_gets_the_six_tiers_without_apim() -> None:
    assert subnet_plan("10.10.0.0/16", TIERS, "test") == {
        "containerapps": "10.10.1.0/24",
        "db": "10.10.2.0/24",
        "redis": "10.10.3.0/24",
        "storage": "10.10.4.0/24",
        "appgw": "10.10.6.0/24",
        "mgmt": "10.10.10.0/24",
    }


def test_a_gateway_tier_overlapping_another_is_refused() -> None:
    """The appgw tier is checked like every tier: moved onto the storage subnet's block, the plan is refused."""
    moved = [dict(t, offset=4) if t["name"] == "appgw" else t for t in TIERS]
    with pytest.raises(CidrPlanError, match="appgw"):
        subnet_plan("10.10.0.0/16", moved, "test")


def test_prod_env_adds_apim_at_dot_5() -> None:
    plan = subnet_plan("10.30.0.0/16", TIERS, "prod")
    assert plan["apim"] == "10.30.5.0/24"
    assert list(plan) == ["containerapps", "db", "redis", "storage", "apim", "appgw", "mgmt"]


@pytest.mark.parametrize("env", ["dev", "test", "stg"])
def test_apim_exists_only_in_prod(env: str) -> None:
    assert "apim" not in subnet_plan("10.20.0.0/16", TIERS, env)


def test_sizes_and_offsets_are_honoured() -> None:
    tiers = [{"name": "big", "offset": 1, "prefixlen": 20}, {"name": "small", "offset": 3, "prefixlen": 28}]
    assert subnet_plan("10.10.0.0/16", tiers, "test") == {"big": "10.10.16.0/20", "small": "10.10.0.48/28"}


@pytest.mark.parametrize(
    ("tiers", "fragment"),
    [
        ([{"name": "a", "offset": 256}], "outside the VNet"),
        ([{"name": "a", "offset": 0, "prefixlen": 15}], "larger than the VNet"),
        ([{"name": "a", "offset": 1}, {"name": "b", "offset": 1}], "overlaps tier a"),
        ([{"name": "a", "offset": 0, "prefixlen": 20}, {"name": "b", "offset": 3}], "overlaps tier a"),
        ([{"name": "a", "offset": 1, "prefixlen": 30}], "smaller than Azure's smallest subnet"),
        ([{"name": "a", "offset": -1}], "not a non-negative integer"),
        ([{"name": "a", "offset": "1"}], "not a non-negative integer"),
        ([{"name": "a", "offset": True}], "not a non-negative integer"),
        ([{"name": "a", "offset": 1}, {"name": "a", "offset": 2}], "used twice"),
        ([{"offset": 1}], "needs a name"),
    ],
)
def test_subnet_plan_refuses(tiers: list[dict[str, Any]], fragment: str) -> None:
    with pytest.raises(CidrPlanError, match=fragment):
        subnet_plan("10.10.0.0/16", tiers, "test")


def test_overlap_with_a_tier_of_another_env_is_not_an_overlap() -> None:
    tiers = [{"name": "a", "offset": 5, "envs": ["prod"]}, {"name": "b", "offset": 5, "envs": ["test"]}]
    assert subnet_plan("10.10.0.0/16", tiers, "test") == {"b": "10.10.5.0/24"}


def test_subnet_plan_refuses_a_bad_vnet_and_bad_tiers() -> None:
    with pytest.raises(CidrPlanError, match="vnet_cidr"):
        subnet_plan("10.10.0.1/16", TIERS, "test")
    with pytest.raises(CidrPlanError, match="must be a list"):
        subnet_plan("10.10.0.0/16", "containerapps", "test")  # type: ignore[arg-type]


@st.composite
def fitting_tiers(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], str]:
    """A VNet and a random set of tiers that fit: disjoint aligned slots, some limited to some envs."""
    vnet_prefix = draw(st.integers(16, 24))
    vnet = f"10.{draw(st.integers(0, 255))}.0.0/16" if vnet_prefix == 16 else f"172.16.{draw(st.integers(0, 255))}.0/24"
    vnet_net = ipaddress.ip_network(vnet)
    used: list[ipaddress.IPv4Network] = []
    tiers: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 12))):
        prefixlen = draw(st.integers(vnet_net.prefixlen, 29))
        slots = 2 ** (prefixlen - vnet_net.prefixlen)
        offset = draw(st.integers(0, slots - 1))
        size = 2 ** (32 - prefixlen)
        subnet = ipaddress.ip_network(f"{ipaddress.IPv4Address(int(vnet_net.network_address) + offset * size)}/{prefixlen}")
        envs = draw(st.one_of(st.none(), st.lists(st.sampled_from(["dev", "test", "stg", "prod"]), min_size=1, unique=True)))
        if any(subnet.overlaps(u) for u in used):
            continue
        used.append(subnet)
        tier: dict[str, Any] = {"name": f"tier{index}", "offset": offset, "prefixlen": prefixlen}
        if envs:
            tier["envs"] = envs
        tiers.append(tier)
    return vnet, tiers, draw(st.sampled_from(["dev", "test", "stg", "prod"]))


@settings(max_examples=200, deadline=None)
@given(case=fitting_tiers())
def test_subnet_plan_is_overlap_free_and_inside_the_vnet(case: tuple[str, list[dict[str, Any]], str]) -> None:
    vnet, tiers, env = case
    plan = subnet_plan(vnet, tiers, env)
    expected = {t["name"] for t in tiers if not t.get("envs") or env in t["envs"]}
    assert set(plan) == expected
    networks = [ipaddress.ip_network(c) for c in plan.values()]
    for i, net in enumerate(networks):
        assert net.subnet_of(ipaddress.ip_network(vnet))
        assert net.prefixlen <= 29
        assert not any(net.overlaps(other) for other in networks[i + 1:])


@settings(max_examples=100, deadline=None)
@given(case=fitting_tiers(), data=st.data())
def test_subnet_plan_refuses_any_overlapping_copy(case: tuple[str, list[dict[str, Any]], str], data: st.DataObject) -> None:
    vnet, tiers, env = case
    victim = data.draw(st.sampled_from(tiers))
    clash = {**victim, "name": "clash", "envs": [env]}
    tiers = [{**t, "envs": [env]} if t is victim else t for t in tiers]
    with pytest.raises(CidrPlanError, match="overlaps"):
        subnet_plan(vnet, [*tiers, clash], env)


# --- admin source ranges -----------------------------------------------------------------------

def test_source_ranges_are_normalised() -> None:
    assert check_source_ranges(["203.0.113.0/24", " 198.51.100.7 "], "r") == ["203.0.113.0/24", "198.51.100.7/32"]
    assert check_source_ranges(None, "r") == []


@pytest.mark.parametrize(
    ("ranges", "fragment"),
    [
        (["203.0.113.7/24"], "has host bits set"),
        (["office"], "not a valid CIDR range"),
        (["0.0.0.0/0"], "whole Internet"),
        (["::/0"], "whole Internet"),
        (["2001:db8::zz/64"], "not a valid CIDR range"),
        ([24], "not a CIDR range"),
        ("203.0.113.0/24", "must be a list"),
    ],
)
def test_source_ranges_refuse(ranges: Any, fragment: str) -> None:
    with pytest.raises(CidrPlanError, match=fragment) as error:
        check_source_ranges(ranges, "cf_admin_source_ranges")
    assert "cf_admin_source_ranges" in str(error.value)


@pytest.mark.parametrize(("prefixlen", "refused"), [(24, False), (27, False), (28, True), (29, True)])
def test_a_subnet_delegated_to_container_apps_must_hold_a_workload_profiles_environment(prefixlen: int,
                                                                                        refused: bool) -> None:
    tiers = [{"name": "containerapps", "offset": 1, "prefixlen": prefixlen,
              "delegations": ["Microsoft.App/environments"]}]
    if refused:
        with pytest.raises(CidrPlanError, match=r"cf_subnet_tiers\[containerapps\].*Microsoft.App/environments.*/27"):
            subnet_plan("10.10.0.0/16", tiers, "test")
    else:
        assert subnet_plan("10.10.0.0/16", tiers, "test")["containerapps"].endswith(f"/{prefixlen}")
    # The same size without the delegation is only held to Azure's smallest subnet.
    assert subnet_plan("10.10.0.0/16", [{**tiers[0], "delegations": []}], "test")


def test_the_registrys_containerapps_tier_is_delegated_to_container_apps() -> None:
    [tier] = [t for t in TIERS if t["name"] == "containerapps"]
    assert tier["delegations"] == ["Microsoft.App/environments"]
