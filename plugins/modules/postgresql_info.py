#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_info
short_description: Read an Azure Database for PostgreSQL flexible server, its databases and server parameters
version_added: 0.1.0
description:
  - Reads one flexible server with its databases and, optionally, the values of some server parameters.
options:
  resource_group:
    description: Resource group of the server.
    type: str
    required: true
  name:
    description: Server name.
    type: str
    required: true
  parameters:
    description: Server parameters to read (names).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the server and the parameters the database role sets
  complianceflow.azure_infra.postgresql_info:
    resource_group: "{{ deployment.resource_group }}"
    name: "{{ deployment.names.postgresql_server }}"
    parameters: [require_secure_transport, azure.extensions]
  register: psql
"""

RETURN = r"""
exists:
  description: Whether the server exists.
  returned: always
  type: bool
server:
  description: The server as Azure returns it; empty when absent.
  returned: always
  type: dict
databases:
  description: Names of the server's databases.
  returned: always
  type: list
  elements: str
parameters:
  description: Parameter name -> current value, for O(parameters).
  returned: always
  type: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

API_VERSION = api_version("Microsoft.DBforPostgreSQL/flexibleServers")


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "parameters": {"type": "list", "elements": "str", "default": []},
        },
    )
    params = az.params
    server_id = az.provider_id(params["resource_group"], "Microsoft.DBforPostgreSQL/flexibleServers", params["name"])
    server = az.call(az.client.get, server_id, API_VERSION)
    if server is None:
        az.exit(changed=False, exists=False, server={}, databases=[], parameters={})
    databases = [str(d.get("name")) for d in az.call(az.client.list, f"{server_id}/databases", API_VERSION)]
    values = {}
    for name in params["parameters"]:
        config = az.call(az.client.get, f"{server_id}/configurations/{name}", API_VERSION)
        values[name] = ((config or {}).get("properties") or {}).get("value")
    az.exit(changed=False, exists=True, server=server, databases=sorted(databases), parameters=values)


if __name__ == "__main__":
    main()
