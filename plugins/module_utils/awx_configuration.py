# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX/AAP objects of every deployment, generated from the inventories (no I/O; playbooks/awx_configure.yml
applies them with awx.awx, docs/awx.md explains them).

The result uses infra.aap_configuration's variable names (``aap_organizations``, ``controller_templates`` ...) and
every object is the argument dict of the awx.awx module that applies it. Keys starting with ``_`` are for the
playbook only (never sent to a module). A new inventory under ``inventories/`` therefore gets its inventory, SCM
inventory source, notification, job templates, drift schedule and, in production, its approval workflow with no
hand-written AWX object.
"""

from __future__ import annotations

import re
from typing import Any

DEPLOYMENT_NAME = re.compile(r"^[a-z][a-z0-9]*-(dev|test|stg|prod)-[1-9][0-9]?$")
AZURE_CREDENTIAL_TYPE = "Microsoft Azure Resource Manager"  # built into AWX; injects AZURE_* into the job
PROTECTED_ENVS = frozenset({"prod"})  # destroy templates are not created; deploys go through an approval workflow

# One job template per deployment and kind: (kind, playbook, job type, writes, description). A template that writes
# never runs twice at once for one deployment (allow_simultaneous false); Plan (check mode) and Drift only read.
TEMPLATE_KINDS: tuple[tuple[str, str, str, bool, str], ...] = (
    ("Plan", "site.yml", "check", False, "What a deploy would change (check mode, --diff)"),
    ("Deploy", "site.yml", "run", True, "Build or converge the deployment"),
    ("Validate", "playbooks/validate.yml", "run", True, "Prove the platform works as its services use it"),
    # drift.yml refuses to run outside check mode: a check job.
    ("Drift", "playbooks/drift.yml", "check", False, "Report drift from the plan (nightly)"),
    ("Destroy", "playbooks/destroy.yml", "run", True, "Delete the deployment (asks for its name)"),
)
CONFIRM_VARIABLE = "confirm_destroy"  # playbooks/destroy.yml compares it with the deployment's name


class AWXConfigurationError(ValueError):
    """Bad input: names the deployment or setting that is wrong."""


def template_name(deployment: str, kind: str) -> str:
    return f"{deployment} {kind}"


def workflow_name(deployment: str) -> str:
    return f"{deployment} Deploy with approval"


def credential_name(env: str) -> str:
    return f"ComplianceFlow Azure {env}"


def _environment(deployment: str) -> str:
    match = DEPLOYMENT_NAME.match(deployment)
    if not match:
        raise AWXConfigurationError(
            f"inventories/{deployment}: not a deployment name (<region_code>-<env>-<instance>, env one of "
            "dev, test, stg, prod)")
    return match.group(1)


def _setting(settings: dict[str, Any], *path: str) -> Any:
    value: Any = settings
    for key in path:
        if not isinstance(value, dict) or value.get(key) in (None, ""):
            raise AWXConfigurationError(f"awx setting {'.'.join(path)} is missing")
        value = value[key]
    return value


def _rrule(settings: dict[str, Any], index: int) -> str:
    """A daily rule, each deployment a few minutes after the one before so that nightly drift jobs do not queue."""
    start = str(_setting(settings, "drift_schedule", "start"))
    if not re.fullmatch(r"\d{8}T\d{6}", start):
        raise AWXConfigurationError(f"awx setting drift_schedule.start: {start!r} is not YYYYMMDDTHHMMSS")
    stagger = int(settings["drift_schedule"].get("stagger_minutes", 0))
    minutes = int(start[11:13]) + int(start[9:11]) * 60 + index * stagger
    hours, minutes = divmod(minutes % (24 * 60), 60)
    timezone = settings["drift_schedule"].get("timezone", "UTC")
    return f"DTSTART;TZID={timezone}:{start[:9]}{hours:02d}{minutes:02d}{start[13:]} RRULE:FREQ=DAILY;INTERVAL=1"


def awx_configuration(deployments: dict[str, dict[str, Any]], settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every AWX object for ``deployments`` (deployment name -> its inventory's host_vars) under ``settings``."""
    if not isinstance(deployments, dict) or not deployments:
        raise AWXConfigurationError("no deployment: inventories/ holds no <deployment>/hosts.yml")
    names = sorted(str(name) for name in deployments)
    envs = {name: _environment(name) for name in names}
    org = str(_setting(settings, "organization"))
    project = str(_setting(settings, "project", "name"))
    ee = str(_setting(settings, "execution_environment", "name"))
    timeout = int(_setting(settings, "approval_timeout_seconds"))
    if timeout <= 0:
        raise AWXConfigurationError("awx setting approval_timeout_seconds must be positive: an approval never waits forever")
    smtp = _setting(settings, "smtp")
    operators, approvers = str(_setting(settings, "teams", "operators")), str(_setting(settings, "teams", "approvers"))

    config: dict[str, list[dict[str, Any]]] = {
        "aap_organizations": [{"name": org, "description": "ComplianceFlow platform: Azure infrastructure"}],
        "aap_teams": [
            {"name": operators, "organization": org, "description": "Plan, deploy and destroy non-production; "
             "start production deploys (which wait for approval)"},
            {"name": approvers, "organization": org, "description": "Approve production deploys"},
        ],
        "controller_execution_environments": [{
            "name": ee, "image": str(_setting(settings, "execution_environment", "image")), "organization": org,
            "pull": "missing", "description": "complianceflow.azure_infra and its requirements (execution-environment.yml)"}],
        "controller_credentials": [
            {"name": credential_name(env), "credential_type": AZURE_CREDENTIAL_TYPE, "organization": org,
             "description": f"Service principal of the {env} deployments", "_environment": env}
            for env in sorted(set(envs.values()))],
        "controller_projects": [{
            "name": project, "organization": org, "scm_type": "git",
            "scm_url": str(_setting(settings, "project", "scm_url")),
            "scm_branch": str(_setting(settings, "project", "scm_branch")),
            "scm_update_on_launch": True, "scm_update_cache_timeout": 60, "default_environment": ee,
            "description": "The complianceflow.azure_infra repository: playbooks and one inventory per deployment"}],
        "controller_inventories": [], "controller_inventory_sources": [], "controller_notifications": [],
        "controller_templates": [], "controller_workflows": [], "controller_schedules": [], "controller_roles": [],
    }
    operator_templates: list[str] = []
    workflows: list[str] = []
    for index, name in enumerate(names):
        env = envs[name]
        notification = f"{name} on-call"
        recipients = [str(e) for e in (deployments[name] or {}).get("cf_alert_emails") or []]
        if not recipients:
            raise AWXConfigurationError(f"inventories/{name}: cf_alert_emails is empty (drift failures notify it)")
        config["controller_inventories"].append(
            {"name": name, "organization": org, "description": f"The {name} deployment (inventories/{name}/)"})
        config["controller_inventory_sources"].append({
            "name": f"{name} from project", "inventory": name, "organization": org, "source": "scm",
            "source_project": project, "source_path": f"inventories/{name}/", "overwrite": True,
            "overwrite_vars": True, "update_on_launch": True, "execution_environment": ee})
        config["controller_notifications"].append({
            "name": notification, "organization": org, "notification_type": "email",
            "description": f"The alert contacts of {name} (cf_alert_emails)",
            "notification_configuration": {
                "host": str(smtp.get("host", "")), "port": int(smtp.get("port", 25)),
                "sender": str(smtp.get("sender", "")), "recipients": recipients,
                "use_tls": bool(smtp.get("use_tls", True)), "use_ssl": False, "username": "", "password": "",
                "timeout": 30}})
        for kind, playbook, job_type, writes, description in TEMPLATE_KINDS:
            if kind == "Destroy" and env in PROTECTED_ENVS:
                continue  # production is deleted from a terminal, with -e confirm_destroy (docs/awx.md)
            template: dict[str, Any] = {
                "name": template_name(name, kind), "description": description, "organization": org,
                "project": project, "inventory": name, "playbook": playbook, "job_type": job_type,
                "diff_mode": True, "credentials": [credential_name(env)], "execution_environment": ee,
                "allow_simultaneous": not writes, "_writes": writes}
            if kind == "Drift":
                template["notification_templates_error"] = [notification]
            if kind == "Destroy":
                template["survey_enabled"] = True
                template["survey_spec"] = {
                    "name": f"Destroy {name}", "description": "Confirm the deployment to delete",
                    "spec": [{"question_name": f"Type the deployment's name ({name}) to delete it and everything in it",
                              "question_description": "Any other answer stops the job before any change",
                              "variable": CONFIRM_VARIABLE, "type": "text", "required": True, "min": 1, "max": 64,
                              "default": ""}]}
            config["controller_templates"].append(template)
            if env not in PROTECTED_ENVS or kind in ("Plan", "Drift"):
                operator_templates.append(template["name"])
        config["controller_schedules"].append({
            "name": f"{name} Drift nightly", "organization": org, "unified_job_template": template_name(name, "Drift"),
            "rrule": _rrule(settings, index), "enabled": True, "description": "Nightly drift report"})
        if env in PROTECTED_ENVS:
            workflows.append(workflow_name(name))
            config["controller_workflows"].append(_approval_workflow(name, org, timeout, notification))
    config["controller_roles"] = [
        {"team": operators, "role": "execute", "job_templates": operator_templates, "workflows": workflows},
        {"team": approvers, "role": "approval", "workflows": workflows},
    ]
    if not workflows:
        config["controller_roles"] = config["controller_roles"][:1]
        config["controller_roles"][0].pop("workflows")
    return config


def _node(identifier: str, template: str, then: str | None) -> dict[str, Any]:
    return {"identifier": identifier, "unified_job_template": {"name": template, "type": "job_template"},
            "related": {"success_nodes": [{"identifier": then}] if then else []}}


def _approval_workflow(name: str, org: str, timeout: int, notification: str) -> dict[str, Any]:
    """Plan -> approval (times out) -> Deploy -> Validate; a failed or refused step stops the workflow."""
    return {
        "name": workflow_name(name), "organization": org, "allow_simultaneous": False,
        "description": f"Plan {name}, wait for an approver, then deploy and validate (FR-019)",
        "notification_templates_approvals": [notification], "notification_templates_error": [notification],
        "workflow_nodes": [
            _node("plan", template_name(name, "Plan"), "approve"),
            {"identifier": "approve",
             "unified_job_template": {"name": f"Approve the {name} deploy", "type": "workflow_approval",
                                      "description": "Read the Plan job's diff, then approve or deny",
                                      "timeout": timeout},
             "related": {"success_nodes": [{"identifier": "deploy"}]}},
            _node("deploy", template_name(name, "Deploy"), "validate"),
            _node("validate", template_name(name, "Validate"), None),
        ]}
