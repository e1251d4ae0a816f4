"""Independent check inside PostgreSQL for molecule/database/verify.yml: psycopg, not our postgresql_roles module.

Reads JSON on stdin: {"host", "port", "sslrootcert", "roles": [{"name", "database", "password"}], "extensions":
[...]}. Each login role must log in (TLS, ``sslmode=verify-full`` against ``sslrootcert``) to its own database with
its Key Vault password, own it, see the extensions, be refused by every other database and refuse a wrong password.
Prints one JSON line {"problems": [...]} (never a password) and exits 1 when there is a problem.
"""

from __future__ import annotations

import json
import sys

import psycopg


def main() -> int:
    spec = json.load(sys.stdin)
    host, port = spec["host"], int(spec["port"])
    tls = {"sslmode": "verify-full", "sslrootcert": spec["sslrootcert"]}
    problems: list[str] = []
    for role in spec["roles"]:
        name, database, password = role["name"], role["database"], role["password"]
        try:
            with psycopg.connect(host=host, port=port, user=name, password=password, dbname=database,
                                 connect_timeout=10, **tls) as conn:
                owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database "
                                     "WHERE datname = current_database()").fetchone()
                if owner != (name,):
                    problems.append(f"{database} is owned by {owner}, not {name}")
                have = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
                missing = sorted(set(spec["extensions"]) - have)
                if missing:
                    problems.append(f"{database} lacks extensions {missing}")
        except psycopg.OperationalError as err:
            problems.append(f"{name} cannot log in to {database}: {str(err).splitlines()[0]}")
            continue
        for other in (r["database"] for r in spec["roles"] if r["database"] != database):
            try:
                psycopg.connect(host=host, port=port, user=name, password=password, dbname=other,
                                connect_timeout=10, **tls).close()
                problems.append(f"{name} can connect to {other}")
            except psycopg.OperationalError:
                pass
        try:
            psycopg.connect(host=host, port=port, user=name, password=password + "x", dbname=database,
                            connect_timeout=10, **tls).close()
            problems.append(f"{name} logs in with a wrong password")
        except psycopg.OperationalError:
            pass
    sys.stdout.write(json.dumps({"problems": problems, "roles": len(spec["roles"])}) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
