"""What counts as a write in the emulator's request log: the one definition every suite uses.

A write is any request that can change Azure's state: PUT, PATCH and DELETE, and every POST action except the
few that only read (keys, connection strings, name checks, a Key Vault backup blob). A POST that restarts a
server, regenerates a key, recovers or purges a soft-deleted object is a write. The rule is a deny-list on
purpose: a POST action we have not heard of counts as a write until someone adds it here, with a reason.

Requests that never reach Azure's state are not writes: token requests to the identity endpoints (Entra ID's
``/<tenant>/oauth2/...``, managed identity's ``/msi/token``) and the emulator's own admin API (``/_emulator/``,
which the emulator does not log anyway). A write the emulator refused (4xx) still counts: the client sent it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The last path segment of a POST action that reads and changes nothing (lower case; ARM is case-insensitive).
READ_ONLY_ACTIONS = frozenset({
    "listkeys",                # storage, Redis, Event Hubs rules: returns keys
    "listconnectionstrings",   # returns connection strings
    "sharedkeys",              # Log Analytics workspace: returns its shared keys
    "checknameavailability",   # provider-level name check
    "listaccountsas",          # storage: computes a SAS, stores nothing
    "listservicesas",
    "backup",                  # Key Vault data plane: returns a backup blob of a secret
})


def _is_identity(path: str) -> bool:
    low = path.lower()
    return "/oauth2/" in low or low.startswith("/msi/token") or low.startswith("/_emulator/")


def is_write(entry: Mapping[str, Any]) -> bool:
    """Whether one request of the emulator's log could change state in Azure (ARM or a data plane)."""
    method = str(entry.get("method", "")).upper()
    path = str(entry.get("path", "")).split("?", 1)[0]
    if method in READ_METHODS or _is_identity(path):
        return False
    if method == "POST":
        action = path.rstrip("/").rsplit("/", 1)[-1].lower()
        return action not in READ_ONLY_ACTIONS
    return True


def write_requests(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The writes in a slice of the emulator's request log, as logged (method, path, status ...)."""
    return [e for e in entries if is_write(e)]


def writes(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """The writes in a slice of the emulator's request log, as ``"METHOD /path"`` lines for assertion messages."""
    return [f"{e.get('method')} {e.get('path')}" for e in write_requests(entries)]


def azure_requests(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every request that reached Azure (ARM, a data plane, or the identity endpoints: anything but the admin API),
    as ``"METHOD /path"`` lines. For "stops before any API call": even a token request is a call."""
    return [f"{e.get('method')} {e.get('path')}" for e in entries
            if not str(e.get("path", "")).lower().startswith("/_emulator/")]


# --- the plan is the contract: what a run PUTs or PATCHes is what plan.yml shows -------------------------------
# Fields of a plan entry that describe it rather than being part of its ARM body.
PLAN_ENTRY_FIELDS = frozenset({"id", "type", "name", "depends_on", "api_version", "role", "manage", "state"})
RUNTIME_PLACEHOLDER = re.compile(r"^<runtime:[a-z][a-z0-9-]*(:.+)?>$")
# A public property inside a longer string (a Key Vault secret ID on the vault's URI): the rest must match exactly.
EMBEDDED_PLACEHOLDER = re.compile(r"<runtime:public-property:[^<>]+>")


def _outside(sent: Any, planned: Any, path: str) -> list[str]:
    """What in a sent body the planned one does not have (a run-time placeholder stands for any value)."""
    if isinstance(planned, str) and RUNTIME_PLACEHOLDER.match(planned):
        return []
    if isinstance(planned, str) and isinstance(sent, str) and EMBEDDED_PLACEHOLDER.search(planned):
        pattern = ".+".join(re.escape(part) for part in EMBEDDED_PLACEHOLDER.split(planned))
        return [] if re.fullmatch(pattern, sent) else [f"{path}: sent {sent!r}, planned {planned!r}"]
    if isinstance(sent, dict) and isinstance(planned, dict):
        return [p for key, value in sent.items()
                for p in (_outside(value, planned[key], f"{path}.{key}") if key in planned
                          else [f"{path}.{key} = {value!r} is not planned"])]
    if isinstance(sent, list) and isinstance(planned, list):
        if len(sent) != len(planned):
            return [f"{path}: {len(sent)} items sent, {len(planned)} planned"]
        return [p for index, (s, q) in enumerate(zip(sent, planned, strict=True))
                for p in _outside(s, q, f"{path}[{index}]")]
    if isinstance(sent, str) and isinstance(planned, str) and sent.lower().startswith("/subscriptions/"):
        return [] if sent.lower() == planned.lower() else [f"{path}: sent {sent!r}, planned {planned!r}"]
    return [] if sent == planned else [f"{path}: sent {sent!r}, planned {planned!r}"]


RUN_TIME_ID_VALUE = re.compile(r"<runtime:public-property:([^<>]+):([A-Za-z0-9_.]+)>")


def with_run_time_ids(planned: Iterable[Mapping[str, Any]],
                      resources: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The plan's entries with the run-time values in their IDs (a zone named after a Container Apps environment's
    default domain) read from ``resources`` (lower-case ID -> resource as the emulator lists it); an entry whose
    value cannot be read keeps its placeholder (and so matches nothing that was built)."""
    def value(match: re.Match[str]) -> str:
        found: Any = resources.get(match.group(1).lower())
        for key in match.group(2).split("."):
            found = found.get(key) if isinstance(found, Mapping) else None
        return str(found) if found else match.group(0)

    return [{**entry, "id": RUN_TIME_ID_VALUE.sub(value, str(entry["id"]))} for entry in planned]


def sent_outside_plan(entries: Iterable[Mapping[str, Any]], planned: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every ARM body a run PUT or PATCHed (the emulator logs them) must be the planned body of that resource, or a
    part of it; a write to a resource the plan does not list is a problem too (IDs holding run-time values are
    resolved by the caller, ``with_run_time_ids``); nothing is written to a resource the plan wants absent."""
    planned = list(planned)
    problems: list[str] = [f"{e['method']} {e['path']}: planned absent" for e in entries
                           if str(e.get("method")) in ("PUT", "PATCH") and any(
                               str(r["id"]).lower() == str(e.get("path", "")).lower()
                               and r.get("state") == "absent" for r in planned)]
    by_id = {str(r["id"]).lower(): r for r in planned if r.get("state") != "absent"}
    for entry in entries:
        if str(entry.get("method")) not in ("PUT", "PATCH") or entry.get("body") is None:
            continue
        plan = by_id.get(str(entry.get("path", "")).lower())
        if plan is None:
            problems.append(f"{entry['method']} {entry['path']}: not a planned resource")
            continue
        body = {k: v for k, v in plan.items() if k not in PLAN_ENTRY_FIELDS and v is not None}
        problems.extend(f"{entry['method']} {entry['path']}{p}" for p in _outside(entry["body"], body, ""))
    return problems
