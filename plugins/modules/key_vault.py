#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: key_vault
short_description: Manage an Azure Key Vault (RBAC, soft delete, purge protection, network ACLs)
version_added: 0.1.0
description:
  - Ensures a Key Vault with RBAC authorization, soft delete and the declared network ACLs.
  - When the vault does not exist but a soft-deleted vault of the same name does (names stay taken until
    purged), the vault is B(recovered) with its secrets instead of failing on the name, then brought to the
    declared state.
  - Purge protection cannot be turned off once on, and the soft-delete retention cannot change after
    creation; asking for either fails with a message instead of a refused request.
  - Changes to an existing vault are sent as PATCH of only what the task declares.
options:
  name:
    description: Vault name (3-24 letters, digits and hyphens, unique across Azure).
  location:
    description: Azure region. Required to create or to recover a soft-deleted vault.
  tenant_id:
    description:
      - Entra ID tenant that authenticates requests to the vault.
      - Defaults to the tenant of the credentials the task runs with (read from its token).
    type: str
  sku:
    description: Pricing tier.
    type: str
    choices: [standard, premium]
    default: standard
  enable_rbac_authorization:
    description: Authorize data-plane calls with Azure RBAC instead of access policies.
    type: bool
    default: true
  soft_delete_retention_days:
    description: Days a deleted vault or secret stays recoverable (7-90). Set at creation only.
    type: int
    default: 90
  enable_purge_protection:
    description:
      - Refuse purging deleted vaults and secrets before the retention ends. Irreversible once on.
      - V(false) on a vault that has it fails rather than being ignored.
    type: bool
    default: false
  public_network_access:
    description: Whether the public endpoint accepts traffic at all (then filtered by O(network_acls)).
    type: str
    choices: [Enabled, Disabled]
    default: Enabled
  network_acls:
    description: Firewall of the vault. Omit to leave it unmanaged.
    type: dict
    suboptions:
      default_action:
        description: What happens to traffic no rule matches.
        type: str
        choices: [Allow, Deny]
        default: Deny
      bypass:
        description: V(AzureServices) lets Azure's trusted services through.
        type: str
        choices: [AzureServices, None]
        default: AzureServices
      ip_rules:
        description: Public IPv4 addresses or CIDR ranges allowed (a bare address means C(/32)).
        type: list
        elements: str
        default: []
      virtual_network_rules:
        description: Resource IDs of subnets allowed (they need the Microsoft.KeyVault service endpoint).
        type: list
        elements: str
        default: []
  recover_soft_deleted:
    description: Recover a soft-deleted vault of the same name instead of failing on it.
    type: bool
    default: true
  state:
    description: Whether the vault should exist. V(absent) soft-deletes it (Azure keeps it recoverable).
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  check_mode:
    support: full
    description: Reports what would change (including a recovery) and writes nothing.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Vault reachable from the apps subnet, Azure services and the runner's range
  complianceflow.azure_infra.key_vault:
    resource_group: rg-cf-westeu-prod-1
    name: kv-cf-westeu-prod-1-ab12
    location: westeurope
    enable_purge_protection: true
    network_acls:
      default_action: Deny
      bypass: AzureServices
      ip_rules: [198.51.100.0/28]
      virtual_network_rules:
        - "{{ deployment.subnets.containerapps.id }}"
"""

RETURN = r"""
id:
  description: Resource ID of the vault.
  returned: always
  type: str
vault_uri:
  description: The data-plane URI of the vault (where secrets are read and written); empty when absent.
  returned: always
  type: str
recovered:
  description: Whether a soft-deleted vault was (or in check mode would be) recovered.
  returned: always
  type: bool
key_vault:
  description: The vault as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import caller_identity
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.KeyVault/vaults"


def _ip_rule(value: str) -> str:
    # Key Vault stores a single address as a /32 range and returns it so.
    return value if "/" in value else f"{value}/32"


