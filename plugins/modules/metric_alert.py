#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: metric_alert
short_description: Manage an Azure Monitor metric alert rule with static thresholds
version_added: 0.1.0
description:
  - Ensures a metric alert rule on one or more resources of one type, with static-threshold conditions, notifying
    action groups. The conditions and action groups given are the whole set.
  - Azure accepts window sizes of 1, 5, 15 and 30 minutes, 1, 6 and 12 hours and 1 day, evaluated every 1, 5, 15
    or 30 minutes or 1 hour, and no window shorter than the frequency.
options:
  description:
    description: Text included in the alert.
    type: str
    default: ''
  severity:
    description: Severity, V(0) critical to V(4) verbose.
    type: int
    choices: [0, 1, 2, 3, 4]
    default: 2
  enabled:
    description: Whether the rule is evaluated.
    type: bool
    default: true
  scopes:
    description: Resource IDs watched (one, or several of one type and region).
    type: list
    elements: str
    required: true
  evaluation_frequency:
    description: How often the rule runs (ISO 8601).
    type: str
    choices: [PT1M, PT5M, PT15M, PT30M, PT1H]
    default: PT1M
  window_size:
    description: The period aggregated (ISO 8601).
    type: str
    choices: [PT1M, PT5M, PT15M, PT30M, PT1H, PT6H, PT12H, P1D]
    default: PT5M
  criteria:
    description: Conditions, all of which must hold.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Condition name.
        type: str
        required: true
      metric_name:
        description: Metric (for example V(cpu_percent)).
        type: str
        required: true
      metric_namespace:
        description: Metric namespace, normally the resource type.
        type: str
      operator:
        description: Comparison with the threshold.
        type: str
        choices: [GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual, Equals]
        default: GreaterThan
      threshold:
        description: The threshold.
        type: float
        required: true
      time_aggregation:
        description: Aggregation over the window.
        type: str
        choices: [Average, Minimum, Maximum, Total, Count]
        default: Average
  action_groups:
    description: Resource IDs of the action groups notified.
    type: list
    elements: str
    default: []
  auto_mitigate:
    description: Resolve the alert when the condition clears.
    type: bool
    default: true
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource.group_and_name
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: PostgreSQL CPU above 80 percent
  complianceflow.azure_infra.metric_alert:
    resource_group: rg-cf-westeu-test-1
    name: alert-cf-westeu-test-1-psql-cpu
    scopes: ["{{ deployment.ids.postgresql_server }}"]
    window_size: PT15M
    criteria:
      - name: cpu_percent
        metric_name: cpu_percent
        metric_namespace: Microsoft.DBforPostgreSQL/flexibleServers
        threshold: 80
    action_groups: ["{{ deployment.ids.action_group }}"]
"""

RETURN = r"""
id:
  description: Resource ID of the rule.
  returned: always
  type: str
metric_alert:
  description: The rule as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Insights/metricAlerts"
SINGLE = "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
MULTIPLE = "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria"
MINUTES = {"PT1M": 1, "PT5M": 5, "PT15M": 15, "PT30M": 30, "PT1H": 60, "PT6H": 360, "PT12H": 720, "P1D": 1440}


def number(value: float) -> float | int:
    # Thresholds read back as Azure stored them: 80, not 80.0, when the task said 80.
    return int(value) if float(value).is_integer() else value


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.GROUP_AND_NAME, args_common.TAGS, args_common.STATE,
        description={"type": "str", "default": ""},
        severity={"type": "int", "choices": [0, 1, 2, 3, 4], "default": 2},
        enabled={"type": "bool", "default": True},
        scopes={"type": "list", "elements": "str", "required": True},
        evaluation_frequency={"type": "str", "choices": ["PT1M", "PT5M", "PT15M", "PT30M", "PT1H"], "default": "PT1M"},
        window_size={"type": "str", "choices": list(MINUTES), "default": "PT5M"},
        criteria={"type": "list", "elements": "dict", "required": True, "options": {
            "name": {"type": "str", "required": True},
            "metric_name": {"type": "str", "required": True},
            "metric_namespace": {"type": "str"},
            "operator": {"type": "str", "default": "GreaterThan",
                         "choices": ["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Equals"]},
            "threshold": {"type": "float", "required": True},
            "time_aggregation": {"type": "str", "default": "Average",
                                 "choices": ["Average", "Minimum", "Maximum", "Total", "Count"]},
        }},
        action_groups={"type": "list", "elements": "str", "default": []},
        auto_mitigate={"type": "bool", "default": True},
    ))
    params = az.params
    alert_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    if MINUTES[params["window_size"]] < MINUTES[params["evaluation_frequency"]]:
        az.module.fail_json(msg=f"window_size {params['window_size']} is shorter than evaluation_frequency "
                                f"{params['evaluation_frequency']}, which Azure refuses ({alert_id})")
    conditions = []
    for item in params["criteria"]:
        condition: dict[str, Any] = {"criterionType": "StaticThresholdCriterion", "name": item["name"],
                                     "metricName": item["metric_name"], "operator": item["operator"],
                                     "threshold": number(item["threshold"]),
                                     "timeAggregation": item["time_aggregation"]}
        if item["metric_namespace"]:
            condition["metricNamespace"] = item["metric_namespace"]
        conditions.append(condition)
    properties = {
        "description": params["description"], "severity": params["severity"], "enabled": params["enabled"],
        "scopes": params["scopes"], "evaluationFrequency": params["evaluation_frequency"],
        "windowSize": params["window_size"],
        "criteria": {"odata.type": SINGLE if len(params["scopes"]) == 1 else MULTIPLE, "allOf": conditions},
        "actions": [{"actionGroupId": group} for group in params["action_groups"]],
        "autoMitigate": params["auto_mitigate"],
    }
    desired = {"location": "global", **az.tags_body(), "properties": properties}
    result = az.ensure(alert_id, TYPE, desired, label="metric_alert")
    az.exit(id=result["id"], metric_alert=result["resource"])


if __name__ == "__main__":
    main()
