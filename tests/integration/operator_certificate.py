"""The certificate production's operators would provide, for site runs against the emulator.

    python tests/integration/operator_certificate.py <host name> pfx|password

prints a PFX (base64) holding a key and a self-signed certificate for <host name>, or its password. The pair is
made once per host name and kept (0600) under the temporary directory, so that both lookups of one run (and the
runs of one test session) see the same certificate; emulator-site-vars.yml reads it for tiers that import their
gateway certificate (production). Test data only: a real deployment imports the operators' own certificate.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def make(host: str) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    password = secrets.token_urlsafe(18)
    blob = pkcs12.serialize_key_and_certificates(host.encode(), key, cert, None,
                                                 serialization.BestAvailableEncryption(password.encode()))
    return {"pfx": base64.b64encode(blob).decode(), "password": password}


def certificate(host: str) -> dict[str, str]:
    folder = Path(tempfile.gettempdir()) / f"cf-operator-certificates-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{host}.json"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(make(host), handle)
        os.replace(tmp, path)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("pfx", "password"):
        sys.exit(__doc__)
    sys.stdout.write(certificate(sys.argv[1])[sys.argv[2]])
