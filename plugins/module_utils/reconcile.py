# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure desired-state logic shared by every module: normalise, compare, merge, diff.

Nothing here does I/O, so every rule about what counts as a "real difference" is unit-testable.

The central idea is *compare only what the task declares*: a desired ARM body is a partial document.
A key the task does not mention is never a difference, whatever Azure filled in for it. Lists of named
objects (subnets, security rules, links) are matched by name, not by position, because Azure does not
keep their order; lists of scalars that Azure treats as sets (address prefixes, DNS servers, service
names) are compared as sets.
"""

from __future__ import annotations

import copy
import re
from typing import Any

# Keys whose values Azure treats case-insensitively and may return in another casing than we sent.
CASE_INSENSITIVE_KEYS = frozenset({"name", "location", "id", "type", "workspaceRegion", "targetResourceId", "storageId",
                                   "workspaceResourceId", "serviceName", "service"})

# Keys Azure computes on every write: sending them back in a PUT built from a GET is at best ignored,
# at worst refused, so merged bodies drop them.
READ_ONLY_KEYS = frozenset({"etag", "provisioningState", "resourceGuid", "defaultSecurityRules"})

# Scalar lists whose order Azure does not preserve (or that are sets by meaning).
UNORDERED_SCALAR_LIST_KEYS = frozenset({"addressPrefixes", "dnsServers", "sourceAddressPrefixes",
                                        "destinationAddressPrefixes", "sourcePortRanges", "destinationPortRanges",
                                        "locations", "ipRules", "actions"})


PATH_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def normalize_location(value: str | None) -> str | None:
    """Azure accepts display names ("West Europe") and returns the canonical short form ("westeurope")."""
    if value is None:
        return None
    return value.replace(" ", "").lower()


def looks_like_resource_id(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith("/subscriptions/")


def scalar_equal(desired: Any, actual: Any, key: str | None = None) -> bool:
    """Compare two leaf values the way Azure treats them."""
    if isinstance(desired, bool) or isinstance(actual, bool):
        return desired is actual or desired == actual
    numeric_vs_text = (isinstance(desired, (int, float)) and isinstance(actual, str)) or \
        (isinstance(actual, (int, float)) and isinstance(desired, str))
    if numeric_vs_text:
        # ARM returns some numeric-looking fields as strings (port ranges) and vice versa.
        return str(desired) == str(actual)
    if isinstance(desired, str) and isinstance(actual, str):
        if key == "location":
            return normalize_location(desired) == normalize_location(actual)
        if key in CASE_INSENSITIVE_KEYS or looks_like_resource_id(desired) or looks_like_resource_id(actual):
            return desired.lower() == actual.lower()
        return desired == actual
    return desired == actual


IDENTITY_KEYS = ("name", "service", "id", "value")


def identity_key(items: list[Any]) -> str | None:
    """The field that identifies items of a list of objects (``name``; ``service`` for service endpoints)."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in IDENTITY_KEYS:
        if all(isinstance(i.get(key), str) for i in items):
            return key
    return None


def _index(items: list[Any], key: str) -> dict[str, Any]:
    # Child resource names and service names are case-insensitive in ARM.
    return {i[key].lower(): i for i in items if isinstance(i, dict) and isinstance(i.get(key), str)}


def _scalar_key(value: Any, key: str | None) -> Any:
    if isinstance(value, str) and (key in CASE_INSENSITIVE_KEYS or looks_like_resource_id(value)):
        return value.lower()
    if isinstance(value, (dict, list)):
        return repr(value)
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def differences(desired: Any, actual: Any, *, partial_lists: frozenset[str] | set[str] = frozenset(),
                path: str = "") -> list[str]:
    """Return the paths where ``actual`` does not satisfy ``desired`` (``a.b[name].c`` style).

    ``desired`` is partial: dict keys it omits are ignored. Lists of objects are matched by name (or
    service), never by position; an item in ``actual`` that ``desired`` does not declare is a difference
    unless the list's path is in ``partial_lists`` (a module's "purge: false" lists such as subnets or
    rules). Scalar lists are compared as sets when Azure does not keep their order, else in order.
    """
    key = path.rsplit(".", 1)[-1] if path else None
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return [path or "."]
        found: list[str] = []
        for k, v in desired.items():
            sub = f"{path}.{k}" if path else k
            if k not in actual or actual[k] is None:
                if v is None or v in ([], {}, ""):
                    # Azure omits empty collections, empty strings and nulls; declaring them empty matches absence.
                    continue
                found.append(sub)
                continue
            found.extend(differences(v, actual[k], partial_lists=partial_lists, path=sub))
        return found
    if isinstance(desired, list):
        if not isinstance(actual, list):
            return [path]
        ident = identity_key(desired) or (identity_key(actual) if not desired else None)
        if ident:
            have = _index(actual, ident)
            found = []
            for item in desired:
                other = have.get(item[ident].lower())
                sub = f"{path}[{item[ident]}]"
                if other is None:
                    found.append(sub)
                else:
                    found.extend(differences(item, other, partial_lists=partial_lists, path=sub))
            if path not in partial_lists:
                wanted = {i[ident].lower() for i in desired}
                found.extend(f"{path}[{i.get(ident)}]" for i in actual
                             if isinstance(i, dict) and str(i.get(ident, "")).lower() not in wanted)
            return found
        if all(not isinstance(i, (dict, list)) for i in desired + actual) and key in UNORDERED_SCALAR_LIST_KEYS:
            if sorted((_scalar_key(v, key) for v in desired), key=repr) != \
                    sorted((_scalar_key(v, key) for v in actual), key=repr):
                return [path]
            return []
        if len(desired) != len(actual):
            return [path]
        found = []
        for index, (d, a) in enumerate(zip(desired, actual, strict=True)):
            found.extend(differences(d, a, partial_lists=partial_lists, path=f"{path}[{index}]"))
        return found
    return [] if scalar_equal(desired, actual, key) else [path]


