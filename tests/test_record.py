"""Record, the exec-free NamedTuple used on the hook path, behaves like the NamedTuple it stands for."""

from __future__ import annotations

import pickle

import pytest

from governor.meter.tail import Cursor
from governor.policy.calibrate import Capture
from governor.record import Record


class Point(Record):
    x: int
    y: int
    label: str = "p"

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)


def test_positional_keyword_defaults_and_methods() -> None:
    p = Point(1, y=-2)
    assert (p.x, p.y, p.label, p.norm1) == (1, -2, "p", 3)
    assert p == (1, -2, "p") and tuple(p) == (1, -2, "p")
    assert Point(*(1, -2)) == p and repr(p) == "Point(x=1, y=-2, label='p')"
    assert p._replace(label="q") == Point(1, -2, "q") and isinstance(p._replace(x=0), Point)
    assert p._asdict() == {"x": 1, "y": -2, "label": "p"}


def test_wrong_arguments_are_errors_like_namedtuple() -> None:
    with pytest.raises(TypeError):
        Point(1)
    with pytest.raises(TypeError):
        Point(1, 2, "a", "extra")
    with pytest.raises(TypeError):
        Point(1, 2, z=3)
    with pytest.raises(TypeError):
        Point(1, 2)._replace(z=1)


def test_real_records_pickle_and_index_like_tuples() -> None:
    capture = Capture("seven_day", 61.0, 1.0e9, 1.0e9 - 60, "statusline")
    assert capture.session is None and capture.fraction == 0.61
    assert pickle.loads(pickle.dumps(capture)) == capture
    cursor = Cursor(*(1, 2, 300, 400, 5, None))
    assert cursor.offset == 300 and cursor[2] == 300
