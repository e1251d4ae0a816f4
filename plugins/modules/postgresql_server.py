#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_server
short_description: Manage an Azure Database for PostgreSQL flexible server and its server parameters
version_added: 0.1.0
description:
  - Ensures a flexible server (SKU, version, storage, backup, high availability, VNet integration) and the
    server parameters the task lists.
  - The administrator password is write-only (Azure never returns it). It is sent with every write of the
    server, never compared, and never shown. It can be read by the module itself from Key Vault
    (O(administrator_login_password_secret)), only when a write happens, so that it never becomes an Ansible
    variable.
  - Settings Azure cannot change after creation (network integration, geo-redundant backup, administrator
    login) fail with a message naming them instead of a refused request. A major version upgrade is not
    done by this module.
  - Server parameters are compared the way PostgreSQL reads them (case-insensitive, comma lists as sets).
    Static parameters (such as C(shared_preload_libraries)) take effect after a restart, which the module
    does when O(restart_for_static_parameters=true) and Azure reports a restart pending.
options:
  name:
    description: Server name (3-63 lowercase letters, digits and hyphens, unique across Azure).
  version:
    description: PostgreSQL major version.
    type: str
    default: '16'
  sku_name:
    description: Compute size (V(Standard_B1ms), V(Standard_D4ds_v5) ...). Required to create.
    type: str
  sku_tier:
    description: Compute tier matching O(sku_name). Required to create.
    type: str
    choices: [Burstable, GeneralPurpose, MemoryOptimized]
  storage_size_gb:
    description: Storage size in GiB (can grow, never shrink).
    type: int
  storage_auto_grow:
    description: Grow storage automatically when it fills up.
    type: bool
  backup_retention_days:
    description: Days of point-in-time restore (7-35).
    type: int
  geo_redundant_backup:
    description: Keep backups in the paired region. Set at creation only.
    type: bool
  high_availability:
    description: High availability mode. Burstable servers support only V(Disabled).
    type: str
    choices: [Disabled, SameZone, ZoneRedundant]
  availability_zone:
    description: Preferred zone of the primary.
    type: str
  administrator_login:
    description: Administrator login. Set at creation only.
    type: str
    default: cfadmin
  administrator_login_password:
    description: Administrator password, required to create the server and sent with every write of it.
    type: str
  administrator_login_password_secret:
    description: Read the administrator password from Key Vault (only when the server is written).
    type: dict
    suboptions:
      vault_uri:
        description: The vault's data-plane URI.
        type: str
      vault_id:
        description: Resource ID of the vault (its URI is read from ARM).
        type: str
      name:
        description: Secret name.
        type: str
        required: true
  delegated_subnet_id:
    description: Resource ID of the subnet delegated to C(Microsoft.DBforPostgreSQL/flexibleServers) (VNet integration).
    type: str
  private_dns_zone_id:
    description: Resource ID of the private DNS zone the server's name is registered in (needed with a delegated subnet).
    type: str
  public_network_access:
    description: Public endpoint. Always V(Disabled) with VNet integration.
    type: str
    choices: [Enabled, Disabled]
    default: Disabled
  parameters:
    description: Server parameters (name -> value) the server must have. Others are left alone.
    type: dict
    default: {}
  restart_for_static_parameters:
    description: Restart the server when a parameter change needs it to take effect.
    type: bool
    default: true
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  diff_mode:
    support: full
    description: Shows before/after of what differs (never the password).
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Test-tier server in the delegated db subnet
  complianceflow.azure_infra.postgresql_server:
    resource_group: rg-cf-westeu-test-1
    name: psql-cf-westeu-test-1-ab12
    location: westeurope
    sku_name: Standard_B1ms
    sku_tier: Burstable
    storage_size_gb: 32
    storage_auto_grow: false
    backup_retention_days: 7
    geo_redundant_backup: false
    high_availability: Disabled
    administrator_login_password_secret:
      vault_id: "{{ deployment.ids.key_vault }}"
      name: postgresql-admin-password
    delegated_subnet_id: "{{ deployment.subnets.db.id }}"
    private_dns_zone_id: "{{ deployment.ids.private_dns_zones[deployment.names.postgresql_private_dns_zone] }}"
    parameters:
      require_secure_transport: "on"
      azure.extensions: pg_stat_statements,pg_trgm,uuid-ossp
