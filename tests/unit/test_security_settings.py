"""Security settings: parsing, refusals, TLS/SASL for the clients, secrets kept out of sight."""

from __future__ import annotations

import logging
import os

import pytest
from pydantic import SecretStr, ValidationError

from swifteats.adapters.kafka.clients import client_options, security_options
from swifteats.adapters.redis_client import redis_for
from swifteats.observability import JsonFormatter
from swifteats.settings import Settings

KEY_A = "alpha-key-0123456789"
KEY_B = "bravo-key-0123456789"
PASSWORD = "hunter2-but-longer"  # noqa: S105 - a test value to look for
DB_PASSWORD = "pg-secret-password"  # noqa: S105 - a test value to look for


def full_settings() -> Settings:
    return Settings(
        api_keys=[KEY_A, KEY_B],
        database_url=f"postgresql://app:{DB_PASSWORD}@db:5432/swift_eats?sslmode=verify-full",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc",
        kafka_sasl_password=PASSWORD,
        kafka_ssl_cafile="/etc/ssl/kafka-ca.pem",
        redis_ssl=True,
        redis_username="svc",
        redis_password=PASSWORD,
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in [name for name in os.environ if name.startswith("SWIFTEATS_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_run_open_with_generous_limits(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()

    assert settings.api_keys == ()
    assert settings.client_api_key is None
    assert settings.protect_observability is False
    assert settings.max_body_bytes == 65_536
    assert (settings.order_rate_per_s, settings.order_burst) == (1.0, 60)
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert settings.redis_ssl is False


def test_api_keys_come_comma_separated_from_the_environment(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("SWIFTEATS_API_KEYS", f" {KEY_A} ,, {KEY_B},")

    settings = Settings()

    assert [key.get_secret_value() for key in settings.api_keys] == [KEY_A, KEY_B]
    assert settings.client_api_key == SecretStr(KEY_A)


@pytest.mark.parametrize("given", [f"{KEY_A},{KEY_B}", [KEY_A, KEY_B], (SecretStr(KEY_A), KEY_B)])
def test_api_keys_as_arguments_in_any_form(given: object) -> None:
    settings = Settings(api_keys=given)

    assert [key.get_secret_value() for key in settings.api_keys] == [KEY_A, KEY_B]


def test_a_short_key_is_refused_without_showing_it() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(api_keys=f"{KEY_A},changethis")

    assert "at least 16 characters" in str(refused.value)
    assert "changethis" not in str(refused.value)
    assert KEY_A not in str(refused.value)


@pytest.mark.parametrize(
    "given",
    [
        {"kafka_security_protocol": "SASL_SSL"},
        {"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "PLAIN"},
        {"kafka_sasl_mechanism": "PLAIN", "kafka_sasl_username": "u", "kafka_sasl_password": "p"},
        {"kafka_security_protocol": "TLS"},
    ],
)
def test_incomplete_or_unknown_kafka_security_is_refused(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(**given)


@pytest.mark.parametrize(
    "given", [{"order_burst": -1}, {"order_rate_per_s": 0}, {"max_body_bytes": 0}]
)
def test_limits_that_make_no_sense_are_refused(given: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        Settings(**given)


def test_kafka_clients_get_tls_and_sasl_and_nothing_unset() -> None:
    assert security_options(Settings()) == {"security_protocol": "PLAINTEXT"}
    assert security_options(full_settings()) == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "svc",
        "sasl_plain_password": PASSWORD,
        "ssl_cafile": "/etc/ssl/kafka-ca.pem",
    }


def test_redis_client_gets_tls_and_credentials() -> None:
    client = redis_for(full_settings())
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["username"] == "svc"
        assert kwargs["password"] == PASSWORD
        assert client.connection_pool.connection_class.__name__ == "SSLConnection"
        assert PASSWORD not in repr(client)
    finally:
        client.close()


def test_no_secret_shows_in_repr_str_dump_or_a_log_line() -> None:
    settings = full_settings()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "settings %s %r", None, None)
    record.args = (settings, settings)
    shown = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
        JsonFormatter().format(record),
    ]

    for text in shown:
        for secret in (KEY_A, KEY_B, PASSWORD, DB_PASSWORD):
            assert secret not in text


def test_kafka_clients_keep_no_metrics_and_fetches_wait_for_messages(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """CPU per order: kafka-python's sensors cost CPU per record and nothing reads them; a
    10 ms fetch wait kept each idle service at 0.16 cores (100 ms: 0.04)."""
    settings = Settings()

    assert client_options(settings)["metrics_enabled"] is False
    assert settings.kafka_fetch_max_wait_ms == 100
