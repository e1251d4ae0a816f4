"""site.yml end to end for westeu-test-1 and westeu-prod-1 together (one ansible-playbook run, one inventory host
each, in parallel with forks, as `-i a -i b` and AWX run them), against one emulator with its real PostgreSQL:

    --check --diff -vvv on an empty subscription   writes nothing, creates nothing, reports changes
    build -vvv                                      every planned resource exists
    second run --diff -vvv                          changed=0 and not one write request (ARM or data plane)

then, from the emulator's state and request log and the vaults' data plane (never through our modules): the tiers
of PostgreSQL, Redis, Event Hubs and Key Vault; the logins inside PostgreSQL; monitoring of every planned target
(diagnostics and alerts against the tier's values in group_vars); guardrails; the secrets. The state-changing
paths come last, in this order: rotation (--diff -vvv), a rotated database password, an unknown rotation, a
soft-deleted vault recovered, production's destroy refused (zero writes), destroy. The last test scans every
log of this file for every secret value seen in any vault at any point, every key Azure reports and the service
principal's secret.

This one build replaces six (site_full per deployment, the monitoring slice, the Key Vault and database slice, the
Redis and Event Hubs slice per deployment): CI time is spent once, on the real entry point.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.playbooks.runner import ANSIBLE_PLAYBOOK, REPO
from tests.integration.readers import Vault, azure_keys, leaks
from tests.integration.request_log import is_write, sent_outside_plan, with_run_time_ids, writes

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

DEPLOYMENTS = ("westeu-test-1", "westeu-prod-1")
EMULATOR_VARS = ("-e", f"@{REPO / 'tests/integration/emulator-site-vars.yml'}")
# Seconds the build's new role assignments take to reach the services that check them (the emulator's
# rbac_propagation): longer than a wave of the instant emulator (a grant's next wave starts 1-2 s after it), and no
# longer than the first wait before asking again (5 s), so that a refused request is taken the second time.
GRANT_PROPAGATION_S = 5
# The inventories set no health URL (no availability test); the test deployment gets one here, production none.
HEALTH_URL = "https://api.westeu-test-1.example.com/healthz"
HEALTH_URL_VARS = ("-e", json.dumps({"monitoring_availability_url": "{{ '" + HEALTH_URL + "' if inventory_hostname == "
                                                                   "'westeu-test-1' else '' }}"}))
# One more extension than the default in the test deployment: the server's allow-list must follow (Azure refuses
# CREATE EXTENSION for one azure.extensions does not list).
EXTENSIONS = {"westeu-test-1": ["pg_stat_statements", "pg_trgm", "uuid-ossp", "pgcrypto"],
              "westeu-prod-1": ["pg_stat_statements", "pg_trgm", "uuid-ossp"]}
EXTENSION_VARS = ("-e", json.dumps({"database_extensions": "{{ " + json.dumps(EXTENSIONS) + "[inventory_hostname] }}"}))
# Planned resources the emulator's admin API does not list by that ID: the runner's role assignment is named
# after the principal that runs the play, and Key Vault secrets live in the vault's data plane (read below).
NOT_LISTED_BY_ID = {"microsoft.authorization/roleassignments", "microsoft.keyvault/vaults/secrets",
                    "microsoft.keyvault/vaults/certificates"}
INLINE_CHILDREN = ("subnets", "securityRules", "virtualNetworkLinks")

# Restated from the roles' documentation, so that a plan or role that lost one fails here.
SERVICES = ("user", "declaration", "form", "ruleengine", "review", "case", "notification", "analytics")
GENERATED = ["postgresql-admin-password", *(f"postgresql-{s}-password" for s in SERVICES),
             "jwt-signing-key", "jwt-refresh-signing-key"]
CONSUMERS = {  # event hub -> (partitions, consuming services), group_vars/all.yml cf_event_hubs
    "user-events": (2, {"notification", "analytics"}),
    "declaration-events": (4, {"ruleengine", "review", "analytics"}),
    "review-events": (2, {"case", "notification", "analytics"}),
    "case-events": (2, {"notification", "analytics"}),
    "notification-events": (4, {"analytics"}),
    "analytics-events": (2, {"analytics"}),
}
# gateway-tls: the Application Gateway certificate's managed secret (its key and chain, PKCS#12).
STORED = sorted([*GENERATED, "redis-primary-key", "appinsights-connection-string", "deployment-outputs", "gateway-tls",
                 *(f"eventhub-{hub}-{right}-connection-string" for hub in CONSUMERS for right in ("send", "listen"))])
# docs/monitoring.md: what each diagnosed type sends (logs, metrics), and the alert -> tier threshold key.
DIAGNOSTICS = {
    "microsoft.dbforpostgresql/flexibleservers": (["allLogs"], ["AllMetrics"]),
    "microsoft.cache/redis": (["allLogs"], ["AllMetrics"]),
    "microsoft.containerregistry/registries": (["allLogs"], ["AllMetrics"]),
    "microsoft.app/managedenvironments": (["allLogs"], ["AllMetrics"]),
    "microsoft.eventhub/namespaces": (["allLogs"], ["AllMetrics"]),
    "microsoft.keyvault/vaults": (["allLogs"], ["AllMetrics"]),
    "microsoft.network/networksecuritygroups": (["allLogs"], []),
    "microsoft.network/virtualnetworks": (["allLogs"], ["AllMetrics"]),
    "microsoft.network/applicationgateways": (["allLogs"], ["AllMetrics"]),
    "microsoft.network/publicipaddresses": (["allLogs"], ["AllMetrics"]),
    "microsoft.storage/storageaccounts": ([], ["Transaction"]),
}
METRIC_ALERTS = {  # alert -> (target type, metric, aggregation, window, tier threshold key)
    "psql-cpu": ("microsoft.dbforpostgresql/flexibleservers", "cpu_percent", "Average", "PT15M",
                 "postgresql_cpu_percent"),
    "psql-storage": ("microsoft.dbforpostgresql/flexibleservers", "storage_percent", "Average", "PT15M",
                     "postgresql_storage_percent"),
    "psql-failed-connections": ("microsoft.dbforpostgresql/flexibleservers", "connections_failed", "Total", "PT5M",
                                "postgresql_failed_connections"),
    "psql-memory": ("microsoft.dbforpostgresql/flexibleservers", "memory_percent", "Average", "PT15M",
                    "postgresql_memory_percent"),
    # Only where the tier sets a threshold (prod): null leaves the alert out.
    "psql-replication-lag": ("microsoft.dbforpostgresql/flexibleservers", "physical_replication_delay_in_bytes",
                             "Maximum", "PT5M", "postgresql_replication_lag_bytes"),
    "redis-memory": ("microsoft.cache/redis", "usedmemorypercentage", "Maximum", "PT5M", "redis_memory_percent"),
    "redis-server-load": ("microsoft.cache/redis", "serverLoad", "Maximum", "PT5M", "redis_server_load_percent"),
    "evhns-throttled": ("microsoft.eventhub/namespaces", "ThrottledRequests", "Total", "PT5M",
                        "eventhubs_throttled_requests"),
    "evhns-server-errors": ("microsoft.eventhub/namespaces", "ServerErrors", "Total", "PT5M",
                            "eventhubs_server_errors"),
    # No tier key: any unhealthy backend alerts (threshold 0).
    "appgw-unhealthy-backends": ("microsoft.network/applicationgateways", "UnhealthyHostCount", "Average", "PT5M",
                                 None),
}
LOG_ALERTS = {"kv-unauthorized": ("keyvault_unauthorized_requests", "PT5M"),
              "appi-failed-requests": ("appinsights_failed_request_percent", "PT5M"),
              "appi-p95-response": ("appinsights_p95_response_ms", "PT5M"),
              "nsg-denied-flows": ("nsg_denied_flows", "PT1H"),
              "kv-secret-near-expiry": ("keyvault_secrets_near_expiry", "P1D")}
# docs/secrets.md: what never expires (no credential to rotate); every other stored secret expires after the tier's
# secret_expiry_days.
NEVER_EXPIRE = {"appinsights-connection-string", "deployment-outputs"}
CERTIFICATE_SECRETS = {"gateway-tls"}
DAY = 86400
REQUIRED_TAGS = {"app", "env", "owner", "costCenter"}
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
CERTIFICATES_OFFICER = "a4417e6f-fecd-4de8-b567-7b0420556985"


def tier(deployment: str) -> dict[str, Any]:
    """The tier's settings as group_vars states them (not as the plan restates them)."""
    env = deployment.split("-")[1]
    return dict(yaml.safe_load((REPO / "group_vars" / f"env_{env}.yml").read_text())["cf_tier"])


def host_vars(deployment: str) -> dict[str, Any]:
    return dict(yaml.safe_load((REPO / "inventories" / deployment / "host_vars" / f"{deployment}.yml").read_text()))


