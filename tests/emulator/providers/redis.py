"""Microsoft.Cache/redis: Azure Cache for Redis caches, listKeys, regenerateKey, name checks, SKU rules.

Written from the Redis management REST spec (Azure/azure-rest-api-specs, redis.json 2024-11-01 and its examples)
and the Azure Cache for Redis documentation (tiers, persistence, clustering, zones).

Modelled, as Azure does it:
- Cache names are global DNS names (``<name>.redis.cache.windows.net``): 1-63 letters, digits and hyphens,
  starting and ending with a letter or digit, no consecutive hyphens; a taken name answers 409
  ``NameNotAvailable``.
- SKUs: Basic/Standard use family C (capacity 0-6), Premium family P (capacity 1-5). Only Premium supports
  data persistence (RDB/AOF), clustering (``shardCount``), ``replicasPerPrimary``, VNet injection
  (``subnetId``/``staticIP``); Basic has no zones; TLS below 1.2 is retired.
- Create is long-running: 201 with ``provisioningState: Creating`` and a ``Location`` to poll (real Azure
  lets clients poll the resource itself; the SDK handles both); 20 minutes (Premium 35) in realistic mode.
- Read-only fields Azure fills in: hostName, port 6379, sslPort 6380, redisVersion (full version), instances,
  default redisConfiguration entries (maxclients, maxmemory-reserved ...), access keys (listKeys only).

- The storage connection strings of persistence (``rdb-storage-connection-string``,
  ``aof-storage-connection-string-0/1``) are write-only: stored and required, never returned.

- With the Redis data plane on (tests/emulator/dataplanes/redis.py), each cache is a real ``redis-server``: TLS with
  the emulator's CA, the current primary or secondary key required (``regenerateKey`` takes effect there at once),
  the plain port open only while ``enableNonSslPort`` is true. ARM keeps reporting 6380/6379; the local ports are
  in ``GET /_emulator/dataplanes``.

Known gaps: access keys are not echoed in the create response (only listKeys returns them), firewall rules,
linked servers, patch schedules, import/export, flush and reboot are not modelled.
"""

from __future__ import annotations

import re
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
)

CACHES = "Microsoft.Cache/redis"
NAME_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*"
NAME_HINT = ("Cache names can contain only letters, numbers and hyphens, must start and end with a letter or "
             "number, cannot contain consecutive hyphens and must be 1-63 characters long.")
FAMILY = {"Basic": "C", "Standard": "C", "Premium": "P"}
CAPACITY = {"C": range(0, 7), "P": range(1, 6)}
MAXCLIENTS = {("C", 0): 256, ("C", 1): 1000, ("C", 2): 2000, ("C", 3): 5000, ("C", 4): 10000, ("C", 5): 15000,
              ("C", 6): 20000, ("P", 1): 7500, ("P", 2): 15000, ("P", 3): 30000, ("P", 4): 40000, ("P", 5): 40000}
MEMORY_MB = {("C", 0): 250, ("C", 1): 1024, ("C", 2): 2560, ("C", 3): 6144, ("C", 4): 13312, ("C", 5): 26624,
             ("C", 6): 54272, ("P", 1): 6144, ("P", 2): 13312, ("P", 3): 26624, ("P", 4): 54272, ("P", 5): 122880}
REDIS_VERSIONS = {"4": "4.0.14", "6": "6.0.20", "latest": "6.0.20"}
PREMIUM_ONLY_CONFIG = ("rdb-backup-enabled", "aof-backup-enabled", "rdb-backup-frequency",
                       "rdb-backup-max-snapshot-count", "rdb-storage-connection-string",
                       "aof-storage-connection-string-0", "aof-storage-connection-string-1")
RDB_FREQUENCIES = ("15", "30", "60", "360", "720", "1440")
MAXMEMORY_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-random", "allkeys-random", "volatile-ttl",
                      "noeviction", "volatile-lfu", "allkeys-lfu")


def _bad(parameter: str, detail: str = "") -> ArmError:
    return ArmError(400, "InvalidRequestBody", f"The value of the parameter '{parameter}' is invalid.{detail}")


