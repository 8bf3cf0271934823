"""The one Settings object, read from the design's environment names and ``SWIFTEATS_*``.

Precedence: explicit keyword arguments, then environment variables, then the
addresses a running local stack wrote (``swifteats stack up``), then defaults.
Build it in an entry point with :func:`load_settings`, never at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from swifteats.domain.admission import AdmissionBounds, ResendPolicy
from swifteats.domain.policies.registry import (
    DEFAULT_POLICY,
    ParamValue,
    parse_params,
    policy_spec,
)
from swifteats.domain.retry import RetryPolicy

STACK_ENV_FILE = "stack.env"
"""Name of the file, under the state directory, holding the running stack's addresses."""

DEFAULT_STATE_DIR = Path.home() / ".local" / "state" / "swifteats"

MIN_API_KEY_LENGTH = 16
"""Shorter API keys are refused: they are placeholders or guessable."""


def _design(name: str) -> AliasChoices:
    """The design's environment name, or the field name as a keyword argument."""
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Configuration of both services, the stack and the tools around them."""

    model_config = SettingsConfigDict(
        env_prefix="SWIFTEATS_",
        frozen=True,
        populate_by_name=True,
        extra="ignore",
        hide_input_in_errors=True,  # a rejected value may be a secret
    )

    kafka_host: str = Field("localhost:9092", validation_alias=_design("KAFKA_HOST"))
    redis_host: str = Field("localhost", validation_alias=_design("REDIS_HOST"))
    redis_port: int = Field(6379, validation_alias=_design("REDIS_PORT"))
    database_url: SecretStr = Field(
        SecretStr("postgresql://postgres@localhost:5432/swift_eats"),
        validation_alias=_design("DATABASE_URL"),
    )
    port: int = Field(3000, validation_alias=_design("PORT"))
    driver_assignment_service_port: int = Field(
        3004, validation_alias=_design("DRIVER_ASSIGNMENT_SERVICE_PORT")
    )

    state_dir: Path = DEFAULT_STATE_DIR
    host: str = "127.0.0.1"
    """Interface the HTTP servers bind to."""
    redis_prefix: str = "swifteats"
    """Namespace of every Redis key the project writes."""
    redis_cluster: bool = Field(False, validation_alias=_design("REDIS_CLUSTER"))
    """REDIS_HOST:REDIS_PORT is a node of a Redis Cluster: drivers are sharded by region."""
    redis_ssl: bool = False
    redis_ssl_ca_certs: str | None = None
    """CA bundle that signs the Redis server's certificate (default: the system's)."""
    redis_username: str | None = None
    redis_password: SecretStr | None = None

    kafka_session_timeout_ms: int = 6000
    kafka_max_poll_interval_ms: int = 5000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_metadata_max_age_ms: int = 2000
    """How often consumers refresh metadata, so a new geo topic is subscribed within seconds."""
    kafka_max_message_bytes: int = 1_048_576
    kafka_topic_partitions: int = Field(4, ge=1)
    """Partitions of each topic the services create (more let a consumer group grow)."""
    kafka_replication_factor: int = Field(1, ge=1)
    """Replicas of each topic the services create (a real cluster wants 3)."""
    kafka_fetch_max_wait_ms: int = 100
    """How long the broker may hold a fetch open when no message waits. The broker answers as
    soon as a message arrives, so a longer wait costs little latency; a shorter one costs CPU
    in every consumer and the broker (10 ms: 0.16 cores per idle service, 100 ms: 0.04)."""
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    """CA bundle that signs the brokers' certificates (default: the system's)."""
    kafka_ssl_certfile: str | None = None
    """Client certificate, for brokers that authenticate clients by TLS."""
    kafka_ssl_keyfile: str | None = None

    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    """Keys the HTTP APIs accept (comma-separated); none: every request is let in. Clients
    send the first (:meth:`client_api_key`)."""
    protect_observability: bool = False
    """Whether ``/stats`` and ``/metrics`` need a key too (``/health`` never does)."""
    max_body_bytes: int = Field(65_536, gt=0)
    """Largest HTTP request body; a larger one is refused (413) before it is parsed."""
    order_rate_per_s: float = Field(1.0, gt=0, allow_inf_nan=False)
    """Orders a customer's bucket regains per second."""
    order_burst: int = Field(60, ge=0)
    """Orders a customer may place back to back; 0 turns the per-customer limit off."""

    retry_base_s: float = 1.0
    retry_factor: float = 2.0
    retry_cap_s: float = 30.0
    retry_max_attempts: int = Field(5, ge=0)
    """Assignment attempts per order, the first one included; 0: no limit."""

    payment_decline_customers: str = ""
    """Comma-separated customer ids the simulated payment provider declines."""
    policy: str = DEFAULT_POLICY
    """Assignment policy by name (``swifteats.domain.policies.registry``)."""
    policy_params: str = ""
    """JSON object overriding the policy's declared parameters (``registry.parse_params``)."""
    policy_window_s: float | None = Field(None, gt=0)
    """Windowed policies: seconds between decisions (default: the policy's own window)."""
    window_max_hold_s: float = Field(300.0, gt=0)
    """Windowed policies: a request held this long unassigned is answered as failed."""
    decision_clock: Literal["wall", "external"] = "wall"
    """Driver Assignment Service: ``external`` holds every request until ``POST /decisions``
    names the instant to decide at (lockstep replays); ``wall`` decides on its own."""
    scoring_weights: str = ""
    """JSON object overriding fields of ``ScoringWeights``."""
    eta_model: str = "haversine"
    """``haversine`` (the design's) or ``planar`` (MDRP instances: metres on a plane)."""
    eta_speed_kmh: float = 30.0
    eta_min_minutes: int = 5
    eta_origin: str = "40.7128,-74.0060"
    """``planar`` only: the lat,lon that planar metres are measured from."""
    eta_meters_per_minute: float = 320.0
    pickup_lead_minutes: float = 0.0
    """Minutes from arriving at a restaurant to the earliest pickup, for shift-end checks."""
    slow_processing_ms: float = 200.0
    simulated_clock: bool = False
    """Order Service only: time is what ``PUT /clock`` last said (for replays)."""
    answer_timeout_s: float = 30.0
    """Order Service only: wall seconds after which an unanswered request is sent again
    (a broker restart or a consumer crash can lose it); the copy keeps its event id."""
    resend_unproven_after_s: float = Field(120.0, gt=0)
    """Order Service only: an unanswered request with no proof that its consumer passed it
    (a request published after it on its topic answered since) may merely be queued; it is
    sent again only after this long."""
    resend_max_per_s: float = Field(20.0, gt=0, allow_inf_nan=False)
    """Order Service only: most unanswered requests sent again per second."""
    admission_max_outbox_backlog: int = Field(200, ge=0)
    """Order Service only: new orders get 503 while this many outbox rows are due and
    unsent (0: no bound)."""
    admission_max_unanswered: int = Field(200, ge=0)
    """Order Service only: new orders get 503 while this many accepted orders wait for
    their answer (0: no bound)."""
    admission_retry_after_s: int = Field(1, ge=1)
    """Order Service only: the ``Retry-After`` of a shed order."""
    admission_sample_s: float = Field(0.1, gt=0, allow_inf_nan=False)
    """Order Service only: how often the backlog and the unanswered orders are counted."""
    log_level: str = "INFO"

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, name: str) -> str:
        return policy_spec(name).name

    @model_validator(mode="after")
    def _known_params(self) -> Settings:
        policy_spec(self.policy).params_with(self.policy_overrides)
        return self

    @property
    def policy_overrides(self) -> dict[str, ParamValue]:
        """``policy_params`` as a mapping (checked against the policy by the validator)."""
        return parse_params(self.policy_params)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """``"k1,k2"`` (the environment's form) or a sequence; blank entries are dropped."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            texts = (v.get_secret_value() if isinstance(v, SecretStr) else v for v in value)
            stripped = (t.strip() if isinstance(t, str) else t for t in texts)
            return tuple(t for t in stripped if t != "")
        return value

    @field_validator("api_keys")
    @classmethod
    def _long_enough(cls, keys: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        if any(len(key.get_secret_value()) < MIN_API_KEY_LENGTH for key in keys):
            raise ValueError(f"every API key needs at least {MIN_API_KEY_LENGTH} characters")
        return keys

    @model_validator(mode="after")
    def _sasl_complete(self) -> Settings:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        given = (self.kafka_sasl_mechanism, self.kafka_sasl_username, self.kafka_sasl_password)
        if sasl and None in given:
            raise ValueError(
                f"SWIFTEATS_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "SWIFTEATS_KAFKA_SASL_MECHANISM, _SASL_USERNAME and _SASL_PASSWORD"
            )
        if not sasl and self.kafka_sasl_mechanism is not None:
            raise ValueError("SWIFTEATS_KAFKA_SASL_MECHANISM needs a SASL_* security protocol")
        return self

    @property
    def retry_policy(self) -> RetryPolicy:
        """The Order Service's assignment retries (``SWIFTEATS_RETRY_*``)."""
        return RetryPolicy(
            base_s=self.retry_base_s,
            factor=self.retry_factor,
            cap_s=self.retry_cap_s,
            max_attempts=self.retry_max_attempts,
        )

    @property
    def resend_policy(self) -> ResendPolicy:
        """When the Order Service sends an unanswered request again (``SWIFTEATS_RESEND_*``)."""
        return ResendPolicy(
            timeout_s=self.answer_timeout_s,
            unproven_after_s=self.resend_unproven_after_s,
            max_per_s=self.resend_max_per_s,
        )

    @property
    def admission_bounds(self) -> AdmissionBounds:
        """When the Order Service sheds new orders (``SWIFTEATS_ADMISSION_*``)."""
        return AdmissionBounds(
            max_outbox_backlog=self.admission_max_outbox_backlog,
            max_unanswered=self.admission_max_unanswered,
            retry_after_s=self.admission_retry_after_s,
        )

    @property
    def client_api_key(self) -> SecretStr | None:
        """The key this project's own clients send: the first of ``api_keys``, if any."""
        return self.api_keys[0] if self.api_keys else None


def stack_env_path(state_dir: Path) -> Path:
    """Where ``swifteats stack up`` writes the resolved addresses."""
    return state_dir / STACK_ENV_FILE


def read_env_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines (``export`` and quotes allowed); a missing file is empty."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip().removeprefix("export ").strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def load_settings(**overrides: Any) -> Settings:
    """Build Settings: overrides, then environment, then the running stack, then defaults."""
    state_dir = Path(os.environ.get("SWIFTEATS_STATE_DIR", DEFAULT_STATE_DIR))
    from_stack = {
        key: value
        for key, value in read_env_file(stack_env_path(state_dir)).items()
        if key not in os.environ
    }
    return Settings(**{**from_stack, **overrides})
