# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARM REST client: one azure-core pipeline, our own retry policy and long-running-operation waiter.

Retries live here rather than in azure-core's RetryPolicy because ARM signals "try again" not only with
429/5xx but with 409 bodies (AnotherOperationInProgress, RetryableError, ServerIsBusy), and because the
bound must be on count *and* on total time. The decision is a pure function (:func:`retry_delay`) so its
rules are unit-tested without a server.
"""

from __future__ import annotations

import email.utils
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset({"anotheroperationinprogress", "retryableerror", "serverisbusy", "toomanyrequests",
                             "operationnotallowed_concurrentoperation", "internalservererror",
                             "conflictingoperationinprogress"})
NOT_A_MISSING_RESOURCE = frozenset({"invalidresourcenamespace", "invalidresourcetype", "noregisteredproviderfound",
                                    "invalidapiversionparameter", "subscriptionnotfound"})
ANY_STATUS = tuple(range(200, 600))
TERMINAL_STATES = frozenset({"succeeded", "failed", "canceled", "cancelled"})
USER_AGENT = "complianceflow.azure_infra"


class AzureApiError(Exception):
    """An ARM call that failed for good: carries what Azure said and about which resource."""

    def __init__(self, status: int | None, code: str, message: str, resource_id: str = "", method: str = "") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.resource_id = resource_id
        self.method = method
        where = f"{method} {resource_id}".strip()
        super().__init__(f"{where}: {status or ''} {code}: {message}".replace("  ", " "))

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message, "resource_id": self.resource_id}


@dataclass
class RetrySettings:
    max_attempts: int = 8
    max_total_seconds: float = 300.0
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    # A long-running operation that Azure failed for a transient reason is written again once, no more.
    max_lro_redrives: int = 1


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    text: str = ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


def error_from_body(body: Any, text: str = "") -> tuple[str, str]:
    """ARM's ``{"error": {"code", "message"}}`` (some providers omit the wrapper)."""
    if isinstance(body, dict):
        err = body.get("error") if isinstance(body.get("error"), dict) else body
        code = err.get("code") or ""
        message = err.get("message") or ""
        details = err.get("details")
        if isinstance(details, list) and details and isinstance(details[0], dict) and details[0].get("message"):
            message = f"{message} ({details[0].get('code', '')}: {details[0]['message']})"
        if code or message:
            return str(code), str(message)
    return "", text[:500]


def parse_retry_after(headers: dict[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms``/``x-ms-retry-after-ms`` or ``Retry-After``
    (delta-seconds or an HTTP date); None when absent or unparseable."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        if name in lowered:
            try:
                return max(0.0, float(lowered[name]) / 1000.0)
            except ValueError:
                pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - (time.time() if now is None else now))


def is_certificate_failure(exc: BaseException) -> bool:
    """Whether a connection error comes from TLS certificate verification (anywhere in its chain of causes)."""
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        pending.extend([getattr(current, "inner_exception", None), current.__cause__, current.__context__,
                        *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]])
    return False


def is_retryable(status: int, body: Any) -> bool:
    if status in RETRYABLE_STATUS:
        return True
    if status in (400, 409, 412, 423):
        return error_from_body(body)[0].lower() in RETRYABLE_CODES
    return False


def retry_delay(status: int, headers: dict[str, str], body: Any, attempt: int, elapsed: float,
                settings: RetrySettings) -> float | None:
    """How long to wait before attempt ``attempt + 1``, or None to give up.

    ``attempt`` counts the attempts made so far (1 after the first). Retry-After wins over our backoff;
    a wait that would cross the total-time bound is not started, so the caller fails with Azure's error
    rather than after a sleep that cannot help.
    """
    if not is_retryable(status, body) or attempt >= settings.max_attempts:
        return None
    delay = parse_retry_after(headers)
    if delay is None:
        delay = min(settings.backoff_cap, settings.backoff_base * (2 ** (attempt - 1)))
    if elapsed + delay > settings.max_total_seconds:
        return None
    return delay


