#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
  name:
    description: Watcher name, for example V(NetworkWatcher_westeurope).
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Network/networkWatchers"


def main() -> None:
    az = AzureModule(args_common.argument_spec(args_common.RESOURCE, args_common.TAGS, args_common.STATE))
    params = az.params
    watcher_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    result = az.ensure(watcher_id, TYPE, {"location": params["location"], **az.tags_body()}, label="network_watcher")
    az.exit(id=result["id"], network_watcher=result["resource"])


if __name__ == "__main__":
    main()