def strip_read_only(body: Any) -> Any:
    """Copy of an ARM document without the fields Azure computes on every write."""
    if isinstance(body, dict):
        return {k: strip_read_only(v) for k, v in body.items() if k not in READ_ONLY_KEYS}
    if isinstance(body, list):
        return [strip_read_only(i) for i in body]
    return body


def merge(actual: Any, desired: Any, *, partial_lists: frozenset[str] | set[str] = frozenset(),
          path: str = "") -> Any:
    """Overlay ``desired`` onto ``actual``: the body to PUT so that nothing undeclared is lost.

    Lists of objects merge item by item (so fields Azure filled on an existing item survive); items only in
    ``actual`` stay when the list is in ``partial_lists`` and are dropped otherwise.
    """
    if isinstance(desired, dict) and isinstance(actual, dict):
        out = {k: copy.deepcopy(v) for k, v in actual.items()}
        for k, v in desired.items():
            sub = f"{path}.{k}" if path else k
            out[k] = merge(actual.get(k), v, partial_lists=partial_lists, path=sub)
        return out
    ident = identity_key(desired) if isinstance(desired, list) else None
    if ident is None and isinstance(desired, list) and not desired and isinstance(actual, list):
        ident = identity_key(actual)
    if ident and isinstance(actual, list):
        wanted = _index(desired, ident)
        out_list: list[Any] = []
        seen: set[str] = set()
        for item in actual:
            name = str(item.get(ident, "")).lower() if isinstance(item, dict) else ""
            if name in wanted:
                out_list.append(merge(item, wanted[name], partial_lists=partial_lists, path=f"{path}[{item[ident]}]"))
                seen.add(name)
            elif path in partial_lists:
                out_list.append(copy.deepcopy(item))
        out_list.extend(copy.deepcopy(i) for i in desired if i[ident].lower() not in seen)
        return out_list
    return copy.deepcopy(desired)


def _get_path(doc: Any, path: str) -> Any:
    """Resolve a path produced by :func:`differences` (``a.b[name].c`` or ``a[0]``)."""
    current = doc
    for part in _split_path(path):
        if current is None:
            return None
        if isinstance(part, int):
            current = current[part] if isinstance(current, list) and part < len(current) else None
        elif part.startswith("[") and isinstance(current, list):
            key = identity_key(current)
            current = _index(current, key).get(part[1:-1].lower()) if key else None
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


def _split_path(path: str) -> list[Any]:
    # Bracketed names may contain dots (Microsoft.Storage, privatelink.blob.core.windows.net).
    parts: list[Any] = []
    for match in PATH_TOKEN.finditer(path):
        inner, key = match.group(1), match.group(2)
        if key is not None:
            parts.append(key)
        else:
            parts.append(int(inner) if inner.isdigit() else f"[{inner}]")
    return parts


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    # Diff documents are for humans: name-indexed items become keys so "rules[AllowHttps]" reads naturally.
    keys = [p if isinstance(p, str) else f"[{p}]" for p in _split_path(path)]
    current = doc
    for part in keys[:-1]:
        current = current.setdefault(part, {})
    current[keys[-1]] = value


def diff_document(desired: Any, actual: Any, paths: list[str]) -> dict[str, Any]:
    """Ansible's ``diff`` (before/after) restricted to the paths that differ."""
    if actual is None:
        return {"before": {}, "after": copy.deepcopy(desired)}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for path in paths:
        _set_path(before, path, copy.deepcopy(_get_path(actual, path)))
        _set_path(after, path, copy.deepcopy(_get_path(desired, path)))
    return {"before": before, "after": after}


def compact(value: Any) -> Any:
    """Drop ``None`` entries so unset module options never become part of a desired body."""
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def canonical_security_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """Fold an NSG rule's singular/plural prefix and port fields into the form Azure stores.

    Azure keeps one value in the singular field (``sourceAddressPrefix``) and several in the plural one
    (``sourceAddressPrefixes``), returning the other as empty; a task may give either.
    """
    out = copy.deepcopy(rule)
    props = out.get("properties", out)
    for singular, plural in (("sourceAddressPrefix", "sourceAddressPrefixes"),
                             ("destinationAddressPrefix", "destinationAddressPrefixes"),
                             ("sourcePortRange", "sourcePortRanges"),
                             ("destinationPortRange", "destinationPortRanges")):
        many = [str(v) for v in (props.get(plural) or [])]
        one = props.get(singular)
        if one is not None and not many:
            many = [str(one)]
        elif one is not None and str(one) not in many:
            many.insert(0, str(one))
        if len(many) == 1:
            props[singular] = many[0]
            props[plural] = []
        elif many:
            props.pop(singular, None)
            props[plural] = many
    return out
