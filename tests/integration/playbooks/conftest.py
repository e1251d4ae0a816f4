"""Fixtures for the playbook tests: a reset emulator per test and the offline plan per deployment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbooks.runner import plan_resources


@pytest.fixture
def fresh(emulator: Any) -> Iterator[Any]:
    """The session's emulator, emptied and without faults, and without faults again afterwards."""
    emulator.set_faults("")
    emulator.reset()
    yield emulator
    emulator.set_faults("")


@pytest.fixture(scope="session")
def plans(emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Lazily computed plan (the resources of these roles) per deployment, in the emulator's subscription."""

    class Plans(dict[str, list[dict[str, Any]]]):
        def __missing__(self, deployment: str) -> list[dict[str, Any]]:
            plan_dir: Path = tmp_path_factory.mktemp(f"plan-{deployment}")
            self[deployment] = plan_resources(emulator, deployment, plan_dir)
            return self[deployment]

    return Plans()
