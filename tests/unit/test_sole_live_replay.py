"""Two live replays on one broker would read each other's messages: the second is refused
with a message that says what to do, and the broker is free again once the first ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.live import BrokerBusyError, sole_live_replay
from swifteats.cli.errors import explain
from swifteats.settings import Settings


def test_a_second_live_replay_on_the_same_broker_is_refused_until_the_first_ends(
    tmp_path: Path,
) -> None:
    settings = Settings(kafka_host="127.0.0.1:19092", state_dir=tmp_path)
    elsewhere = Settings(kafka_host="127.0.0.1:29092", state_dir=tmp_path)

    with sole_live_replay(settings):
        with pytest.raises(BrokerBusyError) as busy, sole_live_replay(settings):
            pass
        with sole_live_replay(elsewhere):  # another broker is another matter
            pass
    with sole_live_replay(settings):
        pass

    message = explain(busy.value)
    assert message is not None
    assert "127.0.0.1:19092" in message.message
    assert message.fix is not None and "KAFKA_HOST" in message.fix
