#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: eventhub
short_description: Manage an event hub with its consumer groups and shared access (SAS) rules
version_added: 0.1.0
description:
  - Ensures an event hub in a namespace (partition count, retention), the consumer groups and the hub-level
    authorization rules the task declares. Consumer groups and rules not declared are kept unless
    O(purge_consumer_groups) or O(purge_authorization_rules) is set; C($Default) is never removed.
  - The partition count of a Basic or Standard hub is fixed at creation; a different count fails before any
    write with a message saying so.
options:
  namespace:
    description: Event Hubs namespace name.
    type: str
    required: true
  partition_count:
    description: Number of partitions (1-32 on Standard). Required to create.
    type: int
  message_retention_in_days:
    description: Days events are kept (1 on Basic, up to 7 on Standard).
    type: int
    default: 7
  status:
    description: Whether the hub accepts events.
    type: str
    choices: [Active, Disabled, SendDisabled, ReceiveDisabled]
    default: Active
  consumer_groups:
    description: Consumer groups of the hub.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Consumer group name.
        type: str
        required: true
      user_metadata:
        description: Free text stored with the group (who consumes it).
        type: str
  purge_consumer_groups:
    description: Delete consumer groups that are not declared (never C($Default)).
    type: bool
    default: false
  authorization_rules:
    description: Hub-level shared access rules.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Rule name.
        type: str
        required: true
      rights:
        description: Rights granted; V(Manage) needs V(Send) and V(Listen) too.
        type: list
        elements: str
        choices: [Send, Listen, Manage]
        required: true
  purge_authorization_rules:
    description: Delete hub-level rules that are not declared.
    type: bool
    default: false
  state:
    description: Whether the hub should exist (its groups and rules go with it).
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource.group_and_name
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  diff_mode:
    support: full
    description: Shows before/after of the hub, each group and each rule that differs.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Hub with a group per consumer and separate send and listen rules
  complianceflow.azure_infra.eventhub:
    resource_group: rg-cf-westeu-test-1
    namespace: evhns-cf-westeu-test-1-1k78
    name: declaration-events
    partition_count: 4
    message_retention_in_days: 7
    consumer_groups:
      - {name: ruleengine-consumer, user_metadata: ruleengine service}
      - {name: review-consumer, user_metadata: review service}
    authorization_rules:
      - {name: send, rights: [Send]}
      - {name: listen, rights: [Listen]}
"""

RETURN = r"""
id:
  description: Resource ID of the hub.
  returned: always
  type: str
eventhub:
  description: The hub as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
consumer_groups:
  description: Names of the hub's consumer groups after the run (predicted in check mode).
  returned: when O(state=present)
  type: list
  elements: str
authorization_rules:
  description: Rule name to rights, for the hub's rules after the run (predicted in check mode). No keys.
  returned: when O(state=present)
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version, resource_type

TYPE = "Microsoft.EventHub/namespaces/eventhubs"
NAMESPACE = "Microsoft.EventHub/namespaces"


def rights_problems(rules: list[dict[str, Any]]) -> list[str]:
    problems = []
    for rule in rules:
        rights = set(rule["rights"])
        if "Manage" in rights and not {"Send", "Listen"} <= rights:
            problems.append(f"authorization_rules[{rule['name']}]: Manage needs Send and Listen too")
    return problems


def desired_hub(params: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"messageRetentionInDays": params["message_retention_in_days"], "status": params["status"]}
    if params.get("partition_count") is not None:
        props["partitionCount"] = params["partition_count"]
    return {"properties": props}


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.GROUP_AND_NAME, args_common.STATE,
        namespace={"type": "str", "required": True},
        partition_count={"type": "int"},
        message_retention_in_days={"type": "int", "default": 7},
        status={"type": "str", "choices": ["Active", "Disabled", "SendDisabled", "ReceiveDisabled"], "default": "Active"},
        consumer_groups={"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "user_metadata": {"type": "str"},
        }},
        purge_consumer_groups={"type": "bool", "default": False},
        authorization_rules={"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "rights": {"type": "list", "elements": "str", "choices": ["Send", "Listen", "Manage"], "required": True},
        }},
        purge_authorization_rules={"type": "bool", "default": False},
    ))
    params = az.params
    namespace_id = az.provider_id(params["resource_group"], NAMESPACE, params["namespace"])
    hub_id = f"{namespace_id}/eventhubs/{params['name']}"
    if params["state"] == "absent":
        result = az.ensure(hub_id, TYPE, {}, label="eventhub")
        az.exit(id=result["id"], eventhub=result["resource"])

    problems = rights_problems(params["authorization_rules"])
    actual = az.call(az.client.get, hub_id, api_version(TYPE))
    if actual is None and params["partition_count"] is None:
        problems.append("partition_count is required to create the hub")
    if actual is not None and params["partition_count"] is not None:
        have = (actual.get("properties") or {}).get("partitionCount")
        if have is not None and int(have) != params["partition_count"]:
            namespace = az.call(az.client.get, namespace_id, api_version(NAMESPACE)) or {}
            tier = str((namespace.get("sku") or {}).get("tier") or (namespace.get("sku") or {}).get("name") or "")
            if tier in ("Basic", "Standard") or int(have) > params["partition_count"]:
                problems.append(f"the hub has {have} partitions; on the {tier or 'current'} tier the partition count "
                                f"cannot change to {params['partition_count']} (create a new hub instead)")
    if problems:
        az.module.fail_json(msg=f"{hub_id}: " + "; ".join(problems))
    result = az.ensure_present(hub_id, TYPE, desired_hub(params), label="eventhub", actual=actual)

    children = resource_type(TYPE).children
    groups = az.ensure_children(
        f"{hub_id}/consumergroups", children["consumergroups"]["type"],
        {g["name"]: rec.compact({"properties": {"userMetadata": g["user_metadata"]}}) for g in params["consumer_groups"]},
        purge=params["purge_consumer_groups"], keep=children["consumergroups"]["keep"], parent_exists=actual is not None,
        label="consumer group")
    # Rights are a set (registry): their order is no difference.
    rules = az.ensure_children(
        f"{hub_id}/authorizationRules", children["authorizationRules"]["type"],
        {r["name"]: {"properties": {"rights": list(r["rights"])}} for r in params["authorization_rules"]},
        purge=params["purge_authorization_rules"], keep=children["authorizationRules"]["keep"],
        parent_exists=actual is not None, label="authorization rule")
    az.exit(id=result["id"], eventhub=result["resource"], consumer_groups=sorted(groups),
            authorization_rules={name: list((rule.get("properties") or {}).get("rights") or [])
                                 for name, rule in rules.items()})


if __name__ == "__main__":
    main()
