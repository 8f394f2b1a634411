"""The throwaway PostgreSQL the lab and tests start: where its ports come from, and what a failed start says."""

from __future__ import annotations

import shutil
import socket

import pytest

from ops.postgres import LISTEN_PORTS, LocalPostgres, PostgresError, free_port, server_dir


def _ephemeral_range() -> range:
    low, high = (int(n) for n in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    return range(low, high + 1)


def test_listening_ports_never_come_from_the_range_outbound_connections_use():
    ports = {free_port() for _ in range(50)}
    assert ports <= set(LISTEN_PORTS)
    assert not ports & set(_ephemeral_range())
    assert len(ports) > 1  # chosen at random, so parallel workers rarely race for one


def test_a_start_on_a_taken_port_fails_with_the_server_log_in_the_message():
    root = server_dir("records-pg-test-")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", free_port()))
        holder.listen()
        server = LocalPostgres(root=root, port=holder.getsockname()[1]).init()
        try:
            with pytest.raises(PostgresError, match=r"(?s)pg_ctl failed .*server log: .*(could not bind|in use)"):
                server.start()
        finally:
            server.stop()
            shutil.rmtree(root, ignore_errors=True)
