"""Data planes behind emulated Azure resources.

The ARM side of the emulator (resource documents, RBAC, tokens) lives in the core; these modules model what a
client reaches once it talks to the resource itself: the Key Vault secrets REST API (keyvault_secrets.py) and a
real PostgreSQL server behind each flexible server (postgres.py). They are imported separately, so that the Key
Vault plane does not need psycopg or PostgreSQL. README.md says how the core wires them. ports.py picks the local
ports of the real servers (PostgreSQL, redis-server, Azurite) for all of them.
"""
