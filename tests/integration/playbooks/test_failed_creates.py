"""A long create that fails (its operation ends Failed) must fail the run at once with Azure's code and message,
not time out and not report success. The site playbook writes the long creates in one pass (no background jobs
since the single pass replaced them, so no job status files can be left behind)."""

from __future__ import annotations

from typing import Any

from tests.integration.playbooks.runner import run_playbook


def test_a_failed_redis_create_fails_the_run_with_azures_words(fresh: Any) -> None:
    fresh.set_faults("put:Microsoft.Cache/redis:lro-failed:always")
    run = run_playbook(fresh, "site.yml", "westeu-test-1", "--tags", "resource_group,redis",
                       "-e", "deployment_lock_mode=off")
    assert run.returncode != 0, run.output
    assert run.recap.get("failed") == 1, run.output
    assert "InternalServerError" in run.stdout and "lro-failed" in run.stdout, run.output
