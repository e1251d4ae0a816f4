"""The services' identities and grants in the plan (least privilege), and the outputs document, from the real
registries (group_vars/all.yml cf_services and cf_event_hubs) of westeu-test-1 and westeu-prod-1."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_model
from scripts.generate_docs import deployment_inputs

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENTS = ("westeu-test-1", "westeu-prod-1")
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SENDER = "2b629674-e913-4c01-ae53-ef4638d8f975"
RECEIVER = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
REGISTRY = yaml.safe_load((REPO / "group_vars" / "all.yml").read_text())
SERVICES = REGISTRY["cf_services"]
HUBS = REGISTRY["cf_event_hubs"]


def model(deployment: str = "westeu-test-1", **overrides: Any) -> dict[str, Any]:
    inputs = deployment_inputs(REPO / "inventories" / deployment)
    inputs.update(overrides)
    return deployment_model.build_deployment(inputs)


def grants(plan: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(service, role definition GUID, scope) of every grant to a service identity."""
    principals = {i["principal_id"]: service for service, i in plan["identities"].items()}
    out = []
    for r in plan["resources"]:
        if r["type"] == "Microsoft.Authorization/roleAssignments" and r["properties"]["principalId"] in principals:
            scope = r["id"].split("/providers/Microsoft.Authorization/roleAssignments/")[0]
            out.append((principals[r["properties"]["principalId"]],
                        r["properties"]["roleDefinitionId"].rsplit("/", 1)[1], scope))
    return out


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_one_identity_per_service_applied_by_the_identity_role(deployment: str) -> None:
    plan = model(deployment)
    identities = [r for r in plan["resources"] if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
                  and r["role"] == "identity"]
    assert sorted(r["name"] for r in identities) == sorted(f"id-cf-{deployment}-{s}" for s in SERVICES)
    # The one other identity is the Application Gateway's (edge role); the identity role never purges it.
    others = [r["name"] for r in plan["resources"] if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"
              and r["role"] != "identity"]
    assert others == [f"id-cf-{deployment}-appgw"]
    assert all(r["tags"]["deployment"] == deployment for r in identities), "purge recognises them by this tag"


def test_key_vault_grants_are_scoped_to_single_secrets_the_service_needs() -> None:
    plan = model()
    vault = plan["ids"]["key_vault"]
    by_service: dict[str, set[str]] = {}
    for service, role, scope in grants(plan):
        if role == SECRETS_USER:
            assert scope.startswith(f"{vault}/secrets/"), f"{service} is granted more than single secrets: {scope}"
            by_service.setdefault(service, set()).add(scope.rsplit("/", 1)[1])
    for service in SERVICES:
        produces = {h["name"] for h in HUBS if service in h.get("producers", [])}
        consumes = {h["name"] for h in HUBS if service in h.get("consumers", [])}
        assert by_service[service] == {f"postgresql-{service}-password", "redis-primary-key",
                                       "appinsights-connection-string",
                                       *(f"eventhub-{h}-send-connection-string" for h in produces),
                                       *(f"eventhub-{h}-listen-connection-string" for h in consumes)}
    assert "postgresql-form-password" not in by_service["user"], "a service never reads another's password"
    assert not any("admin" in s or "jwt" in s for names in by_service.values() for s in names)


def test_event_hubs_roles_follow_the_service_to_hub_map() -> None:
    plan = model()
    hub_ids = {h["id"]: name for name, h in plan["event_hubs"].items()}
    sent = {(s, hub_ids[scope]) for s, role, scope in grants(plan) if role == SENDER}
    received = {(s, hub_ids[scope]) for s, role, scope in grants(plan) if role == RECEIVER}
    assert sent == {(s, h["name"]) for h in HUBS for s in h.get("producers", [])}
    assert received == {(s, h["name"]) for h in HUBS for s in h.get("consumers", [])}
    assert ("user", "user-events") in sent and ("user", "user-events") not in received


def test_acr_pull_on_the_deployments_own_registry_by_default() -> None:
    plan = model()
    own = plan["ids"]["container_registry"]
    assert {(s, scope) for s, role, scope in grants(plan) if role == ACR_PULL} == {(s, own) for s in SERVICES}


def test_acr_pull_on_another_registry_when_one_is_given() -> None:
    registry = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared/providers/"
                "Microsoft.ContainerRegistry/registries/crcf")
    plan = model(container_registry_id=registry)
    assert {s for s, role, scope in grants(plan) if role == ACR_PULL and scope == registry} == set(SERVICES)
    problems = deployment_model.validate_inputs({**deployment_inputs(REPO / "inventories" / "westeu-test-1"),
                                                 "container_registry_id": "crcf"})
    assert any("identity_container_registry_id" in p for p in problems)


def test_grants_name_the_identity_principal_at_run_time_and_are_stable() -> None:
    plan = model()
    for r in plan["resources"]:
        if r["type"] == "Microsoft.Authorization/roleAssignments" and r["role"] == "identity":
            principal = r["properties"]["principalId"]
            assert principal.startswith("<runtime:public-property:") and principal.endswith(":properties.principalId>")
            assert r["properties"]["principalType"] == "ServicePrincipal"
            identity = principal.split(":", 2)[2].rsplit(":", 1)[0]
            assert identity in r["depends_on"]
    again = model()
    assert [r["id"] for r in again["resources"]] == [r["id"] for r in plan["resources"]], "names are deterministic"


