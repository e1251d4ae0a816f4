"""The generic Azure Resource Manager engine: routing, auth, parents, locks, names, LROs, paging, faults.

Providers (tests/emulator/providers/*.py) plug ResourceType subclasses into it; see framework.py.
"""

from __future__ import annotations

import copy
import importlib
import ipaddress
import json
import pkgutil
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlencode

from . import identity
from .faults import FaultPlan
from .framework import (
    KNOWN_LOCATIONS,
    ArmError,
    Ctx,
    Lro,
    OpStyle,
    Planes,
    Resource,
    ResourceType,
    Scope,
    WriteRequest,
    deep_merge,
    normalise_location,
    utc_now,
)
from .identity import Caller, TokenError, TokenIssuer
from .schema import Schemas
from .store import Store

API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-[a-zA-Z]+)?$")
LOCKS_TYPE = "microsoft.authorization/locks"
# ARM's own namespaces: registered in every subscription, and they cannot be unregistered.
ALWAYS_REGISTERED = frozenset({"microsoft.resources", "microsoft.authorization"})
MAX_TAGS = 50


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list -> JSON; bytes -> raw; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # synchronous operations in `realistic` mode: answer only after this many seconds


@dataclass
class Route:
    kind: str  # instance | collection | action | provider_action | provider | operation | subscriptions | ...
    rtype: ResourceType | None = None
    scope: str = ""  # canonical scope ID ("" = tenant)
    scope_segments: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    action: str | None = None
    namespace: str | None = None
    subscription_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def error_response(err: ArmError) -> Response:
    return Response(err.status, err.to_body(), dict(err.headers))


