"""Microsoft.DBforPostgreSQL flexible servers: servers, configurations (server parameters), databases,
firewall rules, Microsoft Entra administrators.

Written from the PostgreSQL flexible server REST spec (Azure/azure-rest-api-specs, DBforPostgreSQL 2025-08-01 and
its examples), the server-parameter and networking documentation, and errors Azure is known to answer.

Modelled, as Azure does it:
- Every write (server PUT/PATCH, configurations, databases, firewall rules, administrators) is a long-running
  operation answering 202 with ``Azure-AsyncOperation`` and ``Location`` (the only code the SDK accepts);
  DELETE answers 202 (204 when absent).
- Server names are global DNS names (``<name>.postgres.database.azure.com``): 3-63 lower-case letters, digits and
  hyphens, not starting or ending with a hyphen.
- A server accepts one operation at a time: a write while another operation runs on the server or below it is
  refused with 409 ``ServerIsBusy``.
- No high availability on the Burstable tier (``HANotSupportedForBurstableSkuWithMoreInfo``). VNet integration
  needs an existing subnet delegated to ``Microsoft.DBforPostgreSQL/flexibleServers`` and an existing private
  DNS zone whose name ends with ``postgres.database.azure.com``; such a server has no public network access.
- Server parameters: a realistic catalogue with Azure's data types, allowed values and defaults as Azure's server
  parameter reference lists them for PostgreSQL 16 (MicrosoftDocs azure-docs, includes
  ``server-parameters-table-16-*``): e.g. ``log_connections``/``log_disconnections`` are read-only ``on``;
  ``max_connections`` defaults to what Azure computes from the SKU's memory at provisioning (the "maximum
  connections" table of the flexible server limits page: 2 GiB 50, 4 GiB 429, 8 GiB 859, 16 GiB 1718,
  32 GiB 3437, 48 GiB and more 5000); unknown names are refused
  (``ConfigurationNotExists``), values outside the allowed values too (``InvalidParameterValue``). Parameters
  that need a restart report ``isConfigPendingRestart``. Listing shows every parameter (defaults included).
- New servers have the databases ``azure_maintenance``, ``azure_sys`` and ``postgres``.
- With the PostgreSQL data plane on, a server PUT/PATCH calls ``ensure_server`` (administrator login and
  password), a database PUT/DELETE calls ``create_database``/``drop_database`` and a server DELETE calls
  ``delete_server``.

- PgBouncer parameters (``pgbouncer.*``) do not exist on Burstable servers (``ConfigurationNotExists``).
- ``POST .../restart`` (Servers_Restart: 202 with ``Azure-AsyncOperation`` and ``Location``, ServerIsBusy while
  another operation runs) restarts the server: with the data plane on, the PostgreSQL cluster is stopped and
  started for real with the pending static parameters; every ``isConfigPendingRestart`` is cleared. A dynamic
  parameter write is handed to the data plane at once (``require_secure_transport`` decides whether plain
  connections are accepted; ``azure.extensions``, default empty, is the allow-list the plane enforces on the
  administrator's CREATE/DROP EXTENSION). When the emulator starts, ``replay_parameters`` hands every dynamic
  parameter ARM holds to the plane again (the plane skips unchanged ones).

Known gaps: restore/replica create modes, start/stop actions, restart with failover, backups, private endpoints, virtual
endpoints and per-version differences of the parameter catalogue are not modelled; the parameter catalogue is a
subset of Azure's (about 30 of several hundred parameters).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from ..framework import (
    ActionResult,
    ArmError,
    Ctx,
    Lro,
    NameRule,
    OpStyle,
    Resource,
    ResourceType,
    WriteRequest,
    fill_defaults,
    id_equal,
)

NS = "Microsoft.DBforPostgreSQL"
SERVERS = f"{NS}/flexibleServers"
DELEGATION_SERVICE = "Microsoft.DBforPostgreSQL/flexibleServers"
DNS_SUFFIX = "postgres.database.azure.com"
# Every write of this provider: 202 + Azure-AsyncOperation + Location; DELETE 202, or 204 when absent.
PG_WRITE = OpStyle(Lro.BOTH, done=202, pending=202, created_done=202, created_pending=202)
PG_DELETE = OpStyle(Lro.BOTH, done=202, pending=202, missing=204)
PENDING = {"create": "Creating", "update": "Updating", "delete": "Dropping"}

TIERS = {"Burstable": "Standard_B", "GeneralPurpose": "Standard_D", "MemoryOptimized": "Standard_E"}
VERSIONS = {"12": "22", "13": "18", "14": "15", "15": "10", "16": "6", "17": "2", "18": "0"}
# Premium SSD sizes Azure offers and the performance tier / IOPS each one gets by default.
STORAGE = {32: ("P4", 120), 64: ("P6", 240), 128: ("P10", 500), 256: ("P15", 1100), 512: ("P20", 2300),
           1024: ("P30", 5000), 2048: ("P40", 7500), 4096: ("P50", 7500), 8192: ("P60", 16000),
           16384: ("P70", 18000), 32767: ("P80", 20000)}
SYSTEM_DATABASES = ("azure_maintenance", "azure_sys", "postgres")
RESERVED_LOGINS = {"azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public",
                   "azuresu", "postgres"}

# The extensions Azure supports (azure.extensions' allowed values; also what the data plane lets the
# administrator create once allow-listed).
AZURE_EXTENSIONS = (
    "address_standardizer,address_standardizer_data_us,amcheck,azure_ai,azure_storage,bloom,btree_gin,btree_gist,"
    "citext,cube,dblink,dict_int,dict_xsyn,earthdistance,fuzzystrmatch,hll,hstore,hypopg,intagg,intarray,isn,lo,"
    "login_hook,ltree,oracle_fdw,orafce,pageinspect,pg_buffercache,pg_cron,pg_diskann,pg_freespacemap,"
    "pg_hint_plan,pg_partman,pg_prewarm,pg_repack,pg_squeeze,pg_stat_statements,pg_trgm,pg_visibility,pgaudit,"
    "pgcrypto,pglogical,pgrouting,pgrowlocks,pgstattuple,plpgsql,plv8,postgis,postgis_raster,postgis_sfcgal,"
    "postgis_tiger_geocoder,postgis_topology,postgres_fdw,semver,session_variable,sslinfo,tablefunc,tdigest,"
    "timescaledb,topn,tsm_system_rows,tsm_system_time,unaccent,uuid-ossp,vector"
)
_PRELOAD = (
    "age,anon,auto_explain,azure_storage,credcheck,pg_cron,pg_failover_slots,pg_hint_plan,pg_partman_bgw,"
    "pg_prewarm,pg_squeeze,pg_stat_statements,pgaudit,pglogical,timescaledb,wal2json"
)
_DOC = "https://www.postgresql.org/docs/16/"


def _param(data_type: str, allowed: str, default: str, description: str, *, dynamic: bool = True,
           unit: str = "", doc: str = "runtime-config.html") -> dict[str, Any]:
    return {"dataType": data_type, "allowedValues": allowed, "defaultValue": default, "description": description,
            "isDynamicConfig": dynamic, "isReadOnly": False, "unit": unit,
            "documentationLink": doc if doc.startswith("https://") else _DOC + doc}


# Server parameters this emulator knows (name -> Azure's metadata). Booleans accept Azure's spellings
# case-insensitively and are stored lower-case, as Azure returns them.
PARAMETERS: dict[str, dict[str, Any]] = {
    "require_secure_transport": _param("Boolean", "on,off", "on",
                                       "Whether client connections to the server are required to use some form of "
                                       "secure transport.", doc="https://go.microsoft.com/fwlink/?linkid=2282200"),
    "ssl_min_protocol_version": _param("Enumeration", "TLSv1.2,TLSv1.3", "TLSv1.2",
                                       "Sets the minimum SSL/TLS protocol version to use.",
                                       doc="runtime-config-connection.html#GUC-SSL-MIN-PROTOCOL-VERSION"),
    "ssl_max_protocol_version": _param("Enumeration", ",TLSv1.2,TLSv1.3", "",
                                       "Sets the maximum SSL/TLS protocol version to use.",
                                       doc="runtime-config-connection.html#GUC-SSL-MAX-PROTOCOL-VERSION"),
    "azure.extensions": _param("Set", AZURE_EXTENSIONS, "", "Specifies which extensions are allowed to be created in "
                               "the server.", doc="https://go.microsoft.com/fwlink/?linkid=2274269"),
    "shared_preload_libraries": _param("Set", _PRELOAD, "pg_cron,pg_stat_statements",
                                       "Sets which shared libraries are preloaded at server start.", dynamic=False,
                                       doc="runtime-config-client.html#GUC-SHARED-PRELOAD-LIBRARIES"),
    "log_min_duration_statement": _param("Integer", "-1-2147483647", "-1",
                                         "Sets the minimum execution time above which all statements will be "
                                         "logged. -1 disables.", unit="milliseconds",
                                         doc="runtime-config-logging.html#GUC-LOG-MIN-DURATION-STATEMENT"),
    "log_statement": _param("Enumeration", "none,ddl,mod,all", "none", "Sets the type of statements logged.",
                            doc="runtime-config-logging.html#GUC-LOG-STATEMENT"),
    # Read-only on Azure (allowed value "on" only).
    "log_connections": {**_param("Boolean", "on", "on", "Causes each attempted connection to the server to be "
                                 "logged, as well as successful completion of client authentication.",
                                 doc="runtime-config-logging.html#GUC-LOG-CONNECTIONS"), "isReadOnly": True},
    "log_disconnections": {**_param("Boolean", "on", "on", "Logs end of a session, including duration.",
                                    doc="runtime-config-logging.html#GUC-LOG-DISCONNECTIONS"), "isReadOnly": True},
    "log_checkpoints": _param("Boolean", "on,off", "on", "Logs each checkpoint.",
                              doc="runtime-config-logging.html#GUC-LOG-CHECKPOINTS"),
    "log_lock_waits": _param("Boolean", "on,off", "off", "Logs long lock waits.",
                             doc="runtime-config-logging.html#GUC-LOG-LOCK-WAITS"),
    "connection_throttle.enable": _param("Boolean", "on,off", "off", "Enables temporary connection throttling "
                                         "per IP for too many login failures.",
                                         doc="https://go.microsoft.com/fwlink/?linkid=2274147"),
    "pgbouncer.enabled": _param("Boolean", "true,false", "false", "Denotes if pgBouncer service is enabled.",
                                doc="https://go.microsoft.com/fwlink/?linkid=2274156"),
    "pgbouncer.pool_mode": _param("Enumeration", "session,transaction,statement", "transaction",
                                  "Specifies when a server connection can be reused by other clients.",
                                  doc="https://go.microsoft.com/fwlink/?linkid=2274156"),
    "pgbouncer.default_pool_size": _param("Integer", "1-4950", "50", "How many server connections to allow per "
                                          "user/database pair.", doc="https://go.microsoft.com/fwlink/?linkid=2274156"),
    "pgbouncer.max_client_conn": _param("Integer", "1-50000", "5000", "Maximum number of client connections "
                                        "allowed.", doc="https://go.microsoft.com/fwlink/?linkid=2274156"),
    "pgaudit.log": _param("Set", "none,read,write,function,role,ddl,misc,all", "none",
                          "Specifies which classes of statements will be logged by session audit logging.",
                          doc="https://go.microsoft.com/fwlink/?linkid=2274269"),
    "pg_qs.query_capture_mode": _param("Enumeration", "all,top,none", "none",
                                       "Selects which statements are tracked by the query store.",
                                       doc="https://go.microsoft.com/fwlink/?linkid=2274607"),
    "pgms_wait_sampling.query_capture_mode": _param("Enumeration", "all,none", "none",
                                                    "Selects which statements are tracked by the wait sampling "
                                                    "of the query store (no effect while pg_qs.query_capture_mode "
                                                    "is none).", doc="https://go.microsoft.com/fwlink/?linkid=2274607"),
    "constraint_exclusion": _param("Enumeration", "partition,on,off", "partition",
                                   "Controls the query planner's use of table constraints to optimize queries.",
                                   doc="runtime-config-query.html#GUC-CONSTRAINT-EXCLUSION"),
    "max_connections": _param("Integer", "25-5000", "859", "Sets the maximum number of concurrent connections.",
                              dynamic=False, doc="runtime-config-connection.html#GUC-MAX-CONNECTIONS"),
    "work_mem": _param("Integer", "4096-2097151", "4096", "Sets the amount of memory to be used by internal sort "
                       "operations and hash tables before writing to temporary disk files.", unit="KB",
                       doc="runtime-config-resource.html#GUC-WORK-MEM"),
    "statement_timeout": _param("Integer", "0-2147483647", "0", "Sets the maximum allowed duration of any "
                                "statement.", unit="milliseconds", doc="runtime-config-client.html"),
    "idle_in_transaction_session_timeout": _param("Integer", "0-2147483647", "0", "Sets the maximum allowed "
                                                  "duration of any idling transaction.", unit="milliseconds",
                                                  doc="runtime-config-client.html"),
    "password_encryption": _param("Enumeration", "md5,scram-sha-256", "scram-sha-256",
                                  "Chooses the algorithm for encrypting passwords.",
                                  doc="runtime-config-connection.html#GUC-PASSWORD-ENCRYPTION"),
    "azure.accepted_password_auth_method": _param("Set", "md5,scram-sha-256", "md5,scram-sha-256",
                                                  "Password authentication methods accepted by the server.",
                                                  doc="https://go.microsoft.com/fwlink/?linkid=2274607"),
    "timezone": _param("String", "[A-Za-z0-9/+_-]+", "UTC", "Sets the time zone for displaying and interpreting "
                       "time stamps.", doc="runtime-config-client.html#GUC-TIMEZONE"),
    "max_wal_size": _param("Integer", "2-2097151", "2048", "Sets the WAL size that triggers a checkpoint.",
                           unit="MB", doc="runtime-config-wal.html#GUC-MAX-WAL-SIZE"),
    "autovacuum": _param("Boolean", "on,off", "on", "Starts the autovacuum subprocess.",
                         doc="runtime-config-autovacuum.html#GUC-AUTOVACUUM"),
    "cron.database_name": _param("String", "[A-Za-z0-9_$-]+", "postgres", "Sets the database in which pg_cron "
                                 "metadata is kept.", dynamic=False, doc="https://github.com/citusdata/pg_cron"),
    "data_directory": {**_param("String", "", "/datadrive/pg/data", "Sets the server's data directory.",
                                dynamic=False, doc="runtime-config-file-locations.html"), "isReadOnly": True},
}


# Memory (GiB) of the Burstable sizes; General Purpose (D) sizes have 4 GiB per vCore, Memory Optimized (E) 8.
BURSTABLE_MEMORY_GIB = {"B1ms": 2, "B2s": 4, "B2ms": 8, "B4ms": 16, "B8ms": 32, "B12ms": 48, "B16ms": 64, "B20ms": 80}
# Azure's default max_connections by memory (GiB); 48 GiB and more: 5000.
MAX_CONNECTIONS_BY_MEMORY = ((2, 50), (4, 429), (8, 859), (16, 1718), (32, 3437))


def default_max_connections(sku_name: str) -> int:
    """max_connections as Azure sets it when it provisions a server of this SKU."""
    match = re.fullmatch(r"Standard_(B\w+|([DE])(\d+)\w*)", sku_name)
    if match is None:
        return 859
    if match.group(2):
        memory = int(match.group(3)) * (4 if match.group(2) == "D" else 8)
    else:
        memory = BURSTABLE_MEMORY_GIB.get(match.group(1), 8)
    return next((connections for limit, connections in MAX_CONNECTIONS_BY_MEMORY if memory <= limit), 5000)


def parameter_meta(name: str, server: Resource | None) -> dict[str, Any]:
    """The catalogue entry of ``name`` (exact spelling) for ``server``: defaults that depend on the server filled in."""
    meta = PARAMETERS[name]
    if name == "max_connections" and server is not None:
        sku = str((server.body.get("sku") or {}).get("name", ""))
        default = str(server.internal.get("max_connections_default") or default_max_connections(sku))
        meta = {**meta, "defaultValue": default}
    return meta


def normalise_value(name: str, meta: dict[str, Any], raw: Any) -> str:
    """Check `raw` against the parameter's allowed values; return the value as Azure stores it."""
    value = "" if raw is None else str(raw).strip()
    data_type, allowed = meta["dataType"], meta["allowedValues"]

    def invalid() -> ArmError:
        return ArmError(400, "InvalidParameterValue",
                        f"Invalid value given for parameter {name}. Specify a valid parameter value. "
                        f"Allowed values: '{allowed}'.")

    if data_type in ("Boolean", "Enumeration"):
        choices = allowed.split(",")
        for choice in choices:
            if choice.lower() == value.lower():
                return choice
        raise invalid()
    if data_type == "Integer":
        match = re.fullmatch(r"(-?\d+)-(-?\d+)", allowed)
        if not re.fullmatch(r"-?\d+", value) or match is None:
            raise invalid()
        if not int(match.group(1)) <= int(value) <= int(match.group(2)):
            raise invalid()
        return str(int(value))
    if data_type == "Set":
        members = {m.lower(): m for m in allowed.split(",")}
        chosen = [item.strip() for item in value.split(",") if item.strip()]
        out = []
        for item in chosen:
            if item.lower() not in members:
                raise invalid()
            if members[item.lower()] not in out:
                out.append(members[item.lower()])
        return ",".join(out)
    if allowed and not re.fullmatch(allowed, value):
        raise invalid()
    return value


