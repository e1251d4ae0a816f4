"""The long creates run as background jobs (site.yml overlaps them); a job that fails must fail the run with
Azure's code and message, and leave no status file behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.playbooks.runner import run_playbook


def test_a_failed_redis_job_fails_the_run_with_azures_words_and_leaves_no_status_file(fresh: Any,
                                                                                       tmp_path: Path) -> None:
    async_dir = tmp_path / "async"
    fresh.set_faults("put:Microsoft.Cache/redis:lro-failed:always")
    run = run_playbook(fresh, "site.yml", "westeu-test-1", "--tags", "resource_group,redis",
                       "-e", "deployment_lock_mode=off",
                       extra_env={"ANSIBLE_ASYNC_DIR": str(async_dir)})
    assert run.returncode != 0, run.output
    assert run.recap.get("failed") == 1, run.output
    assert "InternalServerError" in run.stdout and "lro-failed" in run.stdout, run.output
    leftovers = [p.name for p in async_dir.rglob("*") if p.is_file()] if async_dir.exists() else []
    assert leftovers == [], f"status files left behind: {leftovers}"
