"""Every filter is documented for ansible-doc and works in a real template through its FQCN."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.complianceflow.azure_infra.plugins.filter import awx, cidr, deployment, naming, state
from scripts.generate_docs import deployment_inputs

REPO = Path(__file__).resolve().parents[2]
FILTER_DIR = REPO / "plugins" / "filter"
BIN = Path(sys.executable).parent
FQCN = "complianceflow.azure_infra"
FILTERS = sorted(name for module in (awx, cidr, deployment, naming, state) for name in module.FilterModule().filters())


def ansible_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update({"ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                "ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_DEPRECATION_WARNINGS": "0"})
    return env


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)


def documented_options(name: str) -> list[str]:
    doc = yaml.safe_load((FILTER_DIR / f"{name}.yml").read_text())["DOCUMENTATION"]
    return sorted(doc.get("options") or {})


def test_every_filter_has_a_doc_file_and_every_doc_file_a_filter() -> None:
    assert FILTERS, "no filters found"
    assert sorted(p.stem for p in FILTER_DIR.glob("*.yml")) == FILTERS


@pytest.fixture(scope="module")
def rendered_docs() -> dict[str, str]:
    """ansible-doc output per filter (one run for all of them: each run costs a second of start-up)."""
    result = run(str(BIN / "ansible-doc"), "-t", "filter", *(f"{FQCN}.{f}" for f in FILTERS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stderr and "[ERROR]" not in result.stderr, result.stderr
    # ansible-doc emboldens option names even with ANSIBLE_NOCOLOR; the escapes are not content.
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    pages = re.split(r"^> FILTER ", text, flags=re.MULTILINE)[1:]
    return {page.split()[0].removeprefix(f"{FQCN}."): page for page in pages}


@pytest.mark.slow
@pytest.mark.parametrize("name", FILTERS)
def test_ansible_doc_renders_the_filter_with_its_options(name: str, rendered_docs: dict[str, str]) -> None:
    assert name in rendered_docs, f"ansible-doc rendered no page for {FQCN}.{name}"
    page = rendered_docs[name]
    assert "OPTIONS" in page and "EXAMPLES" in page, page
    options = documented_options(name)
    assert options, f"{name}.yml documents no options"
    for option in options:
        # "= name" marks a required option and "- name" an optional one when output is not a terminal.
        shown = re.search(rf"^[=-] {re.escape(option)}\s", page, flags=re.MULTILINE)
        assert shown, f"{name}: option {option} not shown"


def template(expression: str, extra_vars: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(BIN / "ansible"), "localhost", "-i", "localhost,", "-c", "local", "-m", "ansible.builtin.debug",
            "-a", f"msg={{{{ {expression} | to_json }}}}"]
    if extra_vars is not None:
        args += ["-e", json.dumps(extra_vars)]
    return run(*args)


def template_value(expression: str, extra_vars: dict[str, Any] | None = None) -> Any:
    result = template(expression, extra_vars)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(json.loads(result.stdout.split("=>", 1)[1])["msg"])


REGISTRY = yaml.safe_load((REPO / "group_vars" / "all.yml").read_text())


@pytest.mark.slow
def test_filters_work_in_a_real_template() -> None:
    """All the pure filters in one ad-hoc run, through the FQCN a playbook uses."""
    values = template_value(
        "{"
        f"'subnet': 'westeu-test-1' | {FQCN}.resource_name('subnet', qualifier='db'),"
        f"'db': 'westeu-test-1' | {FQCN}.resource_name('postgresql_database', service='user'),"
        f"'psql': 'westeu-test-1' | {FQCN}.resource_name('postgresql_server', subscription_id=sub),"
        f"'cidr': 'westeu-prod-1' | {FQCN}.deployment_cidr(cf_cidr_allocations),"
        f"'next': cf_cidr_allocations | {FQCN}.next_free_cidr,"
        f"'next24': cf_cidr_allocations | {FQCN}.next_free_cidr(pool='192.168.0.0/16', prefixlen=24),"
        f"'test_subnets': '10.10.0.0/16' | {FQCN}.subnet_plan(cf_subnet_tiers, 'test'),"
        f"'prod_subnets': '10.30.0.0/16' | {FQCN}.subnet_plan(cf_subnet_tiers, 'prod'),"
        f"'bad_name': 'kv--cf' | {FQCN}.name_errors('key_vault'),"
        "}",
        {"cf_cidr_allocations": REGISTRY["cf_cidr_allocations"], "cf_subnet_tiers": REGISTRY["cf_subnet_tiers"],
         "sub": "3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b"},
    )
    assert values["subnet"] == "snet-cf-westeu-test-1-db"
    assert values["db"] == "complianceflow_user_westeu_test_1"
    assert re.fullmatch(r"psql-cf-westeu-test-1-[a-z0-9]{4}", values["psql"])
    assert values["cidr"] == "10.30.0.0/16"
    assert values["next"] == "10.0.0.0/16"
    assert values["next24"] == "192.168.0.0/24"
    assert values["test_subnets"] == {"containerapps": "10.10.1.0/24", "db": "10.10.2.0/24", "redis": "10.10.3.0/24",
                                      "storage": "10.10.4.0/24", "appgw": "10.10.6.0/24",
                                      "mgmt": "10.10.10.0/24"}
    assert values["prod_subnets"]["apim"] == "10.30.5.0/24"
    assert any("consecutive hyphens" in problem for problem in values["bad_name"])


@pytest.mark.slow
def test_filter_errors_reach_the_user_as_task_failures() -> None:
    result = template(f"'westeu-test-1' | {FQCN}.deployment_cidr({{'westeu-test-1': '8.8.0.0/16'}})")
    assert result.returncode != 0
    assert "cf_cidr_allocations[westeu-test-1]: 8.8.0.0/16 is not private address space" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.slow
def test_model_filters_work_in_a_real_template() -> None:
    """deployment_problems, deployment_model, plan_summary and plan_document on the preflight inputs."""
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    broken = {**inputs, "owner": "", "alert_emails": ["nobody"]}
    values = template_value(
        "{"
        f"'problems': broken | {FQCN}.deployment_problems,"
        f"'clean': inputs | {FQCN}.deployment_problems,"
        f"'summary': inputs | {FQCN}.deployment_model | {FQCN}.plan_summary,"
        f"'document_keys': inputs | {FQCN}.deployment_model | {FQCN}.plan_document | list,"
        "}",
        {"inputs": inputs, "broken": broken},
    )
    assert values["clean"] == []
    assert any("cf_owner" in p for p in values["problems"]) and any("cf_alert_emails" in p for p in values["problems"])
    assert all(p.startswith("westeu-test-1: ") for p in values["problems"])
    assert values["summary"]["address_space"] == "10.10.0.0/16"
    assert "apim" not in values["summary"]["subnets"]
    assert sorted(values["document_keys"]) == ["deployment", "location", "resources", "subscription_id"]
