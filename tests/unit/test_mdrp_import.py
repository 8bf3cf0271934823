"""Importing an MDRP instance folder, in place, as a replay input."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from replay.inputs import PlanarEta
from replay.mdrp.instance import (
    HEADERS,
    MdrpFormatError,
    MdrpInstance,
    load_mdrp_instance,
    mdrp_root,
    read_instance,
)
from swifteats.domain.fleet import ServiceTimes

INSTANCE = "0o100t100s1p100"
SKIP = "MDRP instances not found: set SWIFTEATS_MDRP_DIR or put shared/ beside the repo"

TINY = {
    "orders.txt": "o1\t100\t0\t5\tr1\t15\no2\t0\t0\t3\tr1\t9\n",
    "restaurants.txt": "r1\t0\t0\n",
    "couriers.txt": "c1\t10\t20\t0\t90\n",
    "instance_parameters.txt": "320\t4\t4\t40\t90\t10\t15\n",
}


def write_instance(folder: Path, **replaced: str) -> Path:
    """A tiny valid instance in ``folder``; ``replaced`` swaps a file's data lines."""
    folder.mkdir(exist_ok=True)
    for name, data in {**TINY, **{f"{k}.txt": v for k, v in replaced.items()}}.items():
        (folder / name).write_text("\t".join(HEADERS[name]) + "\n" + data)
    return folder


@pytest.fixture(scope="module")
def instance_dir() -> Path:
    root = mdrp_root()
    if root is None:
        pytest.skip(SKIP)
    return root / INSTANCE


def characteristics(folder: Path) -> dict[str, float]:
    """The ``name: value`` lines at the top of instance_characteristics.txt."""
    text = (folder / "instance_characteristics.txt").read_text()
    return {m[1]: float(m[2]) for m in re.finditer(r"^([a-z ()]+): ([\d.]+)$", text, re.M)}


def test_counts_match_the_instance_characteristics(instance_dir: Path) -> None:
    mdrp, data = load_mdrp_instance(instance_dir)
    published = characteristics(instance_dir)
    assert len(data.orders) == published["number of orders"] == 505
    assert len(mdrp.restaurants) == published["number of restaurants"]
    assert len(data.drivers) == published["number of couriers"]
    hours = sum(d.shift_end - d.shift_start for d in data.drivers) / 60
    assert hours == pytest.approx(published["total courier hours"])


def test_parameters_service_times_and_travel_model(instance_dir: Path) -> None:
    mdrp, data = load_mdrp_instance(instance_dir)
    assert (mdrp.meters_per_minute, mdrp.pickup_minutes, mdrp.dropoff_minutes) == (320, 4, 4)
    assert (mdrp.target_click_to_door, mdrp.max_click_to_door) == (40, 90)
    assert (mdrp.pay_per_order, mdrp.guaranteed_pay_per_hour) == (10, 15)
    assert data.service_times == ServiceTimes(4, 4)
    assert isinstance(data.eta, PlanarEta) and data.eta.meters_per_minute == 320


def test_orders_keep_their_ids_metres_and_minutes(instance_dir: Path) -> None:
    mdrp, data = load_mdrp_instance(instance_dir)
    assert isinstance(data.eta, PlanarEta)
    placed = [o.placed_at for o in data.orders]
    assert placed == sorted(placed)
    first = data.orders[0]
    published = mdrp.orders[first.order_id]
    assert (first.placed_at, first.ready_at) == (published.placement_time, published.ready_time)
    assert first.restaurant_id == published.restaurant
    x, y = data.eta.projection.to_metres(first.customer)
    assert (x, y) == pytest.approx(published.location, abs=1e-6)


def test_the_source_hash_covers_the_input_files(instance_dir: Path) -> None:
    digest = hashlib.sha256()
    for name in ("orders.txt", "restaurants.txt", "couriers.txt", "instance_parameters.txt"):
        digest.update((instance_dir / name).read_bytes())
    assert load_mdrp_instance(instance_dir).data.source_hash == digest.hexdigest()


def test_a_tiny_instance_loads_with_ties_in_file_order(tmp_path: Path) -> None:
    instance = read_instance(write_instance(tmp_path / "tiny"))
    assert isinstance(instance, MdrpInstance) and instance.name == "tiny"
    assert instance.travel((0, 0), (100, 0)) == 1
    assert [o.order_id for o in load_mdrp_instance(tmp_path / "tiny").data.orders] == ["o2", "o1"]


@pytest.mark.parametrize(
    ("file", "data", "message"),
    [
        (
            "orders",
            "o1\t1\t2\t3\tr1\n",
            r"orders.txt: line 2: expected 6 columns \(tab-separated\), got 5",
        ),
        ("orders", "o1\t1\t2\t3\tr1\t9\no2\t1\tx\t3\tr1\t9\n", r"line 3, column 3 \(y\)"),
        ("orders", "o1\t1\t2\t3.5\tr1\t9\n", r"line 2, column 4 \(placement_time\).*whole"),
        ("orders", "o1\t1\t2\t3\tr9\t9\n", r"line 2, column 5 \(restaurant\).*unknown"),
        ("orders", "o1\t1\t2\t3\tr1\t9\no1\t1\t2\t3\tr1\t9\n", r"line 3, column 1.*duplicate"),
        ("couriers", "c1\t0\t0\t60\t30\n", r"couriers.txt: line 2, column 5 \(off_time\)"),
        ("restaurants", "r1\t0\t\n", r"line 2, column 3 \(y\): empty"),
        ("instance_parameters", "0\t4\t4\t40\t90\t10\t15\n", r"column 1 .*positive"),
        ("instance_parameters", "", r"instance_parameters.txt: expected one line"),
    ],
)
def test_a_malformed_file_is_named_with_line_and_column(
    tmp_path: Path, file: str, data: str, message: str
) -> None:
    folder = write_instance(tmp_path / "bad", **{file: data})
    with pytest.raises(MdrpFormatError, match=message):
        read_instance(folder)


def test_a_wrong_header_is_line_1(tmp_path: Path) -> None:
    folder = write_instance(tmp_path / "bad")
    (folder / "orders.txt").write_text("order\ty\tx\tplacement_time\trestaurant\tready_time\n")
    with pytest.raises(MdrpFormatError, match=r"orders.txt: line 1: expected the header"):
        read_instance(folder)


def test_a_missing_folder_or_file_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_mdrp_instance(tmp_path / "nowhere")
    folder = write_instance(tmp_path / "partial")
    (folder / "couriers.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"partial/couriers.txt"):
        read_instance(folder)


def test_mdrp_root_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWIFTEATS_MDRP_DIR", str(tmp_path))
    assert mdrp_root() == tmp_path
    monkeypatch.setenv("SWIFTEATS_MDRP_DIR", str(tmp_path / "absent"))
    assert mdrp_root() is None
