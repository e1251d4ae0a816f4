"""PostgreSQL data plane: real clusters behind emulated flexible servers, checked by logging in for real."""

from __future__ import annotations

import pathlib
import shutil
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from tests.emulator.dataplanes.postgres import PostgresPlane, PostgresPlaneError, find_bin_dir

try:
    find_bin_dir()
    HAVE_POSTGRES = True
except PostgresPlaneError:
    HAVE_POSTGRES = False

pytestmark = pytest.mark.skipif(not HAVE_POSTGRES, reason="PostgreSQL server binaries (initdb, pg_ctl) not installed")

SERVER = (
    "/subscriptions/c0ffee00-0000-4000-8000-000000000001/resourceGroups/rg-db"
    "/providers/Microsoft.DBforPostgreSQL/flexibleServers/{}"
)
ADMIN = "cfadmin"
PASSWORD = "Adm1n-Passw0rd!"
# Every plane of this module issues its certificates from one CA, as the emulator's planes share its state CA.
CA: dict[str, pathlib.Path] = {}


@pytest.fixture(scope="module", autouse=True)
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    CA["dir"] = tmp_path_factory.mktemp("pg-ca")
    return CA["dir"]


def new_plane(base: pathlib.Path, dsn: str | None = None) -> PostgresPlane:
    return PostgresPlane(base, dsn=dsn, ca_dir=CA["dir"])


def connect(
    info: dict[str, object], user: str = ADMIN, password: str = PASSWORD, dbname: str = "postgres"
) -> psycopg.Connection[tuple[Any, ...]]:
    """Log in as Azure's documentation tells clients to: TLS, the server certificate verified against the CA."""
    return psycopg.connect(
        host=str(info["host"]),
        port=int(str(info["port"])),
        user=user,
        password=password,
        dbname=dbname,
        autocommit=True,
        connect_timeout=10,
        sslmode="verify-full",
        sslrootcert=str(CA["dir"] / "ca.pem"),
    )


def cleanup(plane: PostgresPlane) -> None:
    """Delete every server and the cluster directory, wherever the plane had to put it."""
    for server_id in list(plane.describe()):
        plane.delete_server(server_id)
    if plane.data_root is not None:
        shutil.rmtree(plane.data_root, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresPlane]:
    plane = new_plane(tmp_path_factory.mktemp("pgplane"))
    yield plane
    cleanup(plane)


@pytest.fixture(scope="module")
def server(shared_plane: PostgresPlane) -> dict[str, object]:
    info = shared_plane.ensure_server(SERVER.format("psql-shared"), ADMIN, PASSWORD)
    # The allow-list the deployment sets (azure.extensions): Azure's default allows none.
    shared_plane.set_parameter(SERVER.format("psql-shared"), "azure.extensions", "pg_stat_statements,pg_trgm,uuid-ossp")
    return info


@pytest.fixture
def plane(tmp_path: pathlib.Path) -> Iterator[PostgresPlane]:
    plane = new_plane(tmp_path / "pg")
    yield plane
    cleanup(plane)


def test_admin_is_a_real_login_but_not_superuser(server: dict[str, object]) -> None:
    assert server["host"] == "127.0.0.1"
    with connect(server) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, "
            "pg_has_role(current_user, 'azure_pg_admin', 'MEMBER') FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, True, True, True)
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("CREATE ROLE wannabe SUPERUSER")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("ALTER SYSTEM SET work_mem = '64MB'")


def test_admin_creates_roles_grants_databases_and_extensions(server: dict[str, object]) -> None:
    with connect(server) as conn:
        conn.execute("CREATE ROLE app_rw LOGIN PASSWORD 'app-pass-1'")
        conn.execute("CREATE DATABASE appdata")
        for extension in ('"uuid-ossp"', "pg_trgm", "pg_stat_statements"):
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
        installed = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
        assert {"uuid-ossp", "pg_trgm", "pg_stat_statements"} <= installed
        # pg_stat_statements only answers when preloaded, as on Azure.
        assert conn.execute("SELECT count(*) >= 0 FROM pg_stat_statements").fetchone() == (True,)
        assert len(str(conn.execute("SELECT uuid_generate_v4()").fetchone()[0])) == 36
    with connect(server, dbname="appdata") as conn:
        conn.execute("CREATE TABLE orders (id int)")
        conn.execute("GRANT SELECT ON orders TO app_rw")
    with connect(server, user="app_rw", password="app-pass-1", dbname="appdata") as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO orders VALUES (1)")


