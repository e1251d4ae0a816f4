"""Fixtures for module integration tests: a fresh emulator state and a module runner per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner


@pytest.fixture
def run(emulator: Any, tmp_path: Path) -> Iterator[ModuleRunner]:
    emulator.reset()
    emulator.set_faults("")
    yield ModuleRunner(emulator, tmp_path)
    emulator.set_faults("")
