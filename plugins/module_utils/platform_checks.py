# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure part of validate.yml: what each check concludes from what it read. No I/O.

A check is a dict ``{"area", "check", "target", "status", "reason"}``; ``status`` is ``pass``, ``fail`` or
``skip``. The module (plugins/modules/validate_deployment.py) reads Azure, Key Vault, PostgreSQL and Redis and
hands what it found to these functions; a reason never holds a secret value.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

# Key Vault announces a secret's expiry 30 days ahead (Microsoft.KeyVault.SecretNearExpiry); so does the report.
NEAR_EXPIRY_SECONDS = 30 * 86400


def check(area: str, name: str, target: str, passed: bool | None, reason: str, *, warn: bool = False) -> dict[str, Any]:
    """One check's result; ``passed=None`` is a skip (what it needs is not available here); ``warn`` marks a pass
    that needs attention soon (a secret near its expiry), which never fails the run."""
    status = "skip" if passed is None else ("fail" if not passed else ("warn" if warn else "pass"))
    return {"area": area, "check": name, "target": target, "status": status, "reason": reason}


def secret_state(name: str, secret: Mapping[str, Any] | None, now: float | None = None) -> dict[str, Any]:
    """A planned Key Vault secret: it exists, is enabled and is not past its expiry (``attributes.exp``)."""
    if secret is None:
        return check("keyvault", "secret exists, enabled, not expired", name, False, "missing from the vault")
    attributes = secret.get("attributes") or {}
    if attributes.get("enabled") is False:
        return check("keyvault", "secret exists, enabled, not expired", name, False, "disabled")
    expires = attributes.get("exp")
    current = time.time() if now is None else now
    if expires is not None and float(expires) <= current:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(expires)))
        return check("keyvault", "secret exists, enabled, not expired", name, False, f"expired at {when}")
    if expires is not None:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(expires)))
        left = float(expires) - current
        if left <= NEAR_EXPIRY_SECONDS:
            return check("keyvault", "secret exists, enabled, not expired", name, True,
                         f"enabled, expires {when}, in {int(left // 86400)} days: rotate it "
                         "(docs/runbooks/secret-near-expiry.md)", warn=True)
        return check("keyvault", "secret exists, enabled, not expired", name, True, f"enabled, expires {when}")
    return check("keyvault", "secret exists, enabled, not expired", name, True, "enabled, no expiry set")


def parse_connection_string(text: str) -> dict[str, str]:
    """An Event Hubs connection string (``Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...;
    EntityPath=...``) as a dict; raises ValueError on anything else."""
    parts: dict[str, str] = {}
    for piece in str(text).strip().strip(";").split(";"):
        if "=" not in piece:
            raise ValueError("not key=value pairs separated by ';'")
        key, value = piece.split("=", 1)
        parts[key.strip()] = value.strip()
    for required in ("Endpoint", "SharedAccessKeyName", "SharedAccessKey"):
        if not parts.get(required):
            raise ValueError(f"no {required}")
    if urlparse(parts["Endpoint"]).scheme != "sb":
        raise ValueError("Endpoint is not an sb:// address")
    return parts


def connection_string_check(service: str, hub: str, right: str, secret_name: str, value: str | None,
                            namespace_host: str, rule: str) -> dict[str, Any]:
    """A service's connection string to one hub: it parses, names the namespace, the hub and the planned rule."""
    target = f"{service} -> {hub} ({right}, {secret_name})"
    name = "connection string parses and points at the hub"
    if not value:
        return check("eventhubs", name, target, False, "the secret has no value")
    try:
        parts = parse_connection_string(value)
    except ValueError as exc:
        return check("eventhubs", name, target, False, f"does not parse: {exc}")
    host = (urlparse(parts["Endpoint"]).hostname or "").lower()
    if host != namespace_host.lower():
        return check("eventhubs", name, target, False, f"Endpoint host {host} is not the namespace's {namespace_host}")
    if parts.get("EntityPath") != hub:
        return check("eventhubs", name, target, False,
                     f"EntityPath is {parts.get('EntityPath')!r}, not the hub {hub!r}")
    if parts["SharedAccessKeyName"] != rule:
        return check("eventhubs", name, target, False,
                     f"SharedAccessKeyName is {parts['SharedAccessKeyName']!r}, not the {right} rule {rule!r}")
    return check("eventhubs", name, target, True, f"sb://{host}/{hub}, rule {rule}")


def hub_check(hub: str, planned_partitions: int, actual: Mapping[str, Any] | None) -> dict[str, Any]:
    name = "hub exists with its partition count"
    if actual is None:
        return check("eventhubs", name, hub, False, "the hub does not exist")
    count = (actual.get("properties") or {}).get("partitionCount")
    if count != planned_partitions:
        return check("eventhubs", name, hub, False, f"{count} partitions, planned {planned_partitions}")
    return check("eventhubs", name, hub, True, f"{count} partitions")


def summary(checks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counts = {status: sum(1 for c in checks if c["status"] == status) for status in ("pass", "warn", "fail", "skip")}
    return {"counts": counts, "failures": [c for c in checks if c["status"] == "fail"],
            "report": [f"{c['status'].upper():4} {c['area']}: {c['check']}: {c['target']}: {c['reason']}"
                       for c in checks]}