def _server_id(resource_id: str) -> str:
    match = re.match(r"(?i)^(.*/providers/Microsoft\.DBforPostgreSQL/flexibleServers/[^/]+)", resource_id)
    return match.group(1) if match else resource_id


def _check_not_busy(ctx: Ctx, resource_id: str) -> None:
    server_id = _server_id(resource_id)
    if ctx.pending_operation(server_id) is not None:
        name = server_id.rsplit("/", 1)[-1]
        raise ArmError(409, "ServerIsBusy", f"Cannot complete operation while server '{name}' is busy processing "
                       "another operation. Try again later.", headers={"Retry-After": "1"})


def _invalid(parameter: str, detail: str = "") -> ArmError:
    return ArmError(400, "InvalidParameterValue",
                    f"Invalid value given for parameter {parameter}. Specify a valid parameter value.{detail}")


def _plane(ctx: Ctx) -> Any:
    return ctx.planes.postgres


def _call_plane(action: str, call: Any) -> None:
    try:
        call()
    except (OSError, RuntimeError, ValueError) as exc:
        # The data plane is the emulator's own PostgreSQL: a failure there is an internal error for the client.
        raise ArmError(500, "InternalServerError", f"The PostgreSQL data plane failed to {action}: {exc}") from exc


class _ServerNameRule(NameRule):
    def check(self, name: str, type_name: str) -> None:
        if self.min_len <= len(name) <= self.max_len and re.fullmatch(self.pattern, name):
            return
        raise _invalid("serverName", f" {self.hint}")


