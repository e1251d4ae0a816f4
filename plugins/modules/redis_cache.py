#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_cache
short_description: Manage an Azure Cache for Redis (SKU, shards, zones, configuration, RDB persistence)
version_added: 0.1.0
description:
  - Ensures an Azure Cache for Redis with secure defaults (TLS 1.2 minimum, the non-TLS port disabled, public
    network access disabled). Created with PUT; later changes are sent as PATCH of only what differs.
  - RDB persistence writes snapshots to a storage account. The module builds the account's connection string
    itself from the account's keys (C(listKeys)) and never returns or prints it; Azure does not return it either,
    so it is sent only when the cache is created or when a persistence setting differs.
  - Capabilities are checked before any write, as Azure checks them. Persistence, clustering (O(shard_count))
    and availability zones need the Premium SKU, and Azure allows RDB or AOF persistence, not both (this module
    manages RDB only).
options:
  name:
    description: Cache name (1-63 letters, digits and single hyphens, unique across Azure).
  sku:
    description: Pricing tier.
    type: dict
    default: {}
    suboptions:
      name:
        description: SKU name.
        type: str
        choices: [Basic, Standard, Premium]
        default: Basic
      family:
        description: V(C) for Basic and Standard, V(P) for Premium.
        type: str
        choices: [C, P]
        default: C
      capacity:
        description: Size within the family (C0-C6, P1-P5).
        type: int
        default: 1
  shard_count:
    description: Number of shards (Premium clustering). Omit or V(0) for a non-clustered cache.
    type: int
  replicas_per_primary:
    description: Replicas per primary (Premium). Omit to keep Azure's default.
    type: int
  zones:
    description: Availability zones (Premium). Fixed at creation; a different list on an existing cache fails.
    type: list
    elements: str
    default: []
  redis_version:
    description: Major Redis version (V(6)); omit to keep Azure's default or the current one.
    type: str
  minimum_tls_version:
    description: Oldest TLS version accepted.
    type: str
    choices: ['1.0', '1.1', '1.2']
    default: '1.2'
  enable_non_ssl_port:
    description: Open the plain (non-TLS) port 6379.
    type: bool
    default: false
  public_network_access:
    description: Whether the cache is reachable on its public endpoint (V(Disabled) with a private endpoint).
    type: str
    choices: [Enabled, Disabled]
    default: Disabled
  redis_configuration:
    description:
      - Redis server settings as Azure names them (V(maxmemory-policy), V(maxmemory-reserved), ...). Only the
        keys given are managed; values are sent as strings. Persistence keys belong in O(rdb_backup).
    type: dict
    default: {}
  rdb_backup:
    description: RDB persistence (Premium only). Omit to leave persistence unmanaged.
    type: dict
    suboptions:
      enabled:
        description: Whether snapshots are taken.
        type: bool
        default: true
      frequency_minutes:
        description: Minutes between snapshots.
        type: int
        choices: [15, 30, 60, 360, 720, 1440]
        default: 60
      max_snapshot_count:
        description: Snapshots kept in the storage account.
        type: int
        default: 1
      storage_account:
        description:
          - Storage account for the snapshots, as a name in O(resource_group) or a full resource ID.
          - Required when O(rdb_backup.enabled=true).
        type: str
  return_primary_key:
    description:
      - Also return the cache's primary access key (C(listKeys)) in RV(primary_key), for example to write it to
        Key Vault. The task doing this must set C(no_log) so that the key never reaches the output.
    type: bool
    default: false
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing (no keys are read either).
  diff_mode:
    support: full
    description: Shows before/after of what differs; the persistence connection string is never shown.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Test tier cache
  complianceflow.azure_infra.redis_cache:
    resource_group: rg-cf-westeu-test-1
    name: redis-cf-westeu-test-1-1k78
    location: westeurope
    sku: {name: Basic, family: C, capacity: 1}
    redis_configuration:
      maxmemory-policy: allkeys-lru

- name: Production cache, clustered, zone-redundant, RDB snapshots every hour
  complianceflow.azure_infra.redis_cache:
    resource_group: rg-cf-westeu-prod-1
    name: redis-cf-westeu-prod-1-tf1d
    location: westeurope
    sku: {name: Premium, family: P, capacity: 1}
    shard_count: 2
    zones: ['1', '2', '3']
    redis_configuration:
      maxmemory-policy: allkeys-lru
    rdb_backup:
      frequency_minutes: 60
      storage_account: stcfwesteuprod1

- name: Read the primary key for Key Vault
  complianceflow.azure_infra.redis_cache:
    resource_group: rg-cf-westeu-test-1
    name: redis-cf-westeu-test-1-1k78
    location: westeurope
    return_primary_key: true
  register: redis
  no_log: true
