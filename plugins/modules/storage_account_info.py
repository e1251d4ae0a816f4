#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: storage_account_info
short_description: Read Azure storage accounts
version_added: 0.1.0
description:
  - Reads one storage account, or lists the accounts of a resource group. Never returns account keys.
options:
  resource_group:
    description: Resource group of the account(s).
    type: str
    required: true
  name:
    description: Account to read; omit to list the group's accounts.
    type: str
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the flow log account
  complianceflow.azure_infra.storage_account_info:
    resource_group: rg-cf-westeu-test-1
    name: stcfwesteutest1
  register: sa
"""

RETURN = r"""
exists:
  description: With O(name), whether the account exists.
  returned: when O(name) is given
  type: bool
storage_account:
  description: The account as Azure returns it; empty when absent.
  returned: when O(name) is given
  type: dict
storage_accounts:
  description: The group's accounts.
  returned: when O(name) is not given
  type: list
  elements: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

API = api_version("Microsoft.Storage/storageAccounts")


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str"},
        },
    )
    params = az.params
    collection = f"{az.rg_id(params['resource_group'])}/providers/Microsoft.Storage/storageAccounts"
    if not params["name"]:
        az.exit(changed=False, storage_accounts=az.call(az.client.list, collection, API))
    account = az.call(az.client.get, f"{collection}/{params['name']}", API)
    az.exit(changed=False, exists=account is not None, storage_account=account or {})


if __name__ == "__main__":
    main()
