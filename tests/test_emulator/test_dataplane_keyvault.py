"""Key Vault secrets data plane: REST behaviour of KeyVaultSecretsPlane.handle, called directly."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.emulator.dataplanes.keyvault_secrets import KeyVaultSecretsPlane

BASE = "https://127.0.0.1:8443/kv/kv-test/"
VAULT = "kv-test"
API = "7.5"
DAY = 86400


class Clock:
    """A settable clock, so that retention periods can pass without waiting."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Client:
    """handle() with JSON in and out, as the core's router calls it."""

    def __init__(self, plane: KeyVaultSecretsPlane, vault: str = VAULT, base_url: str = BASE) -> None:
        self.plane = plane
        self.vault = vault
        self.base_url = base_url

    def call(self, method: str, subpath: str, body: Any = None, **query: str) -> tuple[int, Any]:
        query.setdefault("api-version", API)
        if query["api-version"] == "":
            del query["api-version"]
        raw = json.dumps(body).encode() if body is not None else None
        status, headers, payload = self.plane.handle(self.vault, method, subpath, query, raw, self.base_url)
        if payload:
            assert headers["Content-Type"].startswith("application/json")
            return status, json.loads(payload)
        return status, None

    def set(self, name: str, value: str, **extra: Any) -> dict[str, Any]:
        status, body = self.call("PUT", f"secrets/{name}", {"value": value, **extra})
        assert status == 200, body
        return body


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def plane(tmp_path: pathlib.Path, clock: Clock) -> KeyVaultSecretsPlane:
    return KeyVaultSecretsPlane(tmp_path, clock=clock)


@pytest.fixture
def kv(plane: KeyVaultSecretsPlane) -> Client:
    return Client(plane)


def error_code(body: dict[str, Any]) -> str:
    return str(body["error"]["code"])


def test_set_then_get_returns_value_and_versioned_id(kv: Client, clock: Clock) -> None:
    created = kv.set("db-password", "s3cret", contentType="text/plain", tags={"owner": "platform"})
    match = re.fullmatch(re.escape(BASE) + r"secrets/db-password/([0-9a-f]{32})", created["id"])
    assert match, created["id"]
    assert created["value"] == "s3cret"
    assert created["contentType"] == "text/plain"
    assert created["tags"] == {"owner": "platform"}
    attrs = created["attributes"]
    assert attrs["enabled"] is True
    assert attrs["created"] == attrs["updated"] == int(clock.now)
    assert attrs["recoveryLevel"] == "Recoverable+Purgeable"
    assert attrs["recoverableDays"] == 90

    status, got = kv.call("GET", "secrets/db-password")
    assert status == 200
    assert got["value"] == "s3cret" and got["id"] == created["id"]
    # The SDK asks for the latest version with an empty version segment.
    assert kv.call("GET", "secrets/db-password/")[1]["id"] == created["id"]


def test_each_set_adds_a_version_and_old_versions_stay_readable(kv: Client, clock: Clock) -> None:
    first = kv.set("token", "v1")
    clock.now += 10
    second = kv.set("token", "v2")
    assert first["id"] != second["id"]
    assert kv.call("GET", "secrets/token")[1]["value"] == "v2"
    old_version = first["id"].rsplit("/", 1)[1]
    assert kv.call("GET", f"secrets/token/{old_version}")[1]["value"] == "v1"
    status, versions = kv.call("GET", "secrets/token/versions")
    assert status == 200
    assert sorted(v["id"] for v in versions["value"]) == sorted([first["id"], second["id"]])
    assert all("value" not in v for v in versions["value"])


def test_names_are_case_insensitive_and_keep_first_casing(kv: Client) -> None:
    kv.set("MySecret", "one")
    second = kv.set("mysecret", "two")
    assert "/secrets/MySecret/" in second["id"]
    assert kv.call("GET", "secrets/MYSECRET")[1]["value"] == "two"
    assert len(kv.call("GET", "secrets")[1]["value"]) == 1


