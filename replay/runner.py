"""Loading a replay input and running it into a run directory."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from replay.inprocess import InProcessEngine
from replay.inputs import ReplayInput
from replay.live import LiveEngine, live_services, request_topics
from replay.mdrp.check import check_solution
from replay.mdrp.export import solution_from_routes, write_solution
from replay.mdrp.instance import MdrpInstance, load_mdrp_instance
from replay.mdrp.rules import RULE_2
from replay.orderlog import day_start_of, parse_drivers, parse_orders, read_rows
from replay.outputs import RunSummary, write_run
from replay.scenario import Scenario, transform_input, transform_instance
from replay.scheduler import Scheduler
from replay.service_config import REPLAY_RETRY, ServiceConfig
from replay.simulation import Replay, ReplayConfig, RunResult
from swifteats.domain.eta import ConstantSpeedEta
from swifteats.domain.events import DEFAULT_RADIUS_KM, MAX_RADIUS_KM
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.policies.registry import (
    DEFAULT_POLICY,
    ParamValue,
    param_values,
    parse_params,
    policy_spec,
)
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.scoring import ScoringWeights
from swifteats.progress import ProgressSink
from swifteats.settings import Settings, load_settings

DATA_DIR = Path(__file__).resolve().parent / "data"
"""The bundled sample day: ``data/`` of the checkout, installed as ``replay/data``."""
SAMPLE_ORDERS = DATA_DIR / "sample_orders.csv"
SAMPLE_DRIVERS = DATA_DIR / "sample_drivers.csv"
GENERATED_DIR = Path("data")
"""Where ``swifteats generate-sample`` writes by default, in the working directory."""
BACKENDS = ("inprocess", "live")
CLOCKS = ("lockstep", "paced")
MDRP_DAY_START = datetime(2026, 1, 1, tzinfo=UTC)
"""The instant minute 0 of an MDRP instance stands for (the data carry no date)."""


@dataclass(frozen=True, slots=True)
class LoadedInput:
    """A replay input, the instant its minute 0 stands for, and where it came from.

    ``mdrp`` is the published instance (exact metres and ids) when the input is an MDRP
    folder: the run writes the evaluator's solution files for it and checks them.
    ``seed`` is the seed of :mod:`replay.sample` that generated the input, None for
    recorded data: a replay itself draws nothing at random.
    """

    data: ReplayInput
    day_start: datetime
    source: str
    mdrp: MdrpInstance | None = None
    seed: int | None = None
    scenario: Scenario | None = None
    """The what-if applied to the input (``replay.scenario``), None: as recorded."""


def with_scenario(loaded: LoadedInput, scenario: Scenario | None) -> LoadedInput:
    """``loaded`` under ``scenario`` (its published instance too); unchanged for None."""
    if scenario is None:
        return loaded
    mdrp = None if loaded.mdrp is None else transform_instance(loaded.mdrp, scenario)
    data = transform_input(loaded.data, scenario)
    return replace(loaded, data=data, mdrp=mdrp, scenario=scenario)


def relaxed_rules(scenario: Scenario | None) -> tuple[str, ...]:
    """The MDRP rules a scenario breaks by design: orders known early are assigned early."""
    return (RULE_2,) if scenario is not None and scenario.notice > 0 else ()


def load_input(path: Path | None, drivers: Path | None) -> LoadedInput:
    """An MDRP instance folder, an order log with its driver schedule, or the sample day."""
    if path is None:
        return load_order_log(*sample_files())
    if path.is_dir():
        instance, data = load_mdrp_instance(path)
        return LoadedInput(data, MDRP_DAY_START, str(path), instance)
    if drivers is None:
        raise ValueError("an order log needs --drivers FILE (a driver schedule)")
    return load_order_log(path, drivers)


def sample_files(cwd: Path | None = None) -> tuple[Path, Path]:
    """The sample day a replay with no input reads: orders, drivers.

    ``data/sample_orders.csv`` and ``data/sample_drivers.csv`` under ``cwd`` (the working
    directory) when both are there, as ``swifteats generate-sample`` writes them; else the
    sample installed with the package.
    """
    folder = (cwd or Path.cwd()) / GENERATED_DIR
    generated = folder / SAMPLE_ORDERS.name, folder / SAMPLE_DRIVERS.name
    if all(path.is_file() for path in generated):
        return generated
    return SAMPLE_ORDERS, SAMPLE_DRIVERS


def load_order_log(orders: Path, drivers: Path) -> LoadedInput:
    """An order log and its driver schedule; the design's ETA model, 4 + 4 service minutes."""
    day_start = day_start_of(read_rows(orders))
    data = ReplayInput(
        name=orders.stem,
        orders=tuple(parse_orders(orders, day_start)),
        drivers=tuple(parse_drivers(drivers, day_start)),
        service_times=ServiceTimes(),
        eta=ConstantSpeedEta(),
        source_hash=_hash_files(orders, drivers),
    )
    return LoadedInput(data, day_start, str(orders))