def desired_body(params: dict[str, Any], tenant_id: str, creating: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "tenantId": tenant_id,
        "sku": {"family": "A", "name": params["sku"]},
        "enableRbacAuthorization": params["enable_rbac_authorization"],
        "enableSoftDelete": True,
        "publicNetworkAccess": params["public_network_access"],
    }
    if creating:
        props["softDeleteRetentionInDays"] = params["soft_delete_retention_days"]
        # Access policies are ignored with RBAC authorization but the create call requires the list.
        props["accessPolicies"] = []
    if params["enable_purge_protection"]:
        # Azure accepts only true here: the property cannot be set to false, even on create.
        props["enablePurgeProtection"] = True
    acls = params["network_acls"]
    if acls:
        props["networkAcls"] = {
            "defaultAction": acls["default_action"], "bypass": acls["bypass"],
            "ipRules": [{"value": _ip_rule(ip)} for ip in acls["ip_rules"]],
            "virtualNetworkRules": [{"id": subnet, "ignoreMissingVnetServiceEndpoint": False}
                                    for subnet in acls["virtual_network_rules"]],
        }
    return {**tags_body(params["tags"]), "properties": props}


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        tenant_id={"type": "str"},
        sku={"type": "str", "choices": ["standard", "premium"], "default": "standard"},
        enable_rbac_authorization={"type": "bool", "default": True},
        soft_delete_retention_days={"type": "int", "default": 90},
        enable_purge_protection={"type": "bool", "default": False},
        public_network_access={"type": "str", "choices": ["Enabled", "Disabled"], "default": "Enabled"},
        network_acls={"type": "dict", "options": {
            "default_action": {"type": "str", "choices": ["Allow", "Deny"], "default": "Deny"},
            "bypass": {"type": "str", "choices": ["AzureServices", "None"], "default": "AzureServices"},
            "ip_rules": {"type": "list", "elements": "str", "default": []},
            "virtual_network_rules": {"type": "list", "elements": "str", "default": []},
        }},
        recover_soft_deleted={"type": "bool", "default": True},
    ))
    params = az.params
    if not 7 <= params["soft_delete_retention_days"] <= 90:
        az.module.fail_json(msg="soft_delete_retention_days must be between 7 and 90")
    vault_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    if params["state"] == "absent":
        az.ensure(vault_id, TYPE, {}, label="key_vault")
        az.exit(id=vault_id, vault_uri="", recovered=False, key_vault={})

    actual = az.call(az.client.get, vault_id, api_version(TYPE))
    tenant_id = params["tenant_id"] or (actual or {}).get("properties", {}).get("tenantId") or \
        caller_identity(az.client.credential, az.client.scopes[0])["tenant_id"]
    recovered = False
    if actual is None and params["location"]:
        deleted_id = (f"/subscriptions/{az.subscription_id}/providers/Microsoft.KeyVault/locations/"
                      f"{params['location'].replace(' ', '').lower()}/deletedVaults/{params['name']}")
        deleted = az.call(az.client.get, deleted_id, api_version(TYPE))
        if deleted is not None:
            if not params["recover_soft_deleted"]:
                az.module.fail_json(msg=f"a soft-deleted vault named {params['name']} exists ({deleted_id}); "
                                        "recover it (recover_soft_deleted=true) or purge it first")
            if str((deleted.get("properties") or {}).get("vaultId", vault_id)).lower() != vault_id.lower():
                az.module.fail_json(msg=f"the soft-deleted vault {params['name']} belonged to "
                                        f"{deleted['properties'].get('vaultId')}; recover it there, or purge it")
            recovered = True
            az.changed = True
            recover_body = {"location": params["location"], "properties": {
                "tenantId": tenant_id, "sku": {"family": "A", "name": params["sku"]}, "createMode": "recover"}}
            az.record_diff("key_vault", {"before": {"deleted_vault": deleted_id}, "after": {"recovered": vault_id}})
            if az.check_mode:
                # The recovered vault keeps its old settings; predict the rest as an update of those.
                predicted = {**desired_body(params, tenant_id, creating=False), "location": params["location"],
                             "id": vault_id}
                az.exit(id=vault_id, vault_uri="", recovered=True, key_vault=predicted)
            actual = az.call(az.client.write, "PUT", vault_id, api_version(TYPE), recover_body, params["timeout"])

    if actual is not None and (actual.get("properties") or {}).get("enablePurgeProtection") \
            and not params["enable_purge_protection"]:
        az.module.fail_json(msg=f"{vault_id} has purge protection, which cannot be turned off; set "
                                "enable_purge_protection=true")
    # Retention and location are fixed at creation and access policies sent on create only (registry).
    result = az.ensure_present(vault_id, TYPE, {"location": params["location"],
                                                **desired_body(params, tenant_id, creating=True)},
                               label="key_vault", actual=actual)
    vault = result["resource"]
    az.exit(id=result["id"], vault_uri=str((vault.get("properties") or {}).get("vaultUri") or ""),
            recovered=recovered, key_vault=vault)


if __name__ == "__main__":
    main()