def test_wrong_password_and_unknown_user_are_refused(server: dict[str, object]) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(server, password="not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(server, user="nobody_here")


def test_database_created_through_arm_exists_and_admin_can_use_it(
    shared_plane: PostgresPlane, server: dict[str, object]
) -> None:
    server_id = SERVER.format("psql-shared")
    shared_plane.create_database(server_id, "inventory")
    shared_plane.create_database(server_id.upper(), "inventory")  # idempotent, ARM ids are case-insensitive
    with connect(server) as conn:
        owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'inventory'").fetchone()
        assert owner == ("azure_pg_admin",)
    with connect(server, dbname="inventory") as conn:
        conn.execute("CREATE EXTENSION pg_trgm")
        conn.execute("CREATE SCHEMA reporting")
    shared_plane.drop_database(server_id, "inventory")
    with connect(server) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'inventory'").fetchone() is None


def test_password_change_and_none_keeps_it(shared_plane: PostgresPlane, server: dict[str, object]) -> None:
    server_id = SERVER.format("psql-shared")
    shared_plane.set_admin_password(server_id, "N3w-Password!")
    with pytest.raises(psycopg.OperationalError):
        connect(server)
    again = shared_plane.ensure_server(server_id, ADMIN, None)
    assert again == server
    connect(server, password="N3w-Password!").close()
    shared_plane.ensure_server(server_id, ADMIN, PASSWORD)
    connect(server).close()
    with pytest.raises(ValueError, match="cannot be changed"):
        shared_plane.ensure_server(server_id, "otheradmin", PASSWORD)


def test_servers_are_isolated(plane: PostgresPlane) -> None:
    one = plane.ensure_server(SERVER.format("psql-one"), ADMIN, PASSWORD)
    two = plane.ensure_server(SERVER.format("psql-two"), "otheradmin", "Other-Passw0rd!")
    assert one["port"] != two["port"]
    with connect(one) as conn:
        conn.execute("CREATE ROLE only_on_one")
    with connect(two, user="otheradmin", password="Other-Passw0rd!") as conn:
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'only_on_one'").fetchone() is None
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ADMIN,)).fetchone() is None
    described = plane.describe()
    assert described[SERVER.format("psql-one")]["port"] == one["port"]
    assert described[SERVER.format("psql-two")]["admin_login"] == "otheradmin"


def test_delete_server_stops_and_removes_it(plane: PostgresPlane) -> None:
    server_id = SERVER.format("psql-gone")
    info = plane.ensure_server(server_id, ADMIN, PASSWORD)
    data_dir = pathlib.Path(plane.describe()[server_id]["data_dir"])
    assert data_dir.is_dir()
    plane.delete_server(server_id)
    assert server_id not in plane.describe()
    assert not data_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        connect(info)
    plane.delete_server(server_id)  # deleting twice is harmless


def test_restart_all_after_stop_all_keeps_data(tmp_path: pathlib.Path) -> None:
    base = tmp_path / "pg"
    first = new_plane(base)
    try:
        server_id = SERVER.format("psql-restart")
        info = first.ensure_server(server_id, ADMIN, PASSWORD)
        first.create_database(server_id, "kept")
        with connect(info) as conn:
            conn.execute("CREATE ROLE survivor")
        first.stop_all()
        assert first.describe()[server_id]["running"] is False
        with pytest.raises(psycopg.OperationalError):
            connect(info)
        # A new plane on the same directory: what a restarted emulator does.
        second = new_plane(base)
        second.restart_all()
        restarted = second.describe()[server_id]
        assert restarted["running"] is True
        with connect(restarted, dbname="kept") as conn:
            assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'survivor'").fetchone() == (1,)
    finally:
        cleanup(new_plane(base))