def recap(stdout: str) -> dict[str, dict[str, int]]:
    hosts = {}
    for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", stdout, flags=re.MULTILINE):
        hosts[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
    return hosts


@dataclass
class Stack:
    emulator: Any
    workdir: Path
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    write_log: dict[str, list[str]] = field(default_factory=dict)
    requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    secrets: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    resources_after_check: list[dict[str, Any]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)

    def play(self, label: str, *args: str, playbook: str = "site.yml", inventories: tuple[str, ...] = DEPLOYMENTS,
             succeed: bool = True) -> subprocess.CompletedProcess[str]:
        command = [ANSIBLE_PLAYBOOK, playbook]
        for name in inventories:
            command += ["-i", f"inventories/{name}"]
        emulator_vars = playbook in ("site.yml", "playbooks/validate.yml", "playbooks/destroy.yml")
        command += [*(EMULATOR_VARS if emulator_vars else ()), *HEALTH_URL_VARS, *EXTENSION_VARS, *args]
        if playbook == "site.yml":
            command += ["-e", f"identity_outputs_dir={self.workdir / 'outputs'}"]
        env = {**os.environ, **{k: str(v) for k, v in self.emulator.env.items()},
               "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
        mark = len(self.emulator.requests())
        completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800,
                                   check=False)
        self.runs[label] = completed
        self.logs[label] = f"$ {' '.join(command)}\n{completed.stdout}\n{completed.stderr}"
        (self.workdir / f"{label}.log").write_text(self.logs[label])
        self.requests[label] = self.emulator.requests()[mark:]
        self.write_log[label] = writes(self.requests[label])
        if succeed:
            assert completed.returncode == 0, \
                f"{label} failed:\n{completed.stdout[-8000:]}\n{completed.stderr[-3000:]}"
        return completed

    def resource(self, resource_id: str) -> dict[str, Any]:
        found = self.find(resource_id)
        assert found is not None, f"{resource_id} is not in the emulator"
        return found

    def find(self, resource_id: str) -> dict[str, Any] | None:
        return self.by_id().get(resource_id.lower())

    def by_id(self) -> dict[str, dict[str, Any]]:
        """Every resource the emulator lists (admin API), with the children ARM returns inline in their parent."""
        index: dict[str, dict[str, Any]] = {}
        for resource in self.emulator.resources():
            index[str(resource["id"]).lower()] = resource
            for key in INLINE_CHILDREN:
                for child in (resource.get("properties") or {}).get(key) or []:
                    if isinstance(child, dict) and child.get("id"):
                        index.setdefault(str(child["id"]).lower(), child)
        return index

    def of_type(self, deployment: str, arm_type: str) -> list[dict[str, Any]]:
        group = self.facts[deployment]["resource_group_id"].lower() + "/"
        return [r for r in self.emulator.resources() if str(r.get("type", "")).lower() == arm_type.lower()
                and str(r["id"]).lower().startswith(group)]

    def planned(self, deployment: str, arm_type: str) -> list[dict[str, Any]]:
        return [r for r in self.plans[deployment] if str(r["type"]).lower() == arm_type.lower()]

    def planned_id(self, deployment: str, arm_type: str) -> str:
        [found] = self.planned(deployment, arm_type)
        return str(found["id"])

    def vault(self, deployment: str) -> Vault:
        vault = self.resource(self.facts[deployment]["ids"]["key_vault"])
        return Vault(self.emulator, vault["properties"]["vaultUri"])

    def read_secrets(self, label: str) -> dict[str, dict[str, str]]:
        """Every secret of every deployment's vault now (kept for the final scan of every log)."""
        self.secrets[label] = {d: self.vault(d).values() for d in DEPLOYMENTS
                               if self.find(self.facts[d]["ids"]["key_vault"])}
        return self.secrets[label]

    def tls(self) -> dict[str, str]:
        """How every client logs in to PostgreSQL: TLS, the certificate verified against the emulator's CA."""
        return {"sslmode": "verify-full", "sslrootcert": self.emulator.env["SSL_CERT_FILE"]}

    def redis_endpoint(self, deployment: str) -> dict[str, Any]:
        caches = self.emulator.dataplanes()["redis"]["caches"]
        wanted = self.facts[deployment]["ids"]["redis"].lower()
        return dict(next(v for k, v in caches.items() if k.lower() == wanted))

    def postgres_endpoint(self, deployment: str) -> dict[str, Any]:
        servers = self.emulator.dataplanes()["postgres"]["servers"]
        wanted = self.facts[deployment]["ids"]["postgresql_server"].lower()
        return dict(next(v for k, v in servers.items() if k.lower() == wanted))


def offline_facts_and_plans(stack: Stack) -> None:
    """The deployment fact as preflight computes it, and plan.yml's document, for both deployments (offline)."""
    out = stack.workdir / "facts"
    out.mkdir()
    playbook = stack.workdir / "facts.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "  roles: [complianceflow.azure_infra.preflight]\n  tasks:\n"
        "    - complianceflow.azure_infra.controller_file:\n        content: '{{ deployment | to_json }}'\n"
        f"        path: {out}/{{{{ inventory_hostname }}}}.json\n")
    (stack.workdir / "group_vars").symlink_to(REPO / "group_vars")
    stack.play("facts", playbook=str(playbook))
    stack.play("plan", "-e", f"plan_dir={stack.workdir / 'plan'}", playbook="playbooks/plan.yml")
    for name in DEPLOYMENTS:
        stack.facts[name] = json.loads((out / f"{name}.json").read_text())
        stack.plans[name] = json.loads((stack.workdir / "plan" / f"{name}.json").read_text())["resources"]


