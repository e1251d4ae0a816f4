"""Fault injection: spec parsing and reproducibility, and what SDK clients see when faults fire."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator.faults import FaultPlan, FaultSpecError

pytestmark = pytest.mark.emulator


@pytest.fixture
def faults(emulator: Any) -> Iterator[Any]:
    yield emulator.set_faults
    emulator.set_faults("")


def test_spec_parsing() -> None:
    plan = FaultPlan.parse("429:0.1,503:0.05,another-operation:0.05,lro-failed:0.02,put:Microsoft.Cache/redis:lro-failed:once")
    assert plan.probabilities == {"429": 0.1, "503": 0.05, "another-operation": 0.05, "lro-failed": 0.02}
    assert plan.targeted[0].type_name == "microsoft.cache/redis"
    assert plan.targeted[0].remaining == 1
    for bad in ("418:0.1", "429:2", "put:x:429", "429:often"):
        with pytest.raises(FaultSpecError):
            FaultPlan.parse(bad)


def test_same_seed_same_faults() -> None:
    def draw(seed: int) -> list[str | None]:
        plan, rng = FaultPlan.parse("429:0.3,503:0.2"), random.Random(seed)
        return [plan.pick(rng, "GET", None, is_write=False, can_lro=False) for _ in range(50)]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)
    assert {"429", "503", None} == set(draw(7))


def test_targeted_once_fires_once() -> None:
    plan, rng = FaultPlan.parse("put:Microsoft.Cache/redis:lro-failed:once"), random.Random(1)
    picks = [plan.pick(rng, "PUT", "Microsoft.Cache/redis", is_write=True, can_lro=True) for _ in range(3)]
    assert picks == ["lro-failed", None, None]
    assert plan.pick(rng, "PUT", "Microsoft.Network/virtualNetworks", is_write=True, can_lro=True) is None


def test_invalid_spec_refused_by_admin_api(emulator: Any) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as excinfo:
        emulator.set_faults("teapot:1")
    assert excinfo.value.code == 400


def test_throttling_is_retried_by_the_sdk(emulator: Any, resource_client: Any, rg: str, faults: Any) -> None:
    faults("get:Microsoft.Resources/resourceGroups:429:once")
    mark = len(emulator.requests())
    assert resource_client.resource_groups.get(rg).name == rg
    statuses = [r["status"] for r in emulator.requests()[mark:] if r["path"].lower().endswith(rg.lower())]
    assert statuses == [429, 200], "a 429 with Retry-After: 1, then the SDK's retry succeeds"


def test_service_unavailable_is_retried(emulator: Any, resource_client: Any, rg: str, faults: Any) -> None:
    faults("get:Microsoft.Resources/resourceGroups:503:2")
    assert resource_client.resource_groups.get(rg).name == rg
    statuses = [r["status"] for r in emulator.requests()[-3:]]
    assert statuses == [503, 503, 200]


def test_another_operation_in_progress_surfaces(network_client: Any, rg: str, faults: Any) -> None:
    faults("put:Microsoft.Network/networkSecurityGroups:another-operation:once")
    with pytest.raises(HttpResponseError) as excinfo:
        network_client.network_security_groups.begin_create_or_update(rg, "nsg", {"location": "westeurope"}).result()
    assert excinfo.value.status_code == 409
    assert excinfo.value.error.code == "AnotherOperationInProgress"
    # the next attempt goes through
    assert network_client.network_security_groups.begin_create_or_update(
        rg, "nsg", {"location": "westeurope"}).result().provisioning_state == "Succeeded"


def test_lro_failed_ends_in_failed_state(network_client: Any, rg: str, faults: Any) -> None:
    faults("put:Microsoft.Network/virtualNetworks:lro-failed:once")
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}}
    with pytest.raises(HttpResponseError) as excinfo:
        network_client.virtual_networks.begin_create_or_update(rg, "vfail", body).result()
    assert "InternalServerError" in str(excinfo.value) or "Failed" in str(excinfo.value)
    assert network_client.virtual_networks.get(rg, "vfail").provisioning_state == "Failed"
    assert network_client.virtual_networks.begin_create_or_update(rg, "vfail", body).result().provisioning_state == \
        "Succeeded", "a retry repairs the resource, as in Azure"


def test_fault_state_is_visible(emulator: Any, faults: Any) -> None:
    described = faults("429:0.25")
    assert described["probabilities"] == {"429": 0.25}
    assert emulator.admin("GET", "faults")["spec"] == "429:0.25"
