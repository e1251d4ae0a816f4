#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: storage_account
short_description: Manage an Azure storage account
version_added: 0.1.0
description:
  - Ensures a storage account with secure defaults (TLS 1.2, HTTPS only, no anonymous blob access) and
    optional network rules. Created with PUT; later changes are sent as PATCH of only what the task declares.
options:
  name:
    description: Account name (3-24 lowercase letters and digits, unique across Azure).
  sku:
    description: Replication SKU.
    type: str
    default: Standard_LRS
    choices: [Standard_LRS, Standard_GRS, Standard_RAGRS, Standard_ZRS, Standard_GZRS, Standard_RAGZRS,
              Premium_LRS, Premium_ZRS]
  kind:
    description: Account kind.
    type: str
    default: StorageV2
    choices: [StorageV2, BlobStorage, BlockBlobStorage, FileStorage, Storage]
  minimum_tls_version:
    description: Oldest TLS version accepted.
    type: str
    default: TLS1_2
    choices: [TLS1_0, TLS1_1, TLS1_2]
  allow_blob_public_access:
    description: Whether containers may allow anonymous read access.
    type: bool
    default: false
  https_only:
    description: Refuse plain HTTP.
    type: bool
    default: true
  network_acls:
    description: Firewall of the account. Omit to leave unmanaged.
    type: dict
    suboptions:
      default_action:
        description: What happens to traffic no rule matches.
        type: str
        choices: [Allow, Deny]
        default: Deny
      bypass:
        description: Services that pass regardless, comma separated (V(AzureServices), V(Logging, Metrics)).
        type: str
        default: AzureServices
      ip_rules:
        description: Public IPs or CIDRs allowed.
        type: list
        elements: str
        default: []
      virtual_network_rules:
        description: Resource IDs of subnets allowed (they need the Microsoft.Storage service endpoint).
        type: list
        elements: str
        default: []
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
- name: Storage account for flow logs, reachable from the storage subnet only
  complianceflow.azure_infra.storage_account:
    resource_group: rg-cf-westeu-test-1
    name: stcfwesteutest1
    location: westeurope
    network_acls:
      default_action: Deny
      virtual_network_rules:
        - "{{ storage_subnet_id }}"
"""

RETURN = r"""
id:
  description: Resource ID of the account.
  returned: always
  type: str
storage_account:
  description: The account as Azure returns it (predicted in check mode); empty when absent. Never holds keys.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Storage/storageAccounts"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        sku={"type": "str", "default": "Standard_LRS",
             "choices": ["Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Standard_GZRS",
                         "Standard_RAGZRS", "Premium_LRS", "Premium_ZRS"]},
        kind={"type": "str", "default": "StorageV2",
              "choices": ["StorageV2", "BlobStorage", "BlockBlobStorage", "FileStorage", "Storage"]},
        minimum_tls_version={"type": "str", "default": "TLS1_2", "choices": ["TLS1_0", "TLS1_1", "TLS1_2"]},
        allow_blob_public_access={"type": "bool", "default": False},
        https_only={"type": "bool", "default": True},
        network_acls={"type": "dict", "options": {
            "default_action": {"type": "str", "choices": ["Allow", "Deny"], "default": "Deny"},
            "bypass": {"type": "str", "default": "AzureServices", "no_log": False},
            "ip_rules": {"type": "list", "elements": "str", "default": []},
            "virtual_network_rules": {"type": "list", "elements": "str", "default": []},
        }},
    ))
    params = az.params
    account_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    props: dict[str, Any] = {
        "minimumTlsVersion": params["minimum_tls_version"],
        "allowBlobPublicAccess": params["allow_blob_public_access"],
        "supportsHttpsTrafficOnly": params["https_only"],
    }
    acls = params["network_acls"]
    if acls:
        props["networkAcls"] = {
            "defaultAction": acls["default_action"], "bypass": acls["bypass"],
            "ipRules": [{"value": ip, "action": "Allow"} for ip in acls["ip_rules"]],
            "virtualNetworkRules": [{"id": subnet, "action": "Allow"} for subnet in acls["virtual_network_rules"]],
        }
    # Storage's PUT on an existing account is a create call with stricter rules: the registry says PATCH.
    result = az.ensure(account_id, TYPE, {"location": params["location"], "sku": {"name": params["sku"]},
                                          "kind": params["kind"], **az.tags_body(), "properties": props},
                       label="storage_account")
    az.exit(id=result["id"], storage_account=result["resource"])


if __name__ == "__main__":
    main()
