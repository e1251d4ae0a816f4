#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource.group_and_name
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Insights/actionGroups"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.GROUP_AND_NAME, args_common.TAGS, args_common.STATE,
        short_name={"type": "str"},
        enabled={"type": "bool", "default": True},
        email_receivers={"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "email_address": {"type": "str", "required": True},
            "use_common_alert_schema": {"type": "bool", "default": True},
        }},
        webhook_receivers={"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "service_uri": {"type": "str", "required": True, "no_log": True},
            "use_common_alert_schema": {"type": "bool", "default": True},
        }},
    ))
    params = az.params
    group_id = az.provider_id(params["resource_group"], TYPE, params["name"])

    def desired(actual: dict[str, Any] | None) -> dict[str, Any]:
        short_name = params["short_name"] or ((actual or {}).get("properties") or {}).get("groupShortName")
        if not short_name:
            az.module.fail_json(msg=f"short_name is required to create {group_id}")
        if len(short_name) > 12:
            az.module.fail_json(msg=f"short_name {short_name!r} is longer than Azure's 12 characters ({group_id})")
        # Action groups are global resources; Azure reports the location as "Global".
        return {"location": (actual or {}).get("location") or "Global", **az.tags_body(), "properties": {
            "groupShortName": short_name, "enabled": params["enabled"],
            "emailReceivers": [{"name": r["name"], "emailAddress": r["email_address"],
                                "useCommonAlertSchema": r["use_common_alert_schema"]} for r in params["email_receivers"]],
            "webhookReceivers": [{"name": r["name"], "serviceUri": r["service_uri"],
                                  "useCommonAlertSchema": r["use_common_alert_schema"]}
                                 for r in params["webhook_receivers"]],
        }}

    result = az.ensure(group_id, TYPE, desired, label="action_group")
    az.exit(id=result["id"], action_group=result["resource"])


if __name__ == "__main__":
    main()
