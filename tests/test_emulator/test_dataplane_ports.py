"""The data planes' port helper (tests/emulator/dataplanes/ports.py): a restarted emulator keeps a server's
remembered port while it is free and picks another when something else holds it."""

from __future__ import annotations

import socket

from tests.emulator.dataplanes.ports import HOST, free_port, port_is_free


def test_a_free_port_can_be_bound_and_a_held_one_is_not_free() -> None:
    port = free_port()
    assert port_is_free(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind((HOST, port))
        holder.listen()
        assert not port_is_free(port)
        assert free_port() != port
    assert not port_is_free(0)
