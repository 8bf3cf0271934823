"""Redis clients from settings (one server, or a cluster with ``REDIS_CLUSTER``), and the
removal of a run's own keys."""

from __future__ import annotations

import redis
from redis.cluster import RedisCluster

from swifteats.settings import Settings


def connect_redis(
    host: str,
    port: int,
    *,
    ssl: bool = False,
    ssl_ca_certs: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> redis.Redis:
    """A client that returns ``str`` and gives up on a dead server within seconds.

    With ``ssl`` the server's certificate is verified (against ``ssl_ca_certs`` or the
    system's CAs); ``username``/``password`` are sent with ``AUTH`` (ACL or legacy).
    """
    return redis.Redis(
        host=host,
        port=port,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=10,
        ssl=ssl,
        ssl_ca_certs=ssl_ca_certs,
        username=username,
        password=password,
    )


RedisClient = redis.Redis | RedisCluster
"""A client of one server, or of a cluster (``REDIS_CLUSTER``)."""


def redis_for(settings: Settings) -> RedisClient:
    """:func:`connect_redis` (or a cluster client, with ``redis_cluster``) with the
    settings' address, TLS and credentials."""
    password = settings.redis_password
    if settings.redis_cluster:
        return RedisCluster(
            host=settings.redis_host,
            port=settings.redis_port,
            decode_responses=True,
            socket_connect_timeout=2.0,
            socket_timeout=5.0,
            ssl=settings.redis_ssl,
            ssl_ca_certs=settings.redis_ssl_ca_certs,
            username=settings.redis_username,
            password=password.get_secret_value() if password else None,
        )
    return connect_redis(
        settings.redis_host,
        settings.redis_port,
        ssl=settings.redis_ssl,
        ssl_ca_certs=settings.redis_ssl_ca_certs,
        username=settings.redis_username,
        password=password.get_secret_value() if password else None,
    )


def delete_namespace(client: RedisClient, prefix: str) -> None:
    """Delete every key under ``prefix:``."""
    keys = list(client.scan_iter(match=f"{prefix}:*", count=10_000))
    for start in range(0, len(keys), 10_000):
        client.delete(*keys[start : start + 10_000])


def forget_namespace(settings: Settings, prefix: str) -> None:
    """:func:`delete_namespace` on the settings' Redis: a run's own keys, at its end."""
    client = redis_for(settings)
    try:
        delete_namespace(client, prefix)
    finally:
        client.close()
