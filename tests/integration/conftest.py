"""Fixtures shared by every integration suite: an emptied emulator, a module runner on it, and our ARM client to
read or change Azure behind Ansible's back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, client_from_env

# The emulator's runtime options a test may change (`set_options`); `fresh` puts them back after each test.
RUNTIME_OPTIONS = ("read_latency", "strict_schema", "keyvault_client_ip", "rbac_propagation")


@pytest.fixture(scope="session")
def start_options(emulator: Any) -> dict[str, Any]:
    """The session emulator's runtime options as it started, before any test changed them."""
    options = emulator.set_options()
    return {name: options[name] for name in RUNTIME_OPTIONS}


@pytest.fixture
def fresh(emulator: Any, start_options: dict[str, Any]) -> Iterator[Any]:
    """The session's emulator, emptied and without faults, and without faults and with its start-up options again
    afterwards (a read latency one test sets must not slow the worker's next tests)."""
    emulator.set_faults("")
    emulator.reset()
    yield emulator
    emulator.set_faults("")
    emulator.set_options(**start_options)


@pytest.fixture
def run(fresh: Any, tmp_path: Path) -> ModuleRunner:
    """Runs our modules through ansible-playbook against the emptied emulator."""
    return ModuleRunner(fresh, tmp_path)


@pytest.fixture
def arm_client(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Our ARM client on the emulator, to read what a user would see (keys, state) outside Ansible."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if emulator.env.get(name):
            monkeypatch.setenv(name, str(emulator.env[name]))
    return client_from_env({k: str(v) for k, v in emulator.env.items()})
