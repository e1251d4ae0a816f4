#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: key_vault_info
short_description: Read an Azure Key Vault, its soft-deleted twin and the names of its secrets
version_added: 0.1.0
description:
  - Reads a vault by name. When it does not exist, also says whether a soft-deleted vault holds the name.
  - With O(list_secrets), lists the secret names and their metadata from the data plane (never a value;
    with RBAC authorization the caller needs a data role such as Key Vault Secrets User).
options:
  resource_group:
    description: Resource group of the vault.
    type: str
    required: true
  name:
    description: Vault name.
    type: str
    required: true
  location:
    description: Region to look for a soft-deleted vault of that name in (deleted vaults are kept per region).
    type: str
  list_secrets:
    description: Also list the vault's secrets (names and metadata).
    type: bool
    default: false
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the deployment's vault and its secret names
  complianceflow.azure_infra.key_vault_info:
    resource_group: "{{ deployment.resource_group }}"
    name: "{{ deployment.names.key_vault }}"
    location: "{{ deployment.location }}"
    list_secrets: true
  register: vault
"""

RETURN = r"""
exists:
  description: Whether the vault exists.
  returned: always
  type: bool
key_vault:
  description: The vault as Azure returns it; empty when absent.
  returned: always
  type: dict
deleted_vault:
  description: The soft-deleted vault of that name in O(location); empty when none or no O(location).
  returned: always
  type: dict
secrets:
  description: Secret name -> metadata (content type, tags, dates), with O(list_secrets=true). Never values.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import (
    KeyVaultError,
    SecretsClient,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

API_VERSION = api_version("Microsoft.KeyVault/vaults")


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "location": {"type": "str"},
            "list_secrets": {"type": "bool", "default": False},
        },
    )
    params = az.params
    vault_id = az.provider_id(params["resource_group"], "Microsoft.KeyVault/vaults", params["name"])
    vault = az.call(az.client.get, vault_id, API_VERSION)
    deleted: dict[str, Any] = {}
    if vault is None and params["location"]:
        deleted = az.call(az.client.get, f"/subscriptions/{az.subscription_id}/providers/Microsoft.KeyVault/locations/"
                                         f"{params['location'].replace(' ', '').lower()}/deletedVaults/{params['name']}",
                          API_VERSION) or {}
    secrets: dict[str, Any] = {}
    vault_uri = ((vault or {}).get("properties") or {}).get("vaultUri")
    if params["list_secrets"] and vault_uri:
        client = SecretsClient(str(vault_uri), az.client.credential, verify=az.client.verify, rbac_wait=0)
        try:
            _status, body = client._send("GET", "secrets")
            items = list((body or {}).get("value") or [])
            next_link = (body or {}).get("nextLink")
            while next_link:
                _status, body = client._send("GET", next_link)
                items.extend((body or {}).get("value") or [])
                next_link = (body or {}).get("nextLink")
        except KeyVaultError as exc:
            az.module.fail_json(msg=str(exc), error=exc.as_dict())
        for item in items:
            attributes = item.get("attributes") or {}
            secrets[str(item.get("id", "")).rstrip("/").rsplit("/", 1)[-1]] = {
                "id": item.get("id"), "content_type": item.get("contentType"), "tags": item.get("tags") or {},
                "enabled": attributes.get("enabled"), "updated": attributes.get("updated")}
    az.exit(changed=False, exists=vault is not None, key_vault=vault or {}, deleted_vault=deleted, secrets=secrets)


if __name__ == "__main__":
    main()
