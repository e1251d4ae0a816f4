#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resource_info
short_description: Read any Azure Resource Manager resource or collection by ID
version_added: 0.1.0
description:
  - GETs one ARM resource ID (or a collection path, following C(nextLink) paging) with the given API version.
    Meant for verify steps; it never writes.
options:
  id:
    description: Resource ID or collection path, starting with C(/subscriptions/) or C(/providers/).
    type: str
    required: true
  api_version:
    description: The provider's API version, for example V(2024-05-01) for Microsoft.Network.
    type: str
    required: true
  collection:
    description: Treat O(id) as a list endpoint and return every item in RV(items).
    type: bool
    default: false
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the deployment's network
  complianceflow.azure_infra.resource_info:
    id: "{{ deployment.ids.virtual_network }}"
    api_version: "2024-05-01"
  register: vnet

- name: List the locks of a group
  complianceflow.azure_infra.resource_info:
    id: /subscriptions/{{ sub }}/resourceGroups/rg-cf-westeu-prod-1/providers/Microsoft.Authorization/locks
    api_version: "2020-05-01"
    collection: true
"""

RETURN = r"""
exists:
  description: Whether the resource exists (always true for a collection that could be listed).
  returned: always
  type: bool
resource:
  description: The resource as Azure returns it; empty when absent or when O(collection=true).
  returned: always
  type: dict
items:
  description: The collection's items.
  returned: when O(collection=true)
  type: list
  elements: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule


def main() -> None:
    az = AzureModule(
        argument_spec={
            "id": {"type": "str", "required": True},
            "api_version": {"type": "str", "required": True},
            "collection": {"type": "bool", "default": False},
        },
    )
    params = az.params
    if params["collection"]:
        items = az.call(az.client.list, params["id"], params["api_version"])
        az.exit(changed=False, exists=True, resource={}, items=items)
    resource = az.call(az.client.get, params["id"], params["api_version"])
    az.exit(changed=False, exists=resource is not None, resource=resource or {})


if __name__ == "__main__":
    main()