@pytest.mark.parametrize("name", ["under_score", "dot.name", "sp ace", "x" * 128, "émoji"])
def test_invalid_names_are_refused(kv: Client, name: str) -> None:
    status, body = kv.call("PUT", f"secrets/{name}", {"value": "v"})
    assert status == 400
    assert error_code(body) == "BadParameter"


def test_longest_valid_name_is_accepted(kv: Client) -> None:
    kv.set("a-" + "b" * 125, "v")


def test_value_size_limit(kv: Client) -> None:
    kv.set("big", "x" * 25 * 1024)
    status, body = kv.call("PUT", "secrets/too-big", {"value": "x" * (25 * 1024 + 1)})
    assert (status, error_code(body)) == (400, "BadParameter")


def test_more_than_fifteen_tags_refused(kv: Client) -> None:
    status, body = kv.call("PUT", "secrets/tagged", {"value": "v", "tags": {f"t{i}": "x" for i in range(16)}})
    assert (status, error_code(body)) == (400, "BadParameter")


def test_missing_value_refused(kv: Client) -> None:
    status, body = kv.call("PUT", "secrets/novalue", {"contentType": "text/plain"})
    assert (status, error_code(body)) == (400, "BadParameter")


@pytest.mark.parametrize("version", ["", "1.0", "2099-01-01"])
def test_api_version_is_required_and_checked(kv: Client, version: str) -> None:
    status, body = kv.call("GET", "secrets", **{"api-version": version})
    assert (status, error_code(body)) == (400, "BadParameter")


def test_sdk_dated_api_version_accepted(kv: Client) -> None:
    assert kv.call("GET", "secrets", **{"api-version": "2026-04-01"})[0] == 200


def test_missing_secret_and_missing_version_are_404(kv: Client) -> None:
    status, body = kv.call("GET", "secrets/nope")
    assert (status, error_code(body)) == (404, "SecretNotFound")
    kv.set("there", "v")
    status, body = kv.call("GET", "secrets/there/" + "0" * 32)
    assert (status, error_code(body)) == (404, "SecretNotFound")


def test_patch_updates_attributes_not_value(kv: Client, clock: Clock) -> None:
    created = kv.set("conn", "v1", tags={"a": "1"})
    clock.now += 60
    status, updated = kv.call("PATCH", "secrets/conn/", {"contentType": "application/x-pem", "tags": {"b": "2"}})
    assert status == 200
    assert "value" not in updated
    assert updated["contentType"] == "application/x-pem"
    assert updated["tags"] == {"b": "2"}
    assert updated["attributes"]["updated"] == int(clock.now)
    assert updated["attributes"]["created"] == created["attributes"]["created"]
    assert kv.call("GET", "secrets/conn")[1]["value"] == "v1"


def test_disabled_version_is_listed_but_not_readable(kv: Client) -> None:
    created = kv.set("off", "v")
    version = created["id"].rsplit("/", 1)[1]
    status, _ = kv.call("PATCH", f"secrets/off/{version}", {"attributes": {"enabled": False}})
    assert status == 200
    status, body = kv.call("GET", "secrets/off")
    assert status == 403
    assert body["error"]["code"] == "Forbidden"
    assert body["error"]["innererror"]["code"] == "SecretDisabled"
    listed = kv.call("GET", "secrets")[1]["value"]
    assert [item["attributes"]["enabled"] for item in listed] == [False]


