"""key_vault and postgresql_server on the module skeleton against the emulator: the four steps, a write-only
password that never reaches a result, a diff or the output, an update written with the registry's method, and a
setting fixed at creation refused before any write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, Step, four_steps

pytestmark = pytest.mark.emulator

LOCATION = "westeurope"
RG = "rg-cf-it-datamods"
PASSWORD = "Sk1p-This-Never-Shown-4242"


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("failed"), result.get("msg")
    return result


def test_key_vault_four_steps_and_fixed_retention(run: ModuleRunner) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))
    args = {"resource_group": RG, "name": "kv-cf-it-datamods", "location": LOCATION, "tags": {"owner": "platform"},
            "soft_delete_retention_days": 7}
    applied = four_steps(run, "key_vault", args)
    assert applied["vault_uri"]
    [refused] = run.steps([Step("key_vault", {**args, "soft_delete_retention_days": 30})])
    assert refused.result.get("failed") is True
    assert "softDeleteRetentionInDays is fixed at creation" in refused.result["msg"]
    assert refused.writes == []


def test_postgresql_server_password_is_write_only(run: ModuleRunner) -> None:
    ok(run("resource_group", {"name": RG, "location": LOCATION}))
    args = {"resource_group": RG, "name": "psql-cf-it-datamods", "location": LOCATION, "version": "16",
            "sku_name": "Standard_B1ms", "sku_tier": "Burstable", "storage_size_gb": 32, "backup_retention_days": 7,
            "public_network_access": "Enabled", "administrator_login_password": PASSWORD}
    applied = four_steps(run, "postgresql_server", args)
    assert applied["fqdn"]
    assert PASSWORD not in json.dumps(applied) and PASSWORD not in applied["_stdout"]

    changed, refused = run.steps([Step("postgresql_server", {**args, "backup_retention_days": 14}, diff=True),
                                  Step("postgresql_server", {**args, "version": "17"})])
    assert ok(changed.result)["changed"] is True
    assert [w["method"] for w in changed.writes] == ["PUT"]
    assert "backupRetentionDays" in json.dumps(changed.result["diff"])
    assert PASSWORD not in json.dumps(changed.result) and PASSWORD not in changed.result["_stdout"]
    assert refused.result.get("failed") is True
    assert "properties.version is fixed at creation" in refused.result["msg"]
    assert refused.writes == []
