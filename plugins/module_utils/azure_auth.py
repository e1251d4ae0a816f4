# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials and cloud endpoints, with azure.azcollection's option names and meanings.

A playbook written for azure.azcollection (or an AWX "Azure Resource Manager" credential, which injects
AZURE_* variables) works unchanged. Azure SDK imports happen only inside :func:`build_credential`, so
argument validation and ansible-doc never load them.
"""

from __future__ import annotations

import configparser
import contextlib
import hashlib
import json
import os
import shutil
import stat
import time
import urllib.error
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

AUTH_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "auth_source": {"type": "str", "default": "auto",
                    "choices": ["auto", "cli", "credential_file", "env", "msi"]},
    "profile": {"type": "str"},
    "subscription_id": {"type": "str"},
    "client_id": {"type": "str"},
    "secret": {"type": "str", "no_log": True},
    "tenant": {"type": "str"},
    "ad_user": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "cloud_environment": {"type": "str", "default": "AzureCloud"},
    "cert_validation_mode": {"type": "str", "choices": ["validate", "ignore"]},
    "disable_instance_discovery": {"type": "bool", "default": False},
    "api_profile": {"type": "str", "default": "latest"},
    "x509_certificate_path": {"type": "path"},
    "thumbprint": {"type": "str"},
}

# option -> environment variable, as azure.azcollection and AWX name them.
ENV_NAMES = {
    "subscription_id": "AZURE_SUBSCRIPTION_ID",
    "client_id": "AZURE_CLIENT_ID",
    "secret": "AZURE_SECRET",
    "tenant": "AZURE_TENANT",
    "ad_user": "AZURE_AD_USER",
    "password": "AZURE_PASSWORD",
    "cloud_environment": "AZURE_CLOUD_ENVIRONMENT",
    "cert_validation_mode": "AZURE_CERT_VALIDATION_MODE",
    "disable_instance_discovery": "AZURE_DISABLE_INSTANCE_DISCOVERY",
    "profile": "AZURE_PROFILE",
}
CREDENTIAL_KEYS = ("subscription_id", "client_id", "secret", "tenant", "ad_user", "password", "cloud_environment",
                   "cert_validation_mode", "disable_instance_discovery", "x509_certificate_path", "thumbprint")
# The Azure CLI's public client id: what azure-cli and azure.azcollection use for username/password sign-in.
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


@dataclass(frozen=True)
class CloudEndpoints:
    name: str
    resource_manager: str
    authority: str
    audience: str

    @property
    def scope(self) -> str:
        return self.audience.rstrip("/") + "/.default"


KNOWN_CLOUDS = {
    "azurecloud": CloudEndpoints("AzureCloud", "https://management.azure.com/",
                                 "https://login.microsoftonline.com/", "https://management.core.windows.net/"),
    "azureusgovernment": CloudEndpoints("AzureUSGovernment", "https://management.usgovcloudapi.net/",
                                        "https://login.microsoftonline.us/",
                                        "https://management.core.usgovcloudapi.net/"),
    "azurechinacloud": CloudEndpoints("AzureChinaCloud", "https://management.chinacloudapi.cn/",
                                      "https://login.chinacloudapi.cn/", "https://management.core.chinacloudapi.cn/"),
}
# azure.azcollection also accepts msrestazure's constant names.
KNOWN_CLOUDS["azure_public_cloud"] = KNOWN_CLOUDS["azurecloud"]
KNOWN_CLOUDS["azure_us_gov_cloud"] = KNOWN_CLOUDS["azureusgovernment"]
KNOWN_CLOUDS["azure_china_cloud"] = KNOWN_CLOUDS["azurechinacloud"]


class AuthError(Exception):
    """Credentials or cloud settings that cannot work; the message names the option or variable."""


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def read_credential_file(profile: str | None, path: str | None = None) -> dict[str, str]:
    """A profile of ~/.azure/credentials (INI, keys named like the options)."""
    path = path or os.path.join(os.path.expanduser("~"), ".azure", "credentials")
    parser = configparser.ConfigParser()
    if not parser.read(path):
        return {}
    section = profile or "default"
    if not parser.has_section(section):
        raise AuthError(f"profile '{section}' not found in {path}")
    return {k: v for k, v in parser.items(section) if k in CREDENTIAL_KEYS}


def resolve_settings(params: Mapping[str, Any], env: Mapping[str, str] | None = None,
                     credential_file: str | None = None) -> dict[str, Any]:
    """Decide which credential source applies and the effective values, as azure.azcollection does.

    ``auto`` takes the first complete source: module options, then AZURE_* variables, then the
    credential file profile, then managed identity when IDENTITY_ENDPOINT/MSI_ENDPOINT says one exists,
    then the Azure CLI.
    """
    env = os.environ if env is None else env
    source = params.get("auth_source") or "auto"
    options = {k: params.get(k) for k in CREDENTIAL_KEYS if params.get(k) not in (None, "")}
    # Defaults in the argument spec must not hide an environment value.
    if options.get("cloud_environment") == "AzureCloud" and env.get("AZURE_CLOUD_ENVIRONMENT"):
        options.pop("cloud_environment")
    if options.get("disable_instance_discovery") is False:
        options.pop("disable_instance_discovery")
    from_env = {k: env[v] for k, v in ENV_NAMES.items() if k in CREDENTIAL_KEYS and env.get(v)}
    profile = params.get("profile") or env.get("AZURE_PROFILE")

    def has_identity(values: Mapping[str, Any]) -> bool:
        principal = values.get("client_id") and values.get("tenant") and \
            (values.get("secret") or values.get("x509_certificate_path"))
        return bool(principal) or bool(values.get("ad_user") and values.get("password"))

    if source == "auto":
        if has_identity(options):
            source = "options"
        elif has_identity(from_env):
            source = "env"
        elif profile or os.path.exists(credential_file or os.path.expanduser("~/.azure/credentials")):
            source = "credential_file"
        elif env.get("IDENTITY_ENDPOINT") or env.get("MSI_ENDPOINT"):
            source = "msi"
        elif shutil.which("az"):
            source = "cli"
        else:
            raise AuthError("no Azure credentials: set client_id/secret/tenant (or AZURE_CLIENT_ID, AZURE_SECRET, "
                            "AZURE_TENANT), ad_user/password, a ~/.azure/credentials profile, or use "
                            "auth_source=msi or auth_source=cli")
    if source == "credential_file":
        values = {**from_env, **read_credential_file(profile, credential_file), **options}
    elif source in ("env", "options"):
        # Explicit options still win over the environment for individual values (e.g. subscription_id).
        values = {**from_env, **options}
    else:
        values = {**from_env, **options}
    values["auth_source"] = "env" if source == "options" else source
    values.setdefault("cloud_environment", "AzureCloud")
    values["cert_validation_mode"] = values.get("cert_validation_mode") or "validate"
    if values["cert_validation_mode"] not in ("validate", "ignore"):
        raise AuthError("cert_validation_mode (AZURE_CERT_VALIDATION_MODE) must be 'validate' or 'ignore'")
    values["disable_instance_discovery"] = _truthy(values.get("disable_instance_discovery", False))
    if source in ("env", "options", "credential_file") and not has_identity(values):
        raise AuthError(f"auth_source={values['auth_source']} needs client_id, secret and tenant "
                        "(AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT) or ad_user and password")
    return values


def parse_cloud_metadata(document: Any, metadata_url: str) -> CloudEndpoints:
    """Endpoints from a cloud metadata document: the list form (api-version 2019-05-01 and later, used by
    azure-cli) or msrestazure's single object, whose resource manager is the metadata host itself."""
    entry = document
    if isinstance(document, list):
        if not document:
            raise AuthError(f"cloud metadata at {metadata_url} lists no cloud")
        entry = document[0]
    if not isinstance(entry, dict) or not isinstance(entry.get("authentication"), dict):
        raise AuthError(f"cloud metadata at {metadata_url} has no 'authentication' section")
    auth = entry["authentication"]
    audiences = auth.get("audiences") or []
    if not auth.get("loginEndpoint") or not audiences:
        raise AuthError(f"cloud metadata at {metadata_url} lacks loginEndpoint or audiences")
    manager = entry.get("resourceManager") or metadata_url
    return CloudEndpoints(entry.get("name") or metadata_url, manager.rstrip("/") + "/",
                          auth["loginEndpoint"].rstrip("/") + "/", audiences[0])


