"""A live replay's throwaway database commits without waiting for the disk, and is gone
once dropped."""

from __future__ import annotations

import uuid

import psycopg

from swifteats.settings import Settings
from swifteats.stack import drop_database, ensure_database, skip_commit_flush


def test_a_replay_database_skips_the_commit_flush_and_is_dropped(servers: Settings) -> None:
    base = servers.database_url.get_secret_value().rsplit("/", 1)[0]
    url = f"{base}/swifteats_flush_{uuid.uuid4().hex[:8]}"
    ensure_database(url)
    skip_commit_flush(url)

    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("off",)
    drop_database(url)

    with psycopg.connect(base + "/postgres") as conn:
        name = url.rsplit("/", 1)[1]
        assert (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
        )