def _hash_files(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class RunRequest:
    """How to run a replay."""

    backend: str = "inprocess"
    clock: str = "lockstep"
    """``lockstep`` or ``paced`` (simulated time runs ``speed`` times wall time)."""
    speed: float = 60.0
    policy: str = DEFAULT_POLICY
    weights: ScoringWeights = ScoringWeights()
    radius_km: float | None = None
    """``None``: :func:`default_radius_km` of the input."""
    location_interval_min: float = 2.0
    params: Mapping[str, ParamValue] = field(default_factory=dict, hash=False)
    """Overrides of the policy's declared parameters (``--params``)."""
    max_attempts: int | None = None
    """Assignment attempts per order (one-at-a-time policies); 0: until served or the day
    ends; None: 0 on MDRP inputs, the design's 5 otherwise (:meth:`attempts_for`)."""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend is one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.clock not in CLOCKS:
            raise ValueError(f"clock is one of {', '.join(CLOCKS)}, not {self.clock!r}")
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, not {self.speed}")
        if self.max_attempts is not None and self.max_attempts < 0:
            raise ValueError(f"max attempts must be 0 (no limit) or more, not {self.max_attempts}")
        if self.radius_km is not None and not 0 < self.radius_km <= MAX_RADIUS_KM:
            raise ValueError(f"radius must be in (0, {MAX_RADIUS_KM:g}] km, not {self.radius_km}")
        param_values(self.policy, self.params)

    def attempts_for(self, loaded: LoadedInput) -> int:
        """Attempts per order on ``loaded``: 0 (no limit) by default on MDRP inputs."""
        if self.max_attempts is not None:
            return self.max_attempts
        return 0 if loaded.mdrp is not None else REPLAY_RETRY.max_attempts

    @property
    def paced_speed(self) -> float | None:
        """The speed of a paced run, None in lockstep."""
        return self.speed if self.clock == "paced" else None


def default_radius_km(loaded: LoadedInput) -> float:
    """An MDRP instance's whole map (it has no radius of its own); 5 km on an order log."""
    return DEFAULT_RADIUS_KM if loaded.mdrp is None else loaded.mdrp.covering_radius_km


def radius_km(loaded: LoadedInput, request: RunRequest) -> float:
    """The search radius a run of ``request`` on ``loaded`` uses."""
    return default_radius_km(loaded) if request.radius_km is None else request.radius_km


def run_replay(
    loaded: LoadedInput,
    request: RunRequest,
    run_dir: Path,
    settings: Settings | None = None,
    *,
    progress: ProgressSink | None = None,
) -> RunSummary:
    """Replay ``loaded`` in lockstep on the chosen backend; write ``run_dir``.

    ``settings`` (the live backend only) say where the stack is; by default they are
    loaded from the environment and the running stack. ``progress`` is told how the
    replay advances (see :class:`replay.simulation.Replay`).
    """
    started = datetime.now(UTC)
    radius = radius_km(loaded, request)
    config = _replay_config(loaded, request)
    if request.backend == "live":
        result = _run_live(loaded, request, config, settings or load_settings(), progress)
    else:
        result = _run_in_process(loaded, request, config, progress)
    feasibility = None
    if loaded.mdrp is not None:
        orders = {o.order_id: o for o in loaded.data.orders}
        write_solution(run_dir / "mdrp", *solution_from_routes(result.routes, orders))
        report = check_solution(run_dir / "mdrp", loaded.mdrp)
        relaxed = relaxed_rules(loaded.scenario)
        violations = [v for v in report.violations if not v.startswith(relaxed or ("\0",))]
        feasibility = {
            "feasible": not violations,
            "violations": violations[:50],
            "relaxed_rules": list(relaxed),
        }
    manifest = {
        "run_id": run_dir.name,
        "input": loaded.source,
        "input_name": loaded.data.name,
        "input_sha256": loaded.data.source_hash,
        "mode": request.clock,
        "speed": request.paced_speed,
        "backend": request.backend,
        "policy": request.policy,
        "weights": asdict(request.weights),
        "params": param_values(request.policy, request.params),
        "max_attempts": request.attempts_for(loaded),
        "day_end_min": result.day_end,
        "seed": loaded.seed,
        "radius_km": radius,
        "day_start": loaded.day_start.isoformat(),
        "started_at": started.isoformat(),
        "ended_at": datetime.now(UTC).isoformat(),
        "mdrp_check": feasibility,
        "scenario": None if loaded.scenario is None else loaded.scenario.as_dict(),
    }
    return write_run(run_dir, result, day_start=loaded.day_start, manifest=manifest)


def _replay_config(loaded: LoadedInput, request: RunRequest) -> ReplayConfig:
    return ReplayConfig(
        radius_km=radius_km(loaded, request),
        location_interval_min=request.location_interval_min,
        queued_routes=policy_spec(request.policy).windowed,
        stop_at_day_end=request.attempts_for(loaded) == 0,
        speed=request.paced_speed,
    )


def simulate(loaded: LoadedInput, request: RunRequest) -> RunResult:
    """Replay ``loaded`` in process and write nothing (tuning wants the routes only)."""
    return _run_in_process(loaded, request, _replay_config(loaded, request), None)


def _run_in_process(
    loaded: LoadedInput, request: RunRequest, config: ReplayConfig, progress: ProgressSink | None
) -> RunResult:
    engine = InProcessEngine(_service_config(loaded, request).settings(), loaded.day_start)
    scheduler = Scheduler(loaded.day_start)
    return Replay(loaded.data, engine, scheduler, config, progress=progress).run()


def _run_live(
    loaded: LoadedInput,
    request: RunRequest,
    config: ReplayConfig,
    settings: Settings,
    progress: ProgressSink | None,
) -> RunResult:
    service = _service_config(loaded, request)
    with live_services(settings, service, request_topics(loaded.data)) as services:
        engine = LiveEngine(
            services, queued_routes=config.queued_routes, api_key=settings.client_api_key
        )
        scheduler = Scheduler(loaded.day_start)
        try:
            return Replay(loaded.data, engine, scheduler, config, progress=progress).run()
        finally:
            engine.close()


def _service_config(loaded: LoadedInput, request: RunRequest) -> ServiceConfig:
    return ServiceConfig(
        policy=request.policy,
        weights=request.weights,
        eta=loaded.data.eta,
        pickup_lead_minutes=loaded.data.service_times.pickup_minutes / 2,
        retry=_retry(request.attempts_for(loaded)),
        params=dict(request.params),
    )


def _retry(max_attempts: int) -> RetryPolicy:
    """The replay's backoff with ``max_attempts``; without a limit an order is tried again
    every minute, as often as a windowed policy decides."""
    if max_attempts == 0:
        return replace(REPLAY_RETRY, cap_s=REPLAY_RETRY.base_s, max_attempts=0)
    return replace(REPLAY_RETRY, max_attempts=max_attempts)


def parse_weights(text: str | None) -> ScoringWeights:
    """``--weights``: a JSON object, or the path of a file holding one."""
    if not text:
        return ScoringWeights()
    path = Path(text)
    return ScoringWeights.from_json(path.read_text() if path.is_file() else text)


def parse_policy_params(text: str | None) -> dict[str, ParamValue]:
    """``--params``: a JSON object, or the path of a file holding one."""
    if not text:
        return {}
    path = Path(text)
    return parse_params(path.read_text() if path.is_file() else text)


def new_run_id(name: str, request: RunRequest) -> str:
    """``<UTC time>-<input>-<policy>``: sortable and readable."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")[:-3]
    return f"{stamp}-{name}-{request.policy}"


def describe(summary: RunSummary) -> str:
    """The summary as a short text block."""
    return json.dumps(summary.as_dict(), indent=2)