"""

RETURN = r"""
id:
  description: Resource ID of the cache.
  returned: always
  type: str
redis:
  description:
    - The cache as Azure returns it (predicted in check mode); empty when absent.
    - Access keys and the persistence connection string are removed.
  returned: always
  type: dict
host_name:
  description: Host name clients connect to (TLS port 6380); empty in check mode before creation.
  returned: when O(state=present)
  type: str
primary_key:
  description: The primary access key. Empty in check mode when the cache does not exist yet.
  returned: when O(return_primary_key=true)
  type: str
"""

import copy
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import (
    WRITE_ONLY_MASK,
    AzureModule,
    tags_body,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.Cache/redis"
STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
CONNECTION_STRING_KEY = "rdb-storage-connection-string"
SECRET_PROPERTIES = ("accessKeys",)


def capability_problems(params: dict[str, Any]) -> list[str]:
    """What Azure would refuse for this SKU, each naming the option (checked before any call)."""
    problems: list[str] = []
    sku = params["sku"]
    premium = sku["name"] == "Premium"
    if premium != (sku["family"] == "P"):
        problems.append(f"sku.family {sku['family']} does not match sku.name {sku['name']} (C: Basic/Standard, P: Premium)")
    if premium and not 1 <= sku["capacity"] <= 5:
        problems.append(f"sku.capacity {sku['capacity']} is not a Premium size (1-5)")
    if not premium and not 0 <= sku["capacity"] <= 6:
        problems.append(f"sku.capacity {sku['capacity']} is not a {sku['name']} size (0-6)")
    if params.get("shard_count") and not premium:
        problems.append("shard_count (clustering) needs the Premium SKU")
    if params.get("zones") and not premium:
        problems.append("zones need the Premium SKU")
    if params.get("replicas_per_primary") is not None and not premium:
        problems.append("replicas_per_primary needs the Premium SKU")
    rdb = params.get("rdb_backup")
    if rdb and rdb["enabled"]:
        if not premium:
            problems.append("rdb_backup (persistence) needs the Premium SKU")
        if not rdb.get("storage_account"):
            problems.append("rdb_backup.storage_account is required when rdb_backup.enabled is true")
    config = params.get("redis_configuration") or {}
    persistence_keys = [k for k in config if k.startswith(("rdb-", "aof-"))]
    if persistence_keys:
        problems.append(f"redis_configuration must not set persistence keys ({', '.join(sorted(persistence_keys))}); "
                        "use rdb_backup (Azure allows RDB or AOF, not both, and this module manages RDB)")
    return problems


def desired_configuration(params: dict[str, Any]) -> dict[str, str]:
    """redisConfiguration as compared with Azure's: declared keys only, values as strings, no secrets."""
    config = {str(k): _config_value(v) for k, v in (params.get("redis_configuration") or {}).items()}
    rdb = params.get("rdb_backup")
    if rdb is not None:
        config["rdb-backup-enabled"] = "true" if rdb["enabled"] else "false"
        if rdb["enabled"]:
            config["rdb-backup-frequency"] = str(rdb["frequency_minutes"])
            config["rdb-backup-max-snapshot-count"] = str(rdb["max_snapshot_count"])
    return config


