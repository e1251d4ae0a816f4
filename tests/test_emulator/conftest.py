"""Fixtures shared by the emulator's own tests (the `emulator` fixture itself comes from the pytest plugin)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

_counter = itertools.count(1)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """unique("rg") -> "rg7": names that never collide within a session (the emulator is shared)."""
    return lambda prefix: f"{prefix}{next(_counter)}"


@pytest.fixture(scope="session")
def resource_client(emulator: Any) -> Any:
    from azure.mgmt.resource.resources import ResourceManagementClient

    return emulator.mgmt_client(ResourceManagementClient)


@pytest.fixture(scope="session")
def network_client(emulator: Any) -> Any:
    from azure.mgmt.network import NetworkManagementClient

    return emulator.mgmt_client(NetworkManagementClient)


@pytest.fixture
def rg(resource_client: Any, unique: Callable[[str], str]) -> str:
    """A fresh resource group in West Europe; its name."""
    name = unique("rg-test-")
    resource_client.resource_groups.create_or_update(name, {"location": "westeurope"})
    return name
