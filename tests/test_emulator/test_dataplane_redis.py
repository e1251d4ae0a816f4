"""Redis data plane: a real redis-server behind each emulated cache, checked with the redis client as a service
would use it (TLS on the SSL port, the cache's access key)."""

from __future__ import annotations

import json
import pathlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.dataplanes.redis import RedisPlane, RedisPlaneError, find_redis_server

redis = pytest.importorskip("redis", reason="the redis client (requirements-dev.txt) is not installed")

try:
    find_redis_server()
    HAVE_REDIS = True
except RedisPlaneError:
    HAVE_REDIS = False

pytestmark = pytest.mark.skipif(not HAVE_REDIS, reason="redis-server (Debian package redis-server) not installed")

CACHE = "/subscriptions/c0ffee00-0000-4000-8000-000000000001/resourceGroups/rg-cache/providers/Microsoft.Cache/Redis/{}"
PRIMARY, SECONDARY = "primary-key-0123456789abcdef0123456789=", "secondary-key-0123456789abcdef012345678="


def no_retry() -> Any:
    """The client retries failed commands by default; a refusal must surface at once."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), 0)


def tls_client(endpoint: dict[str, Any], ca: pathlib.Path, password: str | None, **extra: Any) -> Any:
    """How a service connects to Azure Cache for Redis: TLS on the SSL port, certificate verified, the access key."""
    return redis.Redis(host=endpoint["host"], port=endpoint["ssl_port"], password=password, ssl=True,
                       ssl_ca_certs=str(ca), ssl_cert_reqs="required", ssl_check_hostname=True,
                       socket_timeout=5, socket_connect_timeout=5, retry=no_retry(), **extra)


def plain_client(host: str, port: int, password: str | None) -> Any:
    return redis.Redis(host=host, port=port, password=password, socket_timeout=5, socket_connect_timeout=5,
                       retry=no_retry())


@pytest.fixture
def plane(tmp_path: pathlib.Path) -> Iterator[RedisPlane]:
    plane = RedisPlane(tmp_path / "redis")
    yield plane
    for cache_id in list(plane.describe()):
        plane.delete_cache(cache_id)


def test_ping_over_tls_with_either_key_and_nothing_else(plane: RedisPlane) -> None:
    endpoint = plane.ensure_cache(CACHE.format("cache-keys"), PRIMARY, SECONDARY)
    for key in (PRIMARY, SECONDARY):
        client = tls_client(endpoint, plane.ca_file, key)
        assert client.ping() is True
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
    with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
        tls_client(endpoint, plane.ca_file, "not-a-key").ping()
    with pytest.raises(redis.AuthenticationError):
        tls_client(endpoint, plane.ca_file, None).ping()
    # The TLS port speaks only TLS, and the plain port is closed: enableNonSslPort is false.
    assert endpoint["port"] is None
    with pytest.raises(redis.ConnectionError):
        plain_client(endpoint["host"], endpoint["ssl_port"], PRIMARY).ping()


def test_certificate_names_the_cache_host_and_comes_from_the_ca(plane: RedisPlane, tmp_path: pathlib.Path) -> None:
    from tests.emulator.tls import ensure_certificates

    endpoint = plane.ensure_cache(CACHE.format("Cache-Cert"), PRIMARY, SECONDARY)
    described = plane.describe()[CACHE.format("Cache-Cert")]
    assert described["hostName"] == "cache-cert.redis.cache.windows.net"
    context = ssl.create_default_context(cafile=str(plane.ca_file))
    with socket.create_connection((endpoint["host"], endpoint["ssl_port"]), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="cache-cert.redis.cache.windows.net") as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with socket.create_connection((endpoint["host"], endpoint["ssl_port"]), timeout=5) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw, server_hostname="other-cache.redis.cache.windows.net")
    other_ca = ensure_certificates(tmp_path)[0]
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        tls_client(endpoint, other_ca, PRIMARY).ping()


def test_new_keys_take_effect_at_once_and_the_data_stays(plane: RedisPlane) -> None:
    cache_id = CACHE.format("cache-rotate")
    endpoint = plane.ensure_cache(cache_id, PRIMARY, SECONDARY)
    tls_client(endpoint, plane.ca_file, PRIMARY).set("kept", "1")
    new_primary = "rotated-primary-key-000000000000000000000="
    plane.set_keys(cache_id, new_primary, SECONDARY)
    with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
        tls_client(endpoint, plane.ca_file, PRIMARY).ping()
    assert tls_client(endpoint, plane.ca_file, new_primary).get("kept") == b"1"
    assert tls_client(endpoint, plane.ca_file, SECONDARY).ping() is True


def test_non_ssl_port_opens_and_closes_with_the_setting(plane: RedisPlane) -> None:
    cache_id = CACHE.format("cache-plain")
    plane.ensure_cache(cache_id, PRIMARY, SECONDARY)
    opened = plane.ensure_cache(cache_id, PRIMARY, SECONDARY, non_ssl_port=True)
    assert opened["port"] is not None
    assert plain_client(opened["host"], opened["port"], PRIMARY).ping() is True
    with pytest.raises(redis.AuthenticationError):
        plain_client(opened["host"], opened["port"], "not-a-key").ping()
    closed = plane.ensure_cache(cache_id, PRIMARY, SECONDARY, non_ssl_port=False)
    assert closed["port"] is None
    with pytest.raises(redis.ConnectionError):
        plain_client(opened["host"], opened["port"], PRIMARY).ping()
    assert tls_client(closed, plane.ca_file, PRIMARY).ping() is True


def test_stop_all_leaves_no_process_and_restart_all_brings_caches_back(tmp_path: pathlib.Path) -> None:
    base = tmp_path / "redis"
    first = RedisPlane(base)
    cache_id = CACHE.format("cache-restart")
    try:
        first.ensure_cache(cache_id, PRIMARY, SECONDARY)
        pid = first._state["caches"][cache_id.lower()]["pid"]
        assert pathlib.Path(f"/proc/{pid}").exists()
        first.stop_all()
        assert not _alive(pid)
        assert first.describe()[cache_id]["running"] is False
        second = RedisPlane(base)  # what a restarted emulator does
        second.restart_all()
        endpoint = second.describe()[cache_id]
        assert endpoint["running"] is True
        assert tls_client(endpoint, second.ca_file, SECONDARY).ping() is True
        crashed_pid = second._state["caches"][cache_id.lower()]["pid"]
        del second  # an emulator that died without stop_all: its redis-server keeps running ...
        third = RedisPlane(base)
        third.restart_all()  # ... until the next emulator stops it and starts its own
        assert not _alive(crashed_pid)
        assert tls_client(third.describe()[cache_id], third.ca_file, PRIMARY).ping() is True
        third.delete_cache(cache_id)
        assert cache_id not in third.describe()
    finally:
        RedisPlane(base).stop_all()


def _alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --- through ARM: the emulator starts the servers, listKeys/regenerateKey drive them -----------------------------------
def test_caches_through_arm_use_their_keys_and_regenerate_key_takes_effect(tmp_path: pathlib.Path) -> None:
    from azure.mgmt.redis import RedisManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from tests.emulator.pytest_plugin import EmulatorProcess

    emu = EmulatorProcess(tmp_path, postgres="off", extra_args=["--redis", "on"], strict_schema=True).start()
    try:
        emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
        client = emu.mgmt_client(RedisManagementClient)
        basic = {"location": "westeurope", "sku": {"name": "Basic", "family": "C", "capacity": 0}}
        cache = client.redis.begin_create("rg", "redis-plane", basic, polling_interval=0).result()
        assert (cache.ssl_port, cache.port, cache.enable_non_ssl_port) == (6380, 6379, False)
        caches = emu.dataplanes()["redis"]["caches"]
        endpoint = next(v for k, v in caches.items() if k.lower() == cache.id.lower())
        assert endpoint["hostName"] == cache.host_name and endpoint["port"] is None
        ca = pathlib.Path(emu.env["SSL_CERT_FILE"])
        keys = client.redis.list_keys("rg", "redis-plane")
        for key in (keys.primary_key, keys.secondary_key):
            assert tls_client(endpoint, ca, key).ping() is True
        with pytest.raises(redis.AuthenticationError):
            tls_client(endpoint, ca, keys.primary_key + "x").ping()
        with pytest.raises(redis.ConnectionError):
            plain_client(endpoint["host"], endpoint["ssl_port"], keys.primary_key).ping()

        rotated = client.redis.regenerate_key("rg", "redis-plane", {"keyType": "Primary"})
        assert rotated.primary_key != keys.primary_key and rotated.secondary_key == keys.secondary_key
        with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
            tls_client(endpoint, ca, keys.primary_key).ping()
        assert tls_client(endpoint, ca, rotated.primary_key).ping() is True
        assert tls_client(endpoint, ca, keys.secondary_key).ping() is True

        client.redis.begin_update("rg", "redis-plane", {"enableNonSslPort": True}, polling_interval=0).result()
        opened = next(v for k, v in emu.dataplanes()["redis"]["caches"].items() if k.lower() == cache.id.lower())
        assert plain_client(opened["host"], opened["port"], rotated.primary_key).ping() is True

        # Keys and servers survive an emulator restart; nothing keeps running once the emulator stops.
        pid = _pids(emu)[cache.id.lower()]
        emu.restart()
        after = next(v for k, v in emu.dataplanes()["redis"]["caches"].items() if k.lower() == cache.id.lower())
        assert not _alive(pid)
        assert tls_client(after, ca, rotated.primary_key).ping() is True
        client = emu.mgmt_client(RedisManagementClient)
        client.redis.begin_delete("rg", "redis-plane", polling_interval=0).result()
        assert emu.dataplanes()["redis"]["caches"] == {}
        with pytest.raises(redis.ConnectionError):
            tls_client(after, ca, rotated.primary_key).ping()
        client.redis.begin_create("rg", "redis-left", basic, polling_interval=0).result()
        left = _pids(emu)
    finally:
        emu.stop()
    assert left and not any(_alive(p) for p in left.values())


def _pids(emu: Any) -> dict[str, int]:
    state = (emu.state_dir / "redis" / "caches.json").read_text()
    return {k: int(v["pid"]) for k, v in json.loads(state)["caches"].items() if v.get("pid")}


def test_servers_die_with_an_emulator_killed_outright(tmp_path: pathlib.Path) -> None:
    import shutil
    import time

    from azure.mgmt.redis import RedisManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    from tests.emulator.pytest_plugin import EmulatorProcess

    if shutil.which("setpriv") is None:
        pytest.skip("util-linux setpriv is not installed: servers then stop with the emulator's shutdown only")
    emu = EmulatorProcess(tmp_path, postgres="off", extra_args=["--redis", "on"]).start()
    try:
        emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
        basic = {"location": "westeurope", "sku": {"name": "Basic", "family": "C", "capacity": 0}}
        emu.mgmt_client(RedisManagementClient).redis.begin_create("rg", "redis-orphan", basic,
                                                                  polling_interval=0).result()
        [pid] = _pids(emu).values()
        assert emu.process is not None
        emu.process.kill()  # SIGKILL: no shutdown code runs
        emu.process.wait()
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "redis-server outlived the emulator"
    finally:
        emu.stop()