def test_soft_delete_then_name_is_taken_until_recovered(kv: Client, clock: Clock) -> None:
    created = kv.set("api-key", "v1")
    status, deleted = kv.call("DELETE", "secrets/api-key")
    assert status == 200
    assert deleted["recoveryId"] == f"{BASE}deletedsecrets/api-key"
    assert deleted["deletedDate"] == int(clock.now)
    assert deleted["scheduledPurgeDate"] == int(clock.now) + 90 * DAY
    assert deleted["id"] == created["id"]
    assert "value" not in deleted

    assert kv.call("GET", "secrets/api-key")[0] == 404
    assert kv.call("GET", "secrets")[1]["value"] == []
    status, body = kv.call("PUT", "secrets/api-key", {"value": "v2"})
    assert (status, error_code(body)) == (409, "Conflict")
    listed = kv.call("GET", "deletedsecrets")[1]["value"]
    assert [item["recoveryId"] for item in listed] == [deleted["recoveryId"]]
    assert kv.call("GET", "deletedsecrets/api-key")[1]["scheduledPurgeDate"] == deleted["scheduledPurgeDate"]

    status, recovered = kv.call("POST", "deletedsecrets/api-key/recover")
    assert status == 200
    assert recovered["id"] == created["id"]
    assert kv.call("GET", "secrets/api-key")[1]["value"] == "v1"
    assert kv.call("GET", "deletedsecrets")[1]["value"] == []


def test_delete_of_missing_secret_is_404(kv: Client) -> None:
    status, body = kv.call("DELETE", "secrets/ghost")
    assert (status, error_code(body)) == (404, "SecretNotFound")


def test_purge_frees_the_name(kv: Client) -> None:
    kv.set("temp", "v1")
    kv.call("DELETE", "secrets/temp")
    status, body = kv.call("DELETE", "deletedsecrets/temp")
    assert (status, body) == (204, None)
    assert kv.call("GET", "deletedsecrets/temp")[0] == 404
    assert kv.call("POST", "deletedsecrets/temp/recover")[0] == 404
    assert kv.set("temp", "v2")["value"] == "v2"
    assert len(kv.call("GET", "secrets/temp/versions")[1]["value"]) == 1


def test_purge_protection_refuses_purge(plane: KeyVaultSecretsPlane, kv: Client) -> None:
    plane.configure_vault(VAULT, recoverable_days=90, purge_protection=True)
    created = kv.set("kept", "v")
    assert created["attributes"]["recoveryLevel"] == "Recoverable"
    kv.call("DELETE", "secrets/kept")
    status, body = kv.call("DELETE", "deletedsecrets/kept")
    assert (status, error_code(body)) == (403, "Forbidden")
    assert kv.call("GET", "deletedsecrets/kept")[0] == 200


def test_custom_retention_and_automatic_purge(plane: KeyVaultSecretsPlane, kv: Client, clock: Clock) -> None:
    plane.configure_vault(VAULT, recoverable_days=7)
    created = kv.set("short", "v")
    assert created["attributes"]["recoveryLevel"] == "CustomizedRecoverable+Purgeable"
    assert created["attributes"]["recoverableDays"] == 7
    deleted = kv.call("DELETE", "secrets/short")[1]
    assert deleted["scheduledPurgeDate"] == int(clock.now) + 7 * DAY
    clock.now += 7 * DAY - 1
    assert kv.call("GET", "deletedsecrets/short")[0] == 200
    clock.now += 1
    assert kv.call("GET", "deletedsecrets/short")[0] == 404
    kv.set("short", "again")


