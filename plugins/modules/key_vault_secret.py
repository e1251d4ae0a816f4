#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: key_vault_secret
short_description: Set a Key Vault secret once, from a given value or generated, without ever returning it
version_added: 0.1.0
description:
  - Works on the vault's data plane (its C(vaultUri)), with the credentials of the task. With RBAC
    authorization the caller needs a data role such as Key Vault Secrets Officer; a role granted moments ago
    is waited for (O(rbac_wait)), as Azure propagates it in minutes.
  - With O(generate), a missing secret is created from the operating system's cryptographic source and an
    existing one is B(never) replaced, unless O(rotate=true).
  - With O(value), the secret is written when its current value differs (a new version).
  - A soft-deleted secret of the same name is recovered (with its value) instead of failing on the name.
  - The value is never returned, logged or shown in a diff.
options:
  vault_uri:
    description: The vault's data-plane URI (C(https://<name>.vault.azure.net/)). Give this or O(vault_id).
    type: str
  vault_id:
    description: Resource ID of the vault; its URI is read from ARM.
    type: str
  name:
    description: Secret name (1-127 letters, digits and hyphens).
    type: str
    required: true
  value:
    description: The value to store. Mutually exclusive with O(generate).
    type: str
  generate:
    description: Generate the value when the secret is missing (or when O(rotate=true)).
    type: dict
    suboptions:
      kind:
        description: V(password) (letters, digits and a few symbols, every class present) or V(base64) (random bytes).
        type: str
        choices: [password, base64]
        default: password
      length:
        description: Characters (password) or random bytes (base64); at least 32.
        type: int
        default: 48
  rotate:
    description: With O(generate), write a newly generated value even though the secret exists.
    type: bool
    default: false
  content_type:
    description: Content type recorded with the secret (not validated by Key Vault).
    type: str
  rbac_wait:
    description: Seconds to keep retrying a C(ForbiddenByRbac) refusal (role assignment still propagating).
    type: int
    default: 300
  state:
    description: Whether the secret should exist. V(absent) soft-deletes it.
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  check_mode:
    support: full
    description: Reads the vault and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows content type and tags before/after, and only whether the value would change.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: PostgreSQL administrator password, generated once
  complianceflow.azure_infra.key_vault_secret:
    vault_id: "{{ deployment.ids.key_vault }}"
    name: postgresql-admin-password
    generate: {kind: password, length: 40}
    content_type: password
    tags: "{{ deployment.tags }}"

- name: Redis key read from the cache
  complianceflow.azure_infra.key_vault_secret:
    vault_uri: https://kv-cf-westeu-test-1-ab12.vault.azure.net/
    name: redis-primary-key
    value: "{{ redis_keys.primary_key }}"
    content_type: text/plain
  no_log: true
"""

RETURN = r"""
secret:
  description: Metadata of the current version (id with version, content type, tags, dates); never the value.
  returned: always
  type: dict
action:
  description: What happened, one of C(none), C(created), C(recovered), C(updated_value), C(rotated),
    C(updated_properties), C(deleted).
  returned: always
  type: str
vault_uri:
  description: The vault URI used.
  returned: always
  type: str
