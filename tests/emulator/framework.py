"""The provider interface: how a resource provider module declares its resource types and rules.

Read tests/emulator/PROVIDERS.md first; this module is the reference for the names it mentions. The generic ARM
engine (tests/emulator/arm.py) does routing, authentication, parents, locks, global names, etags, paging,
long-running operations, latency and faults; a ResourceType only says what is specific to its type.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import enum
import random
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .arm import ArmEngine
    from .identity import Caller


class ArmError(Exception):
    """An error answered the way ARM answers: HTTP status plus {"error": {"code", "message", ...}}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        innererror: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.innererror = innererror
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        if self.innererror:
            error["innererror"] = self.innererror
        return {"error": error}


def bad_request(code: str, message: str) -> ArmError:
    return ArmError(400, code, message)


class Scope(enum.Enum):
    """Where a top-level type lives. Child types (type path with more than one segment) inherit their parent's."""

    RESOURCE_GROUP = "resourceGroup"  # /subscriptions/{s}/resourceGroups/{rg}/providers/NS/type/name
    SUBSCRIPTION = "subscription"  # /subscriptions/{s}/providers/NS/type/name
    TENANT = "tenant"  # /providers/NS/type/name
    EXTENSION = "extension"  # {any existing scope or resource ID}/providers/NS/type/name


class Lro(enum.Enum):
    """Which long-running-operation headers a provider sends while an operation is under way."""

    NONE = "none"  # always synchronous
    AZURE_ASYNC = "azure-async"  # Azure-AsyncOperation: status resource {"status": "InProgress"|...}
    LOCATION = "location"  # Location: 202 while running, then 200 + result (or 204)
    BOTH = "both"  # both headers (Microsoft.Network deletes, private DNS)


@dataclass(frozen=True)
class OpStyle:
    """HTTP status codes of one operation, as the provider's REST spec (and so the SDK) expects them.

    `done` is used when the operation finishes inside the request (latency `instant`, no fault); `pending`
    when it continues as a long-running operation. For PUT, `created_*` apply to a create, `done`/`pending`
    to a replace of an existing resource.
    """

    lro: Lro = Lro.NONE
    done: int = 200
    pending: int = 202
    created_done: int = 201
    created_pending: int = 201
    missing: int = 204  # DELETE of a resource that does not exist


SYNC_PUT = OpStyle(Lro.NONE, done=200, created_done=201)
SYNC_PATCH = OpStyle(Lro.NONE, done=200)
SYNC_DELETE = OpStyle(Lro.NONE, done=200, missing=204)
# Microsoft.Network: PUT 200/201 + Azure-AsyncOperation; DELETE 202 + Location and Azure-AsyncOperation.
NETWORK_PUT = OpStyle(Lro.AZURE_ASYNC, done=200, pending=200, created_done=201, created_pending=201)
NETWORK_PATCH = SYNC_PATCH
NETWORK_DELETE = OpStyle(Lro.BOTH, done=200, pending=202, missing=204)


@dataclass(frozen=True)
class NameRule:
    """Length and character rules of a resource name; `pattern` must match the whole name."""

    min_len: int
    max_len: int
    pattern: str
    hint: str  # human description used in the error message
    code: str = "InvalidResourceName"
    status: int = 400

    def check(self, name: str, type_name: str) -> None:
        if self.min_len <= len(name) <= self.max_len and re.fullmatch(self.pattern, name):
            return
        raise ArmError(
            self.status,
            self.code,
            f"Resource name '{name}' for type '{type_name}' is invalid. {self.hint}",
        )


