"""What the engine decides before any request: the plan is checked (types, IDs, API versions, where run-time
secrets may stand, cycles), and writes are ordered in waves (a resource after its parent and its dependencies)."""

from __future__ import annotations

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.engine import (
    Engine,
    Options,
    PlanError,
    arm_case,
    parent_id,
)

RG = "/subscriptions/s/resourceGroups/g"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/v"
NSG = f"{RG}/providers/Microsoft.Network/networkSecurityGroups/n"


def engine(entries: list[dict]) -> Engine:
    return Engine(None, entries, Options(), None)  # type: ignore[arg-type]


def test_waves_put_parents_and_dependencies_first_whatever_the_listing_order() -> None:
    planned = engine([
        {"id": f"{VNET}/subnets/a", "type": "Microsoft.Network/virtualNetworks/subnets", "depends_on": [NSG]},
        {"id": VNET, "type": "Microsoft.Network/virtualNetworks", "depends_on": [RG]},
        {"id": NSG, "type": "Microsoft.Network/networkSecurityGroups", "depends_on": [RG]},
        {"id": RG, "type": "Microsoft.Resources/resourceGroups"},
    ])
    level = {i.id.rsplit("/", 1)[-1]: i.level for i in planned.items}
    assert level == {"g": 0, "v": 1, "n": 1, "a": 2}


@pytest.mark.parametrize(("entries", "words"), [
    ([{"id": f"{RG}/providers/Microsoft.Nope/things/x", "type": "Microsoft.Nope/things"}], "not a type"),
    ([{"id": "vnet-without-scope", "type": "Microsoft.Network/virtualNetworks"}], "full resource ID"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks"}, {"id": VNET.upper().replace("/SUBSCRIPTIONS", "/subscriptions"),
                                                                   "type": "Microsoft.Network/virtualNetworks"}],
     "planned twice"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks", "api_version": "2019-01-01"}], "registry"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks",
       "properties": {"dhcpOptions": {"dnsServers": ["<runtime:key-vault-secret:x>"]}}}], "write-only"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks", "depends_on": [NSG]},
      {"id": NSG, "type": "Microsoft.Network/networkSecurityGroups", "depends_on": [VNET]}], "cycle"),
])
def test_a_plan_the_engine_cannot_run_is_refused_before_any_request(entries: list[dict], words: str) -> None:
    with pytest.raises(PlanError, match=words):
        engine(entries)


def test_parent_ids_and_arm_case() -> None:
    assert parent_id(f"{VNET}/subnets/a") == VNET
    assert parent_id(VNET) is None
    assert parent_id(f"{VNET}/providers/Microsoft.Insights/diagnosticSettings/d") is None
    assert arm_case([{"name": "teams", "service_uri": "https://x", "use_common_alert_schema": True}]) == [
        {"name": "teams", "serviceUri": "https://x", "useCommonAlertSchema": True}]
