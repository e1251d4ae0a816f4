#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: redis_info
short_description: Read Azure Cache for Redis instances
version_added: 0.1.0
description:
  - Reads one cache (O(name)) or every cache of a resource group. Access keys and the persistence connection
    string are never returned, except the primary key when O(return_primary_key) asks for it.
options:
  resource_group:
    description: Resource group of the caches.
    type: str
    required: true
  name:
    description: Cache name; omit to list the group's caches.
    type: str
  return_primary_key:
    description:
      - With O(name), also return the cache's primary access key (C(listKeys)) in RV(primary_key), for example to
        write it to Key Vault. The task doing this must set C(no_log) so that the key never reaches the output.
    type: bool
    default: false
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the deployment's cache
  complianceflow.azure_infra.redis_info:
    resource_group: rg-cf-westeu-test-1
    name: redis-cf-westeu-test-1-1k78
  register: cache

- name: Persistence is on in production
  ansible.builtin.assert:
    that: cache.redis.properties.redisConfiguration['rdb-backup-enabled'] == 'true'
"""

RETURN = r"""
exists:
  description: With O(name), whether the cache exists.
  returned: when O(name) is given
  type: bool
redis:
  description: The cache as Azure returns it, without secrets; empty when absent.
  returned: when O(name) is given
  type: dict
primary_key:
  description: The primary access key; empty when the cache does not exist.
  returned: when O(name) is given and O(return_primary_key=true)
  type: str
caches:
  description: The group's caches, without secrets.
  returned: when O(name) is not given
  type: list
  elements: dict
"""

import copy
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

API = api_version("Microsoft.Cache/redis")


def public_view(resource: dict[str, Any] | None) -> dict[str, Any]:
    """The cache without its access keys or the persistence connection string (modules cannot share code
    outside module_utils, so this mirrors redis_cache's)."""
    if not resource:
        return {}
    out = copy.deepcopy(resource)
    props = out.get("properties") or {}
    props.pop("accessKeys", None)
    config = props.get("redisConfiguration")
    if isinstance(config, dict) and "rdb-storage-connection-string" in config:
        config["rdb-storage-connection-string"] = "<never shown>"
    return out


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str"},
            "return_primary_key": {"type": "bool", "default": False},
        },
    )
    params = az.params
    collection = f"{az.rg_id(params['resource_group'])}/providers/Microsoft.Cache/redis"
    if not params["name"]:
        caches = az.call(az.client.list, collection, API)
        az.exit(changed=False, caches=[public_view(c) for c in caches])
    cache_id = f"{collection}/{params['name']}"
    cache = az.call(az.client.get, cache_id, API)
    result: dict[str, Any] = {"changed": False, "exists": cache is not None, "redis": public_view(cache)}
    if params["return_primary_key"]:
        keys = (az.call(az.client.post, f"{cache_id}/listKeys", API) or {}) if cache is not None else {}
        result["primary_key"] = str(keys.get("primaryKey") or "")
    az.exit(**result)


if __name__ == "__main__":
    main()
