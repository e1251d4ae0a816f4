"""PostgreSQL flexible servers through azure-mgmt-postgresqlflexibleservers: servers, server parameters, databases,
firewall rules, administrators, Azure's rules and errors, ServerIsBusy, the data plane and Microsoft's examples."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.emulator.pytest_plugin import EmulatorProcess
from tests.test_emulator.examples import assert_shape, load_example, rewrite

pytestmark = pytest.mark.emulator
API = "2025-08-01"
DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"


@pytest.fixture(scope="module")
def pg(emulator: Any) -> Any:
    from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient

    return emulator.mgmt_client(PostgreSQLManagementClient)


def _server(tier: str = "Burstable", sku: str = "Standard_B1ms", **props: Any) -> dict[str, Any]:
    return {"location": "westeurope", "sku": {"name": sku, "tier": tier},
            "properties": {"administratorLogin": "cfadmin", "administratorLoginPassword": "Str0ng-Passw0rd!",
                           "version": "16", "storage": {"storageSizeGB": 32}, **props}}


def _create(pg: Any, rg: str, name: str, body: dict[str, Any]) -> Any:
    return pg.servers.begin_create_or_update(rg, name, body, polling_interval=0).result()


def _error(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(HttpResponseError) as excinfo:
        call()
    return excinfo.value.status_code, excinfo.value.error.code


def test_server_lifecycle_and_azure_defaults(pg: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("pg-life-")
    server = _create(pg, rg, name, _server())
    assert server.fully_qualified_domain_name == f"{name}.postgres.database.azure.com"
    assert server.state == "Ready"
    assert server.administrator_login == "cfadmin"
    assert server.storage.tier == "P4" and server.storage.iops == 120
    assert server.high_availability.mode == "Disabled"
    assert server.network.public_network_access == "Enabled"
    assert server.backup.backup_retention_days == 7
    assert server.minor_version
    assert [d.name for d in pg.databases.list_by_server(rg, name)] == ["azure_maintenance", "azure_sys", "postgres"]
    updated = pg.servers.begin_update(rg, name, {"tags": {"tier": "test"},
                                                 "properties": {"storage": {"storageSizeGB": 64}}},
                                      polling_interval=0).result()
    assert updated.tags == {"tier": "test"}
    assert updated.storage.storage_size_gb == 64 and updated.storage.tier == "P6"
    assert updated.administrator_login == "cfadmin", "PATCH keeps what it does not mention"
    assert [s.name for s in pg.servers.list_by_resource_group(rg)] == [name]
    pg.servers.begin_delete(rg, name, polling_interval=0).result()
    assert list(pg.servers.list_by_resource_group(rg)) == []


def test_every_write_is_a_202(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    path = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}/providers/"
            f"Microsoft.DBforPostgreSQL/flexibleServers/{unique('pg-202-')}")
    assert arm.call("PUT", f"{path}?api-version={API}", _server())[0] == 202
    assert arm.call("PUT", f"{path}/databases/app?api-version={API}", {"properties": {}})[0] == 202
    assert arm.call("DELETE", f"{path}/databases/app?api-version={API}")[0] == 202
    assert arm.call("DELETE", f"{path}/databases/app?api-version={API}")[0] == 204


@pytest.mark.parametrize("name", ["ab", "Upper-case", "-leading", "trailing-", "under_score", "x" * 64])
def test_invalid_server_names(pg: Any, rg: str, name: str) -> None:
    assert _error(lambda: _create(pg, rg, name, _server())) == (400, "InvalidParameterValue")


def test_server_names_are_global(emulator: Any, pg: Any, rg: str, unique: Callable[[str], str]) -> None:
    from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    name = unique("pg-glob-")
    _create(pg, rg, name, _server())
    cred = emulator.second_credential()
    sub2 = emulator.env["AZURE_EMULATOR_SUBSCRIPTION_ID_2"]
    emulator.mgmt_client(ResourceManagementClient, sub2, cred).resource_groups.create_or_update(
        "rg-pg-other", {"location": "westeurope"})
    other = emulator.mgmt_client(PostgreSQLManagementClient, sub2, cred)
    assert _error(lambda: _create(other, "rg-pg-other", name, _server())) == (409, "ServerNameAlreadyExists")
    check = pg.name_availability.check_globally({"name": name, "type": DELEGATION})
    assert check.name_available is False


def test_sku_and_high_availability_rules(pg: Any, rg: str, unique: Callable[[str], str]) -> None:
    ha = {"highAvailability": {"mode": "ZoneRedundant"}}
    assert _error(lambda: _create(pg, rg, unique("pg-ha-"), _server(**ha))) == (
        400, "HANotSupportedForBurstableSkuWithMoreInfo")
    assert _error(lambda: _create(pg, rg, unique("pg-sku-"), _server(sku="Standard_D2ds_v5")))[0] == 400
    server = _create(pg, rg, unique("pg-gp-"), _server("GeneralPurpose", "Standard_D2ds_v5", availabilityZone="1",
                                                        **ha))
    assert server.high_availability.state == "Healthy"
    assert server.high_availability.standby_availability_zone == "2"
    name = unique("pg-shrink-")
    _create(pg, rg, name, _server(storage={"storageSizeGB": 128}))
    assert _error(lambda: pg.servers.begin_update(rg, name, {"properties": {"storage": {"storageSizeGB": 64}}},
                                                  polling_interval=0).result())[0] == 400
    assert _error(lambda: _create(pg, rg, unique("pg-size-"), _server(storage={"storageSizeGB": 100})))[0] == 400
    assert _error(lambda: _create(pg, rg, unique("pg-ret-"), _server(backup={"backupRetentionDays": 40})))[0] == 400
    assert _error(lambda: _create(pg, rg, unique("pg-adm-"), {**_server(), "properties": {
        **_server()["properties"], "administratorLogin": "azure_superuser"}}))[0] == 400


@pytest.fixture
def vnet(network_client: Any, emulator: Any, rg: str) -> dict[str, str]:
    """A VNet with a delegated subnet, a plain subnet and a private DNS zone for PostgreSQL."""
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    delegation = [{"name": "pg", "properties": {"serviceName": DELEGATION}}]
    network_client.virtual_networks.begin_create_or_update(rg, "vnet", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.20.0.0/16"]}, "subnets": [
            {"name": "db", "properties": {"addressPrefix": "10.20.1.0/24", "delegations": delegation}},
            {"name": "plain", "properties": {"addressPrefix": "10.20.2.0/24"}}]}}).result()
    dns = emulator.mgmt_client(PrivateDnsManagementClient)
    zone = dns.private_zones.begin_create_or_update(rg, f"{rg}.private.postgres.database.azure.com",
                                                    {"location": "global"}).result()
    bad_zone = dns.private_zones.begin_create_or_update(rg, f"{rg}.example.com", {"location": "global"}).result()
    vnet_id = network_client.virtual_networks.get(rg, "vnet").id
    return {"delegated": f"{vnet_id}/subnets/db", "plain": f"{vnet_id}/subnets/plain", "zone": zone.id,
            "bad_zone": bad_zone.id}


def test_vnet_integration_rules(pg: Any, rg: str, vnet: dict[str, str], unique: Callable[[str], str]) -> None:
    def network(subnet: str | None, zone: str | None) -> dict[str, Any]:
        return _server("GeneralPurpose", "Standard_D2ds_v5", network={
            k: v for k, v in (("delegatedSubnetResourceId", subnet), ("privateDnsZoneArmResourceId", zone)) if v})

    assert _error(lambda: _create(pg, rg, unique("pg-nd-"), network(vnet["plain"], vnet["zone"]))) == (
        400, "SubnetNotDelegated")
    assert _error(lambda: _create(pg, rg, unique("pg-nz-"), network(vnet["delegated"], None))) == (
        400, "PrivateDnsZoneRequired")
    assert _error(lambda: _create(pg, rg, unique("pg-bz-"), network(vnet["delegated"], vnet["bad_zone"]))) == (
        400, "PrivateDnsZoneNameNotValid")
    assert _error(lambda: _create(pg, rg, unique("pg-ns-"), network(vnet["delegated"] + "x", vnet["zone"])))[0] == 400
    name = unique("pg-vnet-")
    server = _create(pg, rg, name, network(vnet["delegated"], vnet["zone"]))
    assert server.network.public_network_access == "Disabled"
    assert server.network.delegated_subnet_resource_id == vnet["delegated"]
    assert _error(lambda: pg.firewall_rules.begin_create_or_update(
        rg, name, "office", {"properties": {"startIpAddress": "1.2.3.4", "endIpAddress": "1.2.3.4"}},
        polling_interval=0).result())[0] == 400


def test_server_parameters(pg: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("pg-conf-")
    _create(pg, rg, name, _server("GeneralPurpose", "Standard_D2ds_v5"))  # PgBouncer: not on Burstable
    listed = {c.name: c for c in pg.configurations.list_by_server(rg, name)}
    for required in ("require_secure_transport", "ssl_min_protocol_version", "azure.extensions",
                     "shared_preload_libraries", "log_min_duration_statement", "pgbouncer.enabled",
                     "pgbouncer.pool_mode", "pgbouncer.default_pool_size"):
        assert listed[required].source == "system-default", required
    assert listed["require_secure_transport"].value == "on"

    def put(param: str, value: str, source: str = "user-override") -> Any:
        return pg.configurations.begin_put(rg, name, param, {"properties": {"value": value, "source": source}},
                                           polling_interval=0).result()

    assert put("require_secure_transport", "OFF").value == "off", "booleans are stored as Azure spells them"
    assert put("azure.extensions", "PGCRYPTO,uuid-ossp").value == "pgcrypto,uuid-ossp"
    assert put("pgbouncer.pool_mode", "session").value == "session"
    assert put("log_min_duration_statement", "250").value == "250"
    preload = put("shared_preload_libraries", "pg_cron,pg_stat_statements,pgaudit")
    assert preload.is_config_pending_restart is True, "a static parameter needs a restart"
    assert put("require_secure_transport", "", "system-default").value == "on"
    assert pg.configurations.get(rg, name, "pgbouncer.pool_mode").value == "session"

    for param, value in (("pgbouncer.default_pool_size", "0"), ("pgbouncer.default_pool_size", "many"),
                         ("ssl_min_protocol_version", "TLSv1.0"), ("azure.extensions", "not_an_extension"),
                         ("pgbouncer.enabled", "maybe")):
        assert _error(lambda p=param, v=value: put(p, v)) == (400, "InvalidParameterValue"), (param, value)
    assert _error(lambda: put("no_such_parameter", "1")) == (400, "ConfigurationNotExists")


@pytest.mark.parametrize(("tier", "sku", "connections"), [
    ("Burstable", "Standard_B1ms", "50"), ("Burstable", "Standard_B2s", "429"),
    ("GeneralPurpose", "Standard_D2ds_v5", "859"), ("GeneralPurpose", "Standard_D4ds_v5", "1718"),
    ("MemoryOptimized", "Standard_E4ds_v5", "3437"), ("GeneralPurpose", "Standard_D16ds_v5", "5000"),
])
def test_parameter_defaults_follow_azures_reference(pg: Any, rg: str, unique: Callable[[str], str], tier: str,
                                                   sku: str, connections: str) -> None:
    name = unique("pg-defaults-")
    _create(pg, rg, name, _server(tier, sku))
    max_connections = pg.configurations.get(rg, name, "max_connections")
    # Azure computes max_connections from the SKU's memory when it provisions the server.
    assert (max_connections.value, max_connections.default_value, max_connections.source) == \
        (connections, connections, "system-default")
    assert max_connections.is_dynamic_config is False
    # Connection logging is always on and read-only on Azure.
    for param in ("log_connections", "log_disconnections"):
        config = pg.configurations.get(rg, name, param)
        assert (config.value, config.is_read_only) == ("on", True)
        assert _error(lambda p=param: pg.configurations.begin_put(
            rg, name, p, {"properties": {"value": "off", "source": "user-override"}},
            polling_interval=0).result()) == (400, "ReadOnlyConfiguration")
    pg.servers.begin_delete(rg, name, polling_interval=0).result()


def test_databases_firewall_rules_and_administrators(pg: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("pg-kids-")
    _create(pg, rg, name, _server())
    db = pg.databases.begin_create(rg, name, "app_db", {"properties": {}}, polling_interval=0).result()
    assert (db.charset, db.collation) == ("UTF8", "en_US.utf8")
    assert _error(lambda: pg.databases.begin_create(rg, name, "1-bad", {"properties": {}},
                                                    polling_interval=0).result())[0] == 400
    assert _error(lambda: pg.databases.begin_create(rg, name, "app_db", {"properties": {"charset": "LATIN1"}},
                                                    polling_interval=0).result())[0] == 400
    pg.databases.begin_delete(rg, name, "app_db", polling_interval=0).result()
    assert "app_db" not in [d.name for d in pg.databases.list_by_server(rg, name)]

    rule = pg.firewall_rules.begin_create_or_update(
        rg, name, "office", {"properties": {"startIpAddress": "10.0.0.1", "endIpAddress": "10.0.0.9"}},
        polling_interval=0).result()
    assert rule.end_ip_address == "10.0.0.9"
    for start, end in (("10.0.0.9", "10.0.0.1"), ("10.0.0.300", "10.0.0.301"), ("::1", "::1")):
        assert _error(lambda s=start, e=end: pg.firewall_rules.begin_create_or_update(
            rg, name, "bad", {"properties": {"startIpAddress": s, "endIpAddress": e}},
            polling_interval=0).result())[0] == 400

    admin = {"properties": {"principalType": "ServicePrincipal", "principalName": "cf-deployer"}}
    object_id = "2b4b1b9e-0c8f-4a5e-9d3c-6f1e2a3b4c5d"
    assert _error(lambda: pg.administrators_microsoft_entra.begin_create_or_update(
        rg, name, object_id, admin, polling_interval=0).result())[0] == 400
    pg.servers.begin_update(rg, name, {"properties": {"authConfig": {"activeDirectoryAuth": "Enabled"}}},
                            polling_interval=0).result()
    created = pg.administrators_microsoft_entra.begin_create_or_update(rg, name, object_id, admin,
                                                                       polling_interval=0).result()
    assert created.principal_name == "cf-deployer"
    assert [a.name for a in pg.administrators_microsoft_entra.list_by_server(rg, name)] == [object_id]


# --- a separate emulator with realistic latency: ServerIsBusy and long-running operations ----------------------------
@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    tmp = tmp_path_factory.mktemp("emu-pg-slow")
    # PostgreSQL create is 6 minutes in Azure: x0.005 -> 1.8 s.
    proc = EmulatorProcess(tmp, ["--latency", "realistic", "--time-scale", "0.005"], postgres="off").start()
    yield proc
    proc.stop()


def test_server_is_busy_while_an_operation_runs(slow_emulator: EmulatorProcess) -> None:
    from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    slow_emulator.mgmt_client(ResourceManagementClient).resource_groups.create_or_update(
        "rg", {"location": "westeurope"})
    arm = slow_emulator.arm()
    path = (f"/subscriptions/{slow_emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/rg/providers/"
            "Microsoft.DBforPostgreSQL/flexibleServers/pg-busy")
    status, _, headers = arm.call("PUT", f"{path}?api-version={API}", _server())
    assert status == 202
    assert "Azure-AsyncOperation" in headers and "Location" in headers and headers["Retry-After"] == "1"
    assert arm.call("GET", f"{path}?api-version={API}")[1]["properties"]["provisioningState"] == "Creating"
    # No client-side retries here: the 409 itself is what Azure answers while the create runs.
    impatient = slow_emulator.mgmt_client(PostgreSQLManagementClient, retry_total=0)
    with pytest.raises(HttpResponseError) as excinfo:
        impatient.configurations.begin_put("rg", "pg-busy", "require_secure_transport",
                                           {"properties": {"value": "off", "source": "user-override"}}).result()
    assert (excinfo.value.status_code, excinfo.value.error.code) == (409, "ServerIsBusy")
    pg = slow_emulator.mgmt_client(PostgreSQLManagementClient)
    # A client that waits for the server, then writes, succeeds: the SDK polls the operation to its end.
    server = pg.servers.begin_create_or_update("rg", "pg-busy", _server(), polling_interval=0.2).result()
    assert server.state == "Ready"
    config = pg.configurations.begin_put("rg", "pg-busy", "require_secure_transport",
                                         {"properties": {"value": "off", "source": "user-override"}},
                                         polling_interval=0.2).result()
    assert config.value == "off"


# --- the PostgreSQL data plane --------------------------------------------------------------------------------------
def _initdb_available() -> bool:
    import glob
    import shutil

    return shutil.which("initdb") is not None or bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@pytest.mark.skipif(not _initdb_available(), reason="PostgreSQL server binaries (initdb) are not installed")
def test_data_plane_follows_servers_and_databases(tmp_path: Path) -> None:
    import psycopg
    from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    emu = EmulatorProcess(tmp_path, postgres="auto").start()
    try:
        emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
        pg = emu.mgmt_client(PostgreSQLManagementClient)
        server = _create(pg, "rg", "pg-plane", _server())
        pg.databases.begin_create("rg", "pg-plane", "appdb", {"properties": {}}, polling_interval=0).result()
        backed = emu.dataplanes()["postgres"]["servers"]
        entry = next(v for k, v in backed.items() if k.lower() == server.id.lower())
        dsn = {"host": entry["host"], "port": entry["port"], "user": "cfadmin", "password": "Str0ng-Passw0rd!",
               "sslmode": "verify-full", "sslrootcert": emu.env["SSL_CERT_FILE"]}
        with psycopg.connect(dbname="appdb", **dsn) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("cfadmin",)

        # azure.extensions (a dynamic parameter) is the administrator's allow-list for CREATE EXTENSION.
        def allow(value: str) -> None:
            pg.configurations.begin_put("rg", "pg-plane", "azure.extensions",
                                        {"properties": {"value": value, "source": "user-override"}},
                                        polling_interval=0).result()

        refused = 'extension "pgcrypto" is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL'
        allow("pg_trgm,uuid-ossp")
        with psycopg.connect(dbname="appdb", autocommit=True, **dsn) as conn:
            conn.execute("CREATE EXTENSION pg_trgm")
            with pytest.raises(psycopg.errors.FeatureNotSupported, match=refused):
                conn.execute("CREATE EXTENSION pgcrypto")
        allow("pg_trgm,uuid-ossp,pgcrypto")
        with psycopg.connect(dbname="appdb", autocommit=True, **dsn) as conn:
            conn.execute("CREATE EXTENSION pgcrypto")
        allow("pg_trgm")
        pg.databases.begin_create("rg", "pg-plane", "laterdb", {"properties": {}}, polling_interval=0).result()
        with psycopg.connect(dbname="laterdb", autocommit=True, **dsn) as conn:
            conn.execute("CREATE EXTENSION pg_trgm")
            with pytest.raises(psycopg.errors.FeatureNotSupported, match=refused):
                conn.execute("CREATE EXTENSION pgcrypto")
        # An emulator restart keeps the rule, also for a cluster whose plane state lacks the list (an older
        # emulator's): the emulator hands ARM's dynamic parameters to the plane again when it starts.
        port = emu.port
        emu.stop()
        plane_state = tmp_path / "postgres" / "servers.json"
        state = json.loads(plane_state.read_text())
        for record in state["servers"].values():
            record["parameters"].pop("azure.extensions")
        plane_state.write_text(json.dumps(state))
        emu.start(port=port)
        entry = next(v for k, v in emu.dataplanes()["postgres"]["servers"].items() if k.lower() == server.id.lower())
        dsn["port"] = entry["port"]
        with psycopg.connect(dbname="laterdb", autocommit=True, **dsn) as conn:
            assert conn.execute("SHOW azure.extensions").fetchone() == ("pg_trgm",)
            with pytest.raises(psycopg.errors.FeatureNotSupported, match=refused):
                conn.execute("CREATE EXTENSION pgcrypto")
            conn.execute("DROP EXTENSION pg_trgm")
        pg.databases.begin_delete("rg", "pg-plane", "appdb", polling_interval=0).result()
        with psycopg.connect(dbname="postgres", **dsn) as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'appdb'").fetchone() is None
        pg.servers.begin_delete("rg", "pg-plane", polling_interval=0).result()
        assert not emu.dataplanes()["postgres"]["servers"]
    finally:
        emu.stop()


@pytest.mark.skipif(not _initdb_available(), reason="PostgreSQL server binaries (initdb) are not installed")
def test_tls_require_secure_transport_and_restart_as_azure_serves_them(tmp_path: Path) -> None:
    import psycopg
    from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    emu = EmulatorProcess(tmp_path, postgres="auto", strict_schema=True).start()
    try:
        emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
        pg = emu.mgmt_client(PostgreSQLManagementClient)
        server = _create(pg, "rg", "pg-tls", _server("GeneralPurpose", "Standard_D2ds_v5"))
        plane = emu.dataplanes()["postgres"]["servers"]
        entry = next(v for k, v in plane.items() if k.lower() == server.id.lower())
        assert entry["fqdn"] == server.fully_qualified_domain_name
        login = {"host": server.fully_qualified_domain_name, "hostaddr": entry["host"], "port": entry["port"],
                 "user": "cfadmin", "password": "Str0ng-Passw0rd!", "dbname": "postgres", "connect_timeout": 10}

        def session(sslmode: str, **extra: Any) -> Any:
            return psycopg.connect(sslmode=sslmode, **{**login, **extra})

        # The emulator's CA (env.sh: SSL_CERT_FILE) verifies the server's certificate for its Azure host name.
        with session("verify-full", sslrootcert=emu.env["SSL_CERT_FILE"]) as conn:
            assert conn.info.pgconn.ssl_in_use
        with session("verify-full", sslrootcert=emu.env["SSL_CERT_FILE"], host="127.0.0.1", hostaddr=None) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        # require_secure_transport is on by default: plain connections are refused by the server ...
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            session("disable")

        def put(param: str, value: str) -> Any:
            return pg.configurations.begin_put("rg", "pg-tls", param,
                                               {"properties": {"value": value, "source": "user-override"}},
                                               polling_interval=0).result()

        # ... and accepted once a user turns it off (a dynamic parameter: at once, no restart).
        assert put("require_secure_transport", "off").is_config_pending_restart is False
        session("disable").close()
        put("require_secure_transport", "on")
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            session("disable")

        # A static parameter waits for the restart; the restart action restarts PostgreSQL and applies it.
        verified = {"sslrootcert": emu.env["SSL_CERT_FILE"]}
        with session("verify-full", **verified) as conn:
            started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
            before = conn.execute("SHOW max_connections").fetchone()
        assert put("max_connections", "75").is_config_pending_restart is True
        assert put("max_connections", "75").is_config_pending_restart is True, "still pending when written again"
        with session("verify-full", **verified) as conn:
            assert conn.execute("SHOW max_connections").fetchone() == before != ("75",)
        requests_before = len(emu.requests())
        pg.servers.begin_restart("rg", "pg-tls", polling_interval=0).result()
        restart = next(r for r in emu.requests()[requests_before:] if r["method"] == "POST")
        assert restart["path"].endswith("/pg-tls/restart") and restart["status"] == 202
        config = pg.configurations.get("rg", "pg-tls", "max_connections")
        assert (config.value, config.is_config_pending_restart) == ("75", False)
        entry = next(v for k, v in emu.dataplanes()["postgres"]["servers"].items() if k.lower() == server.id.lower())
        with session("verify-full", port=entry["port"], **verified) as conn:
            assert conn.execute("SHOW max_connections").fetchone() == ("75",)
            assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() != started
        # Restart with failover needs high availability, which this server does not have.
        with pytest.raises(HttpResponseError) as excinfo:
            pg.servers.begin_restart("rg", "pg-tls", {"restartWithFailover": True, "failoverMode": "PlannedFailover"},
                                     polling_interval=0).result()
        assert excinfo.value.status_code == 400
    finally:
        emu.stop()


# --- Microsoft's examples -------------------------------------------------------------------------------------------
def test_microsoft_server_create_examples(emulator: Any, pg: Any, rg: str, vnet: dict[str, str],
                                          unique: Callable[[str], str]) -> None:
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    for example in ("Microsoft.DBforPostgreSQL/2025-08-01/ServerCreate.json",
                    "Microsoft.DBforPostgreSQL/2025-08-01/"
                    "ServersCreateInMicrosoftOwnedVirtualNetworkWithZoneRedundantHighAvailability.json"):
        data = load_example(example)
        request = data["parameters"]["parameters"]
        network = request["properties"]["network"]
        if "delegatedSubnetResourceId" in network:
            # The example's request names a zone without ".azure.com" while its own response shows the full
            # suffix Azure requires; point both IDs at this test's VNet and zone.
            network["delegatedSubnetResourceId"] = vnet["delegated"]
            network["privateDnsZoneArmResourceId"] = vnet["zone"]
        request = rewrite(request, {"westus": "westeurope", "eastus": "westeurope"})
        name = unique("pg-ex-")
        path = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{name}"
        status, _, _ = emulator.arm().call("PUT", f"{path}?api-version={API}", request)
        assert str(status) in data["responses"], example
        _, body, _ = emulator.arm().call("GET", f"{path}?api-version={API}")
        documented = load_example("Microsoft.DBforPostgreSQL/2025-08-01/ServerCreate.json")["responses"]["200"]["body"]
        assert_shape(body, documented, request, also=frozenset({
            "fullyQualifiedDomainName", "state", "minorVersion", "storage", "iops", "tier", "highAvailability",
            "standbyAvailabilityZone", "network", "publicNetworkAccess", "authConfig", "dataEncryption",
            "maintenanceWindow", "replicationRole", "earliestRestoreDate"}))
        assert body["properties"]["highAvailability"]["state"] == "Healthy"


def test_microsoft_configuration_and_database_examples(emulator: Any, pg: Any, rg: str,
                                                       unique: Callable[[str], str]) -> None:
    name = unique("pg-exc-")
    server = _create(pg, rg, name, _server())
    arm = emulator.arm()
    for example in ("ConfigurationUpdateUsingPut.json", "ConfigurationsUpdateUsingPut.json"):
        data = load_example(f"Microsoft.DBforPostgreSQL/2025-08-01/{example}")
        path = f"{server.id}/configurations/{data['parameters']['configurationName']}?api-version={API}"
        status, _, _ = arm.call("PUT", path, data["parameters"]["parameters"])
        assert str(status) in data["responses"]
        _, body, _ = arm.call("GET", path)
        documented = load_example("Microsoft.DBforPostgreSQL/2025-08-01/ConfigurationUpdateUsingPut.json")
        assert_shape(body, documented["responses"]["200"]["body"], data["parameters"]["parameters"],
                     also=frozenset({"properties", "value", "source", "defaultValue", "dataType", "allowedValues",
                                     "isDynamicConfig", "isReadOnly", "isConfigPendingRestart", "documentationLink",
                                     "description"}))
        assert body["properties"]["value"] == "on"
    for example in ("DatabaseCreate.json", "DatabasesCreate.json"):
        data = load_example(f"Microsoft.DBforPostgreSQL/2025-08-01/{example}")
        path = f"{server.id}/databases/{unique('exampledb_')}?api-version={API}"
        status, _, _ = arm.call("PUT", path, data["parameters"]["parameters"])
        assert str(status) in data["responses"]
        _, body, _ = arm.call("GET", path)
        documented = load_example("Microsoft.DBforPostgreSQL/2025-08-01/DatabaseCreate.json")["responses"]["200"]
        assert_shape(body, documented["body"], data["parameters"]["parameters"])
        assert (body["properties"]["charset"], body["properties"]["collation"]) == ("utf8", "en_US.utf8")