def test_restart_all_recovers_clusters_left_running_by_a_crash(tmp_path: pathlib.Path) -> None:
    base = tmp_path / "pg"
    try:
        crashed = new_plane(base)
        server_id = SERVER.format("psql-crash")
        crashed.ensure_server(server_id, ADMIN, PASSWORD)
        data_dir = pathlib.Path(crashed.describe()[server_id]["data_dir"])
        old_pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        del crashed  # the emulator died without stop_all: the postmaster is still running
        plane = new_plane(base)
        plane.restart_all()
        new_pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        assert new_pid != old_pid
        assert not pathlib.Path(f"/proc/{old_pid}").exists() or _is_zombie(old_pid)
        with connect(plane.describe()[server_id]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        cleanup(new_plane(base))


def _is_zombie(pid: int) -> bool:
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_restart_all_brings_back_the_others_when_one_cluster_is_lost(tmp_path: pathlib.Path) -> None:
    base = tmp_path / "pg"
    plane = new_plane(base)
    try:
        lost, kept = SERVER.format("psql-lost"), SERVER.format("psql-kept")
        plane.ensure_server(lost, ADMIN, PASSWORD)
        plane.ensure_server(kept, ADMIN, PASSWORD)
        plane.stop_all()
        shutil.rmtree(pathlib.Path(plane.describe()[lost]["data_dir"]))
        with pytest.raises(PostgresPlaneError, match="psql-lost"):
            plane.restart_all()
        with connect(plane.describe()[kept]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        cleanup(plane)


def test_shared_mode_backs_servers_with_an_existing_postgresql(plane: PostgresPlane, tmp_path: pathlib.Path) -> None:
    # The "existing server" is a managed cluster, reached as its CREATEROLE/CREATEDB administrator.
    host = plane.ensure_server(SERVER.format("psql-host"), ADMIN, PASSWORD)
    plane.set_parameter(SERVER.format("psql-host"), "azure.extensions", "pg_trgm")
    dsn = f"host={host['host']} port={host['port']} user={ADMIN} password={PASSWORD} dbname=postgres"
    shared = new_plane(tmp_path / "shared", dsn=dsn)
    server_id = SERVER.format("psql-on-shared")
    info = shared.ensure_server(server_id, "tenantadmin", "Tenant-Passw0rd!")
    assert info == {"host": host["host"], "port": host["port"]}
    shared.create_database(server_id, "tenantdb")
    with connect(info, user="tenantadmin", password="Tenant-Passw0rd!", dbname="tenantdb") as conn:
        conn.execute("CREATE EXTENSION pg_trgm")
    described = shared.describe()[server_id]
    assert described["admin_login"] == "tenantadmin"
    assert PASSWORD not in described["dsn"]
    shared.delete_server(server_id)
    with connect(host) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = 'tenantdb'").fetchone() is None
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'tenantadmin'").fetchone() is None


def test_clusters_of_a_vanished_plane_directory_are_collected(tmp_path: pathlib.Path) -> None:
    gone_base = tmp_path / "session-that-ended" / "pg"
    orphaned = new_plane(gone_base)
    info = orphaned.ensure_server(SERVER.format("psql-orphan"), ADMIN, PASSWORD)
    root = orphaned.data_root
    assert root is not None
    if root.is_relative_to(gone_base):
        cleanup(orphaned)
        pytest.skip("clusters live inside the plane directory here: nothing can be orphaned")
    shutil.rmtree(gone_base.parent)  # the session's temporary directory goes, its cluster keeps running
    connect(info).close()
    plane = new_plane(tmp_path / "next-session")
    try:
        plane.restart_all()
        assert not root.exists()
        with pytest.raises(psycopg.OperationalError):
            connect(info)
    finally:
        cleanup(plane)


def plain(info: dict[str, object], user: str = ADMIN, password: str = PASSWORD) -> psycopg.Connection[Any]:
    return psycopg.connect(host=str(info["host"]), port=int(str(info["port"])), user=user, password=password,
                           dbname="postgres", autocommit=True, connect_timeout=10, sslmode="disable")


def test_tls_is_required_and_the_certificate_names_the_azure_host(server: dict[str, object]) -> None:
    with connect(server) as conn:
        assert conn.info.pgconn.ssl_in_use
        assert conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() in {
            (True, "TLSv1.2"), (True, "TLSv1.3")}
    # require_secure_transport is on by default, as in Azure: PostgreSQL itself refuses the plain connection.
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        plain(server)
    # A client that resolves the Azure host name to the local address verifies the certificate against it ...
    fqdn = "psql-shared.postgres.database.azure.com"
    ca = str(CA["dir"] / "ca.pem")
    with psycopg.connect(host=fqdn, hostaddr=str(server["host"]), port=int(str(server["port"])), user=ADMIN,
                         password=PASSWORD, dbname="postgres", sslmode="verify-full", sslrootcert=ca) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    # ... and a certificate for another server's name, or from another CA, does not pass.
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(host="psql-other.postgres.database.azure.com", hostaddr=str(server["host"]),
                        port=int(str(server["port"])), user=ADMIN, password=PASSWORD, dbname="postgres",
                        sslmode="verify-full", sslrootcert=ca)


def test_certificate_from_another_ca_is_refused(server: dict[str, object], tmp_path: pathlib.Path) -> None:
    from tests.emulator.tls import ensure_certificates

    other_ca = ensure_certificates(tmp_path)[0]
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(host=str(server["host"]), port=int(str(server["port"])), user=ADMIN, password=PASSWORD,
                        dbname="postgres", sslmode="verify-full", sslrootcert=str(other_ca))


def test_require_secure_transport_off_lets_plain_connections_in(plane: PostgresPlane) -> None:
    server_id = SERVER.format("psql-plain")
    info = plane.ensure_server(server_id, ADMIN, PASSWORD)
    plane.set_parameter(server_id, "require_secure_transport", "off")
    with plain(info) as conn:
        assert not conn.info.pgconn.ssl_in_use
    connect(info).close()  # TLS stays available
    assert plane.describe()[server_id]["require_secure_transport"] is False
    plane.set_parameter(server_id, "require_secure_transport", "on")
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        plain(info)


def test_dynamic_parameters_apply_at_once_static_ones_at_restart(plane: PostgresPlane) -> None:
    server_id = SERVER.format("psql-params")
    info = plane.ensure_server(server_id, ADMIN, PASSWORD)
    with connect(info) as conn:
        started = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
        default_connections = conn.execute("SHOW max_connections").fetchone()
    plane.set_parameter(server_id, "work_mem", "8192")
    with connect(info) as conn:
        assert conn.execute("SHOW work_mem").fetchone() == ("8MB",)
    plane.set_parameter(server_id, "work_mem", "4096", is_default=True)
    with connect(info) as conn:
        assert conn.execute("SHOW work_mem").fetchone() == ("4MB",)  # PostgreSQL's own default again

    plane.restart_server(server_id, {"max_connections": ("60", False)})
    info = plane.describe()[server_id]
    with connect(info) as conn:
        assert conn.execute("SHOW max_connections").fetchone() == ("60",) != default_connections
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone() != started
    # A parameter the local cluster cannot run (no pg_cron here) is not applied, and does not break the start.
    plane.restart_server(server_id, {"cron.database_name": ("postgres", False)})
    with connect(plane.describe()[server_id]) as conn:
        assert conn.execute("SHOW max_connections").fetchone() == ("60",)


NOT_ALLOW_LISTED = 'extension "{}" is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL'


def test_extension_allow_list_is_enforced_for_the_administrator(plane: PostgresPlane) -> None:
    server_id = SERVER.format("psql-allow")
    info = plane.ensure_server(server_id, ADMIN, PASSWORD)
    with connect(info) as conn:
        # Azure's default azure.extensions is empty: not even a trusted extension.
        with pytest.raises(errors.FeatureNotSupported, match=NOT_ALLOW_LISTED.format("pg_trgm")) as refused:
            conn.execute("CREATE EXTENSION pg_trgm")
        assert refused.value.diag.message_hint == (
            'to see the full allow list of extensions, please run: "show azure.extensions;"')
    plane.set_parameter(server_id, "azure.extensions", "PG_TRGM, uuid-ossp")  # dynamic: no restart
    with connect(info) as conn:
        assert conn.execute("SHOW azure.extensions").fetchone() == ("PG_TRGM, uuid-ossp",)
        conn.execute("CREATE EXTENSION pg_trgm")
        conn.execute('CREATE EXTENSION "uuid-ossp"')
        with pytest.raises(errors.FeatureNotSupported, match=NOT_ALLOW_LISTED.format("pgcrypto")):
            conn.execute("CREATE EXTENSION pgcrypto")
        # Not trusted by PostgreSQL itself, yet refused for the allow-list's reason, as on Azure.
        with pytest.raises(errors.FeatureNotSupported, match=NOT_ALLOW_LISTED.format("pg_buffercache")):
            conn.execute("CREATE EXTENSION pg_buffercache")
        # The session's own value of the placeholder setting does not count, only the server parameter.
        conn.execute("SET azure.extensions = 'pgcrypto'")
        with pytest.raises(errors.FeatureNotSupported, match=NOT_ALLOW_LISTED.format("pgcrypto")):
            conn.execute("CREATE EXTENSION pgcrypto")
        installed = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
        assert installed == {"plpgsql", "pg_trgm", "uuid-ossp"}
        # Databases made later by the administrator, from either template, carry the same rule.
        conn.execute("CREATE DATABASE made_by_admin")
        conn.execute("CREATE DATABASE made_from_template0 TEMPLATE template0")
    for dbname in ("made_by_admin", "made_from_template0"):
        with connect(info, dbname=dbname) as conn:
            with pytest.raises(errors.FeatureNotSupported, match=NOT_ALLOW_LISTED.format("pgcrypto")):
                conn.execute("CREATE EXTENSION pgcrypto")
            conn.execute("CREATE EXTENSION pg_trgm")
    plane.set_parameter(server_id, "azure.extensions", "pg_trgm,pgcrypto,pg_buffercache")
    with connect(info, dbname="made_by_admin") as conn:
        conn.execute("CREATE EXTENSION pgcrypto")
        # Listed, an extension Azure supports is the administrator's to create, trusted locally or not.
        conn.execute("CREATE EXTENSION pg_buffercache")
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_buffercache'").fetchone() == (1,)
    plane.set_parameter(server_id, "azure.extensions", "", is_default=True)
    # DROP EXTENSION of an extension the list no longer names is refused as well, as Azure documents.
    with connect(info, dbname="made_by_admin") as conn, pytest.raises(
            errors.FeatureNotSupported, match=NOT_ALLOW_LISTED.format("pgcrypto")):
        conn.execute("DROP EXTENSION pgcrypto")
    # Azure's own superuser is not restricted.
    with psycopg.connect(host=str(info["host"]), port=int(str(info["port"])), user="azuresu", dbname="postgres",
                         password=plane._record(server_id)["superuser_password"], autocommit=True,
                         sslmode="require") as conn:
        conn.execute("CREATE EXTENSION pgcrypto")


def test_a_cluster_made_before_the_allow_list_gets_it_at_its_next_start(tmp_path: pathlib.Path) -> None:
    from tests.emulator.providers.postgresql import replay_parameters

    base = tmp_path / "pg"
    server_id = SERVER.format("psql-older")
    try:
        older = new_plane(base)
        older.ensure_server(server_id, ADMIN, PASSWORD)
        older.create_database(server_id, "appdb")
        record = older._record(server_id)
        # What an emulator without the allow-list left behind: no triggers, no recorded list, no guard version.
        for dbname in ("postgres", "template1", "appdb"):
            with older._connect(record, dbname) as conn:
                conn.execute("DROP SCHEMA azure_emulator CASCADE")
        del record["extension_guard"]
        older._save_state()
        older.stop_all()
        # ... and its overlay, which trusted pg_stat_statements only.
        assert older.data_root is not None
        (older.data_root / "install" / ".complete").write_text("", encoding="utf-8")
        next((older.data_root / "install").rglob("pg_buffercache.control")).unlink()
        # The restarted emulator: the plane starts its clusters, then ARM hands over the parameters it holds.
        plane = new_plane(base)
        plane.restart_all()
        config_id = f"{server_id}/configurations/azure.extensions"
        replay_parameters([{"id": config_id, "type": "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
                            "body": {"name": "azure.extensions", "properties": {
                                "value": "pg_trgm,pg_buffercache", "source": "user-override",
                                "isDynamicConfig": True}}}], plane)
        info = plane.describe()[server_id]
        with connect(info, dbname="appdb") as conn:
            conn.execute("CREATE EXTENSION pg_trgm")
            conn.execute("CREATE EXTENSION pg_buffercache")
            with pytest.raises(errors.FeatureNotSupported, match=NOT_ALLOW_LISTED.format("pgcrypto")):
                conn.execute("CREATE EXTENSION pgcrypto")
    finally:
        cleanup(new_plane(base))
