"""What a sweep runs: its spec (inputs, policies, a grid or a random search, seeds) and cells.

Everything here is pure and parses the command line's forms:

- ``--grid 'distance_penalty_per_km=2,5,8'``: values of one :class:`ScoringWeights` field,
  or of a parameter the registry declares for one of the policies (``courier_weight``,
  ``max_bundle``, ``window_minutes``, …: a cell's policy takes the ones it declares);
- ``--range 'eta_penalty_per_minute=0:4'``: a uniform range, for ``--random N`` cells;
- ``--input``: ``sample`` (the bundled sample), ``generated[:orders=N,drivers=M]`` (a
  day from :mod:`replay.sample`, regenerated for each seed), an MDRP instance folder, or
  ``ORDERS,DRIVERS`` (an order log and its driver schedule).

A spec is also a JSON or TOML file with the keys of :func:`spec_to_dict`; ``sweep.json``
in a sweep directory holds one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from replay.scenario import Scenario, parse_scenario
from swifteats.domain.policies.registry import DEFAULT_POLICY, ParamValue, policy_spec
from swifteats.domain.scoring import ScoringWeights

WEIGHT_FIELDS = tuple(f.name for f in fields(ScoringWeights))
_GENERATED_DEFAULTS = {"orders": 500, "drivers": 60}


class SweepSpecError(ValueError):
    """A spec that cannot run; the message names the option and the bad part."""


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input of a sweep; ``text`` is its canonical ``--input`` form."""

    kind: str
    """``sample``, ``generated``, ``mdrp`` or ``log``."""
    name: str
    text: str
    paths: tuple[str, ...] = ()
    size: tuple[int, int] = (0, 0)
    """Orders and drivers of a generated day."""

    @property
    def deterministic(self) -> bool:
        """Whether every seed replays the same data (all inputs but a generated day)."""
        return self.kind != "generated"


def parse_input(text: str) -> InputSpec:
    """An ``--input`` value; paths must exist and are made absolute."""
    if text == "sample":
        return InputSpec("sample", "sample", "sample")
    if text == "generated" or text.startswith("generated:"):
        return _generated(text.partition(":")[2])
    if "," in text:
        orders, drivers = (_existing(p, text) for p in text.split(",", 1))
        return InputSpec("log", orders.stem, f"{orders},{drivers}", (str(orders), str(drivers)))
    path = _existing(text, text)
    if not path.is_dir():
        raise SweepSpecError(
            f"--input {text!r}: an order log needs its driver schedule: ORDERS,DRIVERS"
        )
    return InputSpec("mdrp", path.name, str(path), (str(path),))


def _existing(path_text: str, option: str) -> Path:
    path = Path(path_text).expanduser()
    if not path.exists():
        raise SweepSpecError(f"--input {option!r}: {path_text} does not exist")
    return path.resolve()


def _generated(options: str) -> InputSpec:
    values = dict(_GENERATED_DEFAULTS)
    for part in filter(None, options.split(",")):
        key, _, value = part.partition("=")
        if key not in values or not value.isdigit() or int(value) < 1:
            raise SweepSpecError(
                f"--input generated:{options}: expected orders=N and/or drivers=M (N, M >= 1)"
            )
        values[key] = int(value)
    orders, drivers = values["orders"], values["drivers"]
    text = f"generated:orders={orders},drivers={drivers}"
    return InputSpec("generated", f"generated-o{orders}-d{drivers}", text, size=(orders, drivers))


def parse_grid(texts: list[str]) -> dict[str, list[float]]:
    """``--grid 'field=v1,v2,...'`` options as field → values."""
    grid: dict[str, list[float]] = {}
    for text in texts:
        name, values = _split_option("--grid", text, grid)
        grid[name] = [_number("--grid", text, v) for v in values.split(",")]
    return grid


def parse_ranges(texts: list[str]) -> dict[str, list[float]]:
    """``--range 'field=low:high'`` options as field → [low, high]."""
    ranges: dict[str, list[float]] = {}
    for text in texts:
        name, bounds = _split_option("--range", text, ranges)
        parts = bounds.split(":")
        if len(parts) != 2:
            raise SweepSpecError(f"--range {text!r}: expected field=low:high")
        ranges[name] = [_number("--range", text, p) for p in parts]
    return ranges


def _split_option(option: str, text: str, seen: dict[str, list[float]]) -> tuple[str, str]:
    name, equals, values = text.partition("=")
    name = name.strip()
    if not equals or not name or not values.strip():
        raise SweepSpecError(f"{option} {text!r}: expected field=values")
    if name in seen:
        raise SweepSpecError(f"{option} {text!r}: {name} is given twice")
    return name, values