def collect(kv: Client, path: str, maxresults: int) -> list[dict[str, Any]]:
    status, page = kv.call("GET", path, maxresults=str(maxresults))
    assert status == 200
    items = list(page["value"])
    pages = 1
    while page.get("nextLink"):
        link = urlsplit(page["nextLink"])
        assert link.geturl().startswith(BASE + path)
        query = dict(parse_qsl(link.query))
        assert len(page["value"]) == maxresults
        status, page = kv.call("GET", path, **query)
        assert status == 200
        items.extend(page["value"])
        pages += 1
    assert pages == -(-len(items) // maxresults) or not items
    return items


def test_list_is_paged_with_nextlink(kv: Client) -> None:
    names = [f"s{i:02d}" for i in range(30)]
    for name in reversed(names):
        kv.set(name, "v")
    items = collect(kv, "secrets", 10)
    assert [item["id"] for item in items] == [f"{BASE}secrets/{n}" for n in names]
    assert all("value" not in item for item in items)
    # Default page size is 25.
    first = kv.call("GET", "secrets")[1]
    assert len(first["value"]) == 25 and first["nextLink"]


def test_deleted_list_and_versions_list_are_paged(kv: Client) -> None:
    for i in range(4):
        kv.set(f"d{i}", "v")
        kv.call("DELETE", f"secrets/d{i}")
    assert len(collect(kv, "deletedsecrets", 3)) == 4
    for i in range(5):
        kv.set("multi", f"v{i}")
    assert len(collect(kv, "secrets/multi/versions", 2)) == 5


def test_paging_neither_repeats_nor_skips_when_secrets_change_between_pages(kv: Client) -> None:
    for i in range(6):
        kv.set(f"p{i}", "v")
    first = kv.call("GET", "secrets", maxresults="3")[1]
    kv.call("DELETE", "secrets/p0")  # already served
    kv.set("p00", "v")  # sorts before the cursor: a later listing sees it, this one need not
    query = dict(parse_qsl(urlsplit(first["nextLink"]).query))
    second = kv.call("GET", "secrets", **query)[1]
    served = [item["id"].rsplit("/", 1)[1] for item in first["value"] + second["value"]]
    assert served == ["p0", "p1", "p2", "p3", "p4", "p5"]
    assert second["nextLink"] is None


def test_versions_are_listed_in_version_id_order(kv: Client) -> None:
    ids = [kv.set("rotated", f"v{i}")["id"].rsplit("/", 1)[1] for i in range(5)]
    listed = [item["id"].rsplit("/", 1)[1] for item in kv.call("GET", "secrets/rotated/versions")[1]["value"]]
    assert listed == sorted(ids)


@pytest.mark.parametrize(
    "query", [{"maxresults": "0"}, {"maxresults": "26"}, {"maxresults": "ten"}, {"$skiptoken": "not-a-token"}]
)
def test_bad_paging_parameters_refused(kv: Client, query: dict[str, str]) -> None:
    status, body = kv.call("GET", "secrets", **query)
    assert (status, error_code(body)) == (400, "BadParameter")


def test_state_survives_a_new_plane_on_the_same_directory(tmp_path: pathlib.Path, clock: Clock) -> None:
    first = Client(KeyVaultSecretsPlane(tmp_path, clock=clock))
    first.set("persisted", "v1")
    first.set("gone", "v")
    first.call("DELETE", "secrets/gone")
    second = Client(KeyVaultSecretsPlane(tmp_path, clock=clock))
    assert second.call("GET", "secrets/persisted")[1]["value"] == "v1"
    assert second.call("GET", "deletedsecrets/gone")[0] == 200
    state_file = tmp_path / "keyvault" / f"{VAULT}.json"
    assert state_file.stat().st_mode & 0o077 == 0


def test_vault_soft_delete_hides_secrets_and_recovery_brings_them_back(plane: KeyVaultSecretsPlane, kv: Client) -> None:
    kv.set("inside", "v")
    plane.vault_deleted(VAULT)
    status, body = kv.call("GET", "secrets/inside")
    assert status == 404
    assert "value" not in json.dumps(body)
    plane.vault_recovered(VAULT)
    assert kv.call("GET", "secrets/inside")[1]["value"] == "v"
    plane.vault_deleted(VAULT)
    plane.vault_purged(VAULT)
    # A new vault with the same name starts empty.
    assert kv.call("GET", "secrets")[1]["value"] == []
    assert kv.call("GET", "secrets/inside")[0] == 404


def test_vaults_are_isolated(plane: KeyVaultSecretsPlane, kv: Client) -> None:
    other = Client(plane, vault="kv-other", base_url="https://127.0.0.1:8443/kv/kv-other/")
    kv.set("shared-name", "mine")
    assert other.call("GET", "secrets/shared-name")[0] == 404
    other.set("shared-name", "theirs")
    assert kv.call("GET", "secrets/shared-name")[1]["value"] == "mine"


def test_unknown_paths_and_methods(kv: Client) -> None:
    assert kv.call("GET", "keys")[0] == 404
    assert kv.call("POST", "secrets")[0] == 405
    assert kv.call("PUT", "deletedsecrets/x")[0] == 405