def _read_metadata(url: str, verify: bool, timeout: float, attempts: int = 5) -> Any:
    """GET the metadata document, retrying throttling and server errors like any other Azure call."""
    # Imported here: only custom clouds need it, and it pulls in cryptography.
    from ansible.module_utils.urls import open_url

    for attempt in range(1, attempts + 1):
        try:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
            response = open_url(url, timeout=timeout, validate_certs=verify, ca_path=bundle if verify else None)
            return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code not in (429, 500, 502, 503, 504) or attempt == attempts:
                raise AuthError(f"cannot read cloud metadata from {url}: HTTP {exc.code}") from exc
            try:
                delay = float(exc.headers.get("Retry-After") or attempt)
            except ValueError:
                delay = float(attempt)
            time.sleep(min(delay, 10.0))
        except (OSError, ValueError) as exc:
            raise AuthError(f"cannot read cloud metadata from {url}: {exc}") from exc
    raise AuthError(f"cannot read cloud metadata from {url}")


# --- caches shared by the module processes of a run ------------------------------------------------------------
# Every task is a process of its own: without these, each would fetch the cloud's metadata and a token again.
CACHE_ENV = "COMPLIANCEFLOW_AZURE_CACHE"
METADATA_TTL = 3600.0
# A cached token is used while it has at least this long to live.
TOKEN_MARGIN = 300.0