@dataclass
class ArmClient:
    """Send ARM requests through an azure-core pipeline with our retries and LRO polling."""

    base_url: str
    credential: Any
    scopes: list[str]
    subscription_id: str
    verify: bool = True
    retry: RetrySettings = field(default_factory=RetrySettings)
    sleep: Callable[[float], None] = time.sleep
    _pipeline_client: Any = None

    def _client(self) -> Any:
        if self._pipeline_client is None:
            # Imported here so that argument errors and ansible-doc never pay for azure-core.
            from azure.core.pipeline import policies
            from azure.mgmt.core import ARMPipelineClient
            from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

            pipeline_policies = [
                policies.RequestIdPolicy(),
                policies.HeadersPolicy(),
                policies.UserAgentPolicy(base_user_agent=USER_AGENT),
                policies.ProxyPolicy(),
                policies.ContentDecodePolicy(),
                policies.RedirectPolicy(),
                ARMChallengeAuthenticationPolicy(self.credential, *self.scopes),
            ]
            self._pipeline_client = ARMPipelineClient(self.base_url, policies=pipeline_policies,
                                                      connection_verify=self.verify)
        return self._pipeline_client

    def url(self, path_or_url: str, api_version: str | None) -> str:
        if path_or_url.startswith("https://") or path_or_url.startswith("http://"):
            url = path_or_url
        else:
            url = self.base_url.rstrip("/") + "/" + path_or_url.lstrip("/")
        if api_version and "api-version=" not in url:
            url += ("&" if "?" in url else "?") + f"api-version={api_version}"
        return url

    def send_once(self, method: str, url: str, body: Any = None) -> Response:
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
        from azure.core.rest import HttpRequest

        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        request = HttpRequest(method, url, headers=headers, content=data)
        try:
            raw = self._client().send_request(request)
        except ClientAuthenticationError as exc:
            # azure-identity failures (wrong secret, unknown tenant) surface as this; keep Entra ID's words.
            raise AzureApiError(401, "AuthenticationFailed", str(exc).splitlines()[0] if str(exc) else repr(exc),
                                urlparse(url).path, method) from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            if is_certificate_failure(exc):
                # The server's certificate is not trusted: no retry can change that (a wrong CA bundle, a proxy
                # that intercepts TLS), so fail at once instead of backing off for minutes.
                raise AzureApiError(None, "CertificateVerificationFailed", str(exc).splitlines()[0] if str(exc)
                                    else repr(exc), urlparse(url).path, method) from exc
            # Connection reset or timeout: treat like a 503 so the retry policy decides.
            return Response(503, {}, {"error": {"code": "ConnectionError", "message": str(exc)}}, str(exc))
        text = raw.text() if raw.content else ""
        parsed: Any = None
        if text:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        return Response(raw.status_code, dict(raw.headers), parsed, text)

    def request(self, method: str, path: str, api_version: str | None = None, body: Any = None,
                resource_id: str = "", ok: tuple[int, ...] = (200, 201, 202, 204)) -> Response:
        """One logical call with retries; raises :class:`AzureApiError` for anything not in ``ok``."""
        url = self.url(path, api_version)
        started = time.monotonic()
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            response = self.send_once(method, url, body)
            if response.status in ok:
                return response
            if response.status == 401 and not renewed and hasattr(self.credential, "forget"):
                # A token from the shared cache that the server no longer accepts: drop it and ask for a new one.
                renewed = True
                self.credential.forget()
                self._pipeline_client = None
                continue
            delay = retry_delay(response.status, response.headers, response.body, attempt,
                                time.monotonic() - started, self.retry)
            if delay is None:
                code, message = error_from_body(response.body, response.text)
                raise AzureApiError(response.status, code or f"HTTP{response.status}", message,
                                    resource_id or urlparse(url).path, method)
            self.sleep(delay)

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        """The resource, or None when ARM says it does not exist."""
        response = self.request("GET", resource_id, api_version, resource_id=resource_id, ok=(200, 404))
        if response.status == 404:
            code, message = error_from_body(response.body, response.text)
            if code.lower() in NOT_A_MISSING_RESOURCE:
                # ARM answers 404 for a wrong provider or type too; that is a fault, not an absent resource.
                raise AzureApiError(404, code, message, resource_id, "GET")
            return None
        return response.body if isinstance(response.body, dict) else {}

    def list(self, collection_path: str, api_version: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        response = self.request("GET", collection_path, api_version, resource_id=collection_path)
        while True:
            body = response.body or {}
            items.extend(body.get("value") or [])
            next_link = body.get("nextLink")
            if not next_link:
                return items
            response = self.request("GET", next_link, None, resource_id=collection_path)

    def write(self, method: str, resource_id: str, api_version: str, body: Any, timeout: float) -> dict[str, Any]:
        """PUT/PATCH and wait for the operation; returns the resource as ARM reports it afterwards."""
        deadline = time.monotonic() + timeout
        redrives = 0
        failures: list[AzureApiError] = []
        while True:
            response = self.request(method, resource_id, api_version, body=body, resource_id=resource_id)
            try:
                self.wait(response, resource_id, method, max(0.0, deadline - time.monotonic()), api_version)
                break
            except AzureApiError as exc:
                # An operation that Azure failed for a transient reason (InternalServerError, RetryableError)
                # is safe to drive again: PUT/PATCH are idempotent. Anything else is the caller's problem.
                if exc.code.lower() not in RETRYABLE_CODES or redrives >= self.retry.max_lro_redrives:
                    if failures and exc.code == "ProvisioningFailed":
                        # The write again only said "failed": the first failure carried Azure's reason.
                        raise failures[0] from exc
                    raise
                failures.append(exc)
                redrives += 1
        final = self.get(resource_id, api_version)
        if final is None:
            raise AzureApiError(None, "ResourceMissingAfterWrite",
                                "the write was accepted but the resource cannot be read back", resource_id, method)
        return final

    def delete(self, resource_id: str, api_version: str, timeout: float) -> bool:
        """DELETE and wait; False when there was nothing to delete."""
        response = self.request("DELETE", resource_id, api_version, resource_id=resource_id,
                                ok=(200, 202, 204, 404))
        if response.status == 404:
            return False
        self.wait(response, resource_id, "DELETE", timeout)
        return True

    def post(self, path: str, api_version: str, body: Any = None, timeout: float = 600) -> Any:
        response = self.request("POST", path, api_version, body=body, resource_id=path)
        if response.status == 202:
            return self.wait(response, path, "POST", timeout)
        return response.body

    def wait(self, response: Response, resource_id: str, method: str, timeout: float,
             api_version: str | None = None) -> Any:
        """Follow a long-running operation until it ends, fails, or ``timeout`` seconds pass.

        Azure-AsyncOperation wins over Location (ARM's guidance); a 200/201 whose body still says
        Creating/Updating without either header is polled with GET on the resource itself.
        """
        deadline = time.monotonic() + timeout
        async_url = response.header("Azure-AsyncOperation")
        location_url = response.header("Location")
        state = _provisioning_state(response.body)
        if (response.status in (200, 201) and state == "succeeded") or response.status == 204:
            # Finished within the request (Microsoft.Network still sends the operation header): nothing to poll,
            # as azure-mgmt-core's ARMPolling also concludes from a terminal initial state.
            return response.body
        if async_url:
            return self._poll_status(async_url, response, resource_id, method, deadline, timeout)
        if location_url and (response.status in (201, 202) or (state and state not in TERMINAL_STATES)):
            return self._poll_location(location_url, response, resource_id, method, deadline, timeout)
        if method in ("PUT", "PATCH") and state and state not in TERMINAL_STATES:
            return self._poll_resource(resource_id, api_version, response, method, deadline, timeout)
        if state in ("failed", "canceled", "cancelled"):
            raise AzureApiError(response.status, *failed_state(response.body, state), resource_id, method)
        return response.body

    def _pause(self, previous: Response, deadline: float, resource_id: str, method: str, timeout: float) -> None:
        delay = parse_retry_after(previous.headers)
        delay = 1.0 if delay is None else min(delay, 60.0)
        if time.monotonic() + delay > deadline:
            raise AzureApiError(None, "OperationTimeout",
                                f"the operation did not finish within {timeout:g} seconds (it may still be running "
                                "in Azure; re-run the task or raise its timeout)", resource_id, method)
        self.sleep(delay)

    def _poll_status(self, url: str, first: Response, resource_id: str, method: str, deadline: float,
                     timeout: float) -> Any:
        previous = first
        while True:
            self._pause(previous, deadline, resource_id, method, timeout)
            previous = self.request("GET", url, None, resource_id=resource_id)
            body = previous.body if isinstance(previous.body, dict) else {}
            status = str(body.get("status", "")).lower()
            if status == "succeeded":
                return body
            if status in ("failed", "canceled", "cancelled"):
                code, message = error_from_body(body)
                raise AzureApiError(None, code or "OperationFailed", message or f"operation {status}",
                                    resource_id, method)

    def _poll_location(self, url: str, first: Response, resource_id: str, method: str, deadline: float,
                       timeout: float) -> Any:
        previous = first
        while True:
            self._pause(previous, deadline, resource_id, method, timeout)
            previous = self.request("GET", url, None, resource_id=resource_id, ok=ANY_STATUS)
            if previous.status in (200, 201, 204):
                return previous.body
            if previous.status == 202:
                continue
            code, message = error_from_body(previous.body)
            if code and previous.status not in (408, 429):
                # ARM's operation result URL answers with the operation's own final status: an error body here is
                # how the operation failed, not a fault of the polling request, so it ends the wait at once.
                raise AzureApiError(previous.status, code, message, resource_id, method)

    def _poll_resource(self, resource_id: str, api_version: str | None, first: Response, method: str,
                       deadline: float, timeout: float) -> Any:
        previous = first
        while True:
            self._pause(previous, deadline, resource_id, method, timeout)
            previous = self.request("GET", resource_id, api_version, resource_id=resource_id)
            state = _provisioning_state(previous.body)
            if state in ("failed", "canceled", "cancelled"):
                raise AzureApiError(None, *failed_state(previous.body, state), resource_id, method)
            if not state or state in TERMINAL_STATES:
                return previous.body


def failed_state(body: Any, state: str) -> tuple[str, str]:
    """Code and message for a resource whose provisioningState ended failed: Azure's own error when the body
    carries one (``error``, ``properties.error``, ``properties.statusMessage``), else the state."""
    if isinstance(body, dict):
        props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
        for candidate in (body.get("error"), props.get("error"), props.get("statusMessage")):
            if isinstance(candidate, dict):
                code, message = error_from_body({"error": candidate})
                if code or message:
                    return code or "ProvisioningFailed", message
            elif isinstance(candidate, str) and candidate:
                return "ProvisioningFailed", candidate
    return "ProvisioningFailed", f"provisioningState is {state}"


def _provisioning_state(body: Any) -> str:
    if isinstance(body, dict):
        props = body.get("properties")
        if isinstance(props, dict) and props.get("provisioningState"):
            return str(props["provisioningState"]).lower()
    return ""
