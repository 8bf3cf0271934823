"""How a replay configures the services: one set of environment variables for both engines.

The live engine starts the services with :meth:`ServiceConfig.env`; the in-process engine
builds its :class:`~swifteats.settings.Settings` from the very same variables, so the two
cannot be configured apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from swifteats.domain.eta import ConstantSpeedEta, EtaModel, PlanarEta
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.scoring import ScoringWeights
from swifteats.settings import Settings

REPLAY_RETRY = RetryPolicy(60.0, 2.0, 300.0, 5)
"""Backoff in simulated seconds: 1, 2, 4, 5 minutes between 5 attempts (the design's five;
``RunRequest.max_attempts`` changes the count, 0 retrying every 5 minutes until the day ends)."""
LOCKSTEP_FETCH_WAIT_MS = 10
"""The services' Kafka fetch wait in a replay (``SWIFTEATS_KAFKA_FETCH_MAX_WAIT_MS``)."""
NO_RESEND_S = 1e9
"""The services' answer timeouts in a replay: no request is sent again."""
REPLAY_MAX_HOLD_S = 86_400.0
"""Windowed policies keep an order open until a driver takes it (the MDRP's rule)."""


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The services' knobs a replay sets."""

    policy: str
    weights: ScoringWeights
    eta: EtaModel
    pickup_lead_minutes: float
    retry: RetryPolicy = field(default=REPLAY_RETRY)
    max_hold_s: float = REPLAY_MAX_HOLD_S
    params: Mapping[str, float | int | bool] = field(default_factory=dict)
    """Overrides of the policy's declared parameters (the registry's)."""

    def env(self) -> dict[str, str]:
        """The services' environment variables (``SWIFTEATS_*``)."""
        return {
            "SWIFTEATS_POLICY": self.policy,
            "SWIFTEATS_SCORING_WEIGHTS": json.dumps(asdict(self.weights)),
            "SWIFTEATS_POLICY_PARAMS": json.dumps(dict(self.params), sort_keys=True),
            "SWIFTEATS_PICKUP_LEAD_MINUTES": repr(self.pickup_lead_minutes),
            "SWIFTEATS_RETRY_BASE_S": repr(self.retry.base_s),
            "SWIFTEATS_RETRY_FACTOR": repr(self.retry.factor),
            "SWIFTEATS_RETRY_CAP_S": repr(self.retry.cap_s),
            "SWIFTEATS_RETRY_MAX_ATTEMPTS": str(self.retry.max_attempts),
            "SWIFTEATS_WINDOW_MAX_HOLD_S": repr(self.max_hold_s),
            "SWIFTEATS_SIMULATED_CLOCK": "true",
            "SWIFTEATS_DECISION_CLOCK": "external",
            "SWIFTEATS_ORDER_BURST": "0",
            "SWIFTEATS_ADMISSION_MAX_OUTBOX_BACKLOG": "0",  # a replay's log is never shed
            "SWIFTEATS_ADMISSION_MAX_UNANSWERED": "0",
            # every instant's barrier waits until each request is read: nothing is lost for
            # a re-send to recover, and a copy of a request a windowed policy holds (for
            # wall seconds, on a slow machine) would only race it
            "SWIFTEATS_ANSWER_TIMEOUT_S": repr(NO_RESEND_S),
            # every instant waits for two Kafka hops: a short fetch wait costs idle CPU
            # but less wall time than the services' 100 ms
            "SWIFTEATS_KAFKA_FETCH_MAX_WAIT_MS": str(LOCKSTEP_FETCH_WAIT_MS),
            "SWIFTEATS_RESEND_UNPROVEN_AFTER_S": repr(NO_RESEND_S),
            **_eta_env(self.eta),
        }

    def settings(self) -> Settings:
        """:class:`Settings` from exactly :meth:`env` (the in-process engine's)."""
        fields = {name.removeprefix("SWIFTEATS_").lower(): v for name, v in self.env().items()}
        return Settings.model_validate(fields)


def _eta_env(eta: EtaModel) -> dict[str, str]:
    """The services' settings for the replay's travel model."""
    if isinstance(eta, PlanarEta):
        origin = eta.projection.origin
        return {
            "SWIFTEATS_ETA_MODEL": "planar",
            "SWIFTEATS_ETA_ORIGIN": f"{origin.latitude!r},{origin.longitude!r}",
            "SWIFTEATS_ETA_METERS_PER_MINUTE": repr(eta.meters_per_minute),
        }
    if isinstance(eta, ConstantSpeedEta):
        return {
            "SWIFTEATS_ETA_MODEL": "haversine",
            "SWIFTEATS_ETA_SPEED_KMH": repr(eta.speed_kmh),
            "SWIFTEATS_ETA_MIN_MINUTES": str(eta.min_minutes),
        }
    raise ValueError(f"the services have no setting for {type(eta).__name__}")
