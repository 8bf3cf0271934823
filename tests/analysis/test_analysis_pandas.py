"""The analyses as pandas DataFrames (``swifteats.analysis.pandas_frames``)."""

from __future__ import annotations

import pandas as pd
import pytest

from swifteats import analysis
from swifteats.analysis import pandas_frames as pa
from tests.analysis.helpers import Runs


def test_every_analysis_returns_pandas_where_it_returned_polars(runs: Runs) -> None:
    kpis = pa.run_kpis([runs.base, runs.far])

    assert isinstance(kpis, pd.DataFrame)
    pd.testing.assert_frame_equal(kpis, analysis.run_kpis([runs.base, runs.far]).to_pandas())
    assert isinstance(pa.latency_by_stage([runs.base]), pd.DataFrame)
    assert pa.STAGES is analysis.STAGES and sorted(pa.__all__) == sorted(analysis.__all__)


def test_a_pandas_frame_passed_in_is_read_as_polars() -> None:
    cells = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [3.0, 1.0, 4.0]})

    marked = pa.mark_pareto(cells, "x", "y")

    assert isinstance(marked, pd.DataFrame)
    assert marked["on_front"].tolist() == [True, True, False]


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pa.nothing  # noqa: B018
