"""Local TCP ports for the data planes' real servers (PostgreSQL, redis-server, Azurite): one way to pick a free
one and to tell whether a remembered one is still free after a restart."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port the system has just handed out on `host` (free now; the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when `port` can be bound on `host` now (False for 0/None: no port remembered)."""
    if not port:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
