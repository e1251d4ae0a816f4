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
from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class CompareRules:
    """How one resource type is compared and merged (built from its registry entry, see resource_types.py).

    Paths are dotted with ``[]`` for "every item of a list"; a rule's path matches a concrete path such as
    ``properties.securityRules[allow-https].properties.priority`` once item names are folded to ``[]``.
    """

    partial_lists: frozenset[str] = frozenset()
    exact_maps: frozenset[str] = frozenset()
    list_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sets: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()

    @classmethod
    def of(cls, partial_lists: Any = (), exact_maps: Any = (), list_keys: Mapping[str, tuple[str, ...]] | None = None,
           sets: Any = (), skip: Any = ()) -> CompareRules:
        return cls(frozenset(partial_lists), frozenset(exact_maps), dict(list_keys or {}), frozenset(sets),
                   frozenset(skip))


NO_RULES = CompareRules()
ITEM_NAME = re.compile(r"\[[^\]]*\]")


def rule_path(path: str) -> str:
    """``a.b[x].c[0]`` -> ``a.b[].c[]``: the form registry rules are written in."""
    return ITEM_NAME.sub("[]", path)


def _legacy_partial(partial_lists: Any, rules: CompareRules | None) -> CompareRules:
    # Modules written before CompareRules pass bare partial_lists (concrete paths); fold them into rules.
    rules = rules or NO_RULES
    if partial_lists:
        rules = CompareRules(rules.partial_lists | {rule_path(p) for p in partial_lists}, rules.exact_maps,
                             rules.list_keys, rules.sets, rules.skip)
    return rules


def _item_key(item: Any, fields: tuple[str, ...]) -> str | None:
    """An item's identity under ``fields`` (dotted, first present wins), lower case."""
    if not isinstance(item, dict):
        return None
    for name in fields:
        value: Any = item
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str):
            return f"{name}={value.lower()}" if len(fields) > 1 else value.lower()
    return None


def _list_identity(desired: list[Any], actual: Any, path: str, rules: CompareRules) -> tuple[str, ...] | None:
    """The fields identifying the items of the list at ``path``: from the rules, else name/service/id/value."""
    configured = rules.list_keys.get(rule_path(path))
    if configured:
        return configured
    ident = identity_key(desired) or (identity_key(actual) if not desired and isinstance(actual, list) else None)
    return (ident,) if ident else None


