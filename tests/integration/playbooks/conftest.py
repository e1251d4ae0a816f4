"""Fixtures for the playbook tests: the offline plan per deployment (the emptied emulator comes from
tests/integration/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbooks.runner import plan_resources


@pytest.fixture(scope="session")
def plans(emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Lazily computed plan (the resources of these roles) per deployment, in the emulator's subscription."""

    class Plans(dict[str, list[dict[str, Any]]]):
        def __missing__(self, deployment: str) -> list[dict[str, Any]]:
            plan_dir: Path = tmp_path_factory.mktemp(f"plan-{deployment}")
            self[deployment] = plan_resources(emulator, deployment, plan_dir)
            return self[deployment]

    return Plans()
