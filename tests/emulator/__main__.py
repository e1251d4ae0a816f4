"""`python -m tests.emulator serve --state-dir DIR ...`: run the local Azure emulator (see docs/emulator.md)."""

from __future__ import annotations

import argparse
import glob
import ipaddress
import json
import os
import shlex
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from . import identity
from .arm import ArmEngine
from .faults import FaultPlan, FaultSpecError
from .framework import Planes
from .server import IDENTITY_HEADER, EmulatorServer, make_ssl_context
from .store import Store
from .tls import ensure_certificates


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _initdb_available() -> bool:
    return shutil.which("initdb") is not None or bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def _postgres_plane(mode: str, state_dir: Path) -> Any:
    if mode == "off" or (mode == "auto" and not _initdb_available()):
        return None
    try:
        from .dataplanes.postgres import PostgresPlane
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith("dataplanes.postgres"):
            sys.stderr.write("emulator: PostgreSQL data plane module missing; running without it" + "\n")
            return None
        raise
    plane = PostgresPlane(state_dir / "postgres", None if mode == "auto" else mode, ca_dir=state_dir)
    plane.restart_all()
    return plane


def _redis_plane(mode: str, state_dir: Path) -> Any:
    """redis-server processes behind the caches (tests/emulator/dataplanes/redis.py); `auto`: when installed."""
    if mode == "off" or (mode == "auto" and shutil.which("redis-server") is None):
        return None
    from .dataplanes.redis import RedisPlane, find_redis_server

    find_redis_server()  # `on` without redis-server installed: fail now, not at the first cache
    plane = RedisPlane(state_dir / "redis", ca_dir=state_dir)
    plane.restart_all()
    return plane


def _keyvault_plane(state_dir: Path) -> Any:
    try:
        from .dataplanes.keyvault_secrets import KeyVaultSecretsPlane
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith("dataplanes.keyvault_secrets"):
            sys.stderr.write("emulator: Key Vault data plane module missing; running without it" + "\n")
            return None
        raise
    return KeyVaultSecretsPlane(state_dir)


def _blob_plane(mode: str, state_dir: Path, cert: Path, key: Path) -> Any:
    """Azurite behind storage accounts' blob endpoints (`--blob auto`: when the npm package is installed)."""
    from .dataplanes.azurite import AzuritePlane, find_azurite

    command = None if mode == "off" else find_azurite()
    if command is None:
        if mode == "on":
            sys.stderr.write("emulator: --blob on, but Azurite is not installed (scripts/system-deps.sh)" + "\n")
            raise SystemExit(2)
        return None
    plane = AzuritePlane(state_dir / "azurite", cert, key, command)
    plane.restart_all()
    return plane


def env_lines(base_url: str, ca: Path) -> dict[str, str]:
    deployer, other = identity.DEPLOYER, identity.OTHER_TENANT_APP
    return {
        "AZURE_CLOUD_ENVIRONMENT": base_url,
        "AZURE_METADATA_URL": f"{base_url}/metadata/endpoints?api-version=2022-09-01",
        "AZURE_SUBSCRIPTION_ID": identity.SUBSCRIPTION_ID,
        "AZURE_CLIENT_ID": deployer.client_id,
        "AZURE_SECRET": deployer.secret or "",
        "AZURE_TENANT": deployer.tenant_id,
        # azure-identity's EnvironmentCredential / DefaultAzureCredential names for the same principal
        "AZURE_CLIENT_SECRET": deployer.secret or "",
        "AZURE_TENANT_ID": deployer.tenant_id,
        "AZURE_AUTHORITY_HOST": base_url,
        "AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
        "REQUESTS_CA_BUNDLE": str(ca),
        "SSL_CERT_FILE": str(ca),
        "AZURE_EMULATOR_URL": base_url,
        # second subscription in another tenant (global name uniqueness across subscriptions)
        "AZURE_EMULATOR_SUBSCRIPTION_ID_2": identity.SUBSCRIPTION_ID_2,
        "AZURE_EMULATOR_CLIENT_ID_2": other.client_id,
        "AZURE_EMULATOR_SECRET_2": other.secret or "",
        "AZURE_EMULATOR_TENANT_2": other.tenant_id,
        # a principal without roles in the default tenant, for RBAC checks
        "AZURE_EMULATOR_READER_CLIENT_ID": identity.READER_APP.client_id,
        "AZURE_EMULATOR_READER_SECRET": identity.READER_APP.secret or "",
        # managed identity: export these as IDENTITY_ENDPOINT / IDENTITY_HEADER to use it
        "AZURE_EMULATOR_IDENTITY_ENDPOINT": f"{base_url}/msi/token",
        "AZURE_EMULATOR_IDENTITY_HEADER": IDENTITY_HEADER,
        "AZURE_EMULATOR_MI_CLIENT_ID": identity.MANAGED_IDENTITY.client_id,
    }


