#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_database
short_description: Manage databases of an Azure Database for PostgreSQL flexible server
version_added: 0.1.0
description:
  - Ensures the listed databases exist on a flexible server (through ARM, so no network path to the server
    is needed). One task handles a whole list, one GET per database on a converged server.
  - Charset and collation are fixed at creation; a database that exists with others fails with a message.
  - Databases not listed are left alone.
options:
  resource_group:
    description: Resource group of the server.
    type: str
    required: true
  server:
    description: Server name.
    type: str
    required: true
  names:
    description: Database names.
    type: list
    elements: str
    required: true
  charset:
    description: Character set of new databases.
    type: str
    default: UTF8
  collation:
    description: Collation of new databases.
    type: str
    default: en_US.utf8
  state:
    description: Whether the databases should exist. V(absent) drops them and their data.
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  diff_mode:
    support: full
    description: Shows the databases that would be created or dropped.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: One database per service
  complianceflow.azure_infra.postgresql_database:
    resource_group: rg-cf-westeu-test-1
    server: psql-cf-westeu-test-1-ab12
    names: "{{ deployment.databases.values() | list }}"
"""

RETURN = r"""
databases:
  description: Resource ID of each database (name -> ID).
  returned: always
  type: dict
created:
  description: Databases created (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

SERVER = "Microsoft.DBforPostgreSQL/flexibleServers"
TYPE = "Microsoft.DBforPostgreSQL/flexibleServers/databases"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.STATE,
        resource_group={"type": "str", "required": True},
        server={"type": "str", "required": True},
        names={"type": "list", "elements": "str", "required": True},
        charset={"type": "str", "default": "UTF8"},
        collation={"type": "str", "default": "en_US.utf8"},
    ))
    params = az.params
    server_id = az.provider_id(params["resource_group"], SERVER, params["server"])
    server_exists = az.call(az.client.get, server_id, api_version(SERVER)) is not None
    if not server_exists and not az.check_mode and params["state"] == "present":
        az.module.fail_json(msg=f"server {server_id} does not exist; create it first")
    ids: dict[str, str] = {}
    created: list[str] = []
    for name in params["names"]:
        db_id = f"{server_id}/databases/{name}"
        ids[name] = db_id
        actual = az.call(az.client.get, db_id, api_version(TYPE)) if server_exists else None
        if params["state"] == "absent":
            az.ensure_absent(db_id, TYPE, label=name, actual=actual, fetch=False)
            continue
        if actual is not None:
            props = actual.get("properties") or {}
            # Fixed at creation; compared the way PostgreSQL names them (UTF8 is UTF-8).
            for option, key in (("charset", "charset"), ("collation", "collation")):
                have = props.get(key)
                if have and str(have).replace("-", "").lower() != params[option].replace("-", "").lower():
                    az.module.fail_json(msg=f"{db_id} has {key} {have}; Azure cannot change it (asked "
                                            f"{params[option]})", changed=az.changed)
            continue
        created.append(name)
        az.ensure_present(db_id, TYPE, {"properties": {"charset": params["charset"], "collation": params["collation"]}},
                          label=name, actual=None)
    az.exit(databases=ids, created=created)


if __name__ == "__main__":
    main()
