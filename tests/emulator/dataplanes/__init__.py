"""Data planes behind emulated Azure resources.

The ARM side of the emulator (resource documents, RBAC, tokens) lives in the core; these classes model what
a client reaches once it talks to the resource itself: the Key Vault secrets REST API and a real PostgreSQL
server behind each flexible server.
"""

from tests.emulator.dataplanes.keyvault_secrets import KeyVaultSecretsPlane
from tests.emulator.dataplanes.postgres import PostgresPlane, PostgresPlaneError

__all__ = ["KeyVaultSecretsPlane", "PostgresPlane", "PostgresPlaneError"]