def cache_dir(env: Mapping[str, str] | None = None) -> str | None:
    """The cache folder (``$COMPLIANCEFLOW_AZURE_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``, then
    ``complianceflow.azure_infra``); None when the variable is ``off``."""
    env = os.environ if env is None else env
    chosen = env.get(CACHE_ENV, "")
    if chosen.lower() in ("off", "0", "false", "no"):
        return None
    if chosen:
        return chosen
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "complianceflow.azure_infra")


def _private_file(path: str) -> bool:
    """True for a regular file owned by us that nobody else can read or write (else it is not trusted)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


@contextlib.contextmanager
def _locked_json(path: str) -> Any:
    """Read-modify-write a JSON file under an exclusive lock, creating it (and its folder) owner-only."""
    import fcntl

    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = b""
        while chunk := os.read(fd, 65536):
            raw += chunk
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            data = {}
        box = {"data": data if isinstance(data, dict) else {}}
        yield box
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(box["data"]).encode("utf-8"))
    finally:
        os.close(fd)


class CachedCredential:
    """An azure-identity credential whose access tokens are shared by the processes of a run.

    Tokens live in ``tokens.json`` in :func:`cache_dir`, readable only by its owner (a file anyone else can read
    is ignored), keyed by a hash of the identity (cloud, tenant, client id, a hash of the secret) and the
    scopes. A token is reused while it has more than five minutes to live; a request with claims (a
    challenge) always goes to Entra ID. Nothing here is ever logged or returned by a module.
    """

    def __init__(self, inner: Any, identity: str, directory: str | None) -> None:
        # ``inner`` may be a factory: then azure-identity (and MSAL) are imported only when a token must be asked
        # for, which a process served from the cache never does.
        self._inner = inner
        self.identity = identity
        self.path = os.path.join(directory, "tokens.json") if directory else None

    @property
    def inner(self) -> Any:
        if callable(self._inner) and not hasattr(self._inner, "get_token"):
            try:
                self._inner = self._inner()
            except (ValueError, OSError) as exc:
                # A credential that cannot be built (an unreadable certificate) fails like a refused sign-in.
                from azure.core.exceptions import ClientAuthenticationError

                raise ClientAuthenticationError(message=str(exc)) from exc
        return self._inner

    def _key(self, scopes: tuple[str, ...], tenant_id: str | None) -> str:
        return hashlib.sha256("|".join([self.identity, tenant_id or "", *scopes]).encode()).hexdigest()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        if not self.path or kwargs.get("claims"):
            return self.inner.get_token(*scopes, **kwargs)
        key = self._key(scopes, kwargs.get("tenant_id"))
        now = time.time()
        try:
            if os.path.exists(self.path) and not _private_file(self.path):
                return self.inner.get_token(*scopes, **kwargs)
            with _locked_json(self.path) as box:
                entry = box["data"].get(key)
                if isinstance(entry, dict) and float(entry.get("expires_on", 0)) - now > TOKEN_MARGIN:
                    return AccessToken(str(entry["token"]), int(entry["expires_on"]))
                token = self.inner.get_token(*scopes, **kwargs)
                box["data"] = {k: v for k, v in box["data"].items()
                               if isinstance(v, dict) and float(v.get("expires_on", 0)) > now}
                box["data"][key] = {"token": token.token, "expires_on": int(token.expires_on), "who": self._who()}
                return token
        except OSError:
            # A cache that cannot be written (read-only home, full disk) only costs a token request.
            return self.inner.get_token(*scopes, **kwargs)

    def _who(self) -> str:
        return hashlib.sha256(self.identity.encode()).hexdigest()[:16]

    def forget(self) -> None:
        """Drop this identity's cached tokens (a service answered 401 to one: revoked, or another server)."""
        if not self.path or not _private_file(self.path):
            return
        with contextlib.suppress(OSError), _locked_json(self.path) as box:
            box["data"] = {k: v for k, v in box["data"].items() if not (isinstance(v, dict)
                                                                        and v.get("who") == self._who())}

    def close(self) -> None:
        if callable(self._inner) and not hasattr(self._inner, "get_token"):
            return
        closer = getattr(self.inner, "close", None)
        if closer:
            closer()


