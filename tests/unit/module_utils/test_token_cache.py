"""The token cache that a run's module processes share: a token fetched once serves the next process, the file is
its owner's alone, and anything doubtful (a readable file, a challenge with claims, a refused token) goes back to
Entra ID."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

from azure.core.credentials import AccessToken

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import (
    CachedCredential,
    CloudEndpoints,
    cache_dir,
    identity_fingerprint,
)

CLOUD = CloudEndpoints("Test", "https://arm.example/", "https://login.example/", "https://management.example/")
SCOPE = "https://management.example/.default"


class Issuer:
    """Stands in for Entra ID behind an azure-identity credential: counts the tokens it issues."""

    def __init__(self, lifetime: float = 3600) -> None:
        self.issued = 0
        self.lifetime = lifetime

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.issued += 1
        return AccessToken(f"token-{self.issued}", int(time.time() + self.lifetime))


def process(issuer: Issuer, directory: Path | None, secret: str = "s3cret") -> CachedCredential:
    """What each module process builds: a new credential object over the same identity and cache folder."""
    settings = {"auth_source": "env", "tenant": "t", "client_id": "c", "secret": secret}
    return CachedCredential(issuer, identity_fingerprint(settings, CLOUD), str(directory) if directory else None)


def test_a_token_fetched_by_one_process_serves_the_next(tmp_path: Path) -> None:
    issuer = Issuer()
    first = process(issuer, tmp_path / "cache").get_token(SCOPE)
    second = process(issuer, tmp_path / "cache").get_token(SCOPE)
    assert issuer.issued == 1
    assert second.token == first.token
    process(issuer, tmp_path / "cache").get_token("https://vault.example/.default")
    assert issuer.issued == 2, "another scope is another token"


def test_the_cache_is_readable_by_its_owner_only_and_holds_no_secret(tmp_path: Path) -> None:
    process(Issuer(), tmp_path / "cache").get_token(SCOPE)
    folder = tmp_path / "cache"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "tokens.json").stat().st_mode) == 0o600
    assert "s3cret" not in (folder / "tokens.json").read_text()


def test_a_file_others_can_read_is_not_trusted(tmp_path: Path) -> None:
    issuer = Issuer()
    process(issuer, tmp_path / "cache").get_token(SCOPE)
    os.chmod(tmp_path / "cache" / "tokens.json", 0o644)
    process(issuer, tmp_path / "cache").get_token(SCOPE)
    assert issuer.issued == 2


def test_another_secret_claims_expiry_and_a_refusal_each_get_a_new_token(tmp_path: Path) -> None:
    issuer = Issuer()
    process(issuer, tmp_path / "c").get_token(SCOPE)
    process(issuer, tmp_path / "c", secret="rotated").get_token(SCOPE)
    assert issuer.issued == 2, "a changed secret is another identity"
    process(issuer, tmp_path / "c").get_token(SCOPE, claims='{"access_token": {}}')
    assert issuer.issued == 3, "a claims challenge always goes to Entra ID"
    refused = process(issuer, tmp_path / "c")
    refused.forget()
    refused.get_token(SCOPE)
    assert issuer.issued == 4, "forget() drops the identity's cached tokens"
    short = Issuer(lifetime=60)
    process(short, tmp_path / "d").get_token(SCOPE)
    process(short, tmp_path / "d").get_token(SCOPE)
    assert short.issued == 2, "a token about to expire is not reused"


def test_the_cache_can_be_turned_off_and_moved() -> None:
    assert cache_dir({"COMPLIANCEFLOW_AZURE_CACHE": "off"}) is None
    assert cache_dir({"COMPLIANCEFLOW_AZURE_CACHE": "/somewhere"}) == "/somewhere"
    assert cache_dir({"XDG_CACHE_HOME": "/x"}) == "/x/complianceflow.azure_infra"
    issuer = Issuer()
    process(issuer, None).get_token(SCOPE)
    process(issuer, None).get_token(SCOPE)
    assert issuer.issued == 2
