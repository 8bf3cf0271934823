"""Addresses and ports: parsing, probing, waiting, finding a free one."""

from __future__ import annotations

import ipaddress
import socket
import time

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``host:port`` (first of a comma-separated list) as a pair."""
    first = address.split(",")[0].strip()
    host, sep, port = first.rpartition(":")
    if not sep or (":" in host and not host.endswith("]")):  # no port, or a bare IPv6
        return first.strip("[]"), default_port
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen_host(host: str) -> str:
    """The interface a server started for ``host`` binds: the IP itself, 127.0.0.1 for a name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return "127.0.0.1"


def url_host(host: str) -> str:
    """``host`` as written in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host else host


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout_s: float) -> None:
    """Wait until ``host:port`` accepts TCP connections.

    Args:
        host: Name or IP address to connect to.
        port: TCP port.
        timeout_s: How long to keep trying.

    Raises:
        TimeoutError: Nothing accepted a connection within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s:.0f}s")
        time.sleep(0.05)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
