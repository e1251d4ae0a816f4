"""Credentials the way users pass them: AWX-style AZURE_* variables, module options through the action group,
managed identity, and what a wrong secret looks like."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.modules.runner import ANSIBLE_PLAYBOOK, REPO, ModuleRunner

pytestmark = pytest.mark.emulator

SP_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_SECRET",
                "AZURE_TENANT_ID", "AZURE_CLOUD_ENVIRONMENT", "AZURE_DISABLE_INSTANCE_DISCOVERY")


def test_wrong_secret_fails_with_entra_error_and_never_prints_the_secret(run: ModuleRunner) -> None:
    secret = "not-the-right-secret-4711"
    result = run("resource_group_info", {"name": "rg-any"}, extra_env={"AZURE_SECRET": secret})
    assert result.get("failed") is True
    assert result["error"]["code"] == "AuthenticationFailed"
    assert "AADSTS" in result["msg"] or "secret" in result["msg"].lower()
    assert secret not in json.dumps(result)


def test_module_defaults_action_group_passes_credentials_once(emulator: Any, tmp_path: Path) -> None:
    emulator.reset()
    env = {k: v for k, v in os.environ.items() if k not in SP_VARIABLES}
    env.update({k: str(emulator.env[k]) for k in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")})
    credentials = {"subscription_id": emulator.env["AZURE_SUBSCRIPTION_ID"],
                   "client_id": emulator.env["AZURE_CLIENT_ID"], "secret": emulator.env["AZURE_SECRET"],
                   "tenant": emulator.env["AZURE_TENANT"], "cloud_environment": emulator.env["AZURE_CLOUD_ENVIRONMENT"],
                   "disable_instance_discovery": True}
    play = [{"hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/complianceflow.azure_infra.azure": credentials},
             "tasks": [
                 {"name": "group", "complianceflow.azure_infra.resource_group": {
                     "name": "rg-cf-defaults", "location": "westeurope"}},
                 {"name": "nsg", "complianceflow.azure_infra.network_security_group": {
                     "resource_group": "rg-cf-defaults", "name": "nsg-cf-defaults", "location": "westeurope"}},
                 {"name": "read", "complianceflow.azure_infra.resource_group_info": {"name": "rg-cf-defaults"},
                  "register": "info"},
                 {"name": "check", "ansible.builtin.assert": {"that": ["info.exists"]}},
             ]}]
    playbook = tmp_path / "defaults.yml"
    playbook.write_text(json.dumps(play))
    completed = subprocess.run([ANSIBLE_PLAYBOOK, str(playbook)], cwd=REPO, env=env, capture_output=True,
                               text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "changed=2" in completed.stdout
    assert emulator.env["AZURE_SECRET"] not in completed.stdout


def test_managed_identity(run: ModuleRunner, emulator: Any) -> None:
    msi_env = dict.fromkeys(("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"), "")
    msi_env.update({"IDENTITY_ENDPOINT": str(emulator.env["AZURE_EMULATOR_IDENTITY_ENDPOINT"]),
                    "IDENTITY_HEADER": str(emulator.env["AZURE_EMULATOR_IDENTITY_HEADER"])})
    result = run("resource_info", {"id": f"/subscriptions/{run.subscription}/resourcegroups",
                                   "api_version": "2021-04-01", "collection": True}, extra_env=msi_env)
    assert not result.get("failed"), result.get("msg")
    tokens = [e for e in emulator.requests() if str(e.get("path", "")).startswith("/msi/token")]
    assert tokens, "auth_source=auto with IDENTITY_ENDPOINT must use the managed identity"


def test_certificate_validation_is_on_unless_turned_off(run: ModuleRunner) -> None:
    untrusted = {"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": ""}
    refused = run("resource_group_info", {"name": "rg-any"}, extra_env=untrusted)
    assert refused.get("failed") is True
    assert "CERTIFICATE_VERIFY_FAILED" in refused["msg"]
    assert refused["error"]["code"] == "CertificateVerificationFailed"
    allowed = run("resource_group_info", {"name": "rg-any"},
                  extra_env={**untrusted, "AZURE_CERT_VALIDATION_MODE": "ignore"})
    assert not allowed.get("failed"), allowed.get("msg")
    assert allowed["exists"] is False
