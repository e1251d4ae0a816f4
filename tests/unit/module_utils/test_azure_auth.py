"""Credential source selection and cloud endpoint resolution, with azure.azcollection's meanings."""

from __future__ import annotations

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import (
    AuthError,
    parse_cloud_metadata,
    resolve_cloud,
    resolve_settings,
)

SP_ENV = {"AZURE_CLIENT_ID": "env-app", "AZURE_SECRET": "env-secret", "AZURE_TENANT": "env-tenant",
          "AZURE_SUBSCRIPTION_ID": "env-sub"}


def params(**kw):
    base = {"auth_source": "auto", "cloud_environment": "AzureCloud", "disable_instance_discovery": False}
    base.update(kw)
    return base


def test_auto_prefers_module_options_over_environment(tmp_path):
    settings = resolve_settings(params(client_id="opt-app", secret="s", tenant="t"), SP_ENV,
                                credential_file=str(tmp_path / "none"))
    assert (settings["client_id"], settings["secret"], settings["tenant"]) == ("opt-app", "s", "t")
    # Values the options do not give still come from the environment, as AWX injects them.
    assert settings["subscription_id"] == "env-sub"


def test_auto_uses_awx_environment_when_no_options(tmp_path):
    env = {**SP_ENV, "AZURE_CLOUD_ENVIRONMENT": "https://127.0.0.1:9/", "AZURE_DISABLE_INSTANCE_DISCOVERY": "true"}
    settings = resolve_settings(params(), env, credential_file=str(tmp_path / "none"))
    assert settings["auth_source"] == "env"
    assert settings["client_id"] == "env-app"
    assert settings["cloud_environment"] == "https://127.0.0.1:9/"
    assert settings["disable_instance_discovery"] is True
    assert settings["cert_validation_mode"] == "validate"


def test_credential_file_profile(tmp_path):
    path = tmp_path / "credentials"
    path.write_text("[default]\nclient_id=file-app\nsecret=x\ntenant=t\nsubscription_id=file-sub\n"
                    "[other]\nad_user=u@example.com\npassword=p\nsubscription_id=other-sub\n")
    settings = resolve_settings(params(auth_source="credential_file"), {}, credential_file=str(path))
    assert settings["subscription_id"] == "file-sub"
    other = resolve_settings(params(auth_source="credential_file", profile="other"), {}, credential_file=str(path))
    assert other["ad_user"] == "u@example.com"
    with pytest.raises(AuthError, match="profile 'missing'"):
        resolve_settings(params(auth_source="credential_file", profile="missing"), {}, credential_file=str(path))


def test_env_source_without_a_complete_identity_names_the_variables(tmp_path):
    with pytest.raises(AuthError, match="AZURE_CLIENT_ID"):
        resolve_settings(params(auth_source="env"), {"AZURE_CLIENT_ID": "only-id"}, credential_file=str(tmp_path))


def test_auto_picks_managed_identity_when_its_endpoint_is_present(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    settings = resolve_settings(params(), {"IDENTITY_ENDPOINT": "http://169.254.169.254/x"},
                                credential_file=str(tmp_path / "none"))
    assert settings["auth_source"] == "msi"


def test_no_credentials_at_all_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AuthError, match="no Azure credentials"):
        resolve_settings(params(), {}, credential_file=str(tmp_path / "none"))


def test_bad_cert_validation_mode_from_environment(tmp_path):
    with pytest.raises(AuthError, match="AZURE_CERT_VALIDATION_MODE"):
        resolve_settings(params(), {**SP_ENV, "AZURE_CERT_VALIDATION_MODE": "maybe"}, credential_file=str(tmp_path))


@pytest.mark.parametrize(("name", "manager"), [("AzureCloud", "https://management.azure.com/"),
                                               ("AzureUSGovernment", "https://management.usgovcloudapi.net/"),
                                               ("azure_china_cloud", "https://management.chinacloudapi.cn/")])
def test_known_clouds_resolve_without_network(name, manager):
    assert resolve_cloud(name).resource_manager == manager


def test_unknown_cloud_name_is_refused():
    with pytest.raises(AuthError, match="neither a known cloud"):
        resolve_cloud("AzureGermanCloud")


def test_metadata_list_form_and_single_object_form():
    listed = [{"name": "Custom", "resourceManager": "https://arm.example/",
               "authentication": {"loginEndpoint": "https://login.example", "audiences": ["https://arm.example/"]}}]
    cloud = parse_cloud_metadata(listed, "https://meta.example")
    assert (cloud.resource_manager, cloud.authority, cloud.scope) == (
        "https://arm.example/", "https://login.example/", "https://arm.example/.default")
    single = {"authentication": {"loginEndpoint": "https://login.example/", "audiences": ["https://aud.example"]}}
    assert parse_cloud_metadata(single, "https://stack.example").resource_manager == "https://stack.example/"
    with pytest.raises(AuthError, match="authentication"):
        parse_cloud_metadata({"resourceManager": "x"}, "https://bad.example")