def _number(option: str, text: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise SweepSpecError(f"{option} {text!r}: {value.strip()!r} is not a number") from None


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A validated sweep: made by :func:`spec_from_dict`, never by hand."""

    inputs: tuple[InputSpec, ...]
    policies: tuple[str, ...]
    grid: dict[str, tuple[float, ...]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    random: int | None = None
    """How many random cells; ``None`` is a grid search."""
    seed: int = 7
    """Drives the random draws; the seeds of a random input are ``seed, seed + 1, ...``."""
    seeds: int = 3
    """Seeds per cell on a random input (a deterministic input runs one)."""
    radius_km: float | None = None
    """``None``: the replay's default (an MDRP instance's whole map, 5 km on an order log)."""
    location_interval_min: float = 2.0
    scenario: str | None = None
    """A what-if applied to every input (``--scenario``, ``replay.scenario``)."""

    @property
    def what_if(self) -> Scenario | None:
        """The parsed :attr:`scenario`."""
        return parse_scenario(self.scenario) if self.scenario else None

    def seeds_for(self, source: InputSpec) -> range:
        """The seeds ``source`` runs with: one when every seed replays the same data."""
        return range(self.seed, self.seed + (1 if source.deterministic else self.seeds))


SPEC_KEYS = frozenset(f.name for f in fields(SweepSpec))
"""The keys of a spec file (and of ``spec`` in ``sweep.json``): the spec's fields."""


def spec_to_dict(spec: SweepSpec) -> dict[str, Any]:
    """The spec as JSON-ready values (the format of a spec file and of ``sweep.json``)."""
    return {
        "inputs": [s.text for s in spec.inputs],
        "policies": list(spec.policies),
        "grid": {k: list(v) for k, v in spec.grid.items()},
        "ranges": {k: list(v) for k, v in spec.ranges.items()},
        "random": spec.random,
        "seed": spec.seed,
        "seeds": spec.seeds,
        "radius_km": spec.radius_km,
        "location_interval_min": spec.location_interval_min,
        "scenario": spec.scenario,
    }


def spec_from_dict(values: dict[str, Any]) -> SweepSpec:
    """Check and build a spec; missing keys take the defaults (the bundled sample, greedy)."""
    unknown = sorted(set(values) - SPEC_KEYS)
    if unknown:
        raise SweepSpecError(f"unknown spec key(s): {', '.join(unknown)}")
    try:
        spec = _build(values)
    except SweepSpecError:
        raise
    except (TypeError, ValueError) as error:
        raise SweepSpecError(f"bad spec value: {error}") from None
    _check(spec)
    return spec


def _build(values: dict[str, Any]) -> SweepSpec:
    grid = {k: tuple(float(v) for v in vs) for k, vs in (values.get("grid") or {}).items()}
    ranges = {k: (float(lo), float(hi)) for k, (lo, hi) in (values.get("ranges") or {}).items()}
    random_cells, radius = values.get("random"), values.get("radius_km")
    return SweepSpec(
        inputs=_inputs(values.get("inputs") or ["sample"]),
        policies=tuple(dict.fromkeys(str(p) for p in values.get("policies") or [DEFAULT_POLICY])),
        grid=grid,
        ranges=ranges,
        random=None if random_cells is None else int(random_cells),
        seed=int(values.get("seed", 7)),
        seeds=int(values.get("seeds", 3)),
        radius_km=None if radius is None else float(radius),
        location_interval_min=float(values.get("location_interval_min", 2.0)),
        scenario=_scenario(values.get("scenario")),
    )


def _scenario(text: object) -> str | None:
    if not text:
        return None
    try:
        return parse_scenario(str(text)).text() or None
    except ValueError as error:
        raise SweepSpecError(f"--scenario: {error}") from None