class ArmEngine:
    def __init__(
        self,
        store: Store,
        issuer: TokenIssuer,
        *,
        latency: str = "instant",
        time_scale: float = 1.0,
        faults: FaultPlan | None = None,
        seed: int | None = None,
        planes: Planes | None = None,
        page_size: int = 20,
        read_latency: float = 0.0,
        strict_schema: bool = False,
        keyvault_client_ip: str | None = None,
        unregistered_providers: bool = False,
        rbac_propagation: float | None = None,
    ) -> None:
        self.store = store
        self.issuer = issuer
        self.latency_mode = latency
        self.time_scale = time_scale
        self.faults = faults or FaultPlan.parse("")
        self.rng = random.Random(seed)
        self.planes = planes or Planes()
        self.page_size = page_size
        # Seconds every ARM and Key Vault data-plane GET waits before answering (the server sleeps outside the lock,
        # so parallel reads overlap as they do against Azure).
        self.read_latency = read_latency
        # Request bodies are checked against Microsoft's API definitions; strict also refuses unknown properties.
        self.schemas = Schemas()
        self.strict_schema = strict_schema
        # Seconds a new role assignment takes to reach the services that check it (Key Vault's data plane, a gateway
        # reading its certificate); None: 60 s x time-scale in realistic latency, 0 in instant (framework.Ctx).
        self.rbac_propagation = rbac_propagation
        # The public address Key Vault's firewall sees for every data-plane client (None: a trusted path).
        self.keyvault_client_ip = keyvault_client_ip
        # --unregistered-providers: subscriptions start with every registrable namespace unregistered.
        self.start_unregistered = unregistered_providers
        self.base_url = ""
        # Set by the server: opens (or finds) the listener of a vault's own origin and returns it.
        self.vault_origin: Callable[[str], str] = lambda name: f"{self.base_url}/kv/{name}"
        self.lock = threading.RLock()
        self.types: dict[str, ResourceType] = {}
        self.provider_actions: dict[str, Callable[..., Any]] = {}
        self.admission_hooks: list[Callable[..., None]] = []
        self.namespaces: dict[str, str] = {}  # lower -> canonical
        self.request_log: deque[dict[str, Any]] = deque(maxlen=20000)

    # ------------------------------------------------------------------------------------------------------
    # runtime options (`/_emulator/options`)
    def options(self) -> dict[str, Any]:
        return {"read_latency": self.read_latency, "strict_schema": self.strict_schema,
                "keyvault_client_ip": self.keyvault_client_ip, "rbac_propagation": self.rbac_propagation,
                "unregistered_providers": {sub: sorted(self.namespaces[ns] for ns, state in states.items()
                                                       if state != "Registered" and ns in self.namespaces)
                                           for sub, states in sorted(self.store.registrations.items())}}

    def set_options(self, changes: dict[str, Any]) -> None:
        """Apply `{"read_latency": seconds, "strict_schema": bool, ...}`; raises ValueError naming a bad or unknown
        option."""
        unknown = sorted(set(changes) - set(self.options()))
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(self.options()))}")
        if "read_latency" in changes:
            value = changes["read_latency"]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError("read_latency must be a number of seconds >= 0")
            self.read_latency = float(value)
        if "rbac_propagation" in changes:
            value = changes["rbac_propagation"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0):
                raise ValueError("rbac_propagation must be a number of seconds >= 0, or null (by the latency mode)")
            self.rbac_propagation = None if value is None else float(value)
        if "strict_schema" in changes:
            if not isinstance(changes["strict_schema"], bool):
                raise ValueError("strict_schema must be true or false")
            self.strict_schema = changes["strict_schema"]
        if "keyvault_client_ip" in changes:
            self.keyvault_client_ip = _client_ip(changes["keyvault_client_ip"])
        if "unregistered_providers" in changes:
            self.set_unregistered(changes["unregistered_providers"])

    # ------------------------------------------------------------------------------------------------------
    # resource provider registration per subscription
    def registrable_namespaces(self) -> list[str]:
        return sorted(ns for low, ns in self.namespaces.items() if low not in ALWAYS_REGISTERED)

    def set_unregistered(self, value: Any) -> None:
        """`{"<subscription>": ["Microsoft.Cache", ...] | "all"}`: those namespaces start unregistered there (every
        other one registered); `{}` registers everything again."""
        if not isinstance(value, dict):
            raise ValueError("unregistered_providers must map subscription IDs to a list of namespaces or \"all\"")
        registrations: dict[str, dict[str, str]] = {}
        for sub, namespaces in value.items():
            if sub.lower() not in identity.SUBSCRIPTIONS:
                raise ValueError(f"unknown subscription {sub!r}")
            wanted = self.registrable_namespaces() if namespaces == "all" else namespaces
            if not isinstance(wanted, list):
                raise ValueError(f"expected a list of namespaces or \"all\" for {sub}")
            states: dict[str, str] = {}
            for ns in wanted:
                low = str(ns).lower()
                if low not in self.namespaces or low in ALWAYS_REGISTERED:
                    raise ValueError(f"{ns!r} is not a namespace that can be unregistered; known: "
                                     f"{', '.join(self.registrable_namespaces())}")
                states[low] = "NotRegistered"
            registrations[sub.lower()] = states
        self.store.registrations = registrations
        self.store.save()

    def registration_state(self, subscription_id: str, namespace: str) -> str:
        return self.store.registrations.get(subscription_id.lower(), {}).get(namespace.lower(), "Registered")

    def _check_registered(self, route: Route, method: str) -> None:
        if route.rtype is None or route.subscription_id is None or method in ("GET", "HEAD"):
            return
        namespace = route.rtype.namespace
        if self.registration_state(route.subscription_id, namespace) == "Registered":
            return
        message = (f"The subscription is not registered to use namespace '{namespace}'. See "
                   "https://aka.ms/rps-not-found for how to register subscriptions.")
        raise ArmError(409, "MissingSubscriptionRegistration", message, details=[
            {"code": "MissingSubscriptionRegistration", "target": namespace, "message": message}])

    # ------------------------------------------------------------------------------------------------------
    # provider loading
    def load_providers(self, package: str = "tests.emulator.providers") -> list[str]:
        """Import every module of the providers package and register what it exports."""
        pkg = importlib.import_module(package)
        loaded = []
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package}.{info.name}")
            self.register_module(module)
            loaded.append(info.name)
        return loaded

    def register_module(self, module: Any) -> None:
        for rtype in getattr(module, "RESOURCE_TYPES", []):
            key = rtype.type.lower()
            if key in self.types:
                raise RuntimeError(f"resource type {rtype.type} registered twice")
            self.types[key] = rtype
            self.namespaces[rtype.namespace.lower()] = rtype.namespace
        for name, handler in getattr(module, "PROVIDER_ACTIONS", {}).items():
            self.provider_actions[name.lower()] = handler
            self.namespaces.setdefault(name.split("/")[0].lower(), name.split("/")[0])
        self.admission_hooks.extend(getattr(module, "ADMISSION_HOOKS", []))

    # ------------------------------------------------------------------------------------------------------
    # records
    def put_record(self, resource_id: str, type_name: str, body: dict[str, Any], *,
                   internal: dict[str, Any] | None = None) -> dict[str, Any]:
        key = resource_id.rstrip("/").lower()
        rtype = self.types.get(type_name.lower())
        parent, subscription, group = self._placement(resource_id, rtype)
        existing = self.store.records.get(key)
        record = {
            "id": existing["id"] if existing else resource_id,
            "type": rtype.type if rtype else type_name,
            "parent": parent,
            "subscription": subscription,
            "resource_group": group,
            "body": body,
            "internal": internal if internal is not None else (existing or {}).get("internal", {}),
        }
        self.store.records[key] = record
        return record

    def _placement(self, resource_id: str, rtype: ResourceType | None) -> tuple[str, str | None, str | None]:
        segs = [s for s in resource_id.split("/") if s]
        low = [s.lower() for s in segs]
        subscription = low[1] if len(low) > 1 and low[0] == "subscriptions" else None
        group = low[3] if len(low) > 3 and low[2] == "resourcegroups" else None
        if rtype is not None and rtype.type.lower() == "microsoft.resources/resourcegroups":
            return f"/subscriptions/{subscription}", subscription, group
        # parent: drop the last type/name pair; drop "providers/NS" when it becomes the tail
        parent_segs = low[:-2]
        if len(parent_segs) >= 2 and parent_segs[-2] == "providers":
            parent_segs = parent_segs[:-2]
        return ("/" + "/".join(parent_segs)) if parent_segs else "", subscription, group

    def resource_type_of(self, record: dict[str, Any]) -> ResourceType | None:
        return self.types.get(record["type"].lower())

    def delete_tree(self, ctx: Ctx, resource_id: str) -> None:
        root = resource_id.rstrip("/").lower()
        doomed = [k for k in self.store.records if k == root or k.startswith(root + "/")]
        doomed.sort(key=lambda k: k.count("/"), reverse=True)
        for key in doomed:
            record = self.store.records.pop(key, None)
            if record is None:
                continue
            rtype = self.resource_type_of(record)
            if rtype is not None:
                rtype.after_delete(ctx, Resource(record))

    def pending_operation(self, under: str) -> dict[str, Any] | None:
        root = under.rstrip("/").lower()
        for op in self.store.operations.values():
            if op["status"] != "InProgress":
                continue
            rid = op["resource_id"].lower()
            if rid == root or rid.startswith(root + "/"):
                return op
        return None

    def reset(self) -> None:
        with self.lock:
            ctx = Ctx(self, None)
            for record in list(self.store.records.values()):
                rtype = self.resource_type_of(record)
                if rtype is not None:
                    rtype.on_discard(ctx, Resource(record))
            self.store.clear()
            self.request_log.clear()
            self.apply_start_registrations()

    def apply_start_registrations(self) -> None:
        if self.start_unregistered and not self.store.registrations:
            self.set_unregistered(dict.fromkeys(identity.SUBSCRIPTIONS, "all"))

    # ------------------------------------------------------------------------------------------------------
    # long-running operations
    def _delay(self, rtype: ResourceType, operation: str, body: dict[str, Any]) -> float:
        if self.latency_mode != "realistic":
            return 0.0
        return max(0.0, rtype.latency(operation, body) * self.time_scale)

    def settle(self) -> None:
        """Finish every operation whose time has come (called at the start of each ARM request)."""
        now = time.time()
        due = [op for op in self.store.operations.values() if op["status"] == "InProgress" and op["due"] <= now]
        if not due:
            return
        for op in sorted(due, key=lambda o: o["due"]):
            self._complete(op)
        finished = sorted(
            (o for o in self.store.operations.values() if o["status"] != "InProgress"), key=lambda o: o["due"]
        )
        for old in finished[:-2000]:
            self.store.operations.pop(old["name"], None)
        self.store.save()

    def _complete(self, op: dict[str, Any]) -> None:
        ctx = Ctx(self, None)
        key = op["resource_id"].lower()
        record = self.store.records.get(key)
        op["endTime"] = utc_now()
        failed = op.get("fail", False)
        op["status"] = "Failed" if failed else "Succeeded"
        if failed:
            op["error"] = {
                "code": "InternalServerError",
                "message": "An unexpected error occurred while processing the operation (injected fault lro-failed).",
            }
        if record is None:
            return
        rtype = self.resource_type_of(record)
        if op["kind"] == "delete" and not failed:
            self.delete_tree(ctx, record["id"])
            return
        props = record["body"].setdefault("properties", {})
        if isinstance(props, dict):
            props["provisioningState"] = "Failed" if failed else "Succeeded"
        if rtype is not None and op["kind"] in ("create", "update"):
            rtype.on_operation_done(ctx, Resource(record), op["kind"], not failed)

    def _start_operation(self, resource_id: str, namespace: str, location: str | None, kind: str, delay: float,
                         fail: bool, api_version: str) -> tuple[dict[str, Any], dict[str, str]]:
        op_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        sub = (self._placement(resource_id, None)[1]) or ""
        loc = location or "global"
        prefix = f"/subscriptions/{sub}" if sub else ""
        op = {
            "name": op_id,
            "resource_id": resource_id,
            "kind": kind,
            "status": "InProgress",
            "startTime": utc_now(),
            "due": time.time() + delay,
            "fail": fail,
            "namespace": namespace,
            "async_path": f"{prefix}/providers/{namespace}/locations/{loc}/asyncOperations/{op_id}",
            "result_path": f"{prefix}/providers/{namespace}/locations/{loc}/operationResults/{op_id}",
        }
        self.store.operations[op_id] = op
        query = "?" + urlencode({"api-version": api_version})
        headers = {"Retry-After": "1"}
        return op, {
            **headers,
            "Azure-AsyncOperation": self.base_url + op["async_path"] + query,
            "Location": self.base_url + op["result_path"] + query,
        }

    @staticmethod
    def _lro_headers(style: OpStyle, headers: dict[str, str]) -> dict[str, str]:
        out = {"Retry-After": headers["Retry-After"]}
        if style.lro in (Lro.AZURE_ASYNC, Lro.BOTH):
            out["Azure-AsyncOperation"] = headers["Azure-AsyncOperation"]
        if style.lro in (Lro.LOCATION, Lro.BOTH):
            out["Location"] = headers["Location"]
        return out

    # ------------------------------------------------------------------------------------------------------
    # entry point
    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               raw_body: bytes) -> Response:
        method = method.upper()
        try:
            caller = self._authenticate(headers)
            api_version = query.get("api-version")
            if not api_version:
                raise ArmError(
                    400,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                )
            if not API_VERSION_RE.match(api_version):
                raise ArmError(
                    400,
                    "InvalidApiVersionParameter",
                    f"The api-version '{api_version}' is invalid. The supported versions are dates like "
                    "'2025-04-01' with an optional '-preview' suffix.",
                )
            with self.lock:
                self._current_path = path
                self._fail_next_lro = False
                self.settle()
                route = self.parse(path, method)
                if route.subscription_id is not None:
                    self._check_subscription(route.subscription_id, caller)
                self._check_registered(route, method)
                ctx = Ctx(self, caller, subscription_id=route.subscription_id, api_version=api_version, query=query)
                if route.kind != "operation":
                    fault = self._maybe_fault(method, route)
                    if fault is not None:
                        return fault
                response = self._dispatch(ctx, method, route, query, headers, raw_body)
        except ArmError as err:
            return error_response(err)
        if response.delay_s > 0:
            # Sleep outside the lock: other requests go on while this synchronous operation "takes time".
            time.sleep(response.delay_s)
        # ARM reports the remaining request budget on every answer; clients may pace themselves with it.
        kind = "reads" if method in ("GET", "HEAD") else "writes"
        response.headers.setdefault(f"x-ms-ratelimit-remaining-subscription-{kind}",
                                    "11999" if kind == "reads" else "1199")
        return response

    def _authenticate(self, headers: dict[str, str]) -> Caller:
        auth = headers.get("authorization")
        challenge = 'Bearer authorization_uri="{}", error="invalid_token", error_description="{}"'
        if not auth:
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers={"WWW-Authenticate": challenge.format(self.base_url, "The authentication failed because of "
                                                              "missing 'Authorization' header.")},
            )
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                headers={"WWW-Authenticate": challenge.format(self.base_url, "Invalid authorization header.")},
            )
        try:
            return self.issuer.validate(token.strip(), identity.ARM_AUDIENCES)
        except TokenError as err:
            raise ArmError(
                401, err.code, err.message,
                headers={"WWW-Authenticate": challenge.format(self.base_url, err.message)},
            ) from err

    def _check_subscription(self, subscription_id: str, caller: Caller) -> None:
        sub = identity.SUBSCRIPTIONS.get(subscription_id.lower())
        if sub is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")
        if sub["tenantId"] != caller.tenant_id:
            raise ArmError(
                401,
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer 'https://sts.windows.net/{caller.tenant_id}/'. It must "
                f"match the tenant 'https://sts.windows.net/{sub['tenantId']}/' associated with this subscription. "
                "Please use the authority (URL) 'https://login.windows.net/{}' to get the token.".format(
                    sub["tenantId"]
                ),
            )

    def _maybe_fault(self, method: str, route: Route) -> Response | None:
        type_name = route.rtype.type if route.rtype else None
        is_write = method in ("PUT", "PATCH", "DELETE") or (method == "POST" and route.kind == "action")
        can_lro = False
        if route.rtype is not None:
            style = {"PUT": route.rtype.put, "PATCH": route.rtype.patch, "DELETE": route.rtype.delete}.get(method)
            can_lro = style is not None and style.lro is not Lro.NONE and route.kind == "instance"
        kind = self.faults.pick(self.rng, method, type_name, is_write=is_write, can_lro=can_lro)
        if kind is None or kind == "lro-failed":
            if kind == "lro-failed":
                self._fail_next_lro = True
            return None
        if kind == "429":
            return error_response(ArmError(
                429, "SubscriptionRequestsThrottled",
                f"Number of requests for subscription '{route.subscription_id}' exceeded the limit. Please try "
                "again after '1' seconds.", headers={"Retry-After": "1"}))
        if kind == "503":
            return error_response(ArmError(
                503, "ServiceUnavailable", "The service is currently unavailable. Please retry the request.",
                headers={"Retry-After": "1"}))
        if kind == "500":
            return error_response(ArmError(500, "InternalServerError", "Encountered internal server error."))
        return error_response(ArmError(
            409, "AnotherOperationInProgress",
            "Another operation on this or dependent resource is in progress. Retry the request later."))

    _fail_next_lro = False

    def _take_lro_fault(self) -> bool:
        fail = self._fail_next_lro
        self._fail_next_lro = False
        return fail

    # ------------------------------------------------------------------------------------------------------
    # routing
    def parse(self, path: str, method: str) -> Route:
        segs = [unquote(s) for s in path.split("/") if s]
        low = [s.lower() for s in segs]
        subscription = low[1] if len(low) > 1 and low[0] == "subscriptions" else None
        if subscription is not None:
            subscription = segs[1]
        provider_at = -1
        for i in range(len(low) - 1, -1, -1):
            if low[i] == "providers" and i % 2 == 0:
                provider_at = i
                break
        if provider_at < 0 or provider_at + 1 >= len(segs):
            return self._parse_plain(segs, low, subscription, provider_at)
        scope_segs = segs[:provider_at]
        namespace = segs[provider_at + 1]
        rest = segs[provider_at + 2:]
        rest_low = [s.lower() for s in rest]
        canonical_ns = self.namespaces.get(namespace.lower())
        if (
            len(rest) == 4
            and rest_low[0] == "locations"
            and rest_low[2] in ("asyncoperations", "operationresults")
            and rest[3] in self.store.operations
        ):
            return Route("operation", namespace=namespace, subscription_id=subscription,
                         extra={"op": rest[3], "style": rest_low[2]})
        if canonical_ns is None:
            raise ArmError(
                404 if rest else 400,
                "InvalidResourceNamespace",
                f"The resource namespace '{namespace}' is invalid.",
            )
        scope = self._canonical_scope(scope_segs)
        if not rest:
            return Route("provider", scope=scope, namespace=canonical_ns, subscription_id=subscription)
        if len(rest) % 2 == 0:
            rtype = self.types.get(f"{canonical_ns}/{'/'.join(rest[0::2])}".lower())
            if rtype is not None:
                return self._typed_route("instance", rtype, scope, scope_segs, rest[1::2], subscription)
        else:
            rtype = self.types.get(f"{canonical_ns}/{'/'.join(rest[0::2])}".lower())
            if rtype is not None:
                return self._typed_route("collection", rtype, scope, scope_segs, rest[1::2], subscription)
            if len(rest) == 1:
                return Route("provider_action", scope=scope, namespace=canonical_ns, action=rest[0],
                             subscription_id=subscription)
            rtype = self.types.get(f"{canonical_ns}/{'/'.join(rest[:-1][0::2])}".lower())
            if rtype is not None:
                route = self._typed_route("action", rtype, scope, scope_segs, rest[:-1][1::2], subscription)
                route.action = rest[-1]
                return route
        raise ArmError(
            400,
            "InvalidResourceType",
            f"The resource type '{'/'.join(rest[0::2])}' could not be found in the namespace '{canonical_ns}'.",
        )

    def _parse_plain(self, segs: list[str], low: list[str], subscription: str | None, provider_at: int) -> Route:
        if provider_at >= 0:  # ".../providers" with nothing after it: provider list
            return Route("providers", subscription_id=subscription)
        if low == ["subscriptions"]:
            return Route("subscriptions")
        if len(low) == 2 and low[0] == "subscriptions":
            return Route("subscription", subscription_id=subscription)
        if len(low) == 3 and low[0] == "subscriptions" and low[2] == "locations":
            return Route("locations", subscription_id=subscription)
        if len(low) == 3 and low[0] == "subscriptions" and low[2] == "resources":
            return Route("generic_resources", scope=f"/subscriptions/{segs[1]}", subscription_id=subscription)
        if len(low) >= 3 and low[0] == "subscriptions" and low[2] == "resourcegroups":
            rg_type = self.types["microsoft.resources/resourcegroups"]
            scope = f"/subscriptions/{segs[1]}"
            if len(low) == 3:
                return Route("collection", rg_type, scope, segs[:2], [], subscription_id=subscription)
            if len(low) == 4:
                return Route("instance", rg_type, scope, segs[:2], [segs[3]], subscription_id=subscription)
            if len(low) == 5 and low[4] == "resources":
                return Route("generic_resources", scope=self._canonical_scope(segs[:4]), subscription_id=subscription)
        raise ArmError(404, "NotFound", f"The path '/{'/'.join(segs)}' does not exist.")

    def _canonical_scope(self, scope_segs: list[str]) -> str:
        if not scope_segs:
            return ""
        raw = "/" + "/".join(scope_segs)
        record = self.store.records.get(raw.lower())
        if record is not None:
            return str(record["id"])
        low = [s.lower() for s in scope_segs]
        fixed = list(scope_segs)
        if low[0] == "subscriptions":
            fixed[0] = "subscriptions"
        if len(low) >= 4 and low[2] == "resourcegroups":
            fixed[2] = "resourceGroups"
            rg = self.store.records.get("/" + "/".join(low[:4]))
            if rg is not None:
                fixed[3] = str(rg["id"]).rsplit("/", 1)[-1]
        return "/" + "/".join(fixed)

    def _typed_route(self, kind: str, rtype: ResourceType, scope: str, scope_segs: list[str], names: list[str],
                     subscription: str | None) -> Route:
        top = self._top_type(rtype)
        low = [s.lower() for s in scope_segs]
        allowed = {top.scope, *top.also_scopes}
        shape = (
            Scope.TENANT if not low
            else Scope.SUBSCRIPTION if len(low) == 2 and low[0] == "subscriptions"
            else Scope.RESOURCE_GROUP if len(low) == 4 and low[0] == "subscriptions" and low[2] == "resourcegroups"
            else None
        )
        ok = (Scope.EXTENSION in allowed and shape is not Scope.TENANT) or shape in allowed
        # Listing a resource-group type across the whole subscription is allowed (and common).
        if (kind == "collection" and not rtype.is_child and shape is Scope.SUBSCRIPTION
                and Scope.RESOURCE_GROUP in allowed):
            ok = True
        if not ok:
            raise ArmError(
                400,
                "InvalidResourceType",
                f"The resource type '{rtype.type}' is not supported at scope '{scope or '/'}'.",
            )
        return Route(kind, rtype, scope, scope_segs, list(names), subscription_id=subscription)

    def _top_type(self, rtype: ResourceType) -> ResourceType:
        if not rtype.is_child:
            return rtype
        top_name = rtype.namespace + "/" + rtype.type_path.split("/")[0]
        return self.types.get(top_name.lower(), rtype)

    def make_id(self, rtype: ResourceType, scope: str, names: list[str]) -> str:
        if rtype.type.lower() == "microsoft.resources/resourcegroups":
            return f"{scope}/resourceGroups/{names[0]}"
        parts = [f"{scope}/providers/{rtype.namespace}"]
        for type_seg, name in zip(rtype.type_path.split("/"), names, strict=False):
            parts.append(f"{type_seg}/{name}")
        return "/".join(parts)

    def _type_for_depth(self, rtype: ResourceType, depth: int) -> ResourceType | None:
        path = rtype.type_path.split("/")[:depth]
        return self.types.get(f"{rtype.namespace}/{'/'.join(path)}".lower())

    # ------------------------------------------------------------------------------------------------------
    # dispatch
    def _dispatch(self, ctx: Ctx, method: str, route: Route, query: dict[str, str], headers: dict[str, str],
                  raw_body: bytes) -> Response:
        if route.kind == "subscriptions":
            return Response(200, {"value": [self._subscription_body(s) for s in identity.SUBSCRIPTIONS
                                            if identity.SUBSCRIPTIONS[s]["tenantId"] == ctx.caller.tenant_id]})
        if route.kind == "subscription":
            return Response(200, self._subscription_body(route.subscription_id or ""))
        if route.kind == "locations":
            return Response(200, {"value": [
                {"id": f"/subscriptions/{route.subscription_id}/locations/{loc}", "name": loc, "displayName": loc,
                 "regionalDisplayName": loc, "metadata": {"regionType": "Physical"}}
                for loc in sorted(KNOWN_LOCATIONS - {"global"})]})
        if route.kind in ("provider", "providers"):
            return self._provider_info(route, method)
        if route.kind == "operation":
            return self._operation_status(ctx, route)
        if route.kind == "generic_resources":
            return self._generic_resources(ctx, route, query)
        if route.kind == "provider_action":
            if method != "POST":
                raise ArmError(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed.")
            if (route.action or "").lower() in ("register", "unregister") and route.subscription_id:
                low = (route.namespace or "").lower()
                if low not in ALWAYS_REGISTERED:
                    states = self.store.registrations.setdefault(route.subscription_id.lower(), {})
                    states[low] = "Registered" if route.action.lower() == "register" else "NotRegistered"
                    self.store.save()
                return self._provider_info(Route("provider", namespace=route.namespace,
                                                 subscription_id=route.subscription_id), "GET")
            handler = self.provider_actions.get(f"{route.namespace}/{route.action}".lower())
            if handler is None:
                raise ArmError(400, "InvalidResourceType",
                               f"The resource type '{route.action}' could not be found in the namespace "
                               f"'{route.namespace}'.")
            result = handler(ctx, route.scope, _json_body(raw_body, required=False))
            return Response(result.status, result.body, result.headers)
        assert route.rtype is not None
        if route.kind == "collection":
            if method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed.")
            return self._list(ctx, route, query)
        resource_id = self.make_id(route.rtype, route.scope, route.names)
        self._check_parents(ctx, route, resource_id, creating=(method == "PUT" and route.kind == "instance"))
        existing = self.store.records.get(resource_id.lower())
        if existing is not None:
            resource_id = existing["id"]
        if route.kind == "action":
            return self._action(ctx, route, resource_id, existing, method, raw_body)
        if method in ("GET", "HEAD"):
            return self._get(ctx, route, resource_id, existing, method)
        if method == "PUT":
            return self._write(ctx, route, resource_id, existing, "PUT", query, headers, raw_body)
        if method == "PATCH":
            return self._write(ctx, route, resource_id, existing, "PATCH", query, headers, raw_body)
        if method == "DELETE":
            return self._delete(ctx, route, resource_id, existing, headers)
        raise ArmError(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed.")

    def _subscription_body(self, sub: str) -> dict[str, Any]:
        info = identity.SUBSCRIPTIONS[sub.lower()]
        return {
            "id": f"/subscriptions/{sub}",
            "subscriptionId": sub,
            "tenantId": info["tenantId"],
            "displayName": info["displayName"],
            "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"},
            "authorizationSource": "RoleBased",
        }

    def _provider_info(self, route: Route, method: str) -> Response:
        def info(ns: str) -> dict[str, Any]:
            types = sorted({t.type_path for t in self.types.values() if t.namespace == ns})
            return {
                "id": f"/subscriptions/{route.subscription_id}/providers/{ns}",
                "namespace": ns,
                "registrationState": self.registration_state(route.subscription_id or "", ns),
                "registrationPolicy": "RegistrationRequired",
                "resourceTypes": [{"resourceType": t, "locations": [], "apiVersions": []} for t in types],
            }

        if route.kind == "providers":
            return Response(200, {"value": [info(ns) for ns in sorted(self.namespaces.values())]})
        return Response(200, info(route.namespace or ""))

    def _operation_status(self, ctx: Ctx, route: Route) -> Response:
        op = self.store.operations[route.extra["op"]]
        if route.extra["style"] == "asyncoperations":
            body: dict[str, Any] = {
                "id": op["async_path"],
                "name": op["name"],
                "status": op["status"],
                "startTime": op["startTime"],
            }
            if op.get("endTime"):
                body["endTime"] = op["endTime"]
            if op.get("error"):
                body["error"] = op["error"]
            hdrs = {"Retry-After": "1"} if op["status"] == "InProgress" else {}
            return Response(200, body, hdrs)
        if op["status"] == "InProgress":
            query = "?" + urlencode({"api-version": ctx.api_version or ""})
            return Response(202, None, {"Retry-After": "1", "Location": self.base_url + op["result_path"] + query})
        if op["status"] == "Failed":
            return Response(500, {"error": op.get("error")})
        if op["kind"] == "delete":
            return Response(204)
        record = self.store.records.get(op["resource_id"].lower())
        if record is None:
            return Response(204)
        rtype = self.resource_type_of(record)
        body = rtype.render(ctx, Resource(record)) if rtype else record["body"]
        return Response(200, body)

    def _generic_resources(self, ctx: Ctx, route: Route, query: dict[str, str]) -> Response:
        prefix = route.scope.lower() + "/"
        items = []
        type_filter = None
        match = re.search(r"resourceType\s+eq\s+'([^']+)'", query.get("$filter", ""), re.IGNORECASE)
        if match:
            type_filter = match.group(1).lower()
        for key, record in sorted(self.store.records.items()):
            rtype = self.resource_type_of(record)
            if rtype is None or rtype.is_child or rtype.scope is not Scope.RESOURCE_GROUP:
                continue
            if not key.startswith(prefix) or (type_filter and record["type"].lower() != type_filter):
                continue
            body = record["body"]
            item = {k: body[k] for k in ("id", "name", "type", "location", "tags", "sku", "kind") if k in body}
            items.append(item)
        return self._page(items, query)

    def _scope_exists(self, scope: str) -> bool:
        """A stored resource, or a Key Vault secret: it lives in the vault's data plane, and ARM still takes its ID
        (``<vault>/secrets/<name>``) as the scope of a role assignment."""
        if scope.lower() in self.store.records:
            return True
        match = re.match(r"^(.*/providers/microsoft\.keyvault/vaults/([^/]+))/secrets/([^/]+)$", scope, re.IGNORECASE)
        plane = self.planes.keyvault_secrets
        if match is None or plane is None or match.group(1).lower() not in self.store.records:
            return False
        return bool(plane.secret_exists(match.group(2), match.group(3)))

    def _check_parents(self, ctx: Ctx, route: Route, resource_id: str, *, creating: bool) -> None:
        assert route.rtype is not None
        low = [s.lower() for s in route.scope_segments]
        rtype = route.rtype
        if len(low) >= 4 and low[2] == "resourcegroups" and rtype.type.lower() != "microsoft.resources/resourcegroups":
            rg_id = "/" + "/".join(low[:4])
            if rg_id not in self.store.records:
                raise ArmError(404, "ResourceGroupNotFound",
                               f"Resource group '{route.scope_segments[3]}' could not be found.")
        top = self._top_type(rtype)
        if top.scope is Scope.EXTENSION and len(low) > 4 and not self._scope_exists(route.scope):
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource '{route.scope}' was not found. It is the scope of the request.")
        depth = len(route.names) if route.kind != "collection" else len(route.names) + 1
        for level in range(1, depth):
            parent_type = self._type_for_depth(rtype, level)
            if parent_type is None:
                continue
            parent_id = self.make_id(parent_type, route.scope, route.names[:level])
            # A built-in parent (a singleton that exists without being written) is there too.
            if parent_id.lower() not in self.store.records \
                    and parent_type.builtin(ctx, parent_id, route.names[level - 1]) is None:
                parent_name = "/".join(route.names[:level])
                raise ArmError(
                    404,
                    "ParentResourceNotFound",
                    f"Failed to perform '{'write' if creating else 'read'}' on resource(s) of type "
                    f"'{rtype.type}', because the parent resource '{parent_id}' could not be found.",
                    target=parent_name,
                )

    def _parent_resource(self, route: Route) -> Resource | None:
        assert route.rtype is not None
        if route.rtype.is_child and len(route.names) > 1:
            parent_type = self._type_for_depth(route.rtype, len(route.names) - 1)
            if parent_type is not None:
                record = self.store.records.get(self.make_id(parent_type, route.scope, route.names[:-1]).lower())
                return Resource(record) if record else None
        if self._top_type(route.rtype).scope is Scope.EXTENSION:
            record = self.store.records.get(route.scope.lower())
            return Resource(record) if record else None
        return None

    def _not_found(self, route: Route, resource_id: str) -> ArmError:
        assert route.rtype is not None
        if route.rtype.type.lower() == "microsoft.resources/resourcegroups":
            return ArmError(404, "ResourceGroupNotFound", f"Resource group '{route.names[0]}' could not be found.")
        low = [s.lower() for s in route.scope_segments]
        in_group = len(low) >= 4 and low[2] == "resourcegroups"
        where = f" under resource group '{route.scope_segments[3]}'" if in_group else ""
        return ArmError(
            404,
            route.rtype.not_found_code,
            f"The Resource '{route.rtype.type}/{'/'.join(route.names)}'{where} was not found. For more details "
            "please go to https://aka.ms/ARMResourceNotFoundFix",
        )

    def _get(self, ctx: Ctx, route: Route, resource_id: str, existing: dict[str, Any] | None,
             method: str) -> Response:
        assert route.rtype is not None
        if existing is None:
            builtin = route.rtype.builtin(ctx, resource_id, route.names[-1])
            if builtin is not None:
                return Response(200 if method == "GET" else 204, builtin if method == "GET" else None)
            if method == "HEAD":
                return Response(404)
            raise self._not_found(route, resource_id)
        if method == "HEAD":
            return Response(204)
        body = route.rtype.render(ctx, Resource(existing))
        return Response(200, body, self._etag_header(body))

    @staticmethod
    def _etag_header(body: Any) -> dict[str, str]:
        if isinstance(body, dict) and isinstance(body.get("etag"), str):
            return {"ETag": body["etag"]}
        return {}

    # --- locks ----------------------------------------------------------------------------------------------
    def _locks_over(self, resource_id: str, *, include_below: bool) -> list[dict[str, Any]]:
        target = resource_id.lower()
        found = []
        for record in self.store.records.values():
            if record["type"].lower() != LOCKS_TYPE:
                continue
            scope = record["parent"]
            if target == scope or target.startswith(scope + "/") or (include_below and scope.startswith(target + "/")):
                found.append(record)
        return found

    def _check_locks(self, rtype: ResourceType, resource_id: str, operation: str) -> None:
        if rtype.type.lower() == LOCKS_TYPE:
            return
        locks = self._locks_over(resource_id, include_below=(operation == "delete"))
        blocking = [
            lk for lk in locks
            if lk["body"].get("properties", {}).get("level") == "ReadOnly"
            or (operation == "delete" and lk["body"].get("properties", {}).get("level") == "CanNotDelete")
        ]
        if blocking:
            scopes = ",".join(f"'{lk['id'].split('/providers/Microsoft.Authorization/locks/')[0]}'" for lk in blocking)
            raise ArmError(
                409,
                "ScopeLocked",
                f"The scope '{resource_id}' cannot perform {operation} operation because following scope(s) are "
                f"locked: {scopes}. Please remove the lock and try again.",
            )

    # --- writes ---------------------------------------------------------------------------------------------
    def _write(self, ctx: Ctx, route: Route, resource_id: str, existing: dict[str, Any] | None, method: str,
               query: dict[str, str], headers: dict[str, str], raw_body: bytes) -> Response:
        rtype = route.rtype
        assert rtype is not None
        name = route.names[-1]
        if method == "PUT" and not rtype.allow_put:
            raise ArmError(405, "MethodNotAllowed", f"The resource type '{rtype.type}' does not support PUT.")
        if method == "PATCH":
            if rtype.patch is None:
                raise ArmError(405, "MethodNotAllowed", f"The resource type '{rtype.type}' does not support PATCH.")
            if existing is None:
                raise self._not_found(route, resource_id)
        request_body = _json_body(raw_body, required=True)
        if not isinstance(request_body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: expected a JSON object.")
        request_body = self.schemas.check(rtype.type, ctx.api_version, request_body, method=method,
                                          existing=existing["body"] if existing else None, strict=self.strict_schema)
        self._check_preconditions(existing, headers)
        self._check_locks(rtype, resource_id, "write")
        if existing is not None and existing["body"].get("properties", {}).get("provisioningState") == "Deleting":
            raise ArmError(409, "Conflict", f"The resource '{resource_id}' is being deleted.")
        if method == "PATCH":
            assert existing is not None
            current = rtype.render(ctx, Resource(existing))
            merged = deep_merge(current, {k: v for k, v in request_body.items() if k != "tags"})
            if "tags" in request_body:
                merged["tags"] = request_body["tags"]
            request_body = merged
        if existing is None:
            if rtype.name_rule is not None:
                rtype.name_rule.check(name, rtype.type)
            if rtype.global_name:
                self._check_global_name(ctx, rtype, name, resource_id)
        self._check_location(rtype, request_body, existing, resource_id)
        self._check_tags(rtype, request_body)
        req = WriteRequest(
            method=method,
            id=resource_id,
            name=name if existing is None else existing["id"].rsplit("/", 1)[-1],
            scope=route.scope,
            body=request_body,
            existing=Resource(existing) if existing else None,
            parent=self._parent_resource(route),
            query=query,
            headers=headers,
        )
        rtype.validate(ctx, req)
        for hook in self.admission_hooks:
            hook(ctx, rtype, req)
        body = rtype.build(ctx, req)
        operation = "create" if existing is None else "update"
        style = rtype.put if method == "PUT" else rtype.patch
        assert style is not None
        delay = self._delay(rtype, operation, body)
        fail = self._take_lro_fault() and style.lro is not Lro.NONE
        pending = style.lro is not Lro.NONE and (delay > 0 or fail)
        props = body.setdefault("properties", {})
        if isinstance(props, dict):
            props["provisioningState"] = rtype.pending_state[operation] if pending else "Succeeded"
        if rtype.etag:
            tag = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            body["etag"] = f'W/"{tag}"' if rtype.etag_weak else tag
        if rtype.system_data:
            caller = ctx.caller
            previous = (existing or {}).get("body", {}).get("systemData", {})
            now = utc_now()
            body["systemData"] = {
                "createdBy": previous.get("createdBy", caller.app_id if caller else "emulator"),
                "createdByType": previous.get("createdByType", "Application"),
                "createdAt": previous.get("createdAt", now),
                "lastModifiedBy": caller.app_id if caller else "emulator",
                "lastModifiedByType": "Application",
                "lastModifiedAt": now,
            }
        internal = copy.deepcopy(existing.get("internal", {})) if existing else {}
        record = self.put_record(resource_id, rtype.type, body, internal=internal)
        resource = Resource(record)
        rtype.after_write(ctx, resource, req)
        response_headers: dict[str, str] = {}
        if pending:
            _, lro_headers = self._start_operation(resource_id, rtype.namespace, self._op_location(record),
                                                   operation, delay, fail, ctx.api_version or "")
            response_headers = self._lro_headers(style, lro_headers)
            status = style.created_pending if (existing is None and method == "PUT") else style.pending
        else:
            status = style.created_done if (existing is None and method == "PUT") else style.done
            rtype.on_operation_done(ctx, resource, operation, True)
        self.store.save()
        out = rtype.render(ctx, resource)
        response_headers.update(self._etag_header(out))
        return Response(status, out if status != 202 or style.lro is Lro.AZURE_ASYNC else None, response_headers,
                        delay_s=delay if style.lro is Lro.NONE else 0.0)

    def _op_location(self, record: dict[str, Any]) -> str:
        loc = record["body"].get("location")
        if loc:
            return str(loc)
        parent = self.store.records.get(record["parent"])
        if parent is not None and parent["body"].get("location"):
            return str(parent["body"]["location"])
        return "global"

    @staticmethod
    def _check_preconditions(existing: dict[str, Any] | None, headers: dict[str, str]) -> None:
        if_none = headers.get("if-none-match")
        if if_none and if_none.strip() == "*" and existing is not None:
            raise ArmError(412, "PreconditionFailed", "The resource already exists (If-None-Match: *).")
        if_match = headers.get("if-match")
        if if_match and if_match.strip() != "*":
            current = (existing or {}).get("body", {}).get("etag")
            if existing is None or current != if_match.strip():
                raise ArmError(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) "
                               "is not met (If-Match does not match the current etag).")

    def _check_global_name(self, ctx: Ctx, rtype: ResourceType, name: str, resource_id: str) -> None:
        for record in self.store.records.values():
            if record["type"].lower() != rtype.type.lower():
                continue
            if record["id"].rsplit("/", 1)[-1].lower() == name.lower() and record["id"].lower() != resource_id.lower():
                raise ArmError(rtype.name_taken_status, rtype.name_taken_code,
                               rtype.name_taken_message.format(name=name))
        if rtype.name_reserved(ctx, name):
            raise ArmError(rtype.name_taken_status, rtype.name_taken_code, rtype.name_taken_message.format(name=name))

    @staticmethod
    def _check_location(rtype: ResourceType, body: dict[str, Any], existing: dict[str, Any] | None,
                        resource_id: str) -> None:
        if rtype.location == "none":
            return
        raw = body.get("location")
        if raw is None or raw == "":
            if rtype.location in ("required", "global"):
                raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
            return
        if not isinstance(raw, str):
            raise ArmError(400, "InvalidRequestContent", "The 'location' property must be a string.")
        loc = normalise_location(raw)
        if rtype.location == "global" and loc != "global":
            raise ArmError(400, "LocationNotAvailableForResourceType",
                           f"The provided location '{raw}' is not available for resource type '{rtype.type}'. List "
                           "of available regions for the resource type is 'global'.")
        if loc not in KNOWN_LOCATIONS:
            raise ArmError(400, "LocationNotAvailableForResourceType",
                           f"The provided location '{raw}' is not available for resource type '{rtype.type}'.")
        if existing is not None:
            old = existing["body"].get("location")
            if old and normalise_location(str(old)) != loc:
                raise rtype.location_change_error(resource_id, str(old), loc)

    @staticmethod
    def _check_tags(rtype: ResourceType, body: dict[str, Any]) -> None:
        tags = body.get("tags")
        if tags is None:
            return
        if not isinstance(tags, dict):
            raise ArmError(400, "InvalidRequestContent", "The 'tags' property must be an object.")
        if len(tags) > MAX_TAGS:
            raise ArmError(400, "InvalidTagCount", f"The number of tags ({len(tags)}) exceeds the limit of 50.")
        for key, value in tags.items():
            # Azure's own exception: the tag that links a resource (an availability test) to another names that
            # resource's ID, slashes included: ``hidden-link:/subscriptions/.../components/<name>``, as the
            # applicationinsights REST examples and templates write it. Its other characters are checked as usual.
            checked = key[len("hidden-link:"):].replace("/", "") if key.lower().startswith("hidden-link:") else key
            if len(key) > 512 or re.search(r"[<>%&\\?/]", checked):
                raise ArmError(400, "InvalidTagNameCharacters",
                               f"The tag names '{key}' have reserved characters '<,>,%,&,\\,?,/' or control "
                               "characters, or exceed 512 characters.")
            if value is not None and len(str(value)) > 256:
                raise ArmError(400, "InvalidTagValueLength",
                               f"The tag value for '{key}' exceeds the maximum length of 256 characters.")

    # --- delete ---------------------------------------------------------------------------------------------
    def _delete(self, ctx: Ctx, route: Route, resource_id: str, existing: dict[str, Any] | None,
                headers: dict[str, str]) -> Response:
        rtype = route.rtype
        assert rtype is not None
        if existing is None:
            if rtype.delete.missing == 404:
                raise self._not_found(route, resource_id)
            return Response(rtype.delete.missing)
        self._check_preconditions(existing, headers)
        self._check_locks(rtype, resource_id, "delete")
        if existing["body"].get("properties", {}).get("provisioningState") == "Deleting":
            return Response(202, None, {"Retry-After": "1"}) if rtype.delete.lro is not Lro.NONE else Response(200)
        resource = Resource(existing)
        rtype.before_delete(ctx, resource)
        delay = self._delay(rtype, "delete", existing["body"])
        style = rtype.delete
        fail = self._take_lro_fault() and style.lro is not Lro.NONE
        if style.lro is not Lro.NONE and (delay > 0 or fail):
            props = existing["body"].setdefault("properties", {})
            if isinstance(props, dict):
                props["provisioningState"] = rtype.pending_state["delete"]
            _, lro_headers = self._start_operation(resource_id, rtype.namespace, self._op_location(existing),
                                                   "delete", delay, fail, ctx.api_version or "")
            self.store.save()
            return Response(style.pending, None, self._lro_headers(style, lro_headers))
        self.delete_tree(ctx, resource_id)
        self.store.save()
        return Response(style.done, delay_s=delay if style.lro is Lro.NONE else 0.0)

    # --- actions and lists ----------------------------------------------------------------------------------
    def _action(self, ctx: Ctx, route: Route, resource_id: str, existing: dict[str, Any] | None, method: str,
                raw_body: bytes) -> Response:
        rtype = route.rtype
        assert rtype is not None and route.action is not None
        method_name = {k.lower(): v for k, v in rtype.actions.items()}.get(route.action.lower())
        if method_name is None:
            raise ArmError(404, "InvalidResourceType",
                           f"The resource type '{rtype.type}/{route.action}' could not be found.")
        if method != "POST":
            raise ArmError(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed.")
        if existing is None:
            raise self._not_found(route, resource_id)
        self._check_locks(rtype, resource_id, "action")
        handler = getattr(rtype, method_name)
        result = handler(ctx, Resource(existing), _json_body(raw_body, required=False) or {})
        self.store.save()
        return Response(result.status, result.body, result.headers)

    def _list(self, ctx: Ctx, route: Route, query: dict[str, str]) -> Response:
        rtype = route.rtype
        assert rtype is not None
        self._check_parents(ctx, route, "", creating=False)
        low_scope = route.scope.lower()
        records = []
        if rtype.is_child:
            # make_id stops at the names given: the parent's ID (even when the parent type, such as
            # Microsoft.KeyVault/locations, is not a registered type).
            parent_id = self.make_id(rtype, route.scope, route.names).lower()
            records = [r for r in self.store.records.values()
                       if r["type"].lower() == rtype.type.lower() and r["parent"] == parent_id]
        else:
            for record in self.store.records.values():
                if record["type"].lower() != rtype.type.lower():
                    continue
                if rtype.scope is Scope.RESOURCE_GROUP and len(route.scope_segments) == 2:
                    if record["subscription"] == (route.subscription_id or "").lower():
                        records.append(record)
                elif record["parent"] == low_scope:
                    records.append(record)
        records.sort(key=lambda r: r["id"].lower())
        items = rtype.list(ctx, route.scope, [Resource(r) for r in records])
        return self._page(items, query)

    def _page(self, items: list[dict[str, Any]], query: dict[str, str]) -> Response:
        try:
            start = int(query.get("$skiptoken", "0"))
        except ValueError as exc:
            raise ArmError(400, "InvalidSkipToken", "The $skiptoken is invalid.") from exc
        size = self.page_size
        top = query.get("$top")
        if top and top.isdigit():
            size = min(size, int(top))
        page = items[start:start + size]
        body: dict[str, Any] = {"value": page}
        if start + size < len(items) and not (top and top.isdigit()):
            next_query = {k: v for k, v in query.items() if k != "$skiptoken"}
            next_query["$skiptoken"] = str(start + size)
            body["nextLink"] = f"{self.base_url}{self._current_path}?{urlencode(next_query, quote_via=quote)}"
        return Response(200, body)

    _current_path = ""


def _client_ip(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError as exc:
        raise ValueError(f"keyvault_client_ip must be an IP address or null, got {value!r}") from exc


def _json_body(raw: bytes, *, required: bool) -> Any:
    if not raw or not raw.strip():
        if required:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                           "deserialized: the body is empty.")
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArmError(400, "InvalidRequestContent",
                       f"The request content was invalid and could not be deserialized: {exc}.") from exc
