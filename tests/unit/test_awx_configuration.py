"""AWX/AAP configuration as code (playbooks/awx_configure.yml), tested without an AWX server.

The objects are generated from the inventories (plugins/module_utils/awx_configuration.py) and rendered offline by
the playbook itself (`--tags render`). Every task is checked against the argument specs of the installed awx.awx
modules (captured from the modules' own main(), never restated here), with ansible-core's own validator; every
template must point at a playbook and an inventory that exist, every survey variable must be read by its playbook,
and no playbook may stop for input (vars_prompt, a pause without a time limit).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import awx_configuration as awx

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLAYBOOK = REPO / "playbooks" / "awx_configure.yml"
DEPLOYMENTS = tuple(sorted(p.parent.name for p in (REPO / "inventories").glob("*/hosts.yml")))
SETTINGS = yaml.safe_load((REPO / "playbooks" / "vars" / "awx.yml").read_text())["awx_settings"]


# --- the awx.awx modules' own argument specs ----------------------------------------------------------------------

class _Captured(Exception):
    pass


def awx_spec(module: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(argument spec as the module builds it, with the controller auth options; the module's other AnsibleModule
    arguments; its DOCUMENTATION) from the installed awx.awx module."""
    from ansible_collections.awx.awx.plugins.module_utils import controller_api

    def capture(self: Any, argument_spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        raise _Captured(argument_spec, kwargs)

    loaded = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{module}")
    original = controller_api.ControllerAPIModule.__init__
    controller_api.ControllerAPIModule.__init__ = capture  # type: ignore[method-assign]
    try:
        loaded.main()
    except _Captured as captured:
        spec, kwargs = captured.args
    else:
        raise AssertionError(f"awx.awx.{module} built no ControllerAPIModule")
    finally:
        controller_api.ControllerAPIModule.__init__ = original  # type: ignore[method-assign]
    full = {**controller_api.ControllerModule.AUTH_ARGSPEC, **spec}
    return full, kwargs, yaml.safe_load(loaded.DOCUMENTATION)


def validation_errors(module: str, params: dict[str, Any]) -> list[str]:
    spec, kwargs, _ = awx_spec(module)
    options = {k: v for k, v in kwargs.items() if k in ("mutually_exclusive", "required_together", "required_one_of",
                                                         "required_if", "required_by")}
    result = ArgumentSpecValidator(spec, **options).validate(params)
    return list(result.error_messages)


# --- what the playbook renders ------------------------------------------------------------------------------------

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONTROLLER_", "TOWER_"))}
    env.update({"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"})
    return env


def render(out: Path, *args: str, run_in: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Render into ``out``; with ``run_in``, the way ``make awx-render`` does: the default awx_render_dir
    (build/awx), relative to the directory ansible-playbook runs in."""
    where = ["-e", f"awx_render_dir={out}"] if run_in is None else []
    result = subprocess.run([str(BIN / "ansible-playbook"), str(PLAYBOOK), "--tags", "render", *where, *args],
                            cwd=run_in or REPO, env=_env(), capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    return dict(json.loads((out / "configuration.json").read_text()))


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    # Run from a directory of its own: the documented build/awx/configuration.json is under it (not under playbooks/).
    checkout = tmp_path_factory.mktemp("checkout")
    return render(checkout / "build" / "awx", run_in=checkout)


def awx_tasks() -> list[dict[str, Any]]:
    [play] = yaml.safe_load(PLAYBOOK.read_text())
    return [t for t in play["tasks"] if any(k.startswith("awx.awx.") for k in t)]


def module_of(task: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [key] = [k for k in task if k.startswith("awx.awx.")]
    return key.removeprefix("awx.awx."), task[key]


ITEM = re.compile(r"^\{\{ item\.(\w+)( \| default\(omit\))? \}\}$")


def task_params(args: dict[str, Any], item: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The module parameters one loop item gives, as Ansible templates them (`item.x`, `item.x | default(omit)`,
    literals); other expressions are left out of the values but must be options of the module."""
    params, problems = {}, []
    for key, value in args.items():
        match = ITEM.match(value) if isinstance(value, str) else None
        if match:
            if match.group(1) != key:
                problems.append(f"{key} is fed from item.{match.group(1)}")
            if key in item:
                params[key] = item[key]
            elif not match.group(2):
                problems.append(f"{key}: item has no {key} and no default(omit)")
        elif isinstance(value, str) and "{{" in value:
            # An expression may read only the item's playbook-only keys (`item._environment`); module options
            # come from the item under their own name, so that the item is what the module receives.
            used = re.findall(r"item\.(\w+)", value)
            if any(not name.startswith("_") for name in used):
                problems.append(f"{key}: {value}")
        else:
            params[key] = value
    return params, problems


# --- tests --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_configuration_playbook_passes_syntax_check() -> None:
    result = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", str(PLAYBOOK)], cwd=REPO, env=_env(),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_task_is_valid_against_the_installed_awx_modules(config: dict[str, list[dict[str, Any]]]) -> None:
    tasks = awx_tasks()
    assert len(tasks) >= 12
    applied = set()
    for task in tasks:
        module, args = module_of(task)
        spec, _, _ = awx_spec(module)
        unknown = sorted(set(args) - set(spec))
        assert unknown == [], f"{task['name']}: awx.awx.{module} has no option {unknown}"
        [variable] = re.findall(r"__awx\.(\w+)", task["loop"])
        applied.add(variable)
        assert config[variable], f"{task['name']}: {variable} is empty"
        for item in config[variable]:
            sent = {k for k in item if not k.startswith("_")}
            assert sent <= set(args), f"{task['name']}: the task drops {sorted(sent - set(args))} of {item.get('name')}"
            params, problems = task_params(args, item)
            assert problems == [], f"{task['name']}: {problems}"
            errors = validation_errors(module, params)
            assert errors == [], f"{task['name']} {item.get('name', item)}: {errors}"
    assert applied == set(config), f"generated but never applied: {sorted(set(config) - applied)}"


def test_the_validation_above_does_reject_what_awx_would_reject() -> None:
    """Control: the captured specs refuse an unknown option and a bad choice, so the test above can fail."""
    assert any("bogus" in e for e in validation_errors("job_template", {"name": "x", "bogus": 1}))
    assert validation_errors("job_template", {"name": "x", "job_type": "plan"})
    assert validation_errors("project", {"name": "x", "scm_type": "svnx"})


def test_workflow_nodes_follow_the_documented_node_options(config: dict[str, list[dict[str, Any]]]) -> None:
    _, _, doc = awx_spec("workflow_job_template")
    node_options = doc["options"]["workflow_nodes"]["suboptions"]
    ujt_options = node_options["unified_job_template"]["suboptions"]
    related_options = node_options["related"]["suboptions"]
    ujt_types = set(ujt_options["type"]["choices"]) if "choices" in ujt_options["type"] else set()
    for workflow in config["controller_workflows"]:
        for node in workflow["workflow_nodes"]:
            assert set(node) <= set(node_options), (workflow["name"], node)
            assert set(node["unified_job_template"]) <= set(ujt_options), node
            assert set(node["related"]) <= set(related_options), node
            if ujt_types:
                assert node["unified_job_template"]["type"] in ujt_types


def test_every_template_points_at_a_playbook_and_an_inventory_that_exist(config: dict[str, list[dict[str, Any]]]) -> None:
    inventories = {i["name"] for i in config["controller_inventories"]}
    assert inventories == set(DEPLOYMENTS)
    for source in config["controller_inventory_sources"]:
        assert source["inventory"] in inventories and source["source"] == "scm"
        assert (REPO / source["source_path"] / "hosts.yml").is_file(), source["source_path"]
        assert source["source_path"] == f"inventories/{source['inventory']}/"
    assert {s["inventory"] for s in config["controller_inventory_sources"]} == inventories
    for template in config["controller_templates"]:
        assert template["inventory"] in inventories, template["name"]
        assert template["project"] in {p["name"] for p in config["controller_projects"]}
        assert (REPO / template["playbook"]).is_file(), f"{template['name']} calls {template['playbook']}, which does not exist"


def test_names_referenced_between_objects_exist(config: dict[str, list[dict[str, Any]]]) -> None:
    templates = {t["name"] for t in config["controller_templates"]}
    notifications = {n["name"] for n in config["controller_notifications"]}
    credentials = {c["name"] for c in config["controller_credentials"]}
    for template in config["controller_templates"]:
        assert set(template["credentials"]) <= credentials
        assert set(template.get("notification_templates_error", [])) <= notifications
    for schedule in config["controller_schedules"]:
        assert schedule["unified_job_template"] in templates
    for workflow in config["controller_workflows"]:
        for node in workflow["workflow_nodes"]:
            if node["unified_job_template"]["type"] == "job_template":
                assert node["unified_job_template"]["name"] in templates
    for role in config["controller_roles"]:
        assert set(role.get("job_templates", [])) <= templates
        assert set(role.get("workflows", [])) <= {w["name"] for w in config["controller_workflows"]}
    assert {c["credential_type"] for c in config["controller_credentials"]} == {"Microsoft Azure Resource Manager"}


def test_templates_that_write_never_run_simultaneously(config: dict[str, list[dict[str, Any]]]) -> None:
    for template in config["controller_templates"]:
        kind = template["name"].rsplit(" ", 1)[1]
        writes = kind in ("Deploy", "Validate", "Destroy")
        assert template["_writes"] is writes, template["name"]
        if writes:
            assert template["allow_simultaneous"] is False, template["name"]
    assert all(w["allow_simultaneous"] is False for w in config["controller_workflows"])


def test_plan_is_check_and_diff_and_drift_is_nightly_and_notifies(config: dict[str, list[dict[str, Any]]]) -> None:
    by_name = {t["name"]: t for t in config["controller_templates"]}
    schedules = {s["unified_job_template"]: s for s in config["controller_schedules"]}
    for deployment in DEPLOYMENTS:
        plan = by_name[f"{deployment} Plan"]
        assert (plan["playbook"], plan["job_type"], plan["diff_mode"]) == ("site.yml", "check", True)
        assert by_name[f"{deployment} Deploy"]["job_type"] == "run"
        drift = by_name[f"{deployment} Drift"]
        assert drift["notification_templates_error"] == [f"{deployment} on-call"]
        assert "FREQ=DAILY" in schedules[drift["name"]]["rrule"]
    # A playbook that refuses to run outside check mode (drift.yml) must be launched as a check job.
    for template in config["controller_templates"]:
        if "that: ansible_check_mode" in (REPO / template["playbook"]).read_text():
            assert template["job_type"] == "check", template["name"]
    recipients = {n["name"]: n["notification_configuration"]["recipients"] for n in config["controller_notifications"]}
    for deployment in DEPLOYMENTS:
        own = yaml.safe_load((REPO / "inventories" / deployment / "host_vars" / f"{deployment}.yml").read_text())
        assert recipients[f"{deployment} on-call"] == own["cf_alert_emails"]


def test_production_deploys_through_an_approval_and_is_never_destroyed_from_awx(
        config: dict[str, list[dict[str, Any]]]) -> None:
    templates = {t["name"] for t in config["controller_templates"]}
    workflows = {w["name"]: w for w in config["controller_workflows"]}
    operators = next(r for r in config["controller_roles"] if r["role"] == "execute")
    approvers = next(r for r in config["controller_roles"] if r["role"] == "approval")
    for deployment in DEPLOYMENTS:
        production = deployment.split("-")[1] == "prod"
        assert (f"{deployment} Destroy" in templates) is not production
        assert (f"{deployment} Deploy with approval" in workflows) is production
        # Operators cannot launch production's Deploy directly: only through its workflow.
        assert (f"{deployment} Deploy" in operators["job_templates"]) is not production
        if not production:
            continue
        nodes = {n["identifier"]: n for n in workflows[f"{deployment} Deploy with approval"]["workflow_nodes"]}
        order, node = [], nodes["plan"]
        while node:
            ujt = node["unified_job_template"]
            order.append(ujt["name"] if ujt["type"] == "job_template" else ujt["type"])
            if ujt["type"] == "workflow_approval":
                assert 0 < ujt["timeout"] <= 7 * 24 * 3600, "an approval must time out"
            following = node["related"].get("success_nodes", [])
            node = nodes[following[0]["identifier"]] if following else None
        assert order == [f"{deployment} Plan", "workflow_approval", f"{deployment} Deploy", f"{deployment} Validate"]
        assert f"{deployment} Deploy with approval" in approvers["workflows"]


def test_survey_variables_are_read_by_the_playbooks_they_feed(config: dict[str, list[dict[str, Any]]]) -> None:
    surveyed = [t for t in config["controller_templates"] if t.get("survey_enabled")]
    assert surveyed, "the Destroy templates must ask for confirmation"
    for template in surveyed:
        lines = [line.split("#", 1)[0] for line in (REPO / template["playbook"]).read_text().splitlines()]
        code = "\n".join(lines)
        for question in template["survey_spec"]["spec"]:
            assert question["required"] is True
            assert re.search(rf"\b{re.escape(question['variable'])}\b", code), (
                f"{template['playbook']} never reads the survey variable {question['variable']}")


def _tasks(entries: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    found = []
    for entry in entries or []:
        found.append(entry)
        for key in ("block", "rescue", "always"):
            found.extend(_tasks(entry.get(key)))
    return found


def test_no_playbook_waits_for_input() -> None:
    """AWX runs without a terminal: vars_prompt or a pause without seconds/minutes would hang a job until timeout."""
    files = [REPO / "site.yml", *sorted((REPO / "playbooks").rglob("*.yml")), *sorted((REPO / "roles").glob("*/tasks/*.yml"))]
    files = [f for f in files if "vars" not in f.relative_to(REPO).parts]
    assert len(files) > 10
    problems = []
    for path in files:
        document = yaml.safe_load(path.read_text()) or []
        plays = [d for d in document if isinstance(d, dict) and ("hosts" in d or "import_playbook" in d
                                                                  or "ansible.builtin.import_playbook" in d)]
        tasks = _tasks([d for d in document if isinstance(d, dict) and d not in plays])
        for play in plays:
            if "vars_prompt" in play:
                problems.append(f"{path.relative_to(REPO)}: vars_prompt")
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                tasks += _tasks(play.get(section))
        for task in tasks:
            for key in ("pause", "ansible.builtin.pause", "ansible.legacy.pause"):
                if key in task:
                    args = task[key] if isinstance(task[key], dict) else {}
                    if not {"seconds", "minutes"} & set(args):
                        problems.append(f"{path.relative_to(REPO)}: {task.get('name')}: pause without a time limit")
    assert problems == []


@pytest.mark.slow
def test_a_new_inventory_gets_its_awx_objects_with_no_hand_written_object(tmp_path: Path) -> None:
    """Copy the inventories, add one deployment the way docs/deployments.md says, render: its objects are there."""
    inventories = tmp_path / "inventories"
    shutil.copytree(REPO / "inventories", inventories, symlinks=True)
    new = inventories / "northeu-prod-1"
    shutil.copytree(REPO / "inventories" / "westeu-prod-1", new)
    (new / "hosts.yml").write_text((new / "hosts.yml").read_text().replace("westeu-prod-1", "northeu-prod-1")
                                   .replace("region_westeu", "region_northeu"))
    (new / "host_vars" / "westeu-prod-1.yml").rename(new / "host_vars" / "northeu-prod-1.yml")
    config = render(tmp_path / "out", "-e", f"awx_inventories_dir={inventories}")
    assert "northeu-prod-1" in {i["name"] for i in config["controller_inventories"]}
    assert {"northeu-prod-1 Plan", "northeu-prod-1 Deploy", "northeu-prod-1 Validate", "northeu-prod-1 Drift"} <= {
        t["name"] for t in config["controller_templates"]}
    assert "northeu-prod-1 Destroy" not in {t["name"] for t in config["controller_templates"]}
    assert "northeu-prod-1 Deploy with approval" in {w["name"] for w in config["controller_workflows"]}
    assert any(s["source_path"] == "inventories/northeu-prod-1/" for s in config["controller_inventory_sources"])


# --- the generator's own rules (pure) ------------------------------------------------------------------------------

def test_bad_input_is_refused_with_the_name_of_what_is_wrong() -> None:
    good = {"westeu-test-1": {"cf_alert_emails": ["a@example.com"]}}
    with pytest.raises(awx.AWXConfigurationError, match="inventories/westeu-qa-1: not a deployment name"):
        awx.awx_configuration({"westeu-qa-1": {"cf_alert_emails": ["a@example.com"]}}, SETTINGS)
    with pytest.raises(awx.AWXConfigurationError, match="inventories/westeu-test-1: cf_alert_emails is empty"):
        awx.awx_configuration({"westeu-test-1": {}}, SETTINGS)
    with pytest.raises(awx.AWXConfigurationError, match="no deployment"):
        awx.awx_configuration({}, SETTINGS)
    with pytest.raises(awx.AWXConfigurationError, match="approval_timeout_seconds must be positive"):
        awx.awx_configuration(good, {**SETTINGS, "approval_timeout_seconds": 0})
    with pytest.raises(awx.AWXConfigurationError, match=r"awx setting project\.scm_url is missing"):
        awx.awx_configuration(good, {**SETTINGS, "project": {"name": "p"}})
    with pytest.raises(awx.AWXConfigurationError, match=r"drift_schedule\.start"):
        awx.awx_configuration(good, {**SETTINGS, "drift_schedule": {"start": "2 am"}})


def test_drift_schedules_are_staggered_and_wrap_past_midnight() -> None:
    settings = {**SETTINGS, "drift_schedule": {"start": "20260101T234500", "timezone": "UTC", "stagger_minutes": 10}}
    names = {f"westeu-test-{n}": {"cf_alert_emails": ["a@example.com"]} for n in (1, 2, 3)}
    rules = [s["rrule"] for s in awx.awx_configuration(names, settings)["controller_schedules"]]
    assert rules == [f"DTSTART;TZID=UTC:20260101T{t}00 RRULE:FREQ=DAILY;INTERVAL=1" for t in ("2345", "2355", "0005")]


def test_an_estate_without_production_has_no_workflow_and_no_approver_role() -> None:
    config = awx.awx_configuration({"westeu-test-1": {"cf_alert_emails": ["a@example.com"]}}, SETTINGS)
    assert config["controller_workflows"] == []
    assert [r["role"] for r in config["controller_roles"]] == ["execute"]
    assert "workflows" not in config["controller_roles"][0]
    assert errors_free(config)


def errors_free(config: dict[str, list[dict[str, Any]]]) -> bool:
    role = config["controller_roles"][0]
    return validation_errors("role", {k: v for k, v in role.items() if not k.startswith("_")}) == []