class FlexibleServers(ResourceType):
    type = SERVERS
    name_rule = _ServerNameRule(3, 63, r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
                                "Server name must be 3-63 characters of lower-case letters, digits and hyphens, and "
                                "cannot start or end with a hyphen.")
    global_name = True
    name_taken_code = "ServerNameAlreadyExists"
    name_taken_message = "Specified server name '{name}' is already used by another server."
    put = PG_WRITE
    patch = PG_WRITE
    delete = PG_DELETE
    pending_state = PENDING
    read_only_properties = ("fullyQualifiedDomainName", "state", "minorVersion", "replicaCapacity",
                            "replicationRole", "privateEndpointConnections", "administratorLoginPassword",
                            "createMode", "sourceServerResourceId", "pointInTimeUTC")
    actions = {"restart": "restart"}

    def latency(self, operation: str, body: dict[str, Any]) -> float:
        ha = ((body.get("properties") or {}).get("highAvailability") or {}).get("mode", "Disabled")
        return 12 * 60.0 if ha == "ZoneRedundant" else 6 * 60.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        _check_not_busy(ctx, req.id)
        props = req.properties
        mode = str(props.get("createMode") or "Create")
        if req.is_create and mode.lower() not in ("create", "default"):
            raise ArmError(400, "CreateModeNotSupported",
                           f"The create mode '{mode}' is not supported by this emulator (only Create/Default).")
        sku = req.body.get("sku") or {}
        tier, sku_name = str(sku.get("tier", "")), str(sku.get("name", ""))
        if tier not in TIERS:
            raise _invalid("sku.tier", f" Allowed tiers: {', '.join(TIERS)}.")
        if not sku_name.startswith(TIERS[tier]):
            raise ArmError(400, "InvalidSkuName" if sku_name else "InvalidParameterValue",
                           f"The SKU name '{sku_name}' is not valid for the '{tier}' tier.")
        version = str(props.get("version") or (req.existing.properties.get("version") if req.existing else "16"))
        if version not in VERSIONS:
            raise _invalid("version", f" Supported versions: {', '.join(VERSIONS)}.")
        if req.existing is not None and version < str(req.existing.properties.get("version", version)):
            raise _invalid("version", " The major version of a server cannot be downgraded.")
        self._check_admin(req)
        ha = (props.get("highAvailability") or {}).get("mode", "Disabled")
        if ha not in ("Disabled", "SameZone", "ZoneRedundant"):
            raise _invalid("highAvailability.mode")
        if ha != "Disabled" and tier == "Burstable":
            raise ArmError(400, "HANotSupportedForBurstableSkuWithMoreInfo",
                           "High availability not supported for burstable server. Choose the GeneralPurpose or "
                           "MemoryOptimized tier to enable high availability.")
        storage = props.get("storage") or {}
        size = storage.get("storageSizeGB")
        if size is not None and size not in STORAGE:
            raise _invalid("storageSizeGB", f" Allowed sizes (GB): {', '.join(str(s) for s in STORAGE)}.")
        if req.existing is not None and size is not None:
            old = (req.existing.properties.get("storage") or {}).get("storageSizeGB", 128)
            if size < old:
                raise ArmError(400, "InvalidStorageSizeDecrease",
                               f"The storage size of a server cannot be decreased (from {old} GB to {size} GB).")
        retention = (props.get("backup") or {}).get("backupRetentionDays")
        if retention is not None and (not isinstance(retention, int) or not 7 <= retention <= 35):
            raise _invalid("backupRetentionDays", " Backup retention must be between 7 and 35 days.")
        zone = props.get("availabilityZone")
        if zone not in (None, "", "1", "2", "3"):
            raise _invalid("availabilityZone")
        self._check_network(ctx, req)

    @staticmethod
    def _check_admin(req: WriteRequest) -> None:
        props = req.properties
        auth = props.get("authConfig") or {}
        login = props.get("administratorLogin")
        if req.existing is not None:
            old = req.existing.properties.get("administratorLogin")
            if login is not None and old is not None and login != old:
                raise _invalid("administratorLogin", " The administrator login of a server cannot be changed.")
            return
        if auth.get("passwordAuth", "Enabled") == "Disabled":
            return
        if not login or not props.get("administratorLoginPassword"):
            raise ArmError(400, "MissingRequiredParameter" if not login else "PasswordNotSpecified",
                           "The administrator login and password are required when password authentication is "
                           "enabled.")
        if (str(login).lower() in RESERVED_LOGINS or str(login).lower().startswith("pg_")
                or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", str(login))):
            raise _invalid("administratorLogin", f" '{login}' is reserved or not a valid login name: it must start "
                           "with a letter, use letters, digits and underscores, and cannot be azure_superuser, "
                           "azure_pg_admin, admin, administrator, root, guest, public or start with pg_.")
        password = str(props["administratorLoginPassword"])
        if not 8 <= len(password) <= 128:
            raise _invalid("administratorLoginPassword", " The password must be 8 to 128 characters long.")

    @staticmethod
    def _check_network(ctx: Ctx, req: WriteRequest) -> None:
        network = req.properties.get("network") or {}
        subnet_id = network.get("delegatedSubnetResourceId")
        zone_id = network.get("privateDnsZoneArmResourceId")
        if req.existing is not None:
            old = req.existing.properties.get("network") or {}
            if subnet_id and not id_equal(subnet_id, old.get("delegatedSubnetResourceId")):
                raise ArmError(400, "VnetChangeNotSupported",
                               "The network of an existing server cannot be changed (delegated subnet).")
        if not subnet_id:
            if zone_id and req.is_create:
                raise ArmError(400, "PrivateDnsZoneWithoutDelegatedSubnet",
                               "A private DNS zone can only be set together with a delegated subnet "
                               "(network.delegatedSubnetResourceId).")
            return
        subnet = ctx.require(str(subnet_id), code="SubnetNotFound",
                             message=f"The subnet '{subnet_id}' given as delegatedSubnetResourceId does not exist.")
        delegations = (subnet.properties.get("delegations") or [])
        services = {str((d.get("properties") or {}).get("serviceName", "")).lower() for d in delegations}
        if DELEGATION_SERVICE.lower() not in services:
            raise ArmError(400, "SubnetNotDelegated",
                           f"The subnet '{subnet_id}' is not delegated to '{DELEGATION_SERVICE}'. Delegate the subnet "
                           "to Microsoft.DBforPostgreSQL/flexibleServers before using it for a flexible server.")
        if not zone_id:
            raise ArmError(400, "PrivateDnsZoneRequired",
                           "A private DNS zone (network.privateDnsZoneArmResourceId) is required for a server "
                           "integrated in a virtual network.")
        zone_name = str(zone_id).rstrip("/").rsplit("/", 1)[-1].lower()
        if not (zone_name == DNS_SUFFIX or zone_name.endswith("." + DNS_SUFFIX)):
            raise ArmError(400, "PrivateDnsZoneNameNotValid",
                           f"The private DNS zone name '{zone_name}' is not valid: it must end with "
                           f"'{DNS_SUFFIX}'.")
        ctx.require(str(zone_id), code="PrivateDnsZoneNotFound",
                    message=f"The private DNS zone '{zone_id}' does not exist.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        sku = req.body["sku"]
        body["sku"] = {"name": sku["name"], "tier": sku["tier"]}
        version = str(props.get("version") or previous.get("version") or "16")
        props["version"] = version
        props["minorVersion"] = VERSIONS[version]
        if previous.get("administratorLogin"):
            props["administratorLogin"] = previous["administratorLogin"]
        size = int((props.get("storage") or {}).get("storageSizeGB")
                   or (previous.get("storage") or {}).get("storageSizeGB") or 128)
        perf_tier, iops = STORAGE[size]
        storage = props.setdefault("storage", {})
        tier = str(storage.get("tier") or perf_tier)
        if int(tier.lstrip("P") or 0) < int(perf_tier.lstrip("P")):
            # A larger disk never keeps a performance tier below the size's baseline.
            tier = perf_tier
        storage.update({"storageSizeGB": size, "type": storage.get("type", ""), "iops": iops, "tier": tier})
        storage.setdefault("autoGrow", "Disabled")
        network = props.setdefault("network", {})
        if network.get("delegatedSubnetResourceId"):
            network["publicNetworkAccess"] = "Disabled"
        else:
            network.setdefault("publicNetworkAccess", "Enabled")
        zone = props.get("availabilityZone") or previous.get("availabilityZone") or "1"
        props["availabilityZone"] = zone
        ha = props.setdefault("highAvailability", {})
        ha.setdefault("mode", "Disabled")
        if ha["mode"] == "Disabled":
            ha.pop("standbyAvailabilityZone", None)
            ha["state"] = "NotEnabled"
        else:
            ha["state"] = "Healthy"
            if ha["mode"] == "ZoneRedundant":
                ha.setdefault("standbyAvailabilityZone", str(int(zone) % 3 + 1))
            else:
                ha["standbyAvailabilityZone"] = zone
        now = ctx.now()
        fill_defaults(props, {
            "backup": {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled",
                       "earliestRestoreDate": previous.get("backup", {}).get("earliestRestoreDate", now)},
            "authConfig": {"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"},
            "dataEncryption": {"type": "SystemManaged"},
            "maintenanceWindow": {"customWindow": "Disabled", "dayOfWeek": 0, "startHour": 0, "startMinute": 0},
            "replica": {"role": "Primary", "capacity": 5, "replicationState": None},
        })
        props["replica"].pop("replicationState", None)
        props["replicationRole"] = "Primary"
        props["replicaCapacity"] = 5
        props["state"] = "Ready"
        props["fullyQualifiedDomainName"] = f"{req.name}.{DNS_SUFFIX}"
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        password = req.properties.get("administratorLoginPassword")
        if password:
            resource.internal["admin_password"] = str(password)
        if req.is_create:
            CONFIGURATIONS.seed(ctx, resource)
            for name in SYSTEM_DATABASES:
                db_id = f"{resource.id}/databases/{name}"
                ctx.put_record(db_id, f"{SERVERS}/databases", {
                    "id": db_id, "name": name, "type": f"{SERVERS}/databases",
                    "properties": {"charset": "UTF8", "collation": "en_US.utf8"}})
        plane = _plane(ctx)
        login = resource.properties.get("administratorLogin")
        if plane is not None and login:
            _call_plane("start the server",
                        lambda: plane.ensure_server(resource.id, str(login), str(password) if password else None))

    def after_delete(self, ctx: Ctx, resource: Resource) -> None:
        plane = _plane(ctx)
        if plane is not None:
            _call_plane("delete the server", lambda: plane.delete_server(resource.id))

    def on_discard(self, ctx: Ctx, resource: Resource) -> None:
        self.after_delete(ctx, resource)

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        _check_not_busy(ctx, resource.id)

    def restart(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        """Servers_Restart: restart the engine, which applies the static parameters waiting for it."""
        _check_not_busy(ctx, resource.id)
        if (body or {}).get("restartWithFailover") and \
                (resource.properties.get("highAvailability") or {}).get("mode", "Disabled") == "Disabled":
            raise _invalid("restartWithFailover", " A restart with failover needs high availability enabled.")
        pending = [c for c in ctx.children(resource.id, CONFIGURATIONS.type)
                   if c.properties.get("isConfigPendingRestart")]
        plane = _plane(ctx)
        if plane is not None:
            values = {str(c.body.get("name") or c.name): (str(c.properties.get("value", "")),
                                                           c.properties.get("source") == "system-default")
                      for c in pending}
            _call_plane("restart the server", lambda: plane.restart_server(resource.id, values))
        for config in pending:
            config.properties["isConfigPendingRestart"] = False
        return ActionResult(202, None, ctx.start_operation(resource, "restart", 60.0))


class _ServerChild(ResourceType):
    location = "none"
    tags = False
    put = PG_WRITE
    patch = None
    delete = PG_DELETE
    pending_state = PENDING
    latency_s = 30.0

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        _check_not_busy(ctx, resource.id)


def _offers(server: Resource, parameter: str) -> bool:
    """PgBouncer runs on General Purpose and Memory Optimized servers only: on Burstable its parameters are hidden
    and it "is not supported or available" (Azure's server parameter reference, pgbouncer.enabled), so they do not
    exist there (ConfigurationNotExists)."""
    tier = str((server.body.get("sku") or {}).get("tier", ""))
    return not (parameter.lower().startswith("pgbouncer.") and tier.lower() == "burstable")


class Configurations(_ServerChild):
    type = f"{SERVERS}/configurations"
    patch = PG_WRITE
    not_found_code = "ConfigurationNotExists"

    def _meta(self, name: str, server: Resource | None) -> dict[str, Any]:
        meta = next((m for n, m in PARAMETERS.items() if n.lower() == name.lower()), None)
        if meta is None or (server is not None and not _offers(server, name)):
            version = (server.properties.get("version") if server else None) or "16"
            server_name = server.name if server else "server"
            raise ArmError(400, "ConfigurationNotExists",
                           f"The configuration '{name}' does not exist for {server_name} server version {version}.")
        return meta

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        _check_not_busy(ctx, req.id)
        meta = self._meta(req.name, req.parent)
        if meta["isReadOnly"]:
            raise ArmError(400, "ReadOnlyConfiguration", f"The configuration '{req.name}' is read-only.")
        source = req.properties.get("source", "user-override")
        if source not in ("user-override", "system-default"):
            raise _invalid("source", " Allowed values: 'user-override', 'system-default'.")
        if source == "user-override":
            normalise_value(req.name, meta, req.properties.get("value"))

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        name = next(n for n in PARAMETERS if n.lower() == req.name.lower())
        meta = parameter_meta(name, req.parent)
        source = req.properties.get("source", "user-override")
        if source == "system-default":
            value = str(meta["defaultValue"])
        else:
            value = normalise_value(name, meta, req.properties.get("value"))
        # A static value stays pending until a restart, also when written again unchanged meanwhile.
        pending_restart = not meta["isDynamicConfig"] and (
            value != self._current_value(req.existing, meta)
            or bool(req.existing is not None and req.existing.properties.get("isConfigPendingRestart")))
        return self._document(req.id, name, meta, value, source, pending_restart=pending_restart)

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        plane = _plane(ctx)
        server = req.parent
        name = str(resource.body.get("name") or resource.name)  # the catalogue's spelling
        if plane is None or server is None or not PARAMETERS[name]["isDynamicConfig"]:
            return  # static parameters reach the cluster with the server's restart
        value, source = str(resource.properties.get("value", "")), resource.properties.get("source")
        _call_plane("apply the server parameter",
                    lambda: plane.set_parameter(server.id, name, value, is_default=source == "system-default"))

    @staticmethod
    def _current_value(existing: Resource | None, meta: dict[str, Any]) -> str:
        if existing is None:
            return str(meta["defaultValue"])
        return str(existing.properties.get("value", meta["defaultValue"]))

    @staticmethod
    def _document(resource_id: str, name: str, meta: dict[str, Any], value: str, source: str, *,
                  pending_restart: bool) -> dict[str, Any]:
        props = {"value": value, "source": source, "isConfigPendingRestart": pending_restart}
        props.update({k: meta[k] for k in ("description", "defaultValue", "dataType", "allowedValues",
                                           "isDynamicConfig", "isReadOnly", "unit", "documentationLink")})
        return {"id": resource_id, "name": name, "type": f"{SERVERS}/configurations", "properties": props}

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        server = records and ctx.get(records[0].parent_id)
        return [self.render(ctx, r) for r in records if not server or _offers(server, r.name)]

    def seed(self, ctx: Ctx, server: Resource) -> None:
        """A new server lists every parameter it offers at its default, as Azure does."""
        # Computed once, at provisioning, as Azure does (a later SKU change keeps it).
        sku = str((server.body.get("sku") or {}).get("name", ""))
        server.internal["max_connections_default"] = default_max_connections(sku)
        for name in PARAMETERS:
            meta = parameter_meta(name, server)
            if not _offers(server, name):
                continue
            config_id = f"{server.id}/configurations/{name}"
            ctx.put_record(config_id, self.type, self._document(config_id, name, meta, str(meta["defaultValue"]),
                                                                "system-default", pending_restart=False))

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        raise ArmError(405, "MethodNotAllowed", "Server parameters cannot be deleted; set source 'system-default' to "
                       "reset one.")


class Databases(_ServerChild):
    type = f"{SERVERS}/databases"
    name_rule = NameRule(1, 63, r"[A-Za-z_][A-Za-z0-9_-]*",
                         "Database name must begin with a letter or underscore; other characters can be letters, "
                         "digits, hyphens or underscores.", code="InvalidParameterValue")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        _check_not_busy(ctx, req.id)
        charset = req.properties.get("charset")
        if charset is not None and str(charset).replace("-", "").upper() not in ("UTF8", "SQL_ASCII", "LATIN1"):
            raise _invalid("charset")
        if req.existing is not None:
            old = req.existing.properties
            for key in ("charset", "collation"):
                if key in req.properties and str(req.properties[key]).lower() != str(old.get(key, "")).lower():
                    raise ArmError(400, "DatabaseUpdateNotSupported",
                                   f"The {key} of an existing database cannot be changed.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        fill_defaults(body["properties"], {"charset": "UTF8", "collation": "en_US.utf8"})
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        plane = _plane(ctx)
        server = ctx.get(resource.parent_id)
        if plane is not None and req.is_create and server is not None:
            _call_plane("create the database", lambda: plane.create_database(server.id, resource.name))

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        _check_not_busy(ctx, resource.id)
        if resource.name.lower() in ("azure_maintenance", "azure_sys"):
            raise ArmError(400, "CannotDropSystemDatabase",
                           f"The database '{resource.name}' is used by the service and cannot be deleted.")

    def after_delete(self, ctx: Ctx, resource: Resource) -> None:
        plane = _plane(ctx)
        server = ctx.get(resource.parent_id)
        # When the whole server goes, delete_server removes the cluster; dropping each database first is moot.
        if (plane is not None and server is not None and server.properties.get("provisioningState") != "Dropping"
                and resource.name.lower() not in SYSTEM_DATABASES):
            _call_plane("drop the database", lambda: plane.drop_database(server.id, resource.name))


class FirewallRules(_ServerChild):
    type = f"{SERVERS}/firewallRules"
    name_rule = NameRule(1, 128, r"[A-Za-z0-9_-]+", "Firewall rule names use letters, digits, hyphens and "
                         "underscores (1-128 characters).", code="InvalidParameterValue")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        _check_not_busy(ctx, req.id)
        parsed = []
        for key in ("startIpAddress", "endIpAddress"):
            raw = req.properties.get(key)
            try:
                address = ipaddress.ip_address(str(raw))
            except ValueError as exc:
                raise _invalid(key, f" '{raw}' is not an IPv4 address.") from exc
            if address.version != 4:
                raise _invalid(key, f" '{raw}' is not an IPv4 address.")
            parsed.append(address)
        if parsed[0] > parsed[1]:
            raise ArmError(400, "FirewallRuleStartIpAddressGreaterThanEndIpAddress",
                           "The start IP address of the firewall rule cannot exceed its end IP address.")
        server = req.parent
        if server is not None and (server.properties.get("network") or {}).get("delegatedSubnetResourceId"):
            raise ArmError(400, "FirewallRuleNotSupportedOnPrivateAccessServer",
                           f"Firewall rules cannot be set on server '{server.name}': it uses private access "
                           "(virtual network integration).")


class Administrators(_ServerChild):
    type = f"{SERVERS}/administrators"
    name_rule = NameRule(36, 36, r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                         "The administrator name must be the object ID (GUID) of the Microsoft Entra principal.",
                         code="InvalidParameterValue")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        _check_not_busy(ctx, req.id)
        server = req.parent
        auth = (server.properties.get("authConfig") or {}) if server else {}
        if auth.get("activeDirectoryAuth") != "Enabled":
            raise ArmError(400, "AadAuthDisabled",
                           "Microsoft Entra authentication is not enabled on the server: set "
                           "authConfig.activeDirectoryAuth to 'Enabled' before adding administrators.")
        principal_type = req.properties.get("principalType")
        if principal_type not in ("User", "Group", "ServicePrincipal", "Unknown"):
            raise _invalid("principalType", " Allowed values: User, Group, ServicePrincipal, Unknown.")
        if not req.properties.get("principalName"):
            raise _invalid("principalName")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        server = req.parent
        tenant = (server.properties.get("authConfig") or {}).get("tenantId") if server else None
        body["properties"]["objectId"] = req.name
        body["properties"].setdefault("tenantId", tenant or (ctx.caller.tenant_id if ctx.caller else ""))
        return body


def check_name_availability(ctx: Ctx, scope: str, body: dict[str, Any]) -> ActionResult:
    name = str((body or {}).get("name", ""))
    if not (3 <= len(name) <= 63 and re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", name)):
        return ActionResult(200, {"nameAvailable": False, "reason": "Invalid", "name": name, "type": SERVERS,
                                  "message": "Server name must be 3-63 characters of lower-case letters, digits "
                                             "and hyphens, and cannot start or end with a hyphen."})
    if ctx.find(SERVERS, name=name):
        return ActionResult(200, {"nameAvailable": False, "reason": "AlreadyExists", "name": name, "type": SERVERS,
                                  "message": "Specified server name is already used."})
    return ActionResult(200, {"nameAvailable": True, "name": name, "type": SERVERS, "message": ""})


def replay_parameters(records: Iterable[dict[str, Any]], plane: Any) -> None:
    """Hand every dynamic server parameter ARM holds to the data plane again (the emulator's start).

    The plane skips what it already runs; this brings clusters of an older emulator up to date (a cluster made
    before the plane enforced ``azure.extensions`` learns the allow-list ARM already had).
    """
    for record in records:
        if str(record.get("type", "")).lower() != CONFIGURATIONS.type.lower():
            continue
        props = (record.get("body") or {}).get("properties") or {}
        name = str((record.get("body") or {}).get("name") or str(record["id"]).rsplit("/", 1)[-1])
        if not props.get("isDynamicConfig"):
            continue
        _call_plane("apply the server parameter",
                    functools.partial(plane.set_parameter, _server_id(str(record["id"])), name,
                                      str(props.get("value", "")), is_default=props.get("source") == "system-default"))


CONFIGURATIONS = Configurations()
RESOURCE_TYPES: list[ResourceType] = [FlexibleServers(), CONFIGURATIONS, Databases(), FirewallRules(), Administrators()]
PROVIDER_ACTIONS = {f"{NS}/checkNameAvailability": check_name_availability}
