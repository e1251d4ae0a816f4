"""Fixtures shared by the emulator's own tests (the `emulator` fixture itself comes from the pytest plugin)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.emulator.pytest_plugin import EmulatorProcess, session_emulator

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """The emulator's own suite runs in strict schema mode: every body its tests send must be one Azure's API
    definitions know completely (the plugin's fixture leaves it to CF_EMULATOR_STRICT_SCHEMA)."""
    yield from session_emulator(strict_schema=True)


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