def test_a_producer_outside_the_registry_is_refused_before_any_call() -> None:
    hubs = copy.deepcopy(HUBS)
    hubs[0]["producers"] = ["billing"]
    problems = deployment_model.validate_inputs({**deployment_inputs(REPO / "inventories" / "westeu-test-1"),
                                                 "event_hubs": hubs})
    assert problems == ["westeu-test-1: cf_event_hubs[user-events].producers: 'billing' is not in cf_services"]


def test_a_service_that_leaves_the_registry_leaves_the_plan() -> None:
    hubs = [{**h, "producers": [p for p in h.get("producers", []) if p != "form"]} for h in HUBS]
    plan = model(services=[s for s in SERVICES if s != "form"], event_hubs=hubs)
    assert "form" not in plan["identities"]
    assert not any("-form" in r["id"] for r in plan["resources"]
                   if r["type"] in ("Microsoft.ManagedIdentity/userAssignedIdentities",))
    assert {s for s, _role, _scope in grants(plan)} == set(SERVICES) - {"form"}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_outputs_document_is_planned_as_a_published_secret_and_names_no_value(deployment: str) -> None:
    plan = model(deployment)
    [entry] = [r for r in plan["resources"] if r["id"] == plan["secrets"]["deployment-outputs"]]
    assert entry["role"] == "identity" and entry["publish"] is True
    assert entry["properties"]["contentType"] == "application/json"
    document = entry["properties"]["value"]
    assert document == plan["outputs"]
    text = json.dumps(document)
    assert "<runtime:generate" not in text and "<runtime:list-keys" not in text and "<runtime:property:" not in text
    service = document["services"]["review"]
    assert service["postgresql"] == {"database": plan["databases"]["review"], "login_role": "svc_review",
                                     "password_secret": "postgresql-review-password"}
    assert set(service["event_hubs"]["produces"]) == {h["name"] for h in HUBS if "review" in h.get("producers", [])}
    assert document["event_hubs"]["kafka_endpoint"] == f"{plan['names']['eventhub_namespace']}.servicebus.windows.net:9093"
    assert document["postgresql"]["connection_string_template"].startswith("postgresql://{user}:{password}@<runtime:")
    schema = json.loads((REPO / "docs" / "outputs.schema.json").read_text())
    resolved = json.loads(json.dumps(document).replace(
        '"<runtime:public-property:' + plan["ids"]["redis"] + ':properties.sslPort>"', "6380"))
    jsonschema.validate(_with_runtime_values(resolved), schema)


def _with_runtime_values(document: Any) -> Any:
    """The document as a run writes it: each run-time value replaced by a value of its kind."""
    text = json.dumps(document)
    for kind, value in ((":properties.principalId>", "11111111-1111-4111-8111-111111111111"),
                        (":properties.clientId>", "22222222-2222-4222-8222-222222222222")):
        while kind in text:
            end = text.index(kind) + len(kind)
            start = text.rindex("<runtime:", 0, end)
            text = text[:start] + value + text[end:]
    for path, value in ((":properties.fullyQualifiedDomainName>", "psql.postgres.database.azure.com"),
                        (":properties.vaultUri>", "https://kv.vault.azure.net/"),
                        (":properties.hostName>", "redis.redis.cache.windows.net"),
                        (":properties.serviceBusEndpoint>", "https://evhns.servicebus.windows.net:443/")):
        while path in text:
            end = text.index(path) + len(path)
            start = text.rindex("<runtime:", 0, end)
            text = text[:start] + value + text[end:]
    return json.loads(text)


def test_query_store_and_wait_sampling_are_on_in_every_tier() -> None:
    for deployment in DEPLOYMENTS:
        parameters = {r["name"]: r["properties"]["value"] for r in model(deployment)["resources"]
                      if r["type"] == "Microsoft.DBforPostgreSQL/flexibleServers/configurations"}
        assert parameters["pg_qs.query_capture_mode"] == "top"
        assert parameters["pgms_wait_sampling.query_capture_mode"] == "all"


def test_entra_authentication_with_an_admin_group_only_when_one_is_named() -> None:
    def server(plan: dict[str, Any]) -> dict[str, Any]:
        [found] = [r for r in plan["resources"] if r["type"] == "Microsoft.DBforPostgreSQL/flexibleServers"]
        return found

    plain = model()
    assert server(plain)["properties"]["authConfig"] == {"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"}
    assert not [r for r in plain["resources"] if r["type"].endswith("/administrators")]
    group = {"object_id": "6B3F0A52-1F1E-4C55-9C43-6A1E2D3C4B5A", "name": "cf-db-admins"}
    entra = model(entra_admin_group=group)
    assert server(entra)["properties"]["authConfig"] == {"activeDirectoryAuth": "Enabled", "passwordAuth": "Enabled",
                                                         "tenantId": "<runtime:tenant-id>"}
    [admin] = [r for r in entra["resources"] if r["type"].endswith("/administrators")]
    assert admin["name"] == group["object_id"].lower() and admin["role"] == "database"
    assert admin["properties"] == {"principalType": "Group", "principalName": "cf-db-admins",
                                   "tenantId": "<runtime:tenant-id>"}
    bad = deployment_model.validate_inputs({**deployment_inputs(REPO / "inventories" / "westeu-test-1"),
                                            "entra_admin_group": {"object_id": "cf-db-admins"}})
    assert any(p.startswith("westeu-test-1: database_entra_admin_group:") for p in bad)
