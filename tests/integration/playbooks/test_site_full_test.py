"""site.yml end to end for westeu-test-1 (see site_full.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.playbooks.site_full import whole_stack

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def test_whole_stack_builds_converges_and_is_destroyed(fresh: Any, tmp_path: Any) -> None:
    whole_stack(fresh, "westeu-test-1", tmp_path)
