"""Every assignment policy by name: what it is, whether it is windowed, its parameters.

The names are what ``SWIFTEATS_POLICY`` (the services), ``--policy`` (``swifteats
replay``, ``swifteats sweep``, ``swifteats bench policies``) and the settings accept.

- :data:`REGISTRY`: name -> :class:`PolicySpec` (a one-line description, the factory, the
  default parameters, the Assigner's ordering of a one-at-a-time policy).
- :func:`policy_spec`: the one lookup; an unknown name is a ValueError listing the known.
- :func:`build_policy`: a policy by name for a context, with an optional window and
  parameter overrides checked against its declared parameters.
- :func:`ordering`: the Assigner's ordering of a one-at-a-time policy.
- :func:`parse_params`: overrides from JSON (``--params``, ``SWIFTEATS_POLICY_PARAMS``).
- :func:`param_values`: every parameter of a policy as it runs (for manifests).

A policy's parameters are the fields of its frozen parameter dataclass, with the values of
the spec's ``defaults`` as defaults; overrides are validated by name and type.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from swifteats.domain.policies.base import DispatchPolicy, NoParams, PolicyContext
from swifteats.domain.policies.batch_matching import BatchMatching, BatchMatchingParams
from swifteats.domain.policies.greedy import OneAtATime, Ordering, by_distance, by_score
from swifteats.domain.policies.route_matching import (
    ROLLING_HORIZON,
    RouteMatching,
    RouteMatchingParams,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ParamValue = float | int | bool
"""What a parameter may be set to."""

P = TypeVar("P", bound="DataclassInstance")

Factory = Callable[[PolicyContext, P, str], DispatchPolicy]
"""Builds a policy from the context, its parameters and its name."""

DEFAULT_POLICY = "greedy-score"


@dataclass(frozen=True, slots=True)
class Parameter:
    """One tunable parameter of a policy."""

    name: str
    default: ParamValue
    type: type[ParamValue]


@dataclass(frozen=True, slots=True)
class PolicySpec(Generic[P]):
    """A policy as the registry knows it."""

    name: str
    description: str
    """One line, for ``--help``."""
    factory: Factory[P]
    defaults: P
    """The policy's parameters (a frozen dataclass) as it runs unless told otherwise."""
    ordering: Ordering | None = None
    """The Assigner's ordering of a one-at-a-time policy; None: the policy is windowed."""

    @property
    def windowed(self) -> bool:
        """Whether it decides on a window (not one request at a time)."""
        return self.ordering is None

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Its tunable parameters, with their defaults and types."""
        hints = typing.get_type_hints(type(self.defaults))
        return tuple(
            Parameter(f.name, getattr(self.defaults, f.name), hints[f.name])
            for f in fields(self.defaults)
        )

    def params_with(self, overrides: Mapping[str, ParamValue]) -> P:
        """Its defaults with ``overrides``.

        Raises:
            ValueError: a name it has no parameter of, or a value of the wrong type (the
                message names the parameters and their types).
        """
        declared = {p.name: p for p in self.parameters}
        for name, value in overrides.items():
            if name not in declared:
                known = ", ".join(f"{p.name} ({p.type.__name__})" for p in declared.values())
                raise ValueError(
                    f"policy {self.name!r} has no parameter {name!r}; "
                    f"its parameters: {known or 'none'}"
                )
            _check_type(self.name, declared[name], value)
        converted = {n: declared[n].type(v) for n, v in overrides.items()}
        return replace(self.defaults, **converted)


def _check_type(policy: str, parameter: Parameter, value: object) -> None:
    """A bool only for a bool, an int (not a bool) for an int, either number for a float."""
    allowed: tuple[type, ...] = {bool: (bool,), int: (int,), float: (int, float)}[parameter.type]
    if not isinstance(value, allowed) or (parameter.type is not bool and isinstance(value, bool)):
        raise ValueError(
            f"parameter {parameter.name!r} of policy {policy!r} must be "
            f"{parameter.type.__name__}, not {value!r} ({type(value).__name__})"
        )


def _one_at_a_time(name: str, description: str, order: Ordering) -> PolicySpec[NoParams]:
    def build(context: PolicyContext, params: NoParams, built_name: str) -> DispatchPolicy:
        return OneAtATime(context, params, built_name, order)

    return PolicySpec(name, description, build, NoParams(), order)


_SPECS: tuple[PolicySpec[Any], ...] = (
    _one_at_a_time(
        "greedy-score", "one request at a time, the design's score best first", by_score
    ),
    _one_at_a_time("nearest", "one request at a time, the nearest available driver", by_distance),
    PolicySpec(
        "batch-matching",
        "each window, a minimum-cost matching of orders to free drivers on the design's score",
        BatchMatching,
        BatchMatchingParams(),
    ),
    PolicySpec(
        "bundling",
        "each window, one restaurant's orders bundled into routes for drivers free now or soon",
        RouteMatching,
        RouteMatchingParams(),
    ),
    PolicySpec(
        "rolling-horizon",
        "bundling that commits a route only when waiting would make its driver late",
        RouteMatching,
        ROLLING_HORIZON,
    ),
)

REGISTRY: Mapping[str, PolicySpec[Any]] = {spec.name: spec for spec in _SPECS}
"""Every policy by name, the default first."""

POLICY_NAMES = tuple(REGISTRY)


def policy_spec(name: str) -> PolicySpec[Any]:
    """The policy called ``name``; a ValueError listing the known names otherwise."""
    spec = REGISTRY.get(name)
    if spec is None:
        raise ValueError(f"unknown policy {name!r}; known policies: {', '.join(POLICY_NAMES)}")
    return spec


def build_policy(
    name: str,
    context: PolicyContext,
    *,
    window_minutes: float | None = None,
    params: Mapping[str, ParamValue] | None = None,
) -> DispatchPolicy:
    """The policy called ``name`` behind the interface of ``swifteats.domain.policies.base``.

    A windowed one decides every ``window_minutes`` (default: its own window); ``params``
    override its declared parameters.

    Raises:
        ValueError: an unknown policy or parameter, a value of the wrong type, a window
            for a one-at-a-time policy, or the window given twice.
    """
    spec = policy_spec(name)
    overrides = dict(params or {})
    if window_minutes is not None:
        if not spec.windowed:
            raise ValueError(f"policy {name!r} decides one request at a time, not on a window")
        if "window_minutes" in overrides:
            raise ValueError("give the window once: as window_minutes or among the parameters")
        overrides["window_minutes"] = window_minutes
    return spec.factory(context, spec.params_with(overrides), spec.name)


def ordering(name: str) -> Ordering:
    """The Assigner's ordering for a one-at-a-time policy.

    Raises:
        ValueError: an unknown name (the message lists the known ones), or a windowed
            policy, which the Assigner cannot run.
    """
    chosen = policy_spec(name).ordering
    if chosen is None:
        raise ValueError(f"policy {name!r} decides on a window, not one request at a time")
    return chosen


def parse_params(text: str) -> dict[str, ParamValue]:
    """Parameter overrides from a JSON object (blank: none); names and types are checked
    against a policy by :meth:`PolicySpec.params_with`.

    Raises:
        ValueError: not JSON, not an object, or a value that is not a number or a bool.
    """
    if not text.strip():
        return {}
    try:
        values: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"policy parameters are not JSON: {error}") from None
    if not isinstance(values, dict):
        raise ValueError("policy parameters must be a JSON object")
    for name, value in values.items():
        if not isinstance(value, bool | int | float):
            raise ValueError(f"policy parameter {name!r} must be a number or a bool, not {value!r}")
    return dict(values)


def param_values(
    name: str, overrides: Mapping[str, ParamValue] | None = None
) -> dict[str, ParamValue]:
    """Every parameter of the policy called ``name``, its defaults with ``overrides``.

    Raises:
        ValueError: as :meth:`PolicySpec.params_with`.
    """
    params: dict[str, ParamValue] = asdict(policy_spec(name).params_with(overrides or {}))
    return params