@pytest.fixture(scope="module")
def stack(emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    emulator.set_faults("")
    emulator.reset()
    built = Stack(emulator, tmp_path_factory.mktemp("whole-stack"))
    offline_facts_and_plans(built)
    built.play("check", "--check", "--diff", "-vvv")
    built.resources_after_check = emulator.resources()
    # As in Azure, a new role assignment reaches Key Vault and the gateway only after a while (Azure: minutes): the
    # build must wait for the grants it has just made.
    emulator.set_options(rbac_propagation=GRANT_PROPAGATION_S)
    try:
        built.play("create", "-vvv")
    finally:
        emulator.set_options(rbac_propagation=None)
    built.read_secrets("create")
    built.play("second", "--diff", "-vvv")
    built.read_secrets("second")
    built.keys = set(azure_keys(emulator))
    yield built
    emulator.reset()


# --- check mode, build, idempotence --------------------------------------------------------------------------

def test_check_mode_writes_nothing_creates_nothing_and_reports_changes(stack: Stack) -> None:
    assert stack.write_log["check"] == [], "check mode must not write (POST actions included)"
    assert stack.resources_after_check == [], "check mode must create nothing"
    counters = recap(stack.runs["check"].stdout)
    for deployment in DEPLOYMENTS:
        assert counters[deployment]["changed"] > 0, "check mode on an empty subscription must report changes"
        assert counters[deployment]["failed"] == 0


def test_every_planned_resource_is_built(stack: Stack) -> None:
    """Every planned resource exists (a Container Apps environment's private DNS zone under the name of the default
    domain Azure gave it), and what the plan wants absent (the Key Vault's endpoint of older builds) does not."""
    present = stack.by_id()
    for deployment in DEPLOYMENTS:
        plan = with_run_time_ids(stack.plans[deployment], present)
        missing = [r["id"] for r in plan if str(r["type"]).lower() not in NOT_LISTED_BY_ID
                   and r.get("state") != "absent" and str(r["id"]).lower() not in present]
        assert missing == [], f"{deployment}: planned but not built: {missing}"
        absent = [r["id"] for r in plan if r.get("state") == "absent"]
        assert absent and not [a for a in absent if a.lower() in present]


def test_the_build_sends_what_the_plan_shows(stack: Stack) -> None:
    """The plan is the contract: every ARM body the first build PUT or PATCHed is the planned body of that resource
    (run-time placeholders stand for their values), and nothing was written that the plan does not list."""
    planned = with_run_time_ids([r for deployment in DEPLOYMENTS for r in stack.plans[deployment]], stack.by_id())
    arm_bodies = [e for e in stack.requests["create"] if e.get("method") in ("PUT", "PATCH") and "body" in e]
    assert len(arm_bodies) >= len(planned) // 2, "the emulator's log must carry the bodies the build sent"
    problems = sent_outside_plan(stack.requests["create"], planned)
    assert problems == [], "the build sent what the plan does not show:\n" + "\n".join(problems)


def test_the_build_waits_for_the_grants_it_has_just_made(stack: Stack) -> None:
    """Key Vault refused the runner until its new grant arrived, and so did each gateway for its certificate's
    secret (ApplicationGatewayKeyVaultSecretException); the build asked again and went through (the fixture's run
    succeeded), and each gateway was written exactly once successfully."""
    log = stack.requests["create"]
    vault_refusals = [e for e in log if "/secrets/" in str(e["path"]) and e["status"] == 403]
    assert vault_refusals, "no Key Vault request met a grant still propagating: the control did not happen"
    refused = []
    for deployment in DEPLOYMENTS:
        gateway = stack.planned_id(deployment, "Microsoft.Network/applicationGateways").lower()
        statuses = [int(e["status"]) for e in log
                    if e["method"] == "PUT" and str(e["path"]).split("?")[0].lower() == gateway]
        # Refusals (400) first, then the one write Azure took.
        assert statuses[-1] < 400 and all(s == 400 for s in statuses[:-1]), (deployment, statuses)
        refused += statuses[:-1]
    # The gateway is written in the wave after its grant, well inside the propagation time.
    assert refused, "no gateway met its grant still propagating: the control did not happen"


def test_second_run_changes_nothing_and_sends_no_write(stack: Stack) -> None:
    counters = recap(stack.runs["second"].stdout)
    assert set(counters) == set(DEPLOYMENTS)
    for deployment in DEPLOYMENTS:
        assert counters[deployment]["changed"] == 0, stack.logs["second"][-6000:]
        assert counters[deployment]["failed"] == 0
    assert stack.write_log["second"] == []
    # Control: the log does show data-plane writes, so their absence above means something.
    secret_puts = [w for w in stack.write_log["create"] if w.startswith("PUT ") and "/secrets/" in w]
    assert len(secret_puts) >= len(STORED) * len(DEPLOYMENTS)


# --- Key Vault and PostgreSQL ----------------------------------------------------------------------------------

def test_vault_server_databases_and_endpoints(stack: Stack) -> None:
    for deployment in DEPLOYMENTS:
        facts = stack.facts[deployment]
        vault = stack.resource(facts["ids"]["key_vault"])["properties"]
        assert vault["enableRbacAuthorization"] is True
        assert vault["softDeleteRetentionInDays"] == 90
        acls = vault["networkAcls"]
        assert acls["defaultAction"] == "Deny" and acls["bypass"] == "AzureServices"
        assert [r["id"].lower() for r in acls["virtualNetworkRules"]] == [
            facts["subnets"][t]["id"].lower() for t in ("containerapps", "appgw")]
        endpoint_id = (f"{facts['resource_group_id']}/providers/Microsoft.Network/privateEndpoints/"
                       f"{facts['names']['key_vault_private_endpoint']}")
        endpoint = stack.resource(endpoint_id)["properties"]
        # In the storage subnet: the containerapps subnet is delegated to the Container Apps environment.
        assert endpoint["subnet"]["id"].lower() == facts["subnets"]["storage"]["id"].lower()
        group = stack.resource(f"{endpoint_id}/privateDnsZoneGroups/default")["properties"]
        assert [c["properties"]["privateDnsZoneId"].lower() for c in group["privateDnsZoneConfigs"]] == \
            [facts["ids"]["private_dns_zones"]["privatelink.vaultcore.azure.net"].lower()]
        server = stack.resource(facts["ids"]["postgresql_server"])
        network = server["properties"]["network"]
        assert network["delegatedSubnetResourceId"].lower() == facts["subnets"]["db"]["id"].lower()
        assert network["publicNetworkAccess"] == "Disabled"
        assert server["properties"]["version"] == "16"
        assert sorted(facts["databases"]) == sorted(SERVICES)
        for service, database in facts["databases"].items():
            stack.resource(f"{facts['ids']['postgresql_server']}/databases/{database}")
            assert database == f"complianceflow_{service}_{deployment.replace('-', '_')}"
        for name, value in {"require_secure_transport": "on", "ssl_min_protocol_version": "TLSv1.2",
                            "log_min_duration_statement": "1000"}.items():
            config = stack.resource(f"{facts['ids']['postgresql_server']}/configurations/{name}")
            assert config["properties"]["value"].lower() == value.lower()
        # The allow-list is exactly what the database role creates (database_extensions).
        extensions = stack.resource(f"{facts['ids']['postgresql_server']}/configurations/azure.extensions")
        assert extensions["properties"]["value"] == ",".join(sorted(EXTENSIONS[deployment]))


def test_runner_holds_secrets_and_certificates_officer_on_the_vault(stack: Stack) -> None:
    for deployment in DEPLOYMENTS:
        vault_id = stack.facts[deployment]["ids"]["key_vault"].lower()
        grants = [r for r in stack.emulator.resources()
                  if r["type"].lower() == "microsoft.authorization/roleassignments"
                  and r["id"].lower().startswith(vault_id + "/")]
        at_vault = [g for g in grants if g["id"].lower().startswith(vault_id + "/providers/")]
        # Secrets Officer for the secrets, Certificates Officer for the gateway's certificate (keyvault role).
        assert sorted(g["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for g in at_vault) == \
            sorted([SECRETS_OFFICER, CERTIFICATES_OFFICER])
        # Below the vault, only the services' identities, each reading single secrets (the identity role).
        below = [g for g in grants if g not in at_vault]
        assert below and {g["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for g in below} == {SECRETS_USER}
        assert all("/secrets/" in g["id"].lower() and g["properties"]["principalType"] == "ServicePrincipal"
                   for g in below)


@pytest.mark.parametrize(("deployment", "expected"), [
    ("westeu-test-1", {"sku": ("Standard_B1ms", "Burstable"), "ha": "Disabled", "retention": 7, "geo": "Disabled",
                       "grow": "Disabled", "purge_protection": False, "pgbouncer": False}),
    ("westeu-prod-1", {"sku": ("Standard_D4ds_v5", "GeneralPurpose"), "ha": "ZoneRedundant", "retention": 30,
                       "geo": "Enabled", "grow": "Enabled", "purge_protection": True, "pgbouncer": True}),
])
def test_postgresql_and_key_vault_follow_the_tier(stack: Stack, deployment: str, expected: dict[str, Any]) -> None:
    facts = stack.facts[deployment]
    server = stack.resource(facts["ids"]["postgresql_server"])
    assert (server["sku"]["name"], server["sku"]["tier"]) == expected["sku"]
    assert server["properties"]["highAvailability"]["mode"] == expected["ha"]
    assert server["properties"]["backup"]["backupRetentionDays"] == expected["retention"]
    assert server["properties"]["backup"]["geoRedundantBackup"] == expected["geo"]
    assert server["properties"]["storage"]["autoGrow"] == expected["grow"]
    # Azure offers built-in PgBouncer only on General Purpose and Memory Optimized (see roles/database/README.md):
    # a Burstable server has no pgbouncer.* parameters at all.
    pgbouncer = stack.find(f"{facts['ids']['postgresql_server']}/configurations/pgbouncer.enabled")
    if expected["pgbouncer"]:
        assert pgbouncer is not None and pgbouncer["properties"]["value"].lower() == "true"
        pool = stack.resource(f"{facts['ids']['postgresql_server']}/configurations/pgbouncer.default_pool_size")
        assert pool["properties"]["value"] == str(tier(deployment)["postgresql"]["pgbouncer_pool_size"])
    else:
        assert pgbouncer is None, pgbouncer
    vault = stack.resource(facts["ids"]["key_vault"])["properties"]
    assert bool(vault.get("enablePurgeProtection")) is expected["purge_protection"]


def test_stored_secrets_exist_with_content_type_and_tags(stack: Stack) -> None:
    for deployment in DEPLOYMENTS:
        values = stack.secrets["create"][deployment]
        assert sorted(values) == STORED
        vault = stack.vault(deployment)
        for name in GENERATED:
            assert len(values[name]) >= 32
            secret = vault.secret(name)
            assert secret["contentType"] == ("application/octet-stream; encoding=base64" if name.startswith("jwt-")
                                             else "password")
            assert secret["tags"]["deployment"] == deployment
        assert len({values[n] for n in GENERATED}) == len(GENERATED), "every generated secret must be different"
        days = tier(deployment)["keyvault"]["secret_expiry_days"]
        for name in STORED:
            attributes = vault.secret(name)["attributes"]
            if name in NEVER_EXPIRE:
                assert "exp" not in attributes, name
            elif name in CERTIFICATE_SECRETS:
                # A certificate's managed secret expires with the certificate, not with the rotation period.
                status, bundle = vault.get(f"certificates/{name}")
                assert status == 200, bundle
                assert attributes["exp"] == bundle["attributes"]["exp"], (name, attributes, bundle["attributes"])
            else:
                assert abs(attributes["exp"] - (attributes["updated"] + days * DAY)) < 600, (name, attributes)


def test_secrets_keep_their_values_across_runs(stack: Stack) -> None:
    assert stack.secrets["second"] == stack.secrets["create"]


def test_each_service_role_reaches_only_its_own_database(stack: Stack) -> None:
    import psycopg

    for deployment in DEPLOYMENTS:
        endpoint = stack.postgres_endpoint(deployment)
        databases = stack.facts[deployment]["databases"]
        secrets = stack.secrets["second"][deployment]
        for service, database in databases.items():
            password = secrets[f"postgresql-{service}-password"]
            role = f"svc_{service}"
            with psycopg.connect(host=endpoint["host"], port=endpoint["port"], user=role, password=password,
                                 dbname=database, connect_timeout=10, **stack.tls()) as conn:
                owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                                     "WHERE datname = current_database()").fetchone()
                assert owner == (role,)
                extensions = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
                assert set(EXTENSIONS[deployment]) <= extensions
            for other in (databases[s] for s in databases if s != service):
                with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
                    psycopg.connect(host=endpoint["host"], port=endpoint["port"], user=role, password=password,
                                    dbname=other, connect_timeout=10, **stack.tls()).close()
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(host=endpoint["host"], port=endpoint["port"], user=role,
                                password=password + "x", dbname=database, connect_timeout=10, **stack.tls()).close()


# --- Redis and Event Hubs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_cache_and_event_hubs_follow_the_tier(stack: Stack, deployment: str) -> None:
    prod = deployment.endswith("-prod-1")
    [cache] = stack.of_type(deployment, "Microsoft.Cache/redis")
    props = cache["properties"]
    config = props["redisConfiguration"]
    assert props["enableNonSslPort"] is False
    assert props["minimumTlsVersion"] == "1.2"
    assert props["publicNetworkAccess"] == "Disabled"
    assert config["maxmemory-policy"] == "allkeys-lru"
    if prod:
        assert props["sku"] == {"name": "Premium", "family": "P", "capacity": 1}
        assert props["shardCount"] == 2
        assert sorted(cache["zones"]) == ["1", "2", "3"]
        assert config["rdb-backup-enabled"] == "true"
        assert config["rdb-backup-frequency"] == "60"
    else:
        assert props["sku"] == {"name": "Basic", "family": "C", "capacity": 1}
        assert not props.get("shardCount")
        assert not cache.get("zones")
        assert config.get("rdb-backup-enabled", "false") == "false"
    [endpoint] = [e for e in stack.of_type(deployment, "Microsoft.Network/privateEndpoints")
                  if e["name"].endswith("-redis")]
    assert endpoint["properties"]["subnet"]["id"].lower().endswith("-redis")
    [connection] = endpoint["properties"]["privateLinkServiceConnections"]
    assert connection["properties"]["privateLinkServiceId"].lower() == cache["id"].lower()
    assert connection["properties"]["groupIds"] == ["redisCache"]

    [namespace] = stack.of_type(deployment, "Microsoft.EventHub/namespaces")
    ns = namespace["properties"]
    assert namespace["sku"]["name"] == "Standard"
    assert ns["kafkaEnabled"] is True
    if prod:
        assert namespace["sku"]["capacity"] == 2
        assert ns["isAutoInflateEnabled"] is True
        assert ns["maximumThroughputUnits"] == 10
        assert ns["zoneRedundant"] is True
    else:
        assert namespace["sku"]["capacity"] == 1
        assert ns["isAutoInflateEnabled"] is False
        assert ns["zoneRedundant"] is False
    [rule_set] = stack.of_type(deployment, "Microsoft.EventHub/namespaces/networkRuleSets")
    assert rule_set["properties"]["defaultAction"] == "Deny"
    assert [r["subnet"]["id"].lower().rsplit("/", 1)[1] for r in rule_set["properties"]["virtualNetworkRules"]] == [
        f"snet-cf-{deployment}-containerapps"]

    hubs = {h["name"]: h for h in stack.of_type(deployment, "Microsoft.EventHub/namespaces/eventhubs")}
    assert set(hubs) == set(CONSUMERS)
    groups = stack.of_type(deployment, "Microsoft.EventHub/namespaces/eventhubs/consumergroups")
    rules = stack.of_type(deployment, "Microsoft.EventHub/namespaces/eventhubs/authorizationRules")
    for name, (partitions, consumers) in CONSUMERS.items():
        assert hubs[name]["properties"]["partitionCount"] == partitions, name
        assert hubs[name]["properties"]["messageRetentionInDays"] == 7, name
        prefix = hubs[name]["id"].lower() + "/"
        have = {g["name"] for g in groups if g["id"].lower().startswith(prefix)} - {"$Default"}
        assert have == {f"{c}-consumer" for c in consumers}, name
        hub_rules = {r["name"]: sorted(r["properties"]["rights"]) for r in rules if r["id"].lower().startswith(prefix)}
        assert hub_rules == {"send": ["Send"], "listen": ["Listen"]}, name


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_registry_follows_the_tier_and_defender_scans_its_images(stack: Stack, deployment: str) -> None:
    prod = deployment.endswith("-prod-1")
    [registry] = stack.of_type(deployment, "Microsoft.ContainerRegistry/registries")
    props = registry["properties"]
    assert props["adminUserEnabled"] is False and props["anonymousPullEnabled"] is False
    retention = props["policies"]["retentionPolicy"]
    endpoints = [e for e in stack.of_type(deployment, "Microsoft.Network/privateEndpoints") if e["name"].endswith("-acr")]
    if prod:
        assert registry["sku"]["name"] == "Premium"
        assert (retention["status"], retention["days"]) == ("enabled", 30)
        assert props["zoneRedundancy"] == "Enabled" and props["publicNetworkAccess"] == "Disabled"
        [endpoint] = endpoints
        assert endpoint["properties"]["subnet"]["id"].lower().endswith(f"snet-cf-{deployment}-storage")
        [connection] = endpoint["properties"]["privateLinkServiceConnections"]
        assert connection["properties"]["privateLinkServiceId"].lower() == registry["id"].lower()
        assert connection["properties"]["groupIds"] == ["registry"]
        assert stack.find(f"{stack.facts[deployment]['resource_group_id']}/providers/Microsoft.Network/"
                          "privateDnsZones/privatelink.azurecr.io") is not None
    else:
        assert registry["sku"]["name"] == "Standard"
        assert retention["status"] == "disabled"
        assert props["zoneRedundancy"] == "Disabled" and props["publicNetworkAccess"] == "Enabled"
        assert endpoints == []
    subscription = stack.facts[deployment]["subscription_id"]
    defender = stack.resource(f"/subscriptions/{subscription}/providers/Microsoft.Security/pricings/Containers")
    assert defender["properties"]["pricingTier"] == "Standard"
    assert {"name": "ContainerRegistriesVulnerabilityAssessments", "isEnabled": "True"} in [
        {k: e[k] for k in ("name", "isEnabled")} for e in defender["properties"]["extensions"]]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_container_apps_environment_is_internal_in_its_delegated_subnet_and_resolvable(stack: Stack,
                                                                                      deployment: str) -> None:
    """The environment follows the tier (zone redundancy in production), sits behind an internal load balancer in the
    delegated containerapps subnet with the Consumption profile, and its default domain resolves inside the VNet
    (private zone linked to it, ``*`` and ``@`` at the static IP). No workspace key is in its body."""
    facts = stack.facts[deployment]
    [environment] = stack.of_type(deployment, "Microsoft.App/managedEnvironments")
    assert environment["id"].lower() == facts["apps"]["environment_id"].lower()
    props = environment["properties"]
    assert props["zoneRedundant"] is deployment.endswith("-prod-1")
    assert props["vnetConfiguration"]["internal"] is True
    subnet_id = facts["subnets"]["containerapps"]["id"]
    assert props["vnetConfiguration"]["infrastructureSubnetId"].lower() == subnet_id.lower()
    assert [p["workloadProfileType"] for p in props["workloadProfiles"]] == ["Consumption"]
    assert props["appLogsConfiguration"] == {"destination": "azure-monitor"}
    subnet = stack.resource(subnet_id)["properties"]
    assert [d["properties"]["serviceName"] for d in subnet["delegations"]] == ["Microsoft.App/environments"]
    assert "privateEndpoints" not in subnet
    assert ipaddress.ip_address(props["staticIp"]) in ipaddress.ip_network(subnet["addressPrefix"])
    zone_id = f"{facts['resource_group_id']}/providers/Microsoft.Network/privateDnsZones/{props['defaultDomain']}"
    stack.resource(zone_id)
    links = [r["properties"]["virtualNetwork"]["id"].lower() for r in stack.emulator.resources()
             if r["id"].lower().startswith(zone_id.lower() + "/virtualnetworklinks/")]
    assert links == [facts["ids"]["virtual_network"].lower()]
    for record in ("*", "@"):
        assert stack.resource(f"{zone_id}/A/{record}")["properties"]["aRecords"] == [{"ipv4Address": props["staticIp"]}]
    rules = {r["name"]: r["properties"] for r in facts["subnets"]["containerapps"]["nsg_rules"]}
    assert rules["allow-http-https-from-vnet"]["sourceAddressPrefix"] == "VirtualNetwork"
    assert "allow-https-inbound" not in rules, "an internal environment takes no traffic from the internet"


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_edge_follows_the_tier_and_terminates_tls_with_the_vaults_certificate(stack: Stack, deployment: str) -> None:
    """The gateway, its WAF policy and public IP against group_vars; its certificate read from the vault's data plane
    (self-signed for the host name in test, the operators' own in production), issued or imported exactly once."""
    from cryptography import x509

    from tests.integration.operator_certificate import certificate

    edge, facts = tier(deployment)["edge"], stack.facts[deployment]
    host = f"{deployment}.complianceflow.example"
    [gateway] = stack.of_type(deployment, "Microsoft.Network/applicationGateways")
    [policy] = stack.of_type(deployment, "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies")
    [pip] = stack.of_type(deployment, "Microsoft.Network/publicIPAddresses")
    props = gateway["properties"]
    assert props["sku"]["name"] == "WAF_v2" and props["firewallPolicy"]["id"].lower() == policy["id"].lower()
    assert props["autoscaleConfiguration"] == {"minCapacity": edge["min_capacity"], "maxCapacity": edge["max_capacity"]}
    assert sorted(gateway.get("zones") or []) == (["1", "2", "3"] if edge["zone_redundant"] else [])
    assert sorted(pip.get("zones") or []) == (["1", "2", "3"] if edge["zone_redundant"] else [])
    assert pip["sku"]["name"] == "Standard" and pip["properties"]["publicIPAllocationMethod"] == "Static"
    assert props["gatewayIPConfigurations"][0]["properties"]["subnet"]["id"].lower() == \
        facts["subnets"]["appgw"]["id"].lower()
    assert policy["properties"]["policySettings"]["mode"] == edge["waf_mode"]
    assert policy["properties"]["managedRules"]["managedRuleSets"][0]["ruleSetType"] == "OWASP"
    [rate] = policy["properties"]["customRules"]
    assert (rate["ruleType"], rate["rateLimitThreshold"]) == ("RateLimitRule", edge["rate_limit_per_minute"])
    listeners = {item["name"]: item["properties"] for item in props["httpListeners"]}
    assert (listeners["https"]["protocol"], listeners["https"]["hostName"]) == ("Https", host)
    [redirect] = props["redirectConfigurations"]
    assert redirect["properties"]["redirectType"] == "Permanent"
    [environment] = stack.of_type(deployment, "Microsoft.App/managedEnvironments")
    [pool] = props["backendAddressPools"]
    assert pool["properties"]["backendAddresses"] == [{"ipAddress": environment["properties"]["staticIp"]}]
    vault = stack.vault(deployment)
    [ssl] = props["sslCertificates"]
    assert ssl["properties"]["keyVaultSecretId"] == f"{vault.uri}secrets/gateway-tls"
    status, bundle = vault.get("certificates/gateway-tls")
    assert status == 200, bundle
    cert = x509.load_der_x509_certificate(base64.b64decode(bundle["cer"]))
    if edge["certificate"] == "self-signed":
        assert cert.subject.rfc4514_string() == f"CN={host}" and cert.issuer == cert.subject
    else:
        from cryptography.hazmat.primitives.serialization import pkcs12

        given = certificate(host)
        assert cert == pkcs12.load_key_and_certificates(base64.b64decode(given["pfx"]), given["password"].encode())[1]
    # Issued or imported once: the build wrote it, the second run did not (zero writes, checked above). The data
    # plane's paths do not name the vault; the two deployments' tiers use one verb each.
    verb = "create" if edge["certificate"] == "self-signed" else "import"
    # Taken by the vault (a request refused while the runner's grant propagated issues nothing).
    issued = [f"{e['method']} {str(e['path']).split('?')[0]}" for e in stack.requests["create"]
              if is_write(e) and "/certificates/gateway-tls/" in str(e["path"]) and int(e["status"]) < 400]
    assert sorted(issued) == ["POST /certificates/gateway-tls/create", "POST /certificates/gateway-tls/import"]
    assert issued.count(f"POST /certificates/gateway-tls/{verb}") == 1
    # The gateway's identity reads exactly that secret, not the vault.
    [identity_id] = gateway["identity"]["userAssignedIdentities"]
    principal = stack.resource(identity_id)["properties"]["principalId"]
    grants = [r for r in stack.emulator.resources() if str(r.get("type")).lower() == "microsoft.authorization/roleassignments"
              and r["properties"]["principalId"] == principal]
    assert [g["properties"]["scope"].lower() for g in grants] == [f"{facts['ids']['key_vault']}/secrets/gateway-tls".lower()]
    assert all(g["properties"]["roleDefinitionId"].endswith(SECRETS_USER) for g in grants)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_vault_holds_the_keys_azure_reports_now(stack: Stack, deployment: str) -> None:
    """The cache's primary key and every hub's send and listen connection strings, read through ARM's listKeys and
    through the vault's data plane, as the services will."""
    arm = stack.emulator.arm()
    stored = stack.secrets["second"][deployment]
    [cache] = stack.of_type(deployment, "Microsoft.Cache/redis")
    status, keys, _ = arm.call("POST", f"{cache['id']}/listKeys?api-version=2024-11-01")
    assert status == 200, keys
    assert stored["redis-primary-key"] == keys["primaryKey"]
    for hub in stack.of_type(deployment, "Microsoft.EventHub/namespaces/eventhubs"):
        for right in ("send", "listen"):
            status, keys, _ = arm.call("POST", f"{hub['id']}/authorizationRules/{right}/listKeys?api-version=2024-01-01")
            assert status == 200, keys
            assert stored[f"eventhub-{hub['name']}-{right}-connection-string"] == keys["primaryConnectionString"]


# --- monitoring and guardrails ----------------------------------------------------------------------------------

@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_planned_target_has_its_diagnostic_setting(stack: Stack, deployment: str) -> None:
    """No tolerance: every target the plan diagnoses exists (the whole stack ran) and sends what docs/monitoring.md
    lists for its type to the deployment's workspace; PostgreSQL included."""
    workspace = stack.planned_id(deployment, "Microsoft.OperationalInsights/workspaces")
    settings = stack.planned(deployment, "Microsoft.Insights/diagnosticSettings")
    targets = {str(s["id"]).lower().split("/providers/microsoft.insights/")[0]: s for s in settings}
    facts = stack.facts[deployment]
    for must in (facts["ids"]["postgresql_server"], facts["ids"]["key_vault"]):
        assert must.lower() in targets, f"the plan does not diagnose {must}"
    diagnosed_types = set()
    for target_id, setting in targets.items():
        target = stack.find(target_id)
        assert target is not None, f"{target_id}: planned diagnostics target does not exist"
        kind = str(target["type"]).lower()
        diagnosed_types.add(kind)
        found = stack.find(str(setting["id"]))
        assert found is not None, f"{target_id} has no diagnostic setting"
        props = found["properties"]
        assert props["workspaceId"].lower() == workspace.lower(), target_id
        logs = sorted((e.get("categoryGroup") or e.get("category")) for e in props.get("logs") or [] if e["enabled"])
        metrics = sorted(e["category"] for e in props.get("metrics") or [] if e["enabled"])
        assert (logs, metrics) == DIAGNOSTICS[kind], target_id
    assert diagnosed_types == set(DIAGNOSTICS)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_alerts_watch_the_real_resources_with_the_tiers_thresholds(stack: Stack, deployment: str) -> None:
    thresholds = tier(deployment)["monitoring"]["alerts"]
    group = stack.planned_id(deployment, "Microsoft.Insights/actionGroups")
    metric = {a["name"].rsplit(f"{deployment}-", 1)[1]: a for a in stack.planned(deployment, "Microsoft.Insights/metricAlerts")}
    # Only where a health URL is set (westeu-test-1 here): test_availability_test_watches_the_health_url.
    assert ("availability" in metric) is (deployment == "westeu-test-1")
    metric.pop("availability", None)
    expected = {k: v for k, v in METRIC_ALERTS.items() if v[4] is None or thresholds[v[4]] is not None}
    assert set(metric) == set(expected)
    for key, (target_type, signal, aggregation, window, threshold_key) in expected.items():
        found = stack.find(str(metric[key]["id"]))
        assert found is not None, f"{key}: no alert"
        props = found["properties"]
        [scope] = props["scopes"]
        target = stack.find(scope)
        assert target is not None and str(target["type"]).lower() == target_type, f"{key}: watches {scope}"
        assert scope.lower().startswith(stack.facts[deployment]["resource_group_id"].lower() + "/"), key
        [criterion] = props["criteria"]["allOf"]
        assert (criterion["metricName"], criterion["timeAggregation"], criterion["operator"]) == \
            (signal, aggregation, "GreaterThan"), key
        assert criterion["threshold"] == (0 if threshold_key is None else thresholds[threshold_key]), key
        assert props["windowSize"] == window, key
        assert props["enabled"] is True, key
        assert [a["actionGroupId"].lower() for a in props["actions"]] == [group.lower()], key
    logs = {a["name"].rsplit(f"{deployment}-", 1)[1]: a
            for a in stack.planned(deployment, "Microsoft.Insights/scheduledQueryRules")}
    assert set(logs) == set(LOG_ALERTS)
    for key, (threshold_key, window) in LOG_ALERTS.items():
        found = stack.find(str(logs[key]["id"]))
        assert found is not None, key
        [criterion] = found["properties"]["criteria"]["allOf"]
        assert criterion["threshold"] == thresholds[threshold_key], key
        assert found["properties"]["windowSize"] == window, key
        assert [g.lower() for g in found["properties"]["actions"]["actionGroups"]] == [group.lower()]
    [activity] = stack.planned(deployment, "Microsoft.Insights/activityLogAlerts")
    rule = stack.resource(str(activity["id"]))["properties"]
    assert rule["scopes"] == [stack.facts[deployment]["resource_group_id"]] and rule["enabled"] is True
    assert {(c["field"], c["equals"]) for c in rule["condition"]["allOf"]} == {("category", "Administrative"),
                                                                                ("status", "Failed")}
    assert [a["actionGroupId"].lower() for a in rule["actions"]["actionGroups"]] == [group.lower()]
    action_group = stack.resource(group)
    assert sorted(r["emailAddress"] for r in action_group["properties"]["emailReceivers"]) == \
        sorted(host_vars(deployment)["cf_alert_emails"])


def test_availability_test_watches_the_health_url_only_where_one_is_set(stack: Stack) -> None:
    """westeu-test-1 has a health URL: its standard test exists, linked to Application Insights by the hidden-link
    tag, which the converged second run (zero writes) kept; production has no URL, so neither test nor alert."""
    assert stack.planned("westeu-prod-1", "Microsoft.Insights/webtests") == []
    deployment = "westeu-test-1"
    component = stack.planned_id(deployment, "Microsoft.Insights/components")
    test = stack.resource(stack.planned_id(deployment, "Microsoft.Insights/webtests"))
    assert test["kind"] == "standard"
    assert test["tags"][f"hidden-link:{component}"] == "Resource"
    assert test["tags"]["deployment"] == deployment
    assert test["properties"]["Request"]["RequestUrl"] == HEALTH_URL and test["properties"]["Enabled"] is True
    [alert] = [a for a in stack.planned(deployment, "Microsoft.Insights/metricAlerts")
               if a["name"].endswith("-availability")]
    props = stack.resource(str(alert["id"]))["properties"]
    [criterion] = props["criteria"]["allOf"]
    assert [s.lower() for s in props["scopes"]] == [component.lower()]
    assert criterion["metricName"] == "availabilityResults/availabilityPercentage"
    assert criterion["threshold"] == tier(deployment)["monitoring"]["alerts"]["appinsights_availability_percent"]
    assert criterion["dimensions"][0]["values"] == [test["name"]]


def test_each_deployment_mails_cost_anomalies_of_its_subscription_to_its_contacts(stack: Stack) -> None:
    subscription = f"/subscriptions/{stack.emulator.env['AZURE_SUBSCRIPTION_ID']}"
    for deployment in DEPLOYMENTS:
        alert = stack.resource(stack.planned_id(deployment, "Microsoft.CostManagement/scheduledActions"))
        assert alert["kind"] == "InsightAlert"
        props = alert["properties"]
        assert props["viewId"].lower() == \
            f"{subscription}/providers/Microsoft.CostManagement/views/ms:DailyAnomalyByResourceGroup".lower()
        assert sorted(props["notification"]["to"]) == sorted(host_vars(deployment)["cf_alert_emails"])
        assert props["schedule"]["frequency"] == "Daily" and props["status"] == "Enabled"
        # Dates are Azure's after the create (never compared): the converged second run sent no write.
        assert props["schedule"]["startDate"] < props["schedule"]["endDate"]


def test_production_and_test_alert_on_different_thresholds(stack: Stack) -> None:
    """Control for the test above: the tiers really differ, so reading the wrong tier would fail."""
    test, prod = (tier(d)["monitoring"]["alerts"] for d in DEPLOYMENTS)
    assert test["postgresql_failed_connections"] != prod["postgresql_failed_connections"]
    assert test["postgresql_replication_lag_bytes"] is None and prod["postgresql_replication_lag_bytes"] is not None
    for deployment in DEPLOYMENTS:
        [cpu] = [a for a in stack.planned(deployment, "Microsoft.Insights/metricAlerts")
                 if a["name"].endswith("-psql-failed-connections")]
        [criterion] = stack.resource(str(cpu["id"]))["properties"]["criteria"]["allOf"]
        assert criterion["threshold"] == tier(deployment)["monitoring"]["alerts"]["postgresql_failed_connections"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_workspace_application_insights_and_flow_log_follow_the_tier(stack: Stack, deployment: str) -> None:
    monitoring = tier(deployment)["monitoring"]
    workspace = stack.resource(stack.planned_id(deployment, "Microsoft.OperationalInsights/workspaces"))
    component = stack.resource(stack.planned_id(deployment, "Microsoft.Insights/components"))
    assert workspace["properties"]["retentionInDays"] == monitoring["retention_days"]
    assert workspace["properties"]["workspaceCapping"]["dailyQuotaGb"] == monitoring["daily_quota_gb"]
    assert component["properties"]["WorkspaceResourceId"].lower() == workspace["id"].lower()
    if monitoring["sampling_percentage"] is not None:
        assert component["properties"]["SamplingPercentage"] == monitoring["sampling_percentage"]
    flow_log = stack.resource(stack.planned_id(deployment, "Microsoft.Network/networkWatchers/flowLogs"))
    analytics = flow_log["properties"]["flowAnalyticsConfiguration"]["networkWatcherFlowAnalyticsConfiguration"]
    assert analytics["enabled"] is True
    assert analytics["workspaceResourceId"].lower() == workspace["id"].lower()
    assert analytics["workspaceId"] == workspace["properties"]["customerId"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_connection_string_is_in_key_vault(stack: Stack, deployment: str) -> None:
    component = stack.resource(stack.planned_id(deployment, "Microsoft.Insights/components"))
    secret = stack.vault(deployment).secret("appinsights-connection-string")
    assert secret["value"] == component["properties"]["ConnectionString"]
    assert secret.get("contentType") == "text/plain"


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_budget_and_policy_assignments_carry_the_tiers_parameters(stack: Stack, deployment: str) -> None:
    settings = tier(deployment)
    budget = stack.resource(stack.planned_id(deployment, "Microsoft.Consumption/budgets"))
    assert budget["properties"]["amount"] == settings["budget"]["amount"]
    assert budget["properties"]["timeGrain"] == settings["budget"]["time_grain"]
    notifications = budget["properties"]["notifications"].values()
    assert sorted(n["threshold"] for n in notifications) == sorted(settings["budget"]["thresholds"]) == [50, 80, 100]
    assert all(sorted(n["contactEmails"]) == sorted(host_vars(deployment)["cf_alert_emails"]) for n in notifications)
    group = stack.facts[deployment]["resource_group_id"]
    assignments = [r for r in stack.emulator.resources()
                   if r["type"].lower() == "microsoft.authorization/policyassignments"
                   and r["properties"]["scope"].lower() == group.lower()]
    tags = {a["properties"]["parameters"]["tagName"]["value"] for a in assignments
            if "tagName" in a["properties"]["parameters"]}
    assert tags == REQUIRED_TAGS
    assert all(a["properties"]["enforcementMode"] == "Default" for a in assignments)
    premium = [a for a in assignments if "deniedSkus" in a["properties"]["parameters"]]
    if settings["policy"]["deny_premium_skus"]:
        [assignment] = premium
        denied = assignment["properties"]["parameters"]["deniedSkus"]["value"]
        assert "Premium" in denied and "Premium_LRS" in denied
        assert not set(denied) & set(settings["policy"]["allowed_sku_whitelist"])
    else:
        assert premium == []


def test_policies_refuse_premium_skus_in_test_only_and_untagged_resources(stack: Stack) -> None:
    arm = stack.emulator.arm()
    for deployment, refused in (("westeu-test-1", True), ("westeu-prod-1", False)):
        facts = stack.facts[deployment]
        account = (f"{facts['resource_group_id']}/providers/Microsoft.Storage/storageAccounts/"
                   f"stcfpremium{deployment[-6:-2]}")
        group = stack.resource(facts["resource_group_id"])
        body = {"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Premium_LRS"},
                "tags": group["tags"], "properties": {}}
        status, answer, _ = arm.call("PUT", f"{account}?api-version=2023-05-01", body)
        if refused:
            assert status == 403 and answer["error"]["code"] == "RequestDisallowedByPolicy", (status, answer)
        else:
            assert status in (200, 201, 202), (status, answer)
            status, answer, _ = arm.call("DELETE", f"{account}?api-version=2023-05-01")
            # Production's CanNotDelete lock refuses the deletion, as in Azure; destroy removes it with the group.
            assert status == 409 and answer["error"]["code"] == "ScopeLocked", (status, answer)
    nsg = f"{stack.facts['westeu-test-1']['resource_group_id']}/providers/Microsoft.Network/networkSecurityGroups/nsg-x"
    status, answer, _ = arm.call("PUT", f"{nsg}?api-version=2024-05-01", {"location": "westeurope", "properties": {}})
    assert status == 403 and answer["error"]["code"] == "RequestDisallowedByPolicy", (status, answer)


def test_premium_registry_is_refused_by_the_test_tiers_deny_policy(stack: Stack) -> None:
    """ACR joined the premium-SKU deny policy: a Premium registry in the test deployment's group is refused, while the
    deployment's own Standard registry was written by the same policy's scope (the exception is production's)."""
    facts = stack.facts["westeu-test-1"]
    group = stack.resource(facts["resource_group_id"])
    registry = f"{facts['resource_group_id']}/providers/Microsoft.ContainerRegistry/registries/crcfpremiumtest"
    body = {"location": "westeurope", "sku": {"name": "Premium"}, "tags": group["tags"], "properties": {}}
    status, answer, _ = stack.emulator.arm().call("PUT", f"{registry}?api-version=2025-04-01", body)
    assert status == 403 and answer["error"]["code"] == "RequestDisallowedByPolicy", (status, answer)
    [own] = stack.of_type("westeu-test-1", "Microsoft.ContainerRegistry/registries")
    assert own["sku"]["name"] == "Standard"


# --- services: identities, outputs, validation ------------------------------------------------------------------

def outputs_of(stack: Stack, deployment: str) -> dict[str, Any]:
    return dict(json.loads((stack.workdir / "outputs" / f"{deployment}.json").read_text()))


def test_outputs_document_validates_and_holds_no_secret_value(stack: Stack) -> None:
    import jsonschema

    schema = json.loads((REPO / "docs" / "outputs.schema.json").read_text())
    for deployment in DEPLOYMENTS:
        document = outputs_of(stack, deployment)
        jsonschema.validate(document, schema)
        assert json.loads(stack.secrets["second"][deployment]["deployment-outputs"]) == document, \
            "the file and the Key Vault secret deployment-outputs are the same document"
        text = json.dumps(document)
        secrets = {n: v for n, v in stack.secrets["second"][deployment].items() if n != "deployment-outputs"}
        assert leaks(set(secrets.values()) | stack.keys, text) == []
        identities = {r["name"]: r for r in stack.of_type(deployment, "Microsoft.ManagedIdentity/userAssignedIdentities")}
        # The services' identities, and the Application Gateway's (edge role), which the document does not list.
        assert sorted(identities) == sorted([*(f"id-cf-{deployment}-{s}" for s in SERVICES), f"id-cf-{deployment}-appgw"])
        assert f"id-cf-{deployment}-appgw" not in json.dumps(document)
        for service in SERVICES:
            entry = document["services"][service]
            azure = identities[entry["identity"]["name"]]["properties"]
            assert (entry["identity"]["client_id"], entry["identity"]["principal_id"]) == \
                (azure["clientId"], azure["principalId"])
            assert entry["postgresql"]["database"] == stack.facts[deployment]["databases"][service]
            assert set(entry["secrets"]) <= set(secrets)
        server = stack.resource(stack.facts[deployment]["ids"]["postgresql_server"])
        assert document["postgresql"]["connection_string_template"] == (
            f"postgresql://{{user}}:{{password}}@{server['properties']['fullyQualifiedDomainName']}:5432/"
            "{database}?sslmode=require")
        vault = stack.resource(stack.facts[deployment]["ids"]["key_vault"])
        assert document["key_vault"]["uri"] == vault["properties"]["vaultUri"]


def test_service_identity_reads_its_own_password_and_not_anothers(stack: Stack,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """As the user service would at start-up: its managed identity's token, the vault's RBAC per secret."""
    from azure.core.exceptions import HttpResponseError
    from azure.identity import ManagedIdentityCredential
    from azure.keyvault.secrets import SecretClient

    stack.emulator.apply_env()
    monkeypatch.setenv("IDENTITY_ENDPOINT", stack.emulator.env["AZURE_EMULATOR_IDENTITY_ENDPOINT"])
    monkeypatch.setenv("IDENTITY_HEADER", stack.emulator.env["AZURE_EMULATOR_IDENTITY_HEADER"])
    for deployment in DEPLOYMENTS:
        document = outputs_of(stack, deployment)
        user = document["services"]["user"]
        client = SecretClient(document["key_vault"]["uri"],
                              ManagedIdentityCredential(client_id=user["identity"]["client_id"]))
        password = client.get_secret(user["postgresql"]["password_secret"]).value
        assert password == stack.secrets["second"][deployment]["postgresql-user-password"]
        assert client.get_secret(user["redis"]["key_secret"]).value
        for forbidden in (document["services"]["form"]["postgresql"]["password_secret"], "postgresql-admin-password",
                          "jwt-signing-key", "eventhub-review-events-listen-connection-string"):
            with pytest.raises(HttpResponseError) as refused:
                client.get_secret(forbidden)
            assert refused.value.status_code == 403, forbidden


def validate(stack: Stack, label: str, inventories: tuple[str, ...] = DEPLOYMENTS,
             succeed: bool = True) -> dict[str, list[str]]:
    """Run validate.yml; the failed checks per deployment, as ``area: check: target`` (its JSON reports)."""
    reports = stack.workdir / "validate" / label
    reports.mkdir(parents=True)
    run = stack.play(label, "-e", f"validate_report_dir={reports}", playbook="playbooks/validate.yml",
                     inventories=inventories, succeed=succeed)
    assert (run.returncode == 0) == succeed, run.stdout[-6000:]
    failed = {}
    for deployment in inventories:
        report = json.loads((reports / f"{deployment}.json").read_text())
        assert report["counts"]["pass"] > 40, report["counts"]
        # Every extension the database role creates is required (database_extensions, docs/validation.md).
        extension_checks = [c for c in report["checks"] if c["check"] == "required extensions exist"]
        assert extension_checks and all(c["status"] == "fail" or all(e in c["reason"] for e in EXTENSIONS[deployment])
                                        for c in extension_checks), extension_checks
        failed[deployment] = [f"{c['area']}: {c['check']}: {c['target']}" for c in report["checks"]
                              if c["status"] == "fail"]
    return failed


def test_validate_passes_after_site_for_both_deployments(stack: Stack) -> None:
    failed = validate(stack, "validate")
    assert failed == {d: [] for d in DEPLOYMENTS}
    assert stack.write_log["validate"] == [], "validate.yml is read-only"
    for deployment in DEPLOYMENTS:
        assert f"validate: {deployment} passed" in stack.runs["validate"].stdout


def test_validate_names_each_broken_thing_and_site_repairs_them(stack: Stack) -> None:
    """Four things broken behind the collection's back (a secret disabled, a login role's CONNECT revoked, a hub
    deleted, the Redis key regenerated): validate fails naming exactly those four checks; site.yml repairs them;
    validate passes again."""
    import psycopg

    deployment = "westeu-test-1"
    facts = stack.facts[deployment]
    from azure.keyvault.secrets import SecretClient

    vault = stack.resource(facts["ids"]["key_vault"])
    stack.emulator.apply_env()
    client = SecretClient(vault["properties"]["vaultUri"], stack.emulator.credential())
    client.update_secret_properties("jwt-signing-key", enabled=False)
    # Someone writes a password again by hand, with its value and no expiry (as a secret from before expiry existed):
    # no check fails, and the repair gives it an expiry without touching its value.
    form_password = client.get_secret("postgresql-form-password").value
    client.set_secret("postgresql-form-password", form_password, content_type="password",
                      tags=client.get_secret("postgresql-form-password").properties.tags)
    assert client.get_secret("postgresql-form-password").properties.expires_on is None
    arm = stack.emulator.arm()
    endpoint = stack.postgres_endpoint(deployment)
    admin = stack.secrets["second"][deployment]["postgresql-admin-password"]
    with psycopg.connect(host=endpoint["host"], port=endpoint["port"], user="cfadmin", password=admin,
                         dbname="postgres", autocommit=True, connect_timeout=10, **stack.tls()) as conn:
        conn.execute(f'REVOKE CONNECT ON DATABASE "{facts["databases"]["case"]}" FROM svc_case')
    hub = facts["event_hubs"]["case-events"]["id"]
    status, body, _ = arm.call("DELETE", f"{hub}?api-version=2024-01-01")
    assert status in (200, 204), body
    status, body, _ = arm.call("POST", f"{facts['ids']['redis']}/regenerateKey?api-version=2024-11-01",
                               {"keyType": "Primary"})
    assert status == 200, body

    failed = validate(stack, "validate-broken", inventories=(deployment,), succeed=False)
    assert sorted(failed[deployment]) == sorted([
        "keyvault: secret exists, enabled, not expired: jwt-signing-key",
        f"postgresql: service logs in to its database over TLS: svc_case -> {facts['databases']['case']}",
        "eventhubs: hub exists with its partition count: case-events",
        f"redis: PING over TLS with the key from Key Vault: {facts['names']['redis']} "
        f"({stack.redis_endpoint(deployment)['host']}:{stack.redis_endpoint(deployment)['ssl_port']})",
    ]), stack.runs["validate-broken"].stdout[-6000:]

    stack.play("repair", inventories=(deployment,))
    assert validate(stack, "validate-repaired", inventories=(deployment,)) == {deployment: []}
    repaired = client.get_secret("postgresql-form-password")
    assert repaired.value == form_password and repaired.properties.expires_on is not None
    [expiry_write] = [w for w in stack.write_log["repair"] if "/secrets/postgresql-form-password" in w]
    assert expiry_write.startswith("PATCH /secrets/postgresql-form-password/"), \
        "the expiry is set on the current version: no new value"
    stack.read_secrets("repaired")


# --- state-changing paths (last, in this order) ------------------------------------------------------------------

def test_rotation_replaces_exactly_the_named_secret(stack: Stack) -> None:
    # Read right before: the validate repair above re-created a hub, whose connection strings changed with it.
    before = stack.read_secrets("before-rotate")
    expiry_before = {d: {n: stack.vault(d).secret(n)["attributes"].get("exp") for n in ("jwt-signing-key",
                                                                                      "jwt-refresh-signing-key")}
                     for d in DEPLOYMENTS}
    stack.play("rotate", "--tags", "keyvault", "-e", "keyvault_rotate=jwt-signing-key", "--diff", "-vvv")
    after = stack.read_secrets("rotate")
    counters = recap(stack.runs["rotate"].stdout)
    for deployment in DEPLOYMENTS:
        changed = sorted(n for n in before[deployment] if before[deployment][n] != after[deployment][n])
        assert changed == ["jwt-signing-key"]
        assert counters[deployment]["changed"] == 1
    assert [w for w in stack.write_log["rotate"] if "/secrets/" in w and w.startswith("PUT ")] == \
        ["PUT /secrets/jwt-signing-key"] * len(DEPLOYMENTS)
    for deployment in DEPLOYMENTS:
        # The new value gets a new expiry (the rotation period starts again); the secret left alone keeps its own.
        rotated, kept = (stack.vault(deployment).secret(n)["attributes"]["exp"]
                         for n in ("jwt-signing-key", "jwt-refresh-signing-key"))
        assert rotated > expiry_before[deployment]["jwt-signing-key"]
        assert kept == expiry_before[deployment]["jwt-refresh-signing-key"]


def test_rotated_service_password_reaches_postgresql_on_the_next_database_run(stack: Stack) -> None:
    import psycopg

    deployment = "westeu-test-1"
    database = stack.facts[deployment]["databases"]["user"]
    old = stack.secrets["rotate"][deployment]["postgresql-user-password"]
    stack.play("rotate-db", "--tags", "keyvault,database", "-e", "keyvault_rotate=postgresql-user-password", "-vvv",
               inventories=(deployment,))
    new = stack.read_secrets("rotate-db")[deployment]["postgresql-user-password"]
    assert new != old
    endpoint = stack.postgres_endpoint(deployment)
    psycopg.connect(host=endpoint["host"], port=endpoint["port"], user="svc_user", password=new, dbname=database,
                    connect_timeout=10, **stack.tls()).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host=endpoint["host"], port=endpoint["port"], user="svc_user", password=old,
                        dbname=database, connect_timeout=10, **stack.tls()).close()


def test_static_parameter_changed_behind_the_back_is_restored_by_a_restart(stack: Stack) -> None:
    import psycopg

    deployment = "westeu-test-1"
    server_id = stack.facts[deployment]["ids"]["postgresql_server"]
    parameter = f"{server_id}/configurations/shared_preload_libraries"
    planned = next(r for r in stack.plans[deployment] if r["id"].lower() == parameter.lower())
    arm = stack.emulator.arm()
    status, _, _ = arm.call("PUT", f"{parameter}?api-version=2024-08-01",
                            {"properties": {"value": "pg_stat_statements", "source": "user-override"}})
    assert status == 202
    assert arm.call("GET", f"{parameter}?api-version=2024-08-01")[1]["properties"]["isConfigPendingRestart"] is True
    endpoint = stack.postgres_endpoint(deployment)
    admin = stack.secrets["second"][deployment]["postgresql-admin-password"]
    login = {"user": "cfadmin", "password": admin, "dbname": "postgres", "connect_timeout": 10, **stack.tls()}
    with psycopg.connect(host=endpoint["host"], port=endpoint["port"], **login) as conn:
        started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()

    stack.play("restart-db", "--tags", "database", "-vvv", inventories=(deployment,))

    # The role writes the planned value back; it is static, so the run restarts the server once to apply it.
    assert stack.write_log["restart-db"].count(f"POST {server_id}/restart") == 1, stack.write_log["restart-db"]
    properties = arm.call("GET", f"{parameter}?api-version=2024-08-01")[1]["properties"]
    assert (properties["value"], properties["isConfigPendingRestart"]) == \
        (planned["properties"]["value"], False)
    endpoint = stack.postgres_endpoint(deployment)
    with psycopg.connect(host=endpoint["host"], port=endpoint["port"], **login) as conn:
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() != started, "PostgreSQL restarted"


def test_unknown_rotation_name_is_refused_before_any_write(stack: Stack) -> None:
    run = stack.play("rotate-unknown", "--tags", "keyvault", "-e", "keyvault_rotate=no-such-secret",
                     inventories=("westeu-test-1",), succeed=False)
    assert run.returncode != 0
    assert "keyvault_rotate" in run.stdout
    assert stack.write_log["rotate-unknown"] == []


def test_soft_deleted_vault_is_recovered_with_its_secrets(stack: Stack) -> None:
    deployment = "westeu-test-1"  # production's resource group lock forbids the delete, as in Azure
    facts = stack.facts[deployment]
    values = stack.vault(deployment).values()
    arm = stack.emulator.arm()
    status, body, _ = arm.call("DELETE", f"{facts['ids']['key_vault']}?api-version=2023-07-01")
    assert status in (200, 204), body
    deleted = (f"/subscriptions/{facts['subscription_id']}/providers/Microsoft.KeyVault/locations/"
               f"{facts['location']}/deletedVaults/{facts['names']['key_vault']}?api-version=2023-07-01")
    status, body, _ = arm.call("GET", deleted)
    assert status == 200, body

    stack.play("recover", "--tags", "keyvault", "--diff", "-vvv", inventories=(deployment,))
    assert stack.vault(deployment).values() == values
    stack.read_secrets("recover")
    status, _, _ = arm.call("GET", deleted)
    assert status == 404, "the vault was recreated, not recovered"
    stack.play("after-recover", "--tags", "keyvault", inventories=(deployment,))
    assert recap(stack.runs["after-recover"].stdout)[deployment]["changed"] == 0
    assert stack.write_log["after-recover"] == []


def test_a_deployment_built_before_the_apps_role_migrates_in_one_run(stack: Stack) -> None:
    """A deployment as the collection built it before the apps role: the containerapps subnet not delegated, holding
    the Key Vault's private endpoint pe-cf-<deployment>-kv; no environment, no zone. One site.yml run removes the old
    endpoint before it delegates the subnet (Azure refuses the delegation while an endpoint is in it), builds the new
    endpoint in the storage subnet and the environment; the next run writes nothing."""
    deployment = "westeu-test-1"
    facts = stack.facts[deployment]
    arm = stack.emulator.arm()
    network, dns = "api-version=2024-05-01", "api-version=2024-06-01"
    subnet_id = facts["subnets"]["containerapps"]["id"]
    env_id = facts["apps"]["environment_id"]
    domain = stack.resource(env_id)["properties"]["defaultDomain"]
    zone_id = f"{facts['resource_group_id']}/providers/Microsoft.Network/privateDnsZones/{domain}"
    endpoints = f"{facts['resource_group_id']}/providers/Microsoft.Network/privateEndpoints"
    old_endpoint = f"{endpoints}/pe-cf-{deployment}-kv"
    new_endpoint = f"{endpoints}/{facts['names']['key_vault_private_endpoint']}"
    # Back to the old layout, as the API would have it.
    for path in (f"{zone_id}/virtualNetworkLinks/{facts['names']['private_dns_link']}?{dns}", f"{zone_id}?{dns}",
                 f"{env_id}?api-version=2025-07-01", f"{new_endpoint}?{network}"):
        status, body, _ = arm.call("DELETE", path)
        assert status in (200, 202, 204), (path, body)
    subnet = stack.resource(subnet_id)["properties"]
    status, body, _ = arm.call("PUT", f"{subnet_id}?{network}", {"properties": {
        k: v for k, v in subnet.items() if k in ("addressPrefix", "networkSecurityGroup", "serviceEndpoints",
                                                   "privateEndpointNetworkPolicies")}})
    assert status in (200, 201), body
    status, body, _ = arm.call("PUT", f"{old_endpoint}?{network}", {
        "location": facts["location"], "tags": facts["tags"], "properties": {
            "subnet": {"id": subnet_id}, "privateLinkServiceConnections": [{"name": "pe-cf-westeu-test-1-kv",
                                                                             "properties": {
                "privateLinkServiceId": facts["ids"]["key_vault"], "groupIds": ["vault"]}}]}})
    assert status in (200, 201), body

    stack.play("migrate", inventories=(deployment,))
    log = [w.split("?", 1)[0].lower() for w in stack.write_log["migrate"]]
    assert f"delete {old_endpoint}".lower() in log and f"put {subnet_id}".lower() in log, log
    assert log.index(f"delete {old_endpoint}".lower()) < log.index(f"put {subnet_id}".lower())
    assert stack.find(old_endpoint) is None
    storage = facts["subnets"]["storage"]["id"].lower()
    assert stack.resource(new_endpoint)["properties"]["subnet"]["id"].lower() == storage
    environment = stack.resource(env_id)["properties"]
    assert environment["vnetConfiguration"]["infrastructureSubnetId"].lower() == subnet_id.lower()
    stack.play("after-migrate", inventories=(deployment,))
    assert recap(stack.runs["after-migrate"].stdout)[deployment]["changed"] == 0
    assert stack.write_log["after-migrate"] == []


@pytest.mark.parametrize(("label", "args"), [
    ("no confirmation", ()),
    ("wrong confirmation", ("-e", "confirm_destroy=westeu-test-1")),
    ("yes is no confirmation", ("-e", "confirm_destroy=yes")),
    ("check mode without confirmation", ("--check",)),
    ("check mode, confirmed", ("--check", "-e", "confirm_destroy=westeu-prod-1")),
])
def test_production_destroy_without_confirmation_writes_nothing(stack: Stack, label: str, args: tuple[str, ...]) -> None:
    deployment = "westeu-prod-1"
    before = sorted(stack.by_id())
    run = stack.play(f"destroy-prod-{label}", *args, playbook="playbooks/destroy.yml", inventories=(deployment,),
                     succeed=False)
    assert stack.write_log[f"destroy-prod-{label}"] == [], f"{label}: destroy sent writes"
    confirmed = "confirm_destroy=westeu-prod-1" in args
    if confirmed:
        assert run.returncode == 0, run.stdout[-4000:]
    else:
        assert run.returncode != 0, f"{label}: destroy was not refused\n{run.stdout[-4000:]}"
        assert f"confirm_destroy={deployment}" in run.stdout, "the refusal must say how to confirm"
    assert sorted(stack.by_id()) == before, f"{label}: destroy changed what exists"


def test_destroy_removes_both_deployments(stack: Stack) -> None:
    stack.play("destroy", "-e", "confirm_destroy=westeu-prod-1", "-vvv", playbook="playbooks/destroy.yml")
    for deployment in DEPLOYMENTS:
        group = stack.facts[deployment]["resource_group_id"].lower()
        left = sorted(i for i in stack.by_id() if i == group or i.startswith(group + "/"))
        assert left == [], f"destroy left {left}"
        flow_log = stack.planned_id(deployment, "Microsoft.Network/networkWatchers/flowLogs")
        assert stack.find(flow_log) is None
        # Outside the group, at the subscription: the deployment's own cost anomaly alert goes too.
        assert stack.find(stack.planned_id(deployment, "Microsoft.CostManagement/scheduledActions")) is None


def test_no_secret_value_in_any_output(stack: Stack) -> None:
    """Every log of this file (check --diff, build and second run at -vvv, rotation --diff, recovery, destroy) against
    every value any vault held at any point, every key Azure reported and the service principal's secret."""
    # deployment-outputs is the one secret that holds no secret (the outputs document, written to a file and shown
    # by design); test_outputs_document_validates_and_holds_no_secret_value proves it holds no other secret's value.
    values = {v for per_label in stack.secrets.values() for per_deployment in per_label.values()
              for name, v in per_deployment.items() if name != "deployment-outputs"}
    values |= stack.keys
    values.add(stack.emulator.env["AZURE_SECRET"])
    assert len(values) >= len(STORED) * len(DEPLOYMENTS) + 3, "too few secret values to make the scan mean much"
    assert {"create", "second", "rotate", "recover", "destroy"} <= set(stack.logs), sorted(stack.logs)
    found = {label: leaks(values, log) for label, log in stack.logs.items()}
    assert {label: hits for label, hits in found.items() if hits} == {}
