"""Every module documents itself through ansible-doc with the shared doc fragments (auth, resource, tags with
purge_tags, state, the check/diff attributes), and belongs to the action group that module_defaults uses. (That
documented options match the argument spec is ansible-test sanity's validate-modules job.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import AUTH_ARGUMENT_SPEC

REPO = Path(__file__).resolve().parents[3]
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
# Modules that talk to no Azure API (a file on the controller): no credentials, not in the azure action group.
NOT_AZURE = {"controller_file"}


def docs() -> dict:
    names = [f"complianceflow.azure_infra.{m}" for m in MODULES]
    completed = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json", *names], cwd=REPO,
                               capture_output=True, text=True, check=True, timeout=300)
    found = json.loads(completed.stdout)
    assert set(found) == set(names)
    return found


def test_ansible_doc_renders_every_module_with_shared_options_and_attributes():
    for name, entry in docs().items():
        doc = entry["doc"]
        options = doc["options"]
        if name.rsplit(".", 1)[-1] in NOT_AZURE:
            assert not set(AUTH_ARGUMENT_SPEC) & set(options), name
        else:
            assert set(AUTH_ARGUMENT_SPEC) | {"timeout"} <= set(options), name
            assert options["secret"]["type"] == "str"
        assert entry["examples"].strip(), name
        assert entry["return"], name
        assert doc["attributes"]["check_mode"]["support"] == "full", name
        assert doc["attributes"]["diff_mode"]["support"] in ("full", "none"), name
        if name.endswith("_info") or name.endswith("_keys"):
            assert doc["attributes"]["diff_mode"]["support"] == "none", name
        if "tags" in options and not name.endswith("_info"):
            # amazon.aws's convention: tags not listed are removed unless purge_tags is false.
            assert options["purge_tags"]["type"] == "bool" and options["purge_tags"]["default"] is True, name
        if "state" in options:
            assert options["state"]["choices"] == ["present", "absent"], name


def test_modules_carry_no_lint_header():
    # Per-file lint ignores live in pyproject.toml.
    for module in MODULES:
        assert "noqa" not in (REPO / "plugins" / "modules" / f"{module}.py").read_text(), module


def test_action_group_lists_every_module():
    runtime = (REPO / "meta" / "runtime.yml").read_text()
    group = runtime.split("azure:", 1)[1]
    for module in MODULES:
        assert (f"- {module}\n" in group) is (module not in NOT_AZURE), module
