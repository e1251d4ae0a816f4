"""Fixtures for the monitoring and governance tests: a module runner on an emptied emulator, an emptied emulator for
playbook runs, and our ARM client to act behind Ansible's back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, client_from_env


@pytest.fixture
def run(emulator: Any, tmp_path: Path) -> Iterator[ModuleRunner]:
    emulator.set_faults("")
    emulator.reset()
    yield ModuleRunner(emulator, tmp_path)
    emulator.set_faults("")


@pytest.fixture
def fresh(emulator: Any) -> Iterator[Any]:
    emulator.set_faults("")
    emulator.reset()
    yield emulator
    emulator.set_faults("")


@pytest.fixture
def arm_client(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if emulator.env.get(name):
            monkeypatch.setenv(name, str(emulator.env[name]))
    return client_from_env({k: str(v) for k, v in emulator.env.items()})
