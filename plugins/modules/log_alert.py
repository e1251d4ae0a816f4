#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: log_alert
short_description: Manage an Azure Monitor log search alert rule (scheduledQueryRules)
version_added: 0.1.0
description:
  - Ensures a log search alert rule (C(kind=LogAlert)) that runs a KQL query on a Log Analytics workspace or an
    Application Insights component and compares a measured column with a threshold.
  - The conditions and action groups given are the whole set.
options:
  location:
    description: Region of the rule (the region of its scope). Required to create.
  display_name:
    description: Display name; defaults to O(name).
    type: str
  description:
    description: Text included in the alert.
    type: str
  severity:
    description: Severity, V(0) critical to V(4) verbose.
    type: int
    choices: [0, 1, 2, 3, 4]
    default: 2
  enabled:
    description: Whether the rule runs.
    type: bool
    default: true
  scopes:
    description: Resource IDs queried (a workspace or an Application Insights component).
    type: list
    elements: str
    required: true
  evaluation_frequency:
    description: How often the query runs (ISO 8601).
    type: str
    default: PT5M
  window_size:
    description: The period the query covers (ISO 8601).
    type: str
    default: PT5M
  criteria:
    description: Conditions, all of which must hold.
    type: list
    elements: dict
    required: true
    suboptions:
      query:
        description: The KQL query.
        type: str
        required: true
      time_aggregation:
        description: Aggregation of the measured column (or V(Count) of rows).
        type: str
        choices: [Count, Average, Minimum, Maximum, Total]
        default: Count
      metric_measure_column:
        description: Column measured (not with V(Count)).
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
      number_of_evaluation_periods:
        description: Periods looked at.
        type: int
        default: 1
      min_failing_periods_to_alert:
        description: Periods that must breach among those.
        type: int
        default: 1
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
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: More than 5 percent failed requests over 5 minutes
  complianceflow.azure_infra.log_alert:
    resource_group: rg-cf-westeu-test-1
    name: alert-cf-westeu-test-1-appi-failed-requests
    location: westeurope
    severity: 1
    scopes: ["{{ deployment.ids.application_insights }}"]
    criteria:
      - query: requests | summarize FailedPercent = 100.0 * countif(success == false) / count()
        time_aggregation: Maximum
        metric_measure_column: FailedPercent
        threshold: 5
    action_groups: ["{{ deployment.ids.action_group }}"]
"""

RETURN = r"""
id:
  description: Resource ID of the rule.
  returned: always
  type: str
log_alert:
  description: The rule as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Insights/scheduledQueryRules"


def number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        display_name={"type": "str"},
        description={"type": "str"},
        severity={"type": "int", "choices": [0, 1, 2, 3, 4], "default": 2},
        enabled={"type": "bool", "default": True},
        scopes={"type": "list", "elements": "str", "required": True},
        evaluation_frequency={"type": "str", "default": "PT5M"},
        window_size={"type": "str", "default": "PT5M"},
        criteria={"type": "list", "elements": "dict", "required": True, "options": {
            "query": {"type": "str", "required": True},
            "time_aggregation": {"type": "str", "default": "Count",
                                 "choices": ["Count", "Average", "Minimum", "Maximum", "Total"]},
            "metric_measure_column": {"type": "str"},
            "operator": {"type": "str", "default": "GreaterThan",
                         "choices": ["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Equals"]},
            "threshold": {"type": "float", "required": True},
            "number_of_evaluation_periods": {"type": "int", "default": 1},
            "min_failing_periods_to_alert": {"type": "int", "default": 1},
        }},
        action_groups={"type": "list", "elements": "str", "default": []},
        auto_mitigate={"type": "bool", "default": True},
    ))
    params = az.params
    rule_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    conditions = []
    for item in params["criteria"]:
        if item["min_failing_periods_to_alert"] > item["number_of_evaluation_periods"]:
            az.module.fail_json(msg=f"min_failing_periods_to_alert exceeds number_of_evaluation_periods ({rule_id})")
        condition: dict[str, Any] = {
            "query": item["query"], "timeAggregation": item["time_aggregation"], "operator": item["operator"],
            "threshold": number(item["threshold"]),
            "failingPeriods": {"numberOfEvaluationPeriods": item["number_of_evaluation_periods"],
                               "minFailingPeriodsToAlert": item["min_failing_periods_to_alert"]},
        }
        if item["metric_measure_column"]:
            condition["metricMeasureColumn"] = item["metric_measure_column"]
        conditions.append(condition)
    properties: dict[str, Any] = {
        "displayName": params["display_name"] or params["name"], "severity": params["severity"],
        "enabled": params["enabled"], "scopes": params["scopes"],
        "evaluationFrequency": params["evaluation_frequency"], "windowSize": params["window_size"],
        "criteria": {"allOf": conditions},
        "actions": {"actionGroups": params["action_groups"]},
        "autoMitigate": params["auto_mitigate"],
    }
    if params["description"] is not None:
        properties["description"] = params["description"]
    desired = {"location": params["location"], "kind": "LogAlert", **az.tags_body(), "properties": properties}
    result = az.ensure(rule_id, TYPE, desired, label="log_alert")
    az.exit(id=result["id"], log_alert=result["resource"])


if __name__ == "__main__":
    main()
