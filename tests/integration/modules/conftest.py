"""Fixtures for module integration tests: a fresh emulator state and a module runner per test."""

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
def arm_client(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if emulator.env.get(name):
            monkeypatch.setenv(name, str(emulator.env[name]))
    return client_from_env({k: str(v) for k, v in emulator.env.items()})
