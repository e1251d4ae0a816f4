#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resources
short_description: Reconcile a list of planned Azure resources in one task
version_added: 0.2.0
description:
  - Brings a list of Azure resources to their planned ARM bodies in one process, the way the collection's roles
    apply their slice of the deployment plan (C(deployment.resources), written by the preflight role and shown
    by C(playbooks/plan.yml)).
  - Every resource is read in parallel, compared by the rules of its type (API version, write-only and
    create-only fields, tags compared exactly unless O(purge_tags=false), unordered lists matched by their key),
    and written only when it differs, in dependency waves (a resource after the resources it depends on and after
    its parent). The long-running operations of a wave are polled together.
  - One failed resource does not hide the others; the task fails after the wave in which something failed and
    names every failed resource with Azure's error code and message.
  - Values the plan leaves to run time are placeholders, C(<runtime:NAME>) or C(<runtime:NAME:ARGUMENT>). The
    module resolves C(tenant-id) and C(principal-id) (from the caller's token), C(month-start),
    C(workspace-customer-id:<id>), C(list-keys:<id>:<field>), C(property:<id>:<path>) (a secret),
    C(public-property:<id>:<path>) (not a secret, such as an identity's principal id or a host name),
    C(storage-connection-string:<account id>), C(key-vault-secret:<secret id>) and C(generate:password|base64);
    other names come from O(runtime). Secret values resolved here are never returned, shown in a diff or logged.
  - Key Vault secrets (C(Microsoft.KeyVault/vaults/secrets)) are written through the vault's data plane, never
    through ARM. A generated secret is created once and replaced only when named in C(rotate) of O(runtime); a
    secret whose value comes from a key or a property is compared with it on every run.
  - Details, with the data path from the inventory to the request, in C(docs/engine.md).
options:
  resources:
    description:
      - The planned resources, each with C(id), C(type) and its ARM body (C(location), C(tags), C(properties),
        C(sku), C(kind), C(zones), ...), and optionally C(depends_on) (resource IDs), C(api_version) (must match
        the collection's registry), C(state) (V(present) or V(absent)) and C(manage=create) (create when
        missing, never update).
      - Resources planned V(absent) are deleted after every write, children first; one that a planned resource
        lists in C(depends_on) is deleted before that resource is written (a private endpoint leaving a subnet
        before the subnet is delegated).
      - An C(id) may hold C(<runtime:public-property:<id>:<path>>) when Azure names the resource after another
        one's property (a private DNS zone named after a Container Apps environment's default domain). Such entries
        are reconciled after the rest of the list, in the same task, with the value read then; in check mode, while
        the resource they name does not exist, they are reported V(skipped). No other entry may depend on them.
      - Planned entries carry C(name) and C(role) too; they are ignored. A Key Vault secret entry with
        C(publish=true) holds no secret (a document built from public values); its value is returned in
        RV(results[].value), never masked.
    type: list
    elements: dict
    required: true
  runtime:
    description:
      - Values for the plan's C(<runtime:NAME>) placeholders that the module cannot find itself, for example
        C(principal-id) (another principal than the caller), and settings of the secrets it writes, C(rotate)
        (names of generated secrets to replace), C(password-length), C(signing-key-bytes), C(rbac-wait) (seconds
        a fresh role assignment on the vault may take to apply).
      - Keys of dictionaries may be snake_case; they are sent in ARM's camelCase.
    type: dict
    default: {}
  runtime_secrets:
    description:
      - Like O(runtime), for values that are secrets, such as C(webhook-receivers) (the action group's webhooks,
        whose URLs carry signatures). Hidden in every output.
    type: dict
    default: {}
  purge_tags:
    description:
      - Remove tags a resource carries that its planned C(tags) do not list. With V(false), such tags are kept.
      - A planned entry without C(tags) never has its tags changed.
    type: bool
    default: true
  partial_lists:
    description:
      - Lists whose items the plan does not declare are kept instead of removed, by ARM type; for example the
        key C(Microsoft.Network/networkSecurityGroups) with the list V([properties.securityRules]) keeps security
        rules added by hand.
    type: dict
    default: {}
  purge_children:
    description:
      - Child collections whose items the plan does not list are deleted, for example V(consumergroups) and
        V(authorizationRules) under event hubs. Items Azure creates itself (C($Default)) are kept.
    type: list
    elements: str
    default: []
  purge_identities:
    description:
      - Delete the user-assigned managed identities in the resource groups of the planned ones that carry the same
        C(deployment) tag and are not planned (a service that left the registry), and every role assignment under
        those resource groups that names one of the group's identities and is not planned (its grants, and grants
        a remaining service no longer needs). Identities of other deployments and other principals' role
        assignments are never touched.
    type: bool
    default: false
  keep_identities:
    description:
      - Resource IDs of identities the deployment plans outside this run's O(resources) (the Application Gateway's
        identity, when the identity role runs alone or with C(--tags identity)) - O(purge_identities) never deletes
        them or their role assignments.
    type: list
    elements: str
    default: []
  missing_dependencies:
    description:
      - V(fail) sends every write and lets Azure refuse one whose dependency is missing.
      - V(skip) first checks the dependencies that are not in O(resources); a resource that depends on a missing
        one is left out and reported (the monitoring role attaches to whatever exists).
    type: str
    choices: [fail, skip]
    default: fail
  restart:
    description:
      - Restart a parent resource when a write leaves it waiting for a restart (PostgreSQL static server
        parameters such as C(shared_preload_libraries)).
    type: bool
    default: true
  recover_soft_deleted:
    description: Recover a soft-deleted Key Vault of the planned name instead of failing to create it.
    type: bool
    default: true
  role_options:
    description:
      - Options for the resources of one role, when one run applies the slices of several roles (the site
        playbook applies the whole plan in one pass). Keys are role names, matched with each planned entry's
        C(role); values are dictionaries of O(purge_tags), O(partial_lists), O(purge_children),
        O(missing_dependencies), O(restart), O(recover_soft_deleted), O(purge_identities) and O(keep_identities).
      - Entries of a role not named here, and entries without a role, follow the module's own options.
    type: dict
    default: {}
  parallel:
    description: How many requests run at once (reads, and the writes of one wave).
    type: int
    default: 8
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Apply the network role's slice of the plan
  complianceflow.azure_infra.resources:
    resources: "{{ deployment.resources | selectattr('role', 'equalto', 'network') }}"

