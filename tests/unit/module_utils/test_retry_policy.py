"""Which ARM answers are retried, for how long, and how Retry-After is read."""

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import (
    RetrySettings,
    error_from_body,
    parse_retry_after,
    retry_delay,
)

SETTINGS = RetrySettings(max_attempts=5, max_total_seconds=60, backoff_base=1, backoff_cap=8)


def arm_error(code: str, message: str = "m") -> dict:
    return {"error": {"code": code, "message": message}}


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_throttling_and_server_errors_retry(status):
    assert retry_delay(status, {}, None, attempt=1, elapsed=0, settings=SETTINGS) == 1


@pytest.mark.parametrize("code", ["AnotherOperationInProgress", "RetryableError", "ServerIsBusy"])
def test_conflicts_that_mean_try_again_retry(code):
    assert retry_delay(409, {}, arm_error(code), attempt=1, elapsed=0, settings=SETTINGS) is not None


@pytest.mark.parametrize(("status", "code"), [(409, "Conflict"), (400, "InvalidParameter"), (404, "NotFound"),
                                              (403, "AuthorizationFailed"), (409, "ScopeLocked"),
                                              (400, "NetcfgSubnetRangeOutsideVnet")])
def test_caller_errors_are_not_retried(status, code):
    assert retry_delay(status, {"Retry-After": "1"}, arm_error(code), attempt=1, elapsed=0, settings=SETTINGS) is None


def test_retry_after_seconds_wins_over_backoff():
    assert retry_delay(429, {"Retry-After": "7"}, None, attempt=1, elapsed=0, settings=SETTINGS) == 7


def test_retry_after_ms_headers_are_honoured():
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"x-ms-retry-after-ms": "250", "Retry-After": "9"}) == 0.25


def test_retry_after_http_date():
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"Retry-After": when}, now=1_000_000) == pytest.approx(30)


def test_unparseable_retry_after_falls_back_to_backoff():
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert retry_delay(503, {"Retry-After": "soon"}, None, attempt=3, elapsed=0, settings=SETTINGS) == 4


def test_backoff_grows_and_is_capped():
    delays = [retry_delay(503, {}, None, attempt=a, elapsed=0,
                          settings=RetrySettings(max_attempts=10, max_total_seconds=999, backoff_cap=8))
              for a in range(1, 7)]
    assert delays == [1, 2, 4, 8, 8, 8]


def test_bounded_in_attempts():
    assert retry_delay(429, {}, None, attempt=4, elapsed=0, settings=SETTINGS) is not None
    assert retry_delay(429, {}, None, attempt=5, elapsed=0, settings=SETTINGS) is None


def test_bounded_in_total_time_including_the_next_wait():
    assert retry_delay(429, {"Retry-After": "10"}, None, attempt=1, elapsed=49, settings=SETTINGS) == 10
    assert retry_delay(429, {"Retry-After": "10"}, None, attempt=1, elapsed=51, settings=SETTINGS) is None


def test_error_from_body_reads_arm_error_and_first_detail():
    body = {"error": {"code": "InvalidTemplate", "message": "bad", "details": [{"code": "X", "message": "why"}]}}
    assert error_from_body(body) == ("InvalidTemplate", "bad (X: why)")
    assert error_from_body({"code": "Flat", "message": "no wrapper"}) == ("Flat", "no wrapper")
    assert error_from_body(None, "<html>gateway</html>") == ("", "<html>gateway</html>")