def _call_plane(action: str, call: Any) -> None:
    try:
        call()
    except (OSError, RuntimeError, ValueError) as exc:
        # The data plane is the emulator's own redis-server: a failure there is an internal error for the client.
        raise ArmError(500, "InternalServerError", f"The Redis data plane failed to {action}: {exc}") from exc


def _is_true(value: Any) -> bool:
    return str(value).lower() == "true"


# Storage connection strings are secrets Azure takes but never returns: GET, PUT and list answers leave them out.
WRITE_ONLY_CONFIG = ("rdb-storage-connection-string", "aof-storage-connection-string-0",
                     "aof-storage-connection-string-1")


class Caches(ResourceType):
    type = CACHES
    name_rule = NameRule(1, 63, NAME_PATTERN, NAME_HINT, code="InvalidCacheName")
    global_name = True
    name_taken_code = "NameNotAvailable"
    name_taken_message = ("An error occured when trying to reserve the DNS name for the cache instance. This may be a "
                          "temporary issue if a cache instance of this name was recently deleted. Please choose a "
                          "different name or try again later.")
    # Redis_Create 200/201, Redis_Update 200/202, Redis_Delete 200/202/204.
    put = OpStyle(Lro.LOCATION, done=200, pending=200, created_done=201, created_pending=201)
    patch = OpStyle(Lro.LOCATION, done=200, pending=202)
    delete = OpStyle(Lro.LOCATION, done=200, pending=202, missing=204)
    pending_state = {"create": "Creating", "update": "Updating", "delete": "Deleting"}
    read_only_properties = ("hostName", "port", "sslPort", "accessKeys", "linkedServers", "instances",
                            "privateEndpointConnections")
    actions = {"listKeys": "list_keys", "regenerateKey": "regenerate_key"}

    def latency(self, operation: str, body: dict[str, Any]) -> float:
        premium = (body.get("properties") or {}).get("sku", {}).get("name") == "Premium"
        return (35 if premium else 20) * 60.0

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = super().render(ctx, resource)
        config = body.get("properties", {}).get("redisConfiguration")
        if isinstance(config, dict):
            for key in WRITE_ONLY_CONFIG:
                config.pop(key, None)
        return body

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        sku = props.get("sku") or {}
        name, family, capacity = sku.get("name"), sku.get("family"), sku.get("capacity")
        if name not in FAMILY:
            raise _bad("sku.name", " Allowed values: Basic, Standard, Premium.")
        if family != FAMILY[name]:
            raise _bad("sku.family", f" The {name} tier uses family '{FAMILY[name]}'.")
        if not isinstance(capacity, int) or capacity not in CAPACITY[family]:
            valid = CAPACITY[family]
            raise _bad("sku.capacity", f" Family {family} allows capacities {valid.start}-{valid.stop - 1}.")
        premium = name == "Premium"
        if req.existing is not None:
            old = req.existing.properties.get("sku") or {}
            if old.get("name") == "Premium" and name != "Premium":
                raise ArmError(400, "InvalidRequestBody", "A Premium cache cannot be scaled down to a Basic or "
                               "Standard tier.")
            if old.get("name") == "Standard" and name == "Basic":
                raise ArmError(400, "InvalidRequestBody", "A Standard cache cannot be scaled down to the Basic tier.")
        config = dict(props.get("redisConfiguration") or {})
        if req.existing is not None:
            # Write-only settings a client did not send again keep their stored values (GET never shows them).
            stored = req.existing.properties.get("redisConfiguration") or {}
            for key in WRITE_ONLY_CONFIG:
                if config.get(key) is None and stored.get(key):
                    config[key] = stored[key]
        for key in PREMIUM_ONLY_CONFIG:
            if key in config and not premium and (not key.endswith("-enabled") or _is_true(config[key])):
                raise ArmError(400, "InvalidRequestBody", f"The parameter '{key}' is only supported on the Premium "
                               "tier: data persistence requires a Premium cache.")
        if premium and _is_true(config.get("rdb-backup-enabled")):
            if str(config.get("rdb-backup-frequency", "")) not in RDB_FREQUENCIES:
                raise _bad("rdb-backup-frequency", f" Allowed values (minutes): {', '.join(RDB_FREQUENCIES)}.")
            if not config.get("rdb-storage-connection-string"):
                raise ArmError(400, "InvalidRequestBody", "The parameter 'rdb-storage-connection-string' is required "
                               "when 'rdb-backup-enabled' is true.")
        if premium and _is_true(config.get("aof-backup-enabled")) and not config.get("aof-storage-connection-string-0"):
            raise ArmError(400, "InvalidRequestBody", "The parameter 'aof-storage-connection-string-0' is required "
                           "when 'aof-backup-enabled' is true.")
        policy = config.get("maxmemory-policy")
        if policy is not None and policy not in MAXMEMORY_POLICIES:
            raise _bad("maxmemory-policy")
        if props.get("shardCount") is not None and not premium:
            raise ArmError(400, "InvalidRequestBody", "Clustering ('shardCount') is only supported on the Premium "
                           "tier.")
        shards = props.get("shardCount")
        if shards is not None and (not isinstance(shards, int) or not 1 <= shards <= 30):
            raise _bad("shardCount", " A clustered cache has 1 to 30 shards.")
        for key in ("replicasPerPrimary", "replicasPerMaster"):
            replicas = props.get(key)
            if replicas is not None and (not premium or not isinstance(replicas, int) or not 1 <= replicas <= 3):
                raise _bad(key, " Replicas per primary (1-3) are only supported on the Premium tier.")
        if props.get("subnetId") and not premium:
            raise ArmError(400, "InvalidRequestBody", "Virtual network injection ('subnetId') is only supported on "
                           "the Premium tier.")
        if props.get("staticIP") and not props.get("subnetId"):
            raise ArmError(400, "InvalidRequestBody", "'staticIP' can only be set together with 'subnetId'.")
        zones = req.body.get("zones")
        if zones:
            if name == "Basic":
                raise ArmError(400, "InvalidRequestBody", "Availability zones are not supported on the Basic tier.")
            if not all(str(z) in ("1", "2", "3") for z in zones) or len(set(zones)) != len(zones):
                raise _bad("zones", " Zones must be distinct values among '1', '2', '3'.")
        tls = props.get("minimumTlsVersion")
        if tls is not None and tls not in ("1.2",):
            raise _bad("minimumTlsVersion", " TLS 1.0 and 1.1 are retired; the only allowed value is '1.2'.")
        version = props.get("redisVersion")
        if version is not None and str(version).split(".")[0].lower() not in REDIS_VERSIONS:
            raise _bad("redisVersion", " Allowed values: 4, 6, latest.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["type"] = "Microsoft.Cache/Redis"  # the casing Azure answers with
        props = body["properties"]
        if req.existing is not None:
            stored = req.existing.properties.get("redisConfiguration") or {}
            config = props.setdefault("redisConfiguration", {}) or {}
            for key in WRITE_ONLY_CONFIG:
                if config.get(key) is None and stored.get(key):
                    config[key] = stored[key]
            props["redisConfiguration"] = config
        sku = props["sku"]
        key = (sku["family"], sku["capacity"])
        version = str(props.get("redisVersion") or "6").split(".")[0].lower()
        props["redisVersion"] = REDIS_VERSIONS[version]
        fill_defaults(props, {
            "enableNonSslPort": False,
            "minimumTlsVersion": "1.2",
            "publicNetworkAccess": "Enabled",
            "updateChannel": "Stable",
            "disableAccessKeyAuthentication": False,
            "redisConfiguration": {},
        })
        memory = MEMORY_MB[key]
        reserved = str(max(30, memory // 10)) if sku["name"] != "Basic" else "30"
        fill_defaults(props["redisConfiguration"], {
            "maxclients": str(MAXCLIENTS[key]),
            "maxmemory-reserved": reserved,
            "maxmemory-delta": reserved,
            "maxfragmentationmemory-reserved": reserved,
            "maxmemory-policy": "volatile-lru",
        })
        replicas = props.get("replicasPerPrimary") or props.get("replicasPerMaster")
        if sku["name"] == "Premium":
            replicas = replicas or 1
            props["replicasPerPrimary"] = props["replicasPerMaster"] = replicas
        zones = body.get("zones") or []
        props["zonalAllocationPolicy"] = "UserDefined" if zones else "Automatic"
        props["hostName"] = f"{req.name}.redis.cache.windows.net"
        props["port"] = 6379
        props["sslPort"] = 6380
        props["linkedServers"] = []
        props["instances"] = self._instances(sku["name"], props.get("shardCount"), replicas, zones)
        return body

    @staticmethod
    def _instances(tier: str, shards: int | None, replicas: int | None, zones: list[Any]) -> list[dict[str, Any]]:
        nodes_per_shard = 1 if tier == "Basic" else 1 + (replicas or 1)
        out = []
        for shard in range(shards or 1):
            for node in range(nodes_per_shard):
                index = len(out)
                entry: dict[str, Any] = {"sslPort": 15000 + index, "nonSslPort": 13000 + index,
                                         "isMaster": node == 0, "isPrimary": node == 0}
                if shards:
                    entry["shardId"] = shard
                if zones:
                    entry["zone"] = str(zones[index % len(zones)])
                out.append(entry)
        return out

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        keys = resource.internal.setdefault("keys", {})
        keys.setdefault("primaryKey", ctx.new_key(32))
        keys.setdefault("secondaryKey", ctx.new_key(32))
        plane = ctx.planes.redis
        if plane is not None:
            non_ssl = bool(resource.properties.get("enableNonSslPort"))
            _call_plane("start the cache", lambda: plane.ensure_cache(resource.id, keys["primaryKey"],
                                                                      keys["secondaryKey"], non_ssl_port=non_ssl))

    def after_delete(self, ctx: Ctx, resource: Resource) -> None:
        plane = ctx.planes.redis
        if plane is not None:
            _call_plane("delete the cache", lambda: plane.delete_cache(resource.id))

    def on_discard(self, ctx: Ctx, resource: Resource) -> None:
        self.after_delete(ctx, resource)

    def list_keys(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        if resource.properties.get("disableAccessKeyAuthentication"):
            raise ArmError(400, "AccessKeyAuthenticationDisabled", "Access key authentication is disabled for cache "
                           f"'{resource.name}'; use Microsoft Entra authentication.")
        keys = resource.internal.get("keys") or {}
        return ActionResult(200, {"primaryKey": keys.get("primaryKey"), "secondaryKey": keys.get("secondaryKey")})

    def regenerate_key(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        key_type = str(body.get("keyType", ""))
        if key_type not in ("Primary", "Secondary"):
            raise _bad("keyType", " Allowed values: Primary, Secondary.")
        keys = resource.internal.setdefault("keys", {})
        keys[f"{key_type.lower()}Key"] = ctx.new_key(32)
        plane = ctx.planes.redis
        if plane is not None:
            _call_plane("rotate the key", lambda: plane.set_keys(resource.id, keys["primaryKey"], keys["secondaryKey"]))
        return self.list_keys(ctx, resource, {})


def check_name_availability(ctx: Ctx, scope: str, body: dict[str, Any]) -> ActionResult:
    name = str((body or {}).get("name", ""))
    if not (1 <= len(name) <= 63 and re.fullmatch(NAME_PATTERN, name)):
        raise ArmError(400, "InvalidCacheName", f"The cache name '{name}' is invalid. {NAME_HINT}")
    if ctx.find(CACHES, name=name):
        raise ArmError(409, Caches.name_taken_code, Caches.name_taken_message)
    return ActionResult(200, None)


RESOURCE_TYPES: list[ResourceType] = [Caches()]
PROVIDER_ACTIONS = {"Microsoft.Cache/CheckNameAvailability": check_name_availability}