def serve(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = state_dir / "emulator.json"
    ready_file.unlink(missing_ok=True)
    try:
        faults = FaultPlan.parse(args.faults)
    except FaultSpecError as err:
        sys.stderr.write(f"emulator: --faults: {err}" + "\n")
        return 2
    ca, cert, key = ensure_certificates(state_dir)
    issuer = identity.TokenIssuer(state_dir)
    planes = Planes(keyvault_secrets=_keyvault_plane(state_dir), postgres=_postgres_plane(args.postgres, state_dir),
                    blob=_blob_plane(args.blob, state_dir, cert, key))
    planes.redis = _redis_plane(args.redis, state_dir)
    engine = ArmEngine(
        Store(state_dir),
        issuer,
        latency=args.latency,
        time_scale=args.time_scale,
        faults=faults,
        seed=args.seed,
        planes=planes,
        page_size=args.page_size,
        read_latency=args.read_latency,
        strict_schema=args.strict_schema,
        keyvault_client_ip=args.keyvault_client_ip,
        unregistered_providers=args.unregistered_providers,
        rbac_propagation=args.rbac_propagation,
    )
    engine.load_providers()
    engine.apply_start_registrations()
    if planes.postgres is not None:
        from .providers.postgresql import replay_parameters

        with engine.lock:
            replay_parameters(list(engine.store.records.values()), planes.postgres)
    server = EmulatorServer((args.host, args.port), engine, issuer, state_dir, make_ssl_context(cert, key))
    server.reopen_vault_listeners()
    base_url = server.base_url
    env = env_lines(base_url, ca)
    _atomic_write(state_dir / "env.sh", "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))
    _atomic_write(
        ready_file,
        json.dumps(
            {"base_url": base_url, "host": args.host, "port": server.server_address[1], "pid": os.getpid(),
             "state_dir": str(state_dir), "latency": args.latency, "time_scale": args.time_scale,
             "seed": args.seed, "read_latency": args.read_latency, "strict_schema": args.strict_schema,
             "keyvault_client_ip": args.keyvault_client_ip, "unregistered_providers": args.unregistered_providers,
             "rbac_propagation": args.rbac_propagation,
             "postgres": planes.postgres is not None, "redis": planes.redis is not None,
             "blob": planes.blob is not None, "env": env},
            indent=2,
        ),
    )

    def stop(signum: int, _frame: Any) -> None:
        # shutdown() blocks until serve_forever returns, so it must run outside the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"emulator: listening on {base_url} (state {state_dir})" + "\n")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.close_vault_listeners()
        server.server_close()
        with engine.lock:
            engine.store.save()
        if planes.postgres is not None:
            planes.postgres.stop_all()
        if planes.redis is not None:
            planes.redis.stop_all()
        if planes.blob is not None:
            planes.blob.stop_all()
        ready_file.unlink(missing_ok=True)
        sys.stderr.write("emulator: stopped" + "\n")
    return 0


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an IP address, got {text!r}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the emulator until SIGTERM")
    p.add_argument("--state-dir", required=True, help="directory for state, certificates, env.sh, emulator.json")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (see emulator.json)")
    p.add_argument("--latency", choices=("instant", "realistic"), default="instant")
    p.add_argument("--time-scale", type=float, default=1.0, help="multiplies realistic durations")
    p.add_argument("--faults", default="", help="e.g. 429:0.1,503:0.05,put:Microsoft.Cache/redis:lro-failed:once")
    p.add_argument("--seed", type=int, default=None, help="seed for faults and generated values")
    p.add_argument("--postgres", default="auto", help="auto (local initdb if available) | off | a DSN")
    p.add_argument("--redis", choices=("auto", "on", "off"), default=os.environ.get("CF_EMULATOR_REDIS") or "auto",
                   help="real redis-server behind each cache: auto (when installed) | on | off (CF_EMULATOR_REDIS)")
    p.add_argument("--page-size", type=int, default=20, help="items per page of list responses")
    p.add_argument("--read-latency", type=_seconds, default=0.0, metavar="SECONDS",
                   help="delay of every ARM and Key Vault data-plane GET (token, metadata and admin calls: none)")
    p.add_argument("--rbac-propagation", type=_seconds, default=None, metavar="SECONDS",
                   help="seconds until a new role assignment reaches Key Vault's data plane and the services that "
                        "check grants (default: 60 x --time-scale in realistic latency, 0 in instant)")
    p.add_argument("--strict-schema", action=argparse.BooleanOptionalAction,
                   default=os.environ.get("CF_EMULATOR_STRICT_SCHEMA", "").lower() in ("1", "true", "yes", "on"),
                   help="refuse request properties the API definition does not know (default: ignore them, as "
                        "Azure does; CF_EMULATOR_STRICT_SCHEMA=1 turns it on)")
    p.add_argument("--keyvault-client-ip", type=_address, default=os.environ.get("CF_EMULATOR_KEYVAULT_CLIENT_IP") or None,
                   metavar="ADDR", help="public address Key Vault's firewall sees for every client (default: none, "
                                        "clients reach vaults through a trusted path and the firewall lets them in)")
    p.add_argument("--unregistered-providers", action="store_true",
                   help="start every subscription with the resource providers unregistered (writes answer 409 "
                        "MissingSubscriptionRegistration until POST .../providers/NS/register)")
    p.add_argument("--blob", choices=("auto", "on", "off"), default=os.environ.get("CF_EMULATOR_BLOB", "auto"),
                   help="Azurite behind storage accounts' blob endpoints: auto (when installed) | on | off")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
