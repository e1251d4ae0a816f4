"""Key Vault and PostgreSQL of westeu-test-1 and westeu-prod-1, built by the roles against the emulator.

One emulator (with its real PostgreSQL data plane) for the module; the two deployments run in the same
ansible-playbook invocations (one inventory host each, in parallel with forks), as users run them. The
scenario runs once: --check on an empty emulator, a create run and a second run (both at -vvv, logs kept);
the tests then assert on the emulator's state, its request log, the vault's secrets and logins to the real
PostgreSQL. The rotation and soft-delete tests change state and re-converge, so they come last.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulator.pytest_plugin import EmulatorProcess
from tests.integration.request_log import writes

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PLAYBOOK = HERE / "converge.yml"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
DEPLOYMENTS = ("westeu-test-1", "westeu-prod-1")
GENERATED = ["postgresql-admin-password"] + [f"postgresql-{s}-password" for s in (
    "user", "declaration", "form", "ruleengine", "review", "case", "notification", "analytics")] + [
    "jwt-signing-key", "jwt-refresh-signing-key"]

# No skip without PostgreSQL: `make test` installs it (make system-deps), and a missing data plane must fail here.
pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def recap(stdout: str) -> dict[str, dict[str, int]]:
    hosts = {}
    for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", stdout, flags=re.MULTILINE):
        hosts[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
    return hosts


class Vault:
    """An independent reader of the emulator's vaults: plain REST with Key Vault's challenge, not our module."""

    def __init__(self, emulator: EmulatorProcess, vault_uri: str) -> None:
        self.uri = vault_uri if vault_uri.endswith("/") else vault_uri + "/"
        self.credential = emulator.credential()
        self.verify = emulator.env["REQUESTS_CA_BUNDLE"]
        self.token = ""

    def get(self, path: str) -> tuple[int, Any]:
        url = f"{self.uri}{path}" + ("" if "api-version=" in path else
                                     ("&" if "?" in path else "?") + "api-version=7.4")
        for _ in range(2):
            response = requests.get(url, headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
                                    verify=self.verify, timeout=30)
            if response.status_code == 401 and not self.token:
                resource = re.search(r'resource="([^"]+)"', response.headers.get("WWW-Authenticate", ""))
                assert resource, response.headers
                self.token = self.credential.get_token(resource.group(1).rstrip("/") + "/.default").token
                continue
            return response.status_code, response.json() if response.content else None
        raise AssertionError("the vault kept refusing the token")

    def values(self) -> dict[str, str]:
        names: list[str] = []
        path: str | None = "secrets"
        while path:
            status, body = self.get(path)
            assert status == 200, body
            names.extend(item["id"].rstrip("/").rsplit("/", 1)[-1] for item in body["value"])
            link = body.get("nextLink")
            path = link[len(self.uri):] if link else None
        result = {}
        for name in names:
            status, body = self.get(f"secrets/{name}")
            assert status == 200, body
            result[name] = body["value"]
        return result

    def secret(self, name: str) -> dict[str, Any]:
        status, body = self.get(f"secrets/{name}")
        assert status == 200, body
        return dict(body)


@dataclass
class Stack:
    emulator: EmulatorProcess
    workdir: Path
    deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    write_log: dict[str, list[str]] = field(default_factory=dict)
    secrets: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    resources_after_check: list[dict[str, Any]] = field(default_factory=list)

    def play(self, label: str, *args: str, inventories: tuple[str, ...] = DEPLOYMENTS,
             verbosity: str = "") -> subprocess.CompletedProcess[str]:
        command = [ANSIBLE_PLAYBOOK, str(PLAYBOOK)]
        for name in inventories:
            command += ["-i", str(REPO / "inventories" / name)]
        command += list(args) + ([verbosity] if verbosity else [])
        env = {**os.environ, **self.emulator.env, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
               "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
        mark = len(self.emulator.requests())
        completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1500,
                                   check=False)
        self.runs[label] = completed
        self.logs[label] = completed.stdout + completed.stderr
        (self.workdir / f"{label}.log").write_text(self.logs[label])
        self.write_log[label] = writes(self.emulator.requests()[mark:])
        assert completed.returncode == 0, f"{label} failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-3000:]}"
        return completed

    def resource(self, resource_id: str) -> dict[str, Any]:
        for item in self.emulator.resources():
            if item["id"].lower() == resource_id.lower():
                return item
        raise AssertionError(f"{resource_id} is not in the emulator")

    def vault(self, deployment: str) -> Vault:
        vault = self.resource(self.deployments[deployment]["ids"]["key_vault"])
        return Vault(self.emulator, vault["properties"]["vaultUri"])

    def postgres_endpoint(self, deployment: str) -> dict[str, Any]:
        servers = self.emulator.dataplanes()["postgres"]["servers"]
        wanted = self.deployments[deployment]["ids"]["postgresql_server"].lower()
        return next(v for k, v in servers.items() if k.lower() == wanted)


def deployment_facts(stack: Stack) -> None:
    """The deployment fact of each deployment, as preflight computes it (offline, no emulator call)."""
    out = stack.workdir / "facts"
    out.mkdir(exist_ok=True)
    playbook = stack.workdir / "facts.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "  roles: [complianceflow.azure_infra.preflight]\n  tasks:\n"
        "    - ansible.builtin.copy:\n        content: '{{ deployment | to_json }}'\n"
        f"        dest: {out}/{{{{ inventory_hostname }}}}.json\n")
    (stack.workdir / "group_vars").symlink_to(REPO / "group_vars")
    command = [ANSIBLE_PLAYBOOK, str(playbook)]
    for name in DEPLOYMENTS:
        command += ["-i", str(REPO / "inventories" / name)]
    env = {**os.environ, **stack.emulator.env, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    for name in DEPLOYMENTS:
        stack.deployments[name] = json.loads((out / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("emulator-kvdb")
    emulator = EmulatorProcess(state, postgres="auto").start()
    try:
        built = Stack(emulator, tmp_path_factory.mktemp("runs-kvdb"))
        deployment_facts(built)
        built.play("check", "--check", "--diff")
        built.resources_after_check = emulator.resources()
        built.play("create", verbosity="-vvv")
        built.secrets["create"] = {d: built.vault(d).values() for d in DEPLOYMENTS}
        built.play("second", verbosity="-vvv")
        built.secrets["second"] = {d: built.vault(d).values() for d in DEPLOYMENTS}
        yield built
    finally:
        emulator.stop()


# --- check mode, create, idempotence -------------------------------------------------------------------------

def test_check_mode_creates_nothing_and_reports_changes(stack: Stack) -> None:
    assert stack.write_log["check"] == []
    assert stack.resources_after_check == []
    for deployment in DEPLOYMENTS:
        assert recap(stack.runs["check"].stdout)[deployment]["changed"] > 0
    assert "Ensure the Key Vault" in stack.logs["check"]


def test_second_run_changes_nothing_and_sends_no_write(stack: Stack) -> None:
    counters = recap(stack.runs["second"].stdout)
    assert set(counters) == set(DEPLOYMENTS)
    for deployment in DEPLOYMENTS:
        assert counters[deployment]["changed"] == 0, stack.logs["second"][-4000:]
        assert counters[deployment]["failed"] == 0
    assert stack.write_log["second"] == []
    # Control: the log does show data-plane writes, so their absence above means something.
    secret_puts = [w for w in stack.write_log["create"] if w.startswith("PUT ") and "/secrets/" in w]
    assert len(secret_puts) >= len(GENERATED) * len(DEPLOYMENTS)


def test_first_run_created_vault_server_databases_and_endpoint(stack: Stack) -> None:
    for deployment in DEPLOYMENTS:
        facts = stack.deployments[deployment]
        vault = stack.resource(facts["ids"]["key_vault"])["properties"]
        assert vault["enableRbacAuthorization"] is True
        assert vault["softDeleteRetentionInDays"] == 90
        acls = vault["networkAcls"]
        assert acls["defaultAction"] == "Deny" and acls["bypass"] == "AzureServices"
        assert [r["id"].lower() for r in acls["virtualNetworkRules"]] == [facts["subnets"]["containerapps"]["id"].lower()]
        endpoint_id = (f"{facts['resource_group_id']}/providers/Microsoft.Network/privateEndpoints/"
                       f"{facts['names']['key_vault_private_endpoint']}")
        endpoint = stack.resource(endpoint_id)["properties"]
        assert endpoint["subnet"]["id"].lower() == facts["subnets"]["containerapps"]["id"].lower()
        group = stack.resource(f"{endpoint_id}/privateDnsZoneGroups/default")["properties"]
        assert [c["properties"]["privateDnsZoneId"].lower() for c in group["privateDnsZoneConfigs"]] == \
            [facts["ids"]["private_dns_zones"]["privatelink.vaultcore.azure.net"].lower()]
        server = stack.resource(facts["ids"]["postgresql_server"])
        network = server["properties"]["network"]
        assert network["delegatedSubnetResourceId"].lower() == facts["subnets"]["db"]["id"].lower()
        assert network["publicNetworkAccess"] == "Disabled"
        assert server["properties"]["version"] == "16"
        for service, database in facts["databases"].items():
            stack.resource(f"{facts['ids']['postgresql_server']}/databases/{database}")
            assert database == f"complianceflow_{service}_{deployment.replace('-', '_')}"
        for name, value in {"require_secure_transport": "on", "ssl_min_protocol_version": "TLSv1.2",
                            "log_min_duration_statement": "1000"}.items():
            config = stack.resource(f"{facts['ids']['postgresql_server']}/configurations/{name}")
            assert config["properties"]["value"].lower() == value.lower()
        extensions = stack.resource(f"{facts['ids']['postgresql_server']}/configurations/azure.extensions")
        assert {"pg_stat_statements", "pg_trgm", "uuid-ossp"} <= \
            {e.strip().lower() for e in extensions["properties"]["value"].split(",")}


def test_runner_holds_secrets_officer_on_the_vault(stack: Stack) -> None:
    for deployment in DEPLOYMENTS:
        vault_id = stack.deployments[deployment]["ids"]["key_vault"].lower()
        grants = [r for r in stack.emulator.resources()
                  if r["type"].lower() == "microsoft.authorization/roleassignments"
                  and r["id"].lower().startswith(vault_id + "/")]
        assert [g["properties"]["roleDefinitionId"].rsplit("/", 1)[-1] for g in grants] == \
            ["b86a8fe4-44ce-4948-aee5-eccb2c155cd7"]


# --- tiers ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("deployment", "expected"), [
    ("westeu-test-1", {"sku": ("Standard_B1ms", "Burstable"), "ha": "Disabled", "retention": 7, "geo": "Disabled",
                       "grow": "Disabled", "purge_protection": False, "pgbouncer": False}),
    ("westeu-prod-1", {"sku": ("Standard_D4ds_v5", "GeneralPurpose"), "ha": "ZoneRedundant", "retention": 30,
                       "geo": "Enabled", "grow": "Enabled", "purge_protection": True, "pgbouncer": True}),
])
def test_tier_differences_in_azure_state(stack: Stack, deployment: str, expected: dict[str, Any]) -> None:
    facts = stack.deployments[deployment]
    server = stack.resource(facts["ids"]["postgresql_server"])
    assert (server["sku"]["name"], server["sku"]["tier"]) == expected["sku"]
    assert server["properties"]["highAvailability"]["mode"] == expected["ha"]
    assert server["properties"]["backup"]["backupRetentionDays"] == expected["retention"]
    assert server["properties"]["backup"]["geoRedundantBackup"] == expected["geo"]
    assert server["properties"]["storage"]["autoGrow"] == expected["grow"]
    pgbouncer = stack.resource(f"{facts['ids']['postgresql_server']}/configurations/pgbouncer.enabled")
    # Azure offers built-in PgBouncer only on General Purpose and Memory Optimized (see roles/database/README.md).
    assert (pgbouncer["properties"]["value"].lower() == "true") is expected["pgbouncer"]
    if expected["pgbouncer"]:
        pool = stack.resource(f"{facts['ids']['postgresql_server']}/configurations/pgbouncer.default_pool_size")
        assert pool["properties"]["value"] == str(facts["tier"]["postgresql"]["pgbouncer_pool_size"])
    vault = stack.resource(facts["ids"]["key_vault"])["properties"]
    assert bool(vault.get("enablePurgeProtection")) is expected["purge_protection"]


# --- secrets -------------------------------------------------------------------------------------------------

def test_generated_secrets_exist_with_content_type_and_tags(stack: Stack) -> None:
    for deployment in DEPLOYMENTS:
        values = stack.secrets["create"][deployment]
        assert sorted(values) == sorted(GENERATED)
        vault = stack.vault(deployment)
        for name, value in values.items():
            assert len(value) >= 32
            secret = vault.secret(name)
            assert secret["contentType"] == ("application/octet-stream; encoding=base64" if name.startswith("jwt-")
                                             else "password")
            assert secret["tags"]["deployment"] == deployment
        assert len(set(values.values())) == len(values), "every generated secret must be different"


def test_secrets_keep_their_values_across_runs(stack: Stack) -> None:
    assert stack.secrets["second"] == stack.secrets["create"]


def test_no_secret_value_in_any_log(stack: Stack) -> None:
    values = [v for per_deployment in stack.secrets.values() for secrets in per_deployment.values()
              for v in secrets.values()]
    assert values
    for label, log in stack.logs.items():
        leaked = [v[:4] + "..." for v in values if v in log]
        assert not leaked, f"secret values in the {label} log: {leaked}"


# --- inside PostgreSQL ---------------------------------------------------------------------------------------

def test_each_service_role_reaches_only_its_own_database(stack: Stack) -> None:
    import psycopg

    for deployment in DEPLOYMENTS:
        endpoint = stack.postgres_endpoint(deployment)
        databases = stack.deployments[deployment]["databases"]
        secrets = stack.secrets["second"][deployment]
        services = list(databases)
        for service in services:
            password = secrets[f"postgresql-{service}-password"]
            role = f"svc_{service}"
            with psycopg.connect(host=endpoint["host"], port=endpoint["port"], user=role, password=password,
                                 dbname=databases[service], connect_timeout=10) as conn:
                owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                                     "WHERE datname = current_database()").fetchone()
                assert owner == (role,)
                extensions = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
                assert {"pg_stat_statements", "pg_trgm", "uuid-ossp"} <= extensions
                conn.execute("CREATE TABLE IF NOT EXISTS probe (id uuid DEFAULT uuid_generate_v4())")
            for other in (databases[s] for s in services if s != service):
                with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
                    psycopg.connect(host=endpoint["host"], port=endpoint["port"], user=role, password=password,
                                    dbname=other, connect_timeout=10).close()
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(host=endpoint["host"], port=endpoint["port"], user=role,
                                password=password + "x", dbname=databases[service], connect_timeout=10).close()


# --- state-changing scenarios (last) --------------------------------------------------------------------------

def test_rotation_replaces_exactly_the_named_secret(stack: Stack) -> None:
    before = {d: stack.vault(d).values() for d in DEPLOYMENTS}
    stack.play("rotate", "--tags", "keyvault", "-e", "keyvault_rotate=jwt-signing-key", verbosity="-vvv")
    after = {d: stack.vault(d).values() for d in DEPLOYMENTS}
    for deployment in DEPLOYMENTS:
        changed = sorted(n for n in before[deployment] if before[deployment][n] != after[deployment][n])
        assert changed == ["jwt-signing-key"]
        assert recap(stack.runs["rotate"].stdout)[deployment]["changed"] == 1
    new_values = [after[d]["jwt-signing-key"] for d in DEPLOYMENTS]
    assert not [v for v in new_values if v in stack.logs["rotate"]]
    stack.secrets["rotated"] = after


def test_rotated_service_password_reaches_postgresql_on_the_next_database_run(stack: Stack) -> None:
    import psycopg

    deployment = "westeu-test-1"
    database = stack.deployments[deployment]["databases"]["user"]
    old = stack.vault(deployment).values()["postgresql-user-password"]
    stack.play("rotate-db", "--tags", "keyvault,database", "-e", "keyvault_rotate=postgresql-user-password",
               inventories=(deployment,))
    new = stack.vault(deployment).values()["postgresql-user-password"]
    assert new != old
    endpoint = stack.postgres_endpoint(deployment)
    psycopg.connect(host=endpoint["host"], port=endpoint["port"], user="svc_user", password=new, dbname=database,
                    connect_timeout=10).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(host=endpoint["host"], port=endpoint["port"], user="svc_user", password=old,
                        dbname=database, connect_timeout=10).close()
    assert new not in stack.logs["rotate-db"]


def test_unknown_rotation_name_is_refused_before_any_call(stack: Stack) -> None:
    mark = len(stack.emulator.requests())
    with pytest.raises(AssertionError, match="is not a secret this role generates"):
        stack.play("rotate-unknown", "--tags", "keyvault", "-e", "keyvault_rotate=no-such-secret",
                   inventories=("westeu-test-1",))
    assert writes(stack.emulator.requests()[mark:]) == []


def test_soft_deleted_vault_is_recovered_with_its_secrets(stack: Stack) -> None:
    deployment = "westeu-test-1"  # production's resource group lock forbids the delete, as in Azure
    facts = stack.deployments[deployment]
    values = stack.vault(deployment).values()
    arm = stack.emulator.arm()
    status, body, _ = arm.call("DELETE", f"{facts['ids']['key_vault']}?api-version=2023-07-01")
    assert status in (200, 204), body
    deleted = (f"/subscriptions/{facts['subscription_id']}/providers/Microsoft.KeyVault/locations/"
               f"{facts['location']}/deletedVaults/{facts['names']['key_vault']}?api-version=2023-07-01")
    status, body, _ = arm.call("GET", deleted)
    assert status == 200, body

    stack.play("recover", "--tags", "keyvault", inventories=(deployment,), verbosity="-v")
    assert "recovered: true" in stack.logs["recover"]
    assert stack.vault(deployment).values() == values
    status, _, _ = arm.call("GET", deleted)
    assert status == 404
    stack.play("after-recover", "--tags", "keyvault", inventories=(deployment,))
    assert recap(stack.runs["after-recover"].stdout)[deployment]["changed"] == 0
    assert stack.write_log["after-recover"] == []