- name: Two roles' slices in one pass, each with its own options
  complianceflow.azure_infra.resources:
    resources: "{{ deployment.resources | selectattr('role', 'in', ['messaging', 'monitoring']) }}"
    role_options:
      messaging: {purge_children: [consumergroups]}
      monitoring: {missing_dependencies: skip}

- name: Two resources of your own, the subnet after its virtual network
  complianceflow.azure_infra.resources:
    resources:
      - id: /subscriptions/{{ sub }}/resourceGroups/rg-demo/providers/Microsoft.Network/virtualNetworks/vnet-demo
        type: Microsoft.Network/virtualNetworks
        location: westeurope
        tags: {app: demo}
        properties: {addressSpace: {addressPrefixes: [10.9.0.0/16]}}
      - id: /subscriptions/{{ sub }}/resourceGroups/rg-demo/providers/Microsoft.Network/virtualNetworks/vnet-demo/subnets/app
        type: Microsoft.Network/virtualNetworks/subnets
        properties: {addressPrefix: 10.9.1.0/24}
"""

RETURN = r"""
results:
  description: One entry per resource, in plan order (deleted unplanned children last).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Resource ID.
      type: str
    type:
      description: ARM type.
      type: str
    name:
      description: Resource name.
      type: str
    action:
      description: >-
        V(create), V(update), V(delete), V(unchanged), V(skipped) (a dependency does not exist), V(failed) or
        V(not attempted) (an earlier wave failed). In check mode, what would be done.
      type: str
    value:
      description: >-
        The resolved value of a Key Vault secret planned with C(publish=true), a document that holds no secret (the
        deployment's outputs); absent while a value it is made of does not exist yet.
      type: raw
    differences:
      description: The paths that differ (C(properties.securityRules[allow-https].properties.priority)); no values.
      type: list
      elements: str
    message:
      description: Why a resource was skipped, or Azure's code and message for a failed one.
      type: str
    error:
      description: Azure's error (status, code, message, resource_id) for a failed resource.
      type: dict
counts:
  description: How many resources had each action (V(create), V(update), V(delete), V(unchanged), V(skipped), ...).
  returned: always
  type: dict
restarted:
  description: Parents restarted for settings that needed it.
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.engine import (
    Engine,
    Options,
    PlanError,
    RuntimeValues,
)


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resources": {"type": "list", "elements": "dict", "required": True},
            "runtime": {"type": "dict", "default": {}},
            "runtime_secrets": {"type": "dict", "default": {}, "no_log": True},
            "purge_tags": {"type": "bool", "default": True},
            "partial_lists": {"type": "dict", "default": {}},
            "purge_children": {"type": "list", "elements": "str", "default": []},
            "purge_identities": {"type": "bool", "default": False},
            "keep_identities": {"type": "list", "elements": "str", "default": []},
            "missing_dependencies": {"type": "str", "choices": ["fail", "skip"], "default": "fail"},
            "restart": {"type": "bool", "default": True},
            "recover_soft_deleted": {"type": "bool", "default": True},
            "role_options": {"type": "dict", "default": {}},
            "parallel": {"type": "int", "default": 8},
        },
    )
    params = az.params
    options = Options(
        check_mode=az.check_mode, diff=bool(az.module._diff), timeout=float(params["timeout"]),
        parallel=max(1, min(32, params["parallel"])), purge_tags=params["purge_tags"],
        partial_lists={str(k).lower(): list(v or []) for k, v in params["partial_lists"].items()},
        purge_children=params["purge_children"], missing_dependencies=params["missing_dependencies"],
        restart=params["restart"], recover_soft_deleted=params["recover_soft_deleted"],
        purge_identities=params["purge_identities"], keep_identities=params["keep_identities"])
    try:
        # The plan is checked before anything is sent: unknown types, bad IDs, cycles, misplaced secrets.
        engine = Engine(None, params["resources"], options, None,  # type: ignore[arg-type]
                        role_options=params["role_options"])
    except PlanError as exc:
        az.module.fail_json(msg=f"the planned resources cannot be applied: {exc}")
    client = az.client
    engine.client = client
    engine.runtime = RuntimeValues(client, {**params["runtime"], **params["runtime_secrets"]},
                                   on_secret=az.module.no_log_values.add,
                                   verify=client.verify)
    try:
        outcome: dict[str, Any] = engine.run()
    except PlanError as exc:
        az.module.fail_json(msg=str(exc))
    result: dict[str, Any] = {"changed": outcome["changed"], "results": outcome["results"],
                              "counts": outcome["counts"], "restarted": outcome["restarted"]}
    if az.module._diff:
        result["diff"] = {"before": engine.before, "after": engine.after}
    if outcome["failed"]:
        az.module.fail_json(msg=f"{len(outcome['failed'])} of {len(outcome['results'])} resources failed: "
                                + "; ".join(outcome["failed"]), **result)
    az.module.exit_json(**result)


if __name__ == "__main__":
    main()