class Resource:
    """A stored resource as providers see it. `body` is the ARM JSON (mutable); `internal` is provider-private
    state that is persisted but never returned (keys, passwords, soft-delete bookkeeping)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def type(self) -> str:
        return str(self.record["type"])

    @property
    def name(self) -> str:
        return str(self.record["id"]).rsplit("/", 1)[-1]

    @property
    def body(self) -> dict[str, Any]:
        return self.record["body"]  # type: ignore[no-any-return]

    @property
    def properties(self) -> dict[str, Any]:
        return self.record["body"].setdefault("properties", {})  # type: ignore[no-any-return]

    @property
    def internal(self) -> dict[str, Any]:
        return self.record.setdefault("internal", {})  # type: ignore[no-any-return]

    @property
    def parent_id(self) -> str:
        return str(self.record["parent"])

    @property
    def subscription_id(self) -> str | None:
        return self.record.get("subscription")

    @property
    def resource_group(self) -> str | None:
        return self.record.get("resource_group")

    @property
    def location(self) -> str | None:
        return self.record["body"].get("location")

    def __repr__(self) -> str:
        return f"Resource({self.id!r})"


@dataclass
class WriteRequest:
    """A PUT or PATCH being applied. For PATCH, `body` is already the existing resource merged with the patch."""

    method: str
    id: str
    name: str
    scope: str
    body: dict[str, Any]
    existing: Resource | None
    parent: Resource | None  # parent resource for child types; the scope resource for extension types
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def is_create(self) -> bool:
        return self.existing is None

    @property
    def properties(self) -> dict[str, Any]:
        props = self.body.get("properties")
        return props if isinstance(props, dict) else {}


@dataclass
class ActionResult:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Planes:
    """Data-plane objects providers may call (None when disabled or not installed)."""

    keyvault_secrets: Any = None
    postgres: Any = None
    redis: Any = None
    blob: Any = None  # dataplanes/azurite.py: Azurite behind storage accounts' blob endpoints


# Regions ARM accepts (normalised form). A location outside this list is refused like an unknown region.
KNOWN_LOCATIONS = frozenset(
    {
        "westeurope", "northeurope", "eastus", "eastus2", "westus", "westus2", "westus3", "centralus",
        "northcentralus", "southcentralus", "westcentralus", "uksouth", "ukwest", "francecentral", "francesouth",
        "germanywestcentral", "germanynorth", "swedencentral", "switzerlandnorth", "switzerlandwest",
        "norwayeast", "norwaywest", "polandcentral", "italynorth", "spaincentral", "canadacentral", "canadaeast",
        "brazilsouth", "australiaeast", "australiasoutheast", "japaneast", "japanwest", "koreacentral",
        "southeastasia", "eastasia", "centralindia", "southindia", "uaenorth", "southafricanorth", "global",
        "eastus2euap", "centraluseuap",  # canary regions (Microsoft's own examples use them)
    }
)


def normalise_location(value: str) -> str:
    """`West Europe` -> `westeurope`, as ARM stores it."""
    return re.sub(r"\s+", "", value).lower()


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7396): objects merge recursively, null removes, anything else replaces."""
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def fill_defaults(target: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Add defaults the request did not set (recursively for nested objects); request values win."""
    for key, value in defaults.items():
        if key not in target or target[key] is None:
            target[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(target[key], dict):
            fill_defaults(target[key], value)
    return target


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def id_equal(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


ActionHandler = Callable[["Ctx", Resource, dict[str, Any]], ActionResult]
ProviderActionHandler = Callable[["Ctx", str, dict[str, Any]], ActionResult]


class Ctx:
    """What a provider hook can see: other resources, the caller, data planes, time, randomness.

    Hooks run under the engine's lock, so reads and writes through Ctx are consistent within one request.
    """

    def __init__(
        self,
        engine: ArmEngine,
        caller: Caller | None,
        *,
        subscription_id: str | None = None,
        api_version: str | None = None,
        query: dict[str, str] | None = None,
    ) -> None:
        self._engine = engine
        self.caller = caller
        self.subscription_id = subscription_id
        self.api_version = api_version
        self.query = query or {}

    # --- environment -------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._engine.base_url

    def vault_uri(self, vault_name: str) -> str:
        """The `vaultUri` of a Key Vault: `https://127.0.0.1:<port>/`, an origin of its own served by the emulator
        (Key Vault clients need the vault at the root of its host)."""
        return self._engine.vault_origin(vault_name) + "/"

    @property
    def planes(self) -> Planes:
        return self._engine.planes

    @property
    def rng(self) -> random.Random:
        """Seeded by --seed: keys and generated values are reproducible."""
        return self._engine.rng

    def now(self) -> str:
        return utc_now()

    def realistic_delay(self, seconds: float) -> float:
        """`seconds` x --time-scale in `realistic` latency, 0 in `instant`: for delays that are not operations
        (role assignment propagation, ...)."""
        if self._engine.latency_mode != "realistic":
            return 0.0
        return seconds * self._engine.time_scale

    def rbac_propagation(self) -> float:
        """Seconds until a new role assignment reaches the services that check it: `--rbac-propagation` if given,
        else Azure's minutes (60 s) x --time-scale in `realistic` latency, 0 in `instant`."""
        if self._engine.rbac_propagation is not None:
            return float(self._engine.rbac_propagation)
        return self.realistic_delay(60.0)

    def new_guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_key(self, nbytes: int = 32) -> str:
        return base64.b64encode(self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")).decode()

    # --- other resources ---------------------------------------------------------------------------------
    def get(self, resource_id: str) -> Resource | None:
        record = self._engine.store.records.get(resource_id.rstrip("/").lower())
        return Resource(record) if record else None

    def require(self, resource_id: str, *, status: int = 400, code: str = "InvalidResourceReference",
                message: str | None = None) -> Resource:
        """Look up a resource a request refers to, failing with the provider's error when it is missing."""
        found = self.get(resource_id) if resource_id else None
        if found is None:
            raise ArmError(status, code, message or f"Resource {resource_id} referenced by the request was not found.")
        return found

    def find(self, type_name: str | None = None, *, name: str | None = None, under: str | None = None,
             parent: str | None = None) -> list[Resource]:
        """Resources by type (case-insensitive), optionally by name, ID prefix (`under`) or direct parent."""
        out = []
        prefix = under.rstrip("/").lower() + "/" if under else None
        for key, record in self._engine.store.records.items():
            if type_name and record["type"].lower() != type_name.lower():
                continue
            if name and key.rsplit("/", 1)[-1] != name.lower():
                continue
            if prefix and not key.startswith(prefix):
                continue
            if parent is not None and record["parent"] != parent.rstrip("/").lower():
                continue
            out.append(Resource(record))
        return out

    def children(self, resource_id: str, type_name: str | None = None) -> list[Resource]:
        return self.find(type_name, parent=resource_id)

    def references_to(self, resource_id: str) -> list[Resource]:
        """Resources outside `resource_id` (and not its ancestors) whose body mentions its ID."""
        target = resource_id.rstrip("/").lower()
        out = []
        for key, record in self._engine.store.records.items():
            if key == target or key.startswith(target + "/") or target.startswith(key + "/"):
                continue
            if _mentions(record["body"], target):
                out.append(Resource(record))
        return out

    def put_record(self, resource_id: str, type_name: str, body: dict[str, Any], *,
                   internal: dict[str, Any] | None = None) -> Resource:
        """Store a resource directly, without validation (inline children, soft-deleted twins, ...)."""
        return Resource(self._engine.put_record(resource_id, type_name, body, internal=internal))

    def delete_record(self, resource_id: str) -> None:
        """Remove a resource and everything under it, running their after_delete hooks."""
        self._engine.delete_tree(self, resource_id)

    def pending_operation(self, under: str) -> dict[str, Any] | None:
        """A long-running operation still running on `under` or anything below it, if any."""
        return self._engine.pending_operation(under)

    def type_of(self, type_name: str) -> ResourceType | None:
        return self._engine.types.get(type_name.lower())

    def start_operation(self, resource: Resource, kind: str, seconds: float) -> dict[str, str]:
        """Start a long-running operation that is not a write (a POST action such as a server restart) on
        `resource`: it runs `seconds` x --time-scale in `realistic` latency (at once in `instant`), blocks other
        writes through `pending_operation` meanwhile, and is polled like any other. Returns the
        `Azure-AsyncOperation`, `Location` and `Retry-After` headers of the 202 answer."""
        rtype = self.type_of(resource.type)
        namespace = rtype.namespace if rtype is not None else resource.type.split("/", 1)[0]
        _op, headers = self._engine._start_operation(
            resource.id, namespace, resource.location, kind, self.realistic_delay(seconds), False,
            self.api_version or "")
        return headers


def _mentions(value: Any, target: str) -> bool:
    if isinstance(value, str):
        return value.rstrip("/").lower() == target
    if isinstance(value, dict):
        return any(_mentions(v, target) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, target) for v in value)
    return False


class ResourceType:
    """Base class of a resource type. Subclass it per type and override only what differs.

    Hook order on PUT/PATCH: name rule (create only) -> global name (create only) -> validate -> build ->
    engine adds provisioningState/etag/systemData and stores -> after_write. On DELETE: locks -> before_delete
    -> (operation completes) -> after_delete for the resource and each resource below it.
    """

    type: ClassVar[str] = ""  # "Microsoft.Network/virtualNetworks/subnets"
    scope: ClassVar[Scope] = Scope.RESOURCE_GROUP
    name_rule: ClassVar[NameRule | None] = None
    global_name: ClassVar[bool] = False  # name unique across all subscriptions (DNS names)
    name_taken_status: ClassVar[int] = 409
    name_taken_code: ClassVar[str] = "NameNotAvailable"
    name_taken_message: ClassVar[str] = "The name '{name}' is already in use."
    location: ClassVar[str] = "required"  # required | optional | none | global
    tags: ClassVar[bool] = True
    etag: ClassVar[bool] = False
    etag_weak: ClassVar[bool] = True  # W/"guid" (Microsoft.Network) or a bare guid (private DNS)
    system_data: ClassVar[bool] = True
    put: ClassVar[OpStyle] = SYNC_PUT
    patch: ClassVar[OpStyle | None] = SYNC_PATCH  # None: PATCH refused with 405
    delete: ClassVar[OpStyle] = SYNC_DELETE
    allow_put: ClassVar[bool] = True
    latency_s: ClassVar[float] = 5.0
    pending_state: ClassVar[dict[str, str]] = {"create": "Creating", "update": "Updating", "delete": "Deleting"}
    read_only_properties: ClassVar[tuple[str, ...]] = ()
    property_defaults: ClassVar[dict[str, Any]] = {}
    not_found_code: ClassVar[str] = "ResourceNotFound"
    actions: ClassVar[dict[str, str]] = {}  # POST action name -> method name on this class

    # --- declarations derived from `type` ----------------------------------------------------------------
    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0]

    @property
    def type_path(self) -> str:
        return self.type.split("/", 1)[1]

    @property
    def is_child(self) -> bool:
        return "/" in self.type_path

    also_scopes: ClassVar[tuple[Scope, ...]] = ()  # further scopes a top-level type is served at

    def latency(self, operation: str, body: dict[str, Any]) -> float:
        """Seconds an operation takes in `realistic` mode (before --time-scale). operation: create|update|delete."""
        return self.latency_s

    def name_reserved(self, ctx: Ctx, name: str) -> bool:
        """For global names: True when the name is taken by something that is not a live resource of this
        type (a soft-deleted vault, ...). Live resources of the type are checked by the engine."""
        return False

    def location_change_error(self, resource_id: str, old: str, new: str) -> ArmError:
        return ArmError(
            400,
            "InvalidResourceLocation",
            f"The resource '{resource_id.rsplit('/', 1)[-1]}' already exists in location '{old}'. A resource with "
            f"the same name cannot be created in location '{new}'. Please select a new resource name.",
        )

    # --- hooks -------------------------------------------------------------------------------------------
    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        """Raise ArmError when Azure would refuse the request."""

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        """Return the body to store: the request plus Azure's defaults and read-only fields.

        The default keeps top-level fields the request sent (sku, kind, identity, zones ...), normalises the
        location, drops client-supplied read-only properties and fills `property_defaults`.
        """
        body: dict[str, Any] = {}
        for key, value in req.body.items():
            if key in {"id", "name", "type", "etag", "systemData", "properties", "location", "tags"}:
                continue
            body[key] = copy.deepcopy(value)
        body = {"id": req.id, "name": req.name, "type": self.type, **body}
        if self.location != "none" and req.body.get("location") is not None:
            body["location"] = normalise_location(str(req.body["location"]))
        if self.tags and req.body.get("tags") is not None:
            body["tags"] = copy.deepcopy(req.body["tags"])
        props = copy.deepcopy(req.properties)
        for name in (*self.read_only_properties, "provisioningState"):
            props.pop(name, None)
        fill_defaults(props, self.property_defaults)
        body["properties"] = props
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        """Runs after the resource is stored (keep related resources consistent, call data planes)."""

    def on_operation_done(self, ctx: Ctx, resource: Resource, operation: str, succeeded: bool) -> None:
        """Runs when a long-running create/update finishes (after provisioningState is set)."""

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        """Raise ArmError to refuse a delete (resource in use, ...)."""

    def after_delete(self, ctx: Ctx, resource: Resource) -> None:
        """Runs once the resource is gone (soft-delete twins, data plane cleanup)."""

    def on_discard(self, ctx: Ctx, resource: Resource) -> None:
        """Runs when `POST /_emulator/reset` wipes the resource: release external state (data planes)."""

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        """The JSON returned for GET/PUT/list. Override to compute fields from other resources."""
        return copy.deepcopy(resource.body)

    def list(self, ctx: Ctx, scope_id: str, records: list[Resource]) -> list[dict[str, Any]]:
        """Items of a list call; `records` is what the engine found. Override to add built-ins or filter."""
        return [self.render(ctx, r) for r in records]

    def builtin(self, ctx: Ctx, resource_id: str, name: str) -> dict[str, Any] | None:
        """A read-only resource that exists without being stored (built-in role or policy definitions)."""
        return None


class ProviderModule:
    """What a provider module exports: RESOURCE_TYPES (list of ResourceType instances) and optionally
    PROVIDER_ACTIONS ({"Microsoft.Storage/checkNameAvailability": handler}) for POST actions on the namespace."""

    RESOURCE_TYPES: list[ResourceType]
    PROVIDER_ACTIONS: dict[str, ProviderActionHandler]


def iter_resource_types(modules: Iterable[Any]) -> Iterable[ResourceType]:
    for module in modules:
        yield from getattr(module, "RESOURCE_TYPES", [])