"""

RETURN = r"""
id:
  description: Resource ID of the server.
  returned: always
  type: str
fqdn:
  description: The server's host name (empty when absent or in check mode before creation).
  returned: always
  type: str
server:
  description: The server as Azure returns it (predicted in check mode); empty when absent. Never the password.
  returned: always
  type: dict
parameters:
  description: For each parameter of O(parameters), its value after the task.
  returned: always
  type: dict
restarted:
  description: Whether the server was (or would be) restarted for static parameters.
  returned: always
  type: bool
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import (
    KeyVaultError,
    SecretsClient,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.DBforPostgreSQL/flexibleServers"
CONFIGURATION = "Microsoft.DBforPostgreSQL/flexibleServers/configurations"


def enabled(flag: bool | None) -> str | None:
    return None if flag is None else ("Enabled" if flag else "Disabled")


def normalize_parameter(value: Any) -> str:
    """How PostgreSQL reads a setting: case-insensitive, and comma lists (extensions, libraries) as sets."""
    text = str(value).strip().lower()
    if "," in text:
        return ",".join(sorted(part.strip() for part in text.split(",") if part.strip()))
    return {"true": "on", "false": "off"}.get(text, text)


def read_password(az: AzureModule, spec: dict[str, Any]) -> str:
    vault_uri = spec.get("vault_uri")
    if not vault_uri:
        vault = az.call(az.client.get, spec["vault_id"], api_version("Microsoft.KeyVault/vaults"))
        vault_uri = ((vault or {}).get("properties") or {}).get("vaultUri")
        if not vault_uri:
            az.module.fail_json(msg=f"vault {spec['vault_id']} does not exist; cannot read the administrator password")
    try:
        secret = SecretsClient(str(vault_uri), az.client.credential, verify=az.client.verify).get(spec["name"])
    except KeyVaultError as exc:
        az.module.fail_json(msg=f"cannot read the administrator password: {exc}", error=exc.as_dict())
    if not secret or not secret.get("value"):
        az.module.fail_json(msg=f"secret {spec['name']} is missing in {vault_uri}; the keyvault role creates it")
    # Ansible then masks the value anywhere it might surface (an error text, a warning).
    az.module.no_log_values.add(str(secret["value"]))
    return str(secret["value"])


def server_body(params: dict[str, Any], creating: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if creating:
        props.update({"version": params["version"], "administratorLogin": params["administrator_login"],
                      "createMode": "Create"})
    storage = {"storageSizeGB": params["storage_size_gb"], "autoGrow": enabled(params["storage_auto_grow"])}
    backup = {"backupRetentionDays": params["backup_retention_days"]}
    if creating:
        backup["geoRedundantBackup"] = enabled(params["geo_redundant_backup"])
        network = {"delegatedSubnetResourceId": params["delegated_subnet_id"],
                   "privateDnsZoneArmResourceId": params["private_dns_zone_id"],
                   "publicNetworkAccess": params["public_network_access"]}
        props["network"] = {k: v for k, v in network.items() if v is not None}
        if params["availability_zone"]:
            props["availabilityZone"] = params["availability_zone"]
    props["storage"] = {k: v for k, v in storage.items() if v is not None}
    props["backup"] = {k: v for k, v in backup.items() if v is not None}
    if params["high_availability"]:
        props["highAvailability"] = {"mode": params["high_availability"]}
    props = {k: v for k, v in props.items() if v not in ({}, None)}
    body: dict[str, Any] = {**tags_body(params["tags"]), "properties": props}
    if params["sku_name"]:
        body["sku"] = {"name": params["sku_name"], "tier": params["sku_tier"]}
    return body


def reconcile_parameters(az: AzureModule, server_id: str, wanted: dict[str, Any], server_exists: bool
                         ) -> tuple[dict[str, str], bool]:
    """Bring each listed parameter to its value; returns the values and whether a restart is pending."""
    values: dict[str, str] = {}
    pending_restart = False
    for name, value in wanted.items():
        config_id = f"{server_id}/configurations/{name}"
        actual = az.call(az.client.get, config_id, api_version(CONFIGURATION)) if server_exists else None
        if server_exists and actual is None:
            az.module.fail_json(msg=f"{config_id}: the server has no parameter named {name}", changed=az.changed)
        current = ((actual or {}).get("properties") or {}).get("value")
        if current is not None and normalize_parameter(current) == normalize_parameter(value):
            values[name] = str(current)
            pending_restart = pending_restart or bool((actual.get("properties") or {}).get("isConfigPendingRestart"))
            continue
        az.changed = True
        az.record_diff(f"configurations/{name}", {"before": {"value": current}, "after": {"value": str(value)}})
        values[name] = str(value)
        if az.check_mode:
            static = str(((actual or {}).get("properties") or {}).get("isDynamicConfig", "true")).lower() == "false"
            pending_restart = pending_restart or static
            continue
        written = az.call(az.client.write, "PUT", config_id, api_version(CONFIGURATION),
                          {"properties": {"value": str(value), "source": "user-override"}}, az.params["timeout"])
        pending_restart = pending_restart or bool((written.get("properties") or {}).get("isConfigPendingRestart"))
    return values, pending_restart


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        version={"type": "str", "default": "16"},
        sku_name={"type": "str"},
        sku_tier={"type": "str", "choices": ["Burstable", "GeneralPurpose", "MemoryOptimized"]},
        storage_size_gb={"type": "int"},
        storage_auto_grow={"type": "bool"},
        backup_retention_days={"type": "int"},
        geo_redundant_backup={"type": "bool"},
        high_availability={"type": "str", "choices": ["Disabled", "SameZone", "ZoneRedundant"]},
        availability_zone={"type": "str"},
        administrator_login={"type": "str", "default": "cfadmin"},
        administrator_login_password={"type": "str", "no_log": True},
        administrator_login_password_secret={"type": "dict", "no_log": False, "options": {
            "vault_uri": {"type": "str"},
            "vault_id": {"type": "str"},
            "name": {"type": "str", "required": True},
        }},
        delegated_subnet_id={"type": "str"},
        private_dns_zone_id={"type": "str"},
        public_network_access={"type": "str", "choices": ["Enabled", "Disabled"], "default": "Disabled"},
        parameters={"type": "dict", "default": {}},
        restart_for_static_parameters={"type": "bool", "default": True},
    ), mutually_exclusive=[("administrator_login_password", "administrator_login_password_secret")],
        required_together=[("sku_name", "sku_tier")])
    params = az.params
    server_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    if params["state"] == "absent":
        az.ensure(server_id, TYPE, {}, label="server")
        az.exit(id=server_id, fqdn="", server={}, parameters={}, restarted=False)
    if params["high_availability"] not in (None, "Disabled") and params["sku_tier"] == "Burstable":
        az.module.fail_json(msg=f"{server_id}: Burstable servers do not support high availability "
                                f"({params['high_availability']}); use GeneralPurpose or MemoryOptimized")

    # The password is write-only (registry): read (from Key Vault if need be) only when the server is written,
    # never compared, never in a result or a diff. Settings Azure fixes at creation that differ fail the task.
    secrets = None
    if params["administrator_login_password"] or params["administrator_login_password_secret"]:
        secrets = {"properties.administratorLoginPassword": lambda: params["administrator_login_password"] or
                   read_password(az, params["administrator_login_password_secret"])}
    required = ["sku_name"] + ([] if secrets else ["administrator_login_password or administrator_login_password_secret"])

    def desired(actual: dict[str, Any] | None) -> dict[str, Any]:
        body = {"location": params["location"], **server_body(params, creating=True)}
        if actual is not None:
            body["properties"].pop("availabilityZone", None)  # Azure chooses it at creation when not asked
        return body

    result = az.ensure_present(server_id, TYPE, desired, label="server", required_to_create=required, secrets=secrets)
    server = result["resource"]
    prediction_only = result["differences"] == ["(create)"] and az.check_mode
    values, pending = reconcile_parameters(az, server_id, params["parameters"], server_exists=not prediction_only)
    restarted = False
    if pending and params["restart_for_static_parameters"]:
        restarted = True
        az.changed = True
        if not az.check_mode:
            try:
                az.client.post(f"{server_id}/restart", api_version(TYPE), {}, params["timeout"])
            except AzureApiError as exc:
                az.fail(exc)
    fqdn = str((server.get("properties") or {}).get("fullyQualifiedDomainName") or "")
    az.exit(id=server_id, fqdn=fqdn, server=server, parameters=values, restarted=restarted)


if __name__ == "__main__":
    main()
