"""Helpers to use Microsoft's REST examples (read in place from the shared folder, never copied) in tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def examples_root() -> Path:
    shared = os.environ.get("CF_SHARED_DIR")
    base = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return base / "azure-rest-examples"


def example_path(relative: str) -> Path:
    return examples_root() / relative


def load_example(relative: str) -> dict[str, Any]:
    path = example_path(relative)
    if not path.exists():
        pytest.skip(f"Microsoft example {path} is not available (set CF_SHARED_DIR)")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


# Fields every response must carry when the example's response carries them, whatever the request said.
ALWAYS = {"id", "name", "type", "provisioningState", "location"}


def assert_shape(actual: Any, documented: Any, request: Any = None, path: str = "$",
                 also: frozenset[str] = frozenset()) -> None:
    """Every key of the documented response that the request set (or that Azure always returns, or that the
    caller lists in `also`) is present in the actual response, recursively, with the same JSON kind."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in documented.items():
            wanted = key in ALWAYS or key in also or (isinstance(request, dict) and key in request)
            if not wanted:
                continue
            assert key in actual, f"{path}.{key} is documented but missing from {sorted(actual)}"
            sub_request = request.get(key) if isinstance(request, dict) else None
            assert_shape(actual[key], value, sub_request, f"{path}.{key}", also)
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        if documented and actual and isinstance(documented[0], dict):
            sub_request = request[0] if isinstance(request, list) and request else None
            assert_shape(actual[0], documented[0], sub_request, f"{path}[0]", also)
    elif isinstance(documented, bool):
        assert isinstance(actual, bool), f"{path}: expected a boolean, got {actual!r}"
    elif isinstance(documented, (int, float)):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), f"{path}: expected a number"
    elif isinstance(documented, str):
        assert isinstance(actual, str), f"{path}: expected a string, got {actual!r}"


def rewrite(value: Any, replacements: dict[str, str]) -> Any:
    """Replace placeholder IDs (other subscriptions, resource groups) inside an example body."""
    text = json.dumps(value)
    for old, new in replacements.items():
        text = text.replace(old, new)
    return json.loads(text)