def identity_key(items: list[Any]) -> str | None:
    """The field that identifies items of a list of objects (``name``; ``service`` for service endpoints)."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in IDENTITY_KEYS:
        if all(isinstance(i.get(key), str) for i in items):
            return key
    return None


def _index(items: list[Any], fields: tuple[str, ...] | str) -> dict[str, Any]:
    # Child resource names and service names are case-insensitive in ARM.
    fields = (fields,) if isinstance(fields, str) else fields
    out: dict[str, Any] = {}
    for item in items:
        key = _item_key(item, fields)
        if key is not None:
            out[key] = item
    return out


def _label(item: Any, fields: tuple[str, ...]) -> str:
    key = _item_key(item, fields) or ""
    if len(fields) == 1 and isinstance(item, dict):
        value: Any = item
        for part in fields[0].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return str(value)
    return key


def _scalar_key(value: Any, key: str | None) -> Any:
    if isinstance(value, str) and (key in CASE_INSENSITIVE_KEYS or looks_like_resource_id(value)):
        return value.lower()
    if isinstance(value, (dict, list)):
        return repr(value)
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _is_set(path: str, key: str | None, rules: CompareRules) -> bool:
    return key in UNORDERED_SCALAR_LIST_KEYS or rule_path(path) in rules.sets


def differences(desired: Any, actual: Any, *, partial_lists: frozenset[str] | set[str] = frozenset(),
                path: str = "", rules: CompareRules | None = None) -> list[str]:
    """Return the paths where ``actual`` does not satisfy ``desired`` (``a.b[name].c`` style).

    ``desired`` is partial: dict keys it omits are ignored, except in the maps ``rules.exact_maps`` names
    (tags), where a key only ``actual`` has is a difference. Lists of objects are matched by their key
    (``rules.list_keys``, else name/service/id/value), never by position; an item in ``actual`` that
    ``desired`` does not declare is a difference unless the list is partial. Scalar lists are compared as sets
    when Azure does not keep their order (``rules.sets``), else in order. Paths in ``rules.skip`` (write-only,
    initial-only) are never compared.
    """
    rules = _legacy_partial(partial_lists, rules)
    return _differences(desired, actual, path, rules)


def key_path(path: str, key: str) -> str:
    """The path of a map's key. A key that is a resource ID (a web test's ``hidden-link:/subscriptions/.../
    Microsoft.Insights/components/x`` tag) is bracketed, so that its dots are not read as path separators."""
    if "/" in key:
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _differences(desired: Any, actual: Any, path: str, rules: CompareRules) -> list[str]:
    key = path.rsplit(".", 1)[-1] if path else None
    if path and rule_path(path) in rules.skip:
        return []
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            if actual is None and not desired:
                return []
            return [path or "."]
        found: list[str] = []
        for k, v in desired.items():
            sub = key_path(path, k)
            if rule_path(sub) in rules.skip:
                continue
            if k not in actual or actual[k] is None:
                if v is None or v in ([], {}, ""):
                    # Azure omits empty collections, empty strings and nulls; declaring them empty matches absence.
                    continue
                found.append(sub)
                continue
            found.extend(_differences(v, actual[k], sub, rules))
        if rule_path(path) in rules.exact_maps:
            found.extend(key_path(path, k) for k in actual if k not in desired and actual[k] is not None)
        return found
    if isinstance(desired, list):
        if not isinstance(actual, list):
            return [] if actual is None and not desired else [path]
        ident = _list_identity(desired, actual, path, rules)
        if ident:
            have = _index(actual, ident)
            found = []
            for item in desired:
                name = _item_key(item, ident)
                sub = f"{path}[{_label(item, ident)}]"
                other = have.get(name) if name is not None else None
                if other is None:
                    found.append(sub)
                else:
                    found.extend(_differences(item, other, sub, rules))
            if rule_path(path) not in rules.partial_lists:
                wanted = {_item_key(i, ident) for i in desired}
                found.extend(f"{path}[{_label(i, ident)}]" for i in actual
                             if isinstance(i, dict) and _item_key(i, ident) not in wanted)
            return found
        if all(not isinstance(i, (dict, list)) for i in desired + actual) and _is_set(path, key, rules):
            if sorted({_scalar_key(v, key) for v in desired}, key=repr) != \
                    sorted({_scalar_key(v, key) for v in actual}, key=repr):
                return [path]
            return []
        if len(desired) != len(actual):
            return [path]
        found = []
        for index, (d, a) in enumerate(zip(desired, actual, strict=True)):
            found.extend(_differences(d, a, f"{path}[{index}]", rules))
        return found
    return [] if scalar_equal(desired, actual, key) else [path]


WRITE_ONLY_MASK = "<write-only: never shown>"


def _prune(body: Any, drop: Any, path: str = "") -> Any:
    """Copy of ``body`` without the keys ``drop(key, path)`` names (``path`` in the ``a.b[].c`` rule form)."""
    if isinstance(body, dict):
        out = {}
        for k, v in body.items():
            sub = f"{path}.{k}" if path else k
            if not drop(k, rule_path(sub)):
                out[k] = _prune(v, drop, sub)
        return out
    if isinstance(body, list):
        return [_prune(i, drop, f"{path}[]") for i in body]
    return copy.deepcopy(body)


def strip_read_only(body: Any, extra: frozenset[str] | set[str] = frozenset()) -> Any:
    """Copy of an ARM document without the fields Azure computes on every write (and the ``extra`` rule paths)."""
    return _prune(body, lambda key, path: key in READ_ONLY_KEYS or path in extra)


def without_paths(body: Any, paths: Any) -> Any:
    """Copy of ``body`` without the values at ``paths`` (rule form: what an update must not send)."""
    wanted = frozenset(paths)
    return _prune(body, lambda _key, path: path in wanted)


def under(path: str, prefixes: Any) -> bool:
    """Whether a rule path is one of ``prefixes`` or inside one."""
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in prefixes)


def masked(body: Any, paths: Any, path: str = "") -> Any:
    """Copy of ``body`` with every value at ``paths`` (rule form) replaced by :data:`WRITE_ONLY_MASK`."""
    paths = tuple(paths)
    if isinstance(body, dict):
        out = {}
        for k, v in body.items():
            sub = f"{path}.{k}" if path else k
            out[k] = WRITE_ONLY_MASK if v is not None and rule_path(sub) in paths else masked(v, paths, sub)
        return out
    if isinstance(body, list):
        return [masked(v, paths, f"{path}[]") for v in body]
    return copy.deepcopy(body)


def merge(actual: Any, desired: Any, *, partial_lists: frozenset[str] | set[str] = frozenset(),
          path: str = "", rules: CompareRules | None = None) -> Any:
    """Overlay ``desired`` onto ``actual``: the body to PUT so that nothing undeclared is lost.

    Lists of objects merge item by item (so fields Azure filled on an existing item survive); items only in
    ``actual`` stay when the list is partial and are dropped otherwise. Exact maps become ``desired``'s.
    """
    rules = _legacy_partial(partial_lists, rules)
    return _merge(actual, desired, path, rules)


def _merge(actual: Any, desired: Any, path: str, rules: CompareRules) -> Any:
    if isinstance(desired, dict) and isinstance(actual, dict):
        if rule_path(path) in rules.exact_maps:
            return copy.deepcopy(desired)
        out = {k: copy.deepcopy(v) for k, v in actual.items()}
        for k, v in desired.items():
            sub = f"{path}.{k}" if path else k
            out[k] = _merge(actual.get(k), v, sub, rules)
        return out
    ident = _list_identity(desired, actual, path, rules) if isinstance(desired, list) else None
    if ident and isinstance(actual, list):
        wanted = _index(desired, ident)
        out_list: list[Any] = []
        seen: set[str] = set()
        for item in actual:
            name = _item_key(item, ident)
            if name is not None and name in wanted:
                out_list.append(_merge(item, wanted[name], f"{path}[{_label(item, ident)}]", rules))
                seen.add(name)
            elif rule_path(path) in rules.partial_lists:
                out_list.append(copy.deepcopy(item))
        out_list.extend(copy.deepcopy(i) for i in desired if _item_key(i, ident) not in seen)
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
            current = _find_item(current, part[1:-1])
        elif part.startswith("[") and isinstance(current, dict):
            current = current.get(part[1:-1])
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


def _find_item(items: list[Any], label: str) -> Any:
    """The item a path's ``[label]`` names: by name/service/id/value, or by a ``field=value`` label."""
    lowered = label.lower()
    for item in items:
        if not isinstance(item, dict):
            continue
        if "=" in label:
            field_name, value = label.split("=", 1)
            if _item_key(item, (field_name,)) == value.lower():
                return item
            continue
        for key in (*IDENTITY_KEYS, "category", "categoryGroup", "ipMask", "actionGroupId"):
            if isinstance(item.get(key), str) and item[key].lower() == lowered:
                return item
        for nested in ("subnet",):
            inner = item.get(nested)
            if isinstance(inner, dict) and str(inner.get("id", "")).lower() == lowered:
                return item
    return None


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
