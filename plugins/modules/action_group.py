#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: action_group
short_description: Manage an Azure Monitor action group (e-mail and webhook receivers)
version_added: 0.1.0
description:
  - Ensures an action group with exactly the e-mail and webhook receivers given (receivers not listed are removed).
  - A webhook URL often carries a signature (Teams workflows, Slack, PagerDuty), so it is a secret option, hidden in
    every output.
options:
  resource_group:
    description: Resource group of the action group.
    type: str
    required: true
  name:
    description: Action group name.
    type: str
    required: true
  short_name:
    description: Short name shown in e-mails and SMS (1-12 characters). Required to create.
    type: str
  enabled:
    description: Whether notifications are sent.
    type: bool
    default: true
  email_receivers:
    description: E-mail receivers.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Receiver name, unique in the group.
        type: str
        required: true
      email_address:
        description: E-mail address.
        type: str
        required: true
      use_common_alert_schema:
        description: Send the common alert schema.
        type: bool
        default: true
  webhook_receivers:
    description: Webhook receivers (a Microsoft Teams workflow URL, an incident tool ...).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Receiver name, unique in the group.
        type: str
        required: true
      service_uri:
        description: The URL called (https). Treated as a secret.
        type: str
        required: true
      use_common_alert_schema:
        description: Send the common alert schema.
        type: bool
        default: true
  tags:
    description: Tags the action group must carry; other tags are kept.
    type: dict
  state:
    description: Whether the action group should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Shows before/after of what differs (webhook URLs masked).
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: The deployment's contacts, plus a Teams channel
  complianceflow.azure_infra.action_group:
    resource_group: rg-cf-westeu-test-1
    name: ag-cf-westeu-test-1
    short_name: cfwe-test1
    email_receivers:
      - name: email-1
        email_address: platform@example.com
    webhook_receivers:
      - name: teams
        service_uri: "{{ vault_teams_webhook_url }}"
"""

RETURN = r"""
id:
  description: Resource ID of the action group.
  returned: always
  type: str
action_group:
  description: The action group as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body

API_VERSION = "2023-01-01"


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "short_name": {"type": "str"},
            "enabled": {"type": "bool", "default": True},
            "email_receivers": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "email_address": {"type": "str", "required": True},
                "use_common_alert_schema": {"type": "bool", "default": True},
            }},
            "webhook_receivers": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "service_uri": {"type": "str", "required": True, "no_log": True},
                "use_common_alert_schema": {"type": "bool", "default": True},
            }},
            "tags": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    group_id = az.provider_id(params["resource_group"], "Microsoft.Insights/actionGroups", params["name"])
    if params["state"] == "absent":
        az.ensure_absent(group_id, API_VERSION, label="action_group")
        az.exit(id=group_id, action_group={})
    actual = az.call(az.client.get, group_id, API_VERSION)
    short_name = params["short_name"] or ((actual or {}).get("properties") or {}).get("groupShortName")
    if not short_name:
        az.module.fail_json(msg=f"short_name is required to create {group_id}")
    if len(short_name) > 12:
        az.module.fail_json(msg=f"short_name {short_name!r} is longer than Azure's 12 characters ({group_id})")
    properties: dict[str, Any] = {
        "groupShortName": short_name,
        "enabled": params["enabled"],
        "emailReceivers": [{"name": r["name"], "emailAddress": r["email_address"],
                            "useCommonAlertSchema": r["use_common_alert_schema"]} for r in params["email_receivers"]],
        "webhookReceivers": [{"name": r["name"], "serviceUri": r["service_uri"],
                              "useCommonAlertSchema": r["use_common_alert_schema"]}
                             for r in params["webhook_receivers"]],
    }
    # Action groups are global resources; Azure reports the location as "Global".
    desired = {"location": (actual or {}).get("location") or "Global", **tags_body(params["tags"]),
               "properties": properties}
    result = az.reconcile(group_id, API_VERSION, desired, label="action_group", actual=actual, fetch=False)
    az.exit(id=result["id"], action_group=result["resource"])


if __name__ == "__main__":
    main()