def _inputs(texts: list[str]) -> tuple[InputSpec, ...]:
    inputs = tuple(parse_input(t) for t in texts)
    names = [s.name for s in inputs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SweepSpecError(f"--input: two inputs are named {', '.join(twice)}")
    return inputs


def _check(spec: SweepSpec) -> None:
    try:
        specs = [policy_spec(policy) for policy in spec.policies]
    except ValueError as error:
        raise SweepSpecError(str(error)) from None
    params = {p.name for policy in specs for p in policy.parameters}
    for option, names in (("--grid", spec.grid), ("--range", spec.ranges)):
        for name in names:
            if name not in WEIGHT_FIELDS and name not in params:
                known = ", ".join([*WEIGHT_FIELDS, *sorted(params)])
                raise SweepSpecError(
                    f"{option}: unknown weight or parameter {name!r}; known: {known}"
                )
    for name, values in spec.grid.items():
        if not values:
            raise SweepSpecError(f"--grid {name}: no values")
    for name, (low, high) in spec.ranges.items():
        if low > high:
            raise SweepSpecError(f"--range {name}={low}:{high}: low is above high")
    both = sorted(set(spec.grid) & set(spec.ranges))
    if both:
        raise SweepSpecError(f"{', '.join(both)}: in both --grid and --range; give one")
    _check_search(spec)


def _check_search(spec: SweepSpec) -> None:
    if spec.random is None:
        if spec.ranges:
            raise SweepSpecError("--range needs --random N (a grid search takes --grid values)")
    elif spec.random < 1:
        raise SweepSpecError(f"--random {spec.random}: give at least one cell")
    elif not (spec.ranges or spec.grid):
        raise SweepSpecError("--random N needs --range (or --grid) to draw weights from")
    if spec.seeds < 1:
        raise SweepSpecError(f"--seeds {spec.seeds}: give at least one seed")


def spec_from_options(
    *,
    inputs: list[str],
    policies: list[str],
    grid: list[str],
    ranges: list[str],
    random: int | None,
    seed: int,
    seeds: int,
    radius_km: float | None,
    scenario: str | None = None,
) -> SweepSpec:
    """A spec from the command line's options (each list as given, repeated options)."""
    return spec_from_dict(
        {
            "inputs": inputs,
            "policies": policies,
            "grid": parse_grid(grid),
            "ranges": parse_ranges(ranges),
            "random": random,
            "seed": seed,
            "seeds": seeds,
            "radius_km": radius_km,
            "scenario": scenario,
        }
    )


def load_spec_file(path: Path) -> SweepSpec:
    """A spec from a JSON or (``.toml``) TOML file with the keys of :func:`spec_to_dict`."""
    try:
        text = path.read_text()
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as error:
        raise SweepSpecError(f"spec file {path}: {error}") from None
    if not isinstance(values, dict):
        raise SweepSpecError(f"spec file {path}: expected an object of spec keys")
    return spec_from_dict(values)


@dataclass(frozen=True, slots=True)
class Cell:
    """One point of the sweep: a policy, its scoring weights and parameter overrides."""

    policy: str
    weights: ScoringWeights
    params: tuple[tuple[str, ParamValue], ...] = ()
    """Overrides of the policy's registry parameters, by name."""

    @property
    def cell_id(self) -> str:
        """``<policy>-<hash of weights and params>``: the same cell keeps its id across
        sweeps (a cell without params hashes as before params could be swept)."""
        parts: list[Any] = [self.policy, asdict(self.weights)]
        if self.params:
            parts.append(dict(self.params))
        key = json.dumps(parts, sort_keys=True)
        return f"{self.policy}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"

    @property
    def params_json(self) -> str:
        """The parameter overrides as a JSON object (``{}``: the policy's defaults)."""
        return json.dumps(dict(self.params), sort_keys=True)


def expand_cells(spec: SweepSpec) -> list[Cell]:
    """Every cell of the spec, each policy crossed with every point, without repeats; a
    point's parameters apply to the policies that declare them."""
    cells = [_cell(policy, point) for point in _points(spec) for policy in spec.policies]
    return list(dict.fromkeys(cells))


def _cell(policy: str, point: dict[str, float]) -> Cell:
    declared = {p.name: p.type for p in policy_spec(policy).parameters}
    weights = {k: v for k, v in point.items() if k in WEIGHT_FIELDS}
    params = tuple(
        sorted((k, _typed(k, v, declared[k])) for k, v in point.items() if k in declared)
    )
    return Cell(policy, replace(ScoringWeights(), **weights), params)


def _typed(name: str, value: float, kind: type[ParamValue]) -> ParamValue:
    """A swept number as the parameter's type (a whole number for an int, 0/1 for a bool)."""
    if kind is float:
        return value
    if value != int(value) or (kind is bool and value not in (0, 1)):
        raise SweepSpecError(f"{name} is {kind.__name__}: {value} does not fit")
    return kind(int(value))


def _points(spec: SweepSpec) -> list[dict[str, float]]:
    if spec.random is None:
        names = list(spec.grid)
        product = itertools.product(*spec.grid.values())
        return [dict(zip(names, values, strict=True)) for values in product]
    rng = random.Random(spec.seed)  # noqa: S311 - a search, not cryptography
    return [_draw(rng, spec) for _ in range(spec.random)]


def _draw(rng: random.Random, spec: SweepSpec) -> dict[str, float]:
    point = {name: rng.choice(values) for name, values in spec.grid.items()}
    point |= {name: round(rng.uniform(lo, hi), 4) for name, (lo, hi) in spec.ranges.items()}
    return point
