"""The stack starts servers only on loopback and says so when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from swifteats.settings import Settings
from swifteats.stack import StackError, stack_up
from swifteats.stack import stack as stack_module
from swifteats.stack.network import is_loopback, split_host_port


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "::1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.5", "kafka.example.com", "192.168.1.1", ""])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_host_port_parsing() -> None:
    assert split_host_port("broker-1:9093,broker-2:9093", 9092) == ("broker-1", 9093)
    assert split_host_port("localhost", 9092) == ("localhost", 9092)
    assert split_host_port("[::1]:9092", 1) == ("::1", 9092)


def test_a_remote_address_that_does_not_answer_is_not_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No probe leaves the machine: the remote broker is declared unreachable.
    monkeypatch.setattr(stack_module, "port_open", lambda host, port: False)
    settings = Settings(kafka_host="10.0.0.5:9092", state_dir=tmp_path)
    with pytest.raises(
        StackError, match="cannot reach Kafka at 10.0.0.5:9092 and it is not a local"
    ):
        stack_up(settings)
