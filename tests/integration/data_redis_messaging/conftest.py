"""Fixtures for the redis and messaging tests: a module runner on an emptied emulator, and an ARM client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, client_from_env


@pytest.fixture
def run(emulator: Any, tmp_path: Path) -> Iterator[ModuleRunner]:
    emulator.reset()
    emulator.set_faults("")
    yield ModuleRunner(emulator, tmp_path)
    emulator.set_faults("")


@pytest.fixture
def fresh(emulator: Any) -> Iterator[Any]:
    """The session's emulator, emptied and without faults."""
    emulator.set_faults("")
    emulator.reset()
    yield emulator
    emulator.set_faults("")


@pytest.fixture
def arm_client(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Our ARM client on the emulator, to read what a user would see (keys, state) outside Ansible."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if emulator.env.get(name):
            monkeypatch.setenv(name, str(emulator.env[name]))
    return client_from_env({k: str(v) for k, v in emulator.env.items()})
