#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: network_watcher
short_description: Manage an Azure Network Watcher
version_added: 0.1.0
description:
  - Ensures a Network Watcher in a region (Azure allows one per region and subscription).
options:
  resource_group:
    description: Resource group of the watcher (Azure's own default is C(NetworkWatcherRG)).
    type: str
    required: true
  name:
    description: Watcher name, for example V(NetworkWatcher_westeurope).
    type: str
    required: true
  location:
    description: Azure region. Required to create.
    type: str
  tags:
    description: Tags the watcher must carry; other tags are kept.
    type: dict
  state:
    description: Whether the watcher should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Shows before/after of what differs.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Network Watcher for West Europe
  complianceflow.azure_infra.network_watcher:
    resource_group: rg-cf-westeu-test-1
    name: nw-cf-westeu-test-1
    location: westeurope
"""

RETURN = r"""
id:
  description: Resource ID of the watcher.
  returned: always
  type: str
network_watcher:
  description: The watcher as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import api_versions
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "location": {"type": "str"},
            "tags": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    watcher_id = az.provider_id(params["resource_group"], "Microsoft.Network/networkWatchers", params["name"])
    if params["state"] == "absent":
        az.ensure_absent(watcher_id, api_versions.NETWORK, label="network_watcher")
        az.exit(id=watcher_id, network_watcher={})
    actual = az.call(az.client.get, watcher_id, api_versions.NETWORK)
    if actual is None and not params["location"]:
        az.module.fail_json(msg=f"location is required to create {watcher_id}")
    desired = {"location": params["location"] or actual["location"], **tags_body(params["tags"])}
    result = az.reconcile(watcher_id, api_versions.NETWORK, desired, label="network_watcher", actual=actual,
                          fetch=False)
    az.exit(id=result["id"], network_watcher=result["resource"])


if __name__ == "__main__":
    main()