def _config_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def desired_body(params: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The ARM body to compare with (and send); create adds location and zones, which PATCH cannot change."""
    props: dict[str, Any] = {
        "sku": {"name": params["sku"]["name"], "family": params["sku"]["family"],
                "capacity": params["sku"]["capacity"]},
        "enableNonSslPort": params["enable_non_ssl_port"],
        "minimumTlsVersion": params["minimum_tls_version"],
        "publicNetworkAccess": params["public_network_access"],
    }
    config = desired_configuration(params)
    if config:
        props["redisConfiguration"] = config
    if params.get("shard_count"):
        props["shardCount"] = params["shard_count"]
    if params.get("replicas_per_primary") is not None:
        props["replicasPerPrimary"] = params["replicas_per_primary"]
    if params.get("redis_version"):
        props["redisVersion"] = params["redis_version"]
    body: dict[str, Any] = {**tags_body(params.get("tags")), "properties": props}
    if creating:
        body["location"] = params["location"]
        if params.get("zones"):
            body["zones"] = list(params["zones"])
    return body


def redis_version_matches(desired: str | None, actual: Any) -> bool:
    """Azure reports the full version (6.0.14) for a requested major (6)."""
    if not desired or actual is None:
        return True
    return str(actual) == desired or str(actual).split(".", maxsplit=1)[0] == desired.split(".", maxsplit=1)[0]


def storage_connection_string(account_name: str, blob_endpoint: str, key: str) -> str:
    """Connection string with an explicit blob endpoint, so it is right in every Azure cloud."""
    return (f"DefaultEndpointsProtocol=https;BlobEndpoint={blob_endpoint};AccountName={account_name};"
            f"AccountKey={key}")


def public_view(resource: dict[str, Any] | None) -> dict[str, Any]:
    """The cache without anything secret (keys, the persistence connection string)."""
    if not resource:
        return {}
    out = copy.deepcopy(resource)
    props = out.get("properties") or {}
    for key in SECRET_PROPERTIES:
        props.pop(key, None)
    config = props.get("redisConfiguration")
    if isinstance(config, dict) and CONNECTION_STRING_KEY in config:
        config[CONNECTION_STRING_KEY] = WRITE_ONLY_MASK
    return out


def _connection_string(az: AzureModule, params: dict[str, Any]) -> str:
    account_id = az.resolve_id(params["rdb_backup"]["storage_account"], params["resource_group"], STORAGE_TYPE)
    account = az.call(az.client.get, account_id, api_version(STORAGE_TYPE))
    if account is None:
        az.module.fail_json(msg=f"storage account {account_id} for RDB persistence does not exist")
    keys = az.call(az.client.post, f"{account_id}/listKeys", api_version(STORAGE_TYPE)) or {}
    values = [k.get("value") for k in keys.get("keys") or [] if k.get("value")]
    if not values:
        az.module.fail_json(msg=f"storage account {account_id} returned no keys (is shared key access disabled?)")
    # Ansible masks these wherever they would appear (results, diff, errors); the skeleton adds the string itself.
    az.module.no_log_values.add(values[0])
    blob = ((account.get("properties") or {}).get("primaryEndpoints") or {}).get("blob")
    if not blob:
        az.module.fail_json(msg=f"storage account {account_id} has no blob endpoint")
    return storage_connection_string(account_id.rsplit("/", 1)[1], blob, values[0])


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        sku={"type": "dict", "default": {}, "options": {
            "name": {"type": "str", "choices": ["Basic", "Standard", "Premium"], "default": "Basic"},
            "family": {"type": "str", "choices": ["C", "P"], "default": "C"},
            "capacity": {"type": "int", "default": 1},
        }},
        shard_count={"type": "int"},
        replicas_per_primary={"type": "int"},
        zones={"type": "list", "elements": "str", "default": []},
        redis_version={"type": "str"},
        minimum_tls_version={"type": "str", "choices": ["1.0", "1.1", "1.2"], "default": "1.2"},
        enable_non_ssl_port={"type": "bool", "default": False},
        public_network_access={"type": "str", "choices": ["Enabled", "Disabled"], "default": "Disabled"},
        redis_configuration={"type": "dict", "default": {}},
        rdb_backup={"type": "dict", "options": {
            "enabled": {"type": "bool", "default": True},
            "frequency_minutes": {"type": "int", "choices": [15, 30, 60, 360, 720, 1440], "default": 60},
            "max_snapshot_count": {"type": "int", "default": 1},
            "storage_account": {"type": "str"},
        }},
        return_primary_key={"type": "bool", "default": False},
    ))
    params = az.params
    cache_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    if params["state"] == "present":
        problems = capability_problems(params)
        if problems:
            az.module.fail_json(msg=f"{cache_id}: " + "; ".join(problems))

    def desired(actual: dict[str, Any] | None) -> dict[str, Any]:
        body = desired_body(params, creating=True)
        if actual is not None and redis_version_matches(params["redis_version"],
                                                        (actual.get("properties") or {}).get("redisVersion")):
            body["properties"].pop("redisVersion", None)
        return body

    # The persistence connection string is write-only (registry): never compared, built from the storage
    # account's key only when a write happens, and masked in every result and diff.
    rdb = params["rdb_backup"]
    secrets = {f"properties.redisConfiguration.{CONNECTION_STRING_KEY}": lambda: _connection_string(az, params)} \
        if rdb and rdb["enabled"] else None
    result = az.ensure(cache_id, TYPE, desired, label="redis", secrets=secrets)
    if params["state"] == "absent":
        az.exit(id=result["id"], redis={})
    resource = result["resource"]
    out: dict[str, Any] = {"id": result["id"], "redis": public_view(resource),
                           "host_name": str((resource.get("properties") or {}).get("hostName") or "")}
    if params["return_primary_key"]:
        out["primary_key"] = ""
        if not (az.check_mode and result["differences"] == ["(create)"]):
            keys = az.call(az.client.post, f"{cache_id}/listKeys", api_version(TYPE)) or {}
            out["primary_key"] = str(keys.get("primaryKey") or "")
    az.exit(**out)


if __name__ == "__main__":
    main()