"""


from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import (
    KeyVaultError,
    SecretsClient,
    generate_secret,
    metadata,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

VAULT_API_VERSION = api_version("Microsoft.KeyVault/vaults")


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.TAGS, args_common.STATE,
        vault_uri={"type": "str"},
        vault_id={"type": "str"},
        name={"type": "str", "required": True},
        value={"type": "str", "no_log": True},
        generate={"type": "dict", "options": {
            "kind": {"type": "str", "choices": ["password", "base64"], "default": "password"},
            "length": {"type": "int", "default": 48},
        }},
        rotate={"type": "bool", "default": False},
        content_type={"type": "str"},
        rbac_wait={"type": "int", "default": 300},
    ), required_one_of=[("vault_uri", "vault_id")], mutually_exclusive=[("value", "generate")])
    params = az.params
    if params["state"] == "present" and params["value"] is None and not params["generate"]:
        az.module.fail_json(msg="state=present needs value or generate")
    if params["generate"] and params["generate"]["length"] < 32:
        az.module.fail_json(msg="generate.length must be at least 32")

    vault_uri = params["vault_uri"]
    if not vault_uri:
        vault = az.call(az.client.get, params["vault_id"], VAULT_API_VERSION)
        vault_uri = str(((vault or {}).get("properties") or {}).get("vaultUri") or "")
        if not vault_uri:
            if az.check_mode:
                # The vault itself is still to be created in this check run: everything in it would be too.
                az.exit(changed=True, secret={}, action="created", vault_uri="")
            az.module.fail_json(msg=f"vault {params['vault_id']} does not exist (or has no vaultUri yet)")
    client = SecretsClient(vault_uri, az.client.credential, verify=az.client.verify, rbac_wait=params["rbac_wait"])
    tags = {str(k): str(v) for k, v in params["tags"].items()} if params["tags"] is not None else None
    where = f"{vault_uri.rstrip('/')}/secrets/{params['name']}"
    try:
        current = client.get(params["name"])
        if current and current.get("value"):
            # Ansible then masks the value anywhere it might surface (an error text, a warning).
            az.module.no_log_values.add(str(current["value"]))
        if params["state"] == "absent":
            if current is None:
                az.exit(changed=False, secret={}, action="none", vault_uri=vault_uri)
            az.changed = True
            az.record_diff(where, {"before": metadata(current), "after": {}})
            if not az.check_mode:
                client._send("DELETE", f"secrets/{SecretsClient._name(params['name'])}")
            az.exit(secret={}, action="deleted", vault_uri=vault_uri)

        action = "none"
        if current is None and client.get_deleted(params["name"]) is not None:
            action = "recovered"
            if not az.check_mode:
                client.recover(params["name"])
                current = client.get(params["name"])
        if current and current.get("value"):
            # Ansible then masks the value anywhere it might surface (an error text, a warning).
            az.module.no_log_values.add(str(current["value"]))
        new_value: str | None = None
        if action != "recovered" or not az.check_mode:
            if current is None:
                action = "created"
                new_value = params["value"] if params["value"] is not None else \
                    generate_secret(params["generate"]["kind"], params["generate"]["length"])
            elif params["value"] is not None and current.get("value") != params["value"]:
                action = "updated_value"
                new_value = params["value"]
            elif params["generate"] and params["rotate"]:
                action = "rotated"
                new_value = generate_secret(params["generate"]["kind"], params["generate"]["length"])

        before_props = {"content_type": (current or {}).get("contentType"), "tags": (current or {}).get("tags") or {}}
        after_props = {"content_type": params["content_type"] if params["content_type"] is not None
                       else before_props["content_type"],
                       "tags": before_props["tags"] if tags is None else
                       tags if params["purge_tags"] else {**before_props["tags"], **tags}}
        props_differ = current is not None and after_props != before_props
        if new_value is not None:
            az.module.no_log_values.add(new_value)
        if new_value is None and props_differ:
            action = "updated_properties" if action == "none" else action

        if action == "none":
            az.exit(changed=False, secret=metadata(current), action=action, vault_uri=vault_uri)
        az.changed = True
        value_note = {"created": "(new value)", "recovered": "(recovered value)", "updated_value": "(new value)",
                      "rotated": "(rotated)"}.get(action)
        az.record_diff(where, {"before": {**before_props, "value": "(unchanged)" if value_note else None}
                               if current else {},
                               "after": {**after_props, **({"value": value_note} if value_note else {})}})
        if az.check_mode:
            az.exit(secret=metadata(current), action=action, vault_uri=vault_uri)
        if new_value is not None:
            written = client.set(params["name"], new_value, after_props["content_type"], after_props["tags"])
        else:
            client.update_properties(str(current["id"]), after_props["content_type"], after_props["tags"])
            written = client.get(params["name"])
        az.exit(secret=metadata(written), action=action, vault_uri=vault_uri)
    except KeyVaultError as exc:
        az.module.fail_json(msg=str(exc), error=exc.as_dict(), changed=az.changed)


if __name__ == "__main__":
    main()