def identity_fingerprint(settings: Mapping[str, Any], cloud: CloudEndpoints) -> str:
    """What distinguishes one identity's tokens from another's (the secret only as a hash)."""
    secret = str(settings.get("secret") or settings.get("password") or settings.get("x509_certificate_path") or "")
    return "|".join([cloud.authority, cloud.audience, str(settings.get("auth_source")),
                     str(settings.get("tenant") or ""), str(settings.get("client_id") or ""),
                     str(settings.get("ad_user") or ""), hashlib.sha256(secret.encode()).hexdigest()])


def resolve_cloud(cloud_environment: str, verify: bool = True, timeout: float = 30) -> CloudEndpoints:
    """A known cloud by name, or a custom cloud (Azure Stack Hub, sovereign, our emulator) by metadata URL."""
    known = KNOWN_CLOUDS.get(cloud_environment.replace(" ", "").lower())
    if known:
        return known
    if not cloud_environment.startswith("https://") and not cloud_environment.startswith("http://"):
        raise AuthError(f"cloud_environment '{cloud_environment}' is neither a known cloud (AzureCloud, "
                        "AzureUSGovernment, AzureChinaCloud) nor a metadata endpoint URL")
    base = cloud_environment.rstrip("/")
    url = base if "/metadata/endpoints" in base else base + "/metadata/endpoints?api-version=2019-05-01"
    document = _cached_metadata(url, verify, timeout)
    host = base.split("/metadata/endpoints")[0]
    return parse_cloud_metadata(document, host)


def _cached_metadata(url: str, verify: bool, timeout: float) -> Any:
    """A custom cloud's metadata document, read at most once an hour by all the processes of a run."""
    directory = cache_dir()
    if not directory:
        return _read_metadata(url, verify, timeout)
    path = os.path.join(directory, "cloud-" + hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")
    try:
        if os.path.exists(path) and not _private_file(path):
            return _read_metadata(url, verify, timeout)
        with _locked_json(path) as box:
            entry = box["data"]
            if entry.get("url") == url and time.time() - float(entry.get("fetched", 0)) < METADATA_TTL:
                return entry["document"]
            document = _read_metadata(url, verify, timeout)
            box["data"] = {"url": url, "fetched": time.time(), "document": document}
            return document
    except OSError:
        return _read_metadata(url, verify, timeout)


def build_credential(settings: Mapping[str, Any], cloud: CloudEndpoints) -> Any:
    """An azure-identity credential for the resolved source, its tokens shared by the run's processes."""
    if settings["auth_source"] == "cli":
        # The Azure CLI keeps its own cache; its credential is cheap to build and the CLI may not exist here.
        return CachedCredential(_identity_credential(settings, cloud), identity_fingerprint(settings, cloud),
                                cache_dir())
    return CachedCredential(lambda: _identity_credential(settings, cloud), identity_fingerprint(settings, cloud),
                            cache_dir())


def _identity_credential(settings: Mapping[str, Any], cloud: CloudEndpoints) -> Any:
    verify = settings.get("cert_validation_mode") != "ignore"
    common: dict[str, Any] = {}
    if not verify:
        common["connection_verify"] = False
    source = settings["auth_source"]
    if source == "msi":
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential(client_id=settings.get("client_id"), **common)
    if source == "cli":
        from azure.identity import AzureCliCredential

        return AzureCliCredential(tenant_id=settings.get("tenant"))
    discovery = {"authority": cloud.authority,
                 "disable_instance_discovery": bool(settings.get("disable_instance_discovery")), **common}
    if settings.get("client_id") and settings.get("x509_certificate_path") and not settings.get("secret"):
        from azure.identity import CertificateCredential

        return CertificateCredential(settings["tenant"], settings["client_id"], settings["x509_certificate_path"],
                                     **discovery)
    if settings.get("client_id") and settings.get("secret"):
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(settings["tenant"], settings["client_id"], settings["secret"], **discovery)
    from azure.identity import UsernamePasswordCredential

    return UsernamePasswordCredential(settings.get("client_id") or AZURE_CLI_CLIENT_ID, settings["ad_user"],
                                      settings["password"], tenant_id=settings.get("tenant") or "organizations",
                                      **discovery)


def subscription_from_cli() -> str | None:
    """The CLI's default subscription, for auth_source=cli without subscription_id."""
    path = os.path.join(os.path.expanduser("~"), ".azure", "azureProfile.json")
    try:
        with open(path, encoding="utf-8-sig") as handle:
            profile = json.load(handle)
    except (OSError, ValueError):
        return None
    for sub in profile.get("subscriptions", []):
        if sub.get("isDefault"):
            return sub.get("id")
    return None
