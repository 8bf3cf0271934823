"""The analyses as pandas DataFrames, for notebooks that work in pandas.

``from swifteats.analysis import pandas_frames as pa``, then ``pa.run_kpis(runs)``: every
name of :mod:`swifteats.analysis`, with the same arguments; a Polars DataFrame it returns
comes back through ``DataFrame.to_pandas()``, and a pandas DataFrame passed in is read
with ``polars.from_pandas`` (needs pandas: the ``research`` extra). Other values
(``STAGES``, lists of paths) pass unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import polars as pl

from swifteats import analysis

__all__ = list(analysis.__all__)


def __getattr__(name: str) -> Any:
    if name not in analysis.__all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(analysis, name)
    return _in_pandas(value) if callable(value) else value


def _in_pandas(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*map(_polars, args), **{k: _polars(v) for k, v in kwargs.items()})
        return result.to_pandas() if isinstance(result, pl.DataFrame) else result

    return wrapper


def _polars(value: Any) -> Any:
    kind = type(value)
    is_pandas = kind.__module__.partition(".")[0] == "pandas" and kind.__name__ == "DataFrame"
    return pl.from_pandas(value) if is_pandas else value
