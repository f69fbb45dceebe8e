import math

import numpy as np
import pandas as pd
import pytest

from dipcheck.allocation import allocate
from dipcheck.errors import ParameterError

FRAME = pd.Series({"Barnet": 500, "Camden": 300, "Ealing": 12, "Enfield": 0, "Harrow": 3})


@pytest.mark.parametrize("method", ["proportional", "equal", "neyman"])
@pytest.mark.parametrize("total", [4, 10, 57, 100, 333, 815])
def test_allocate_sums_and_caps(method, total):
    allocation = allocate(FRAME, total, method=method)

    assert allocation.sum() == total
    assert (allocation <= FRAME).all()
    assert (allocation >= np.minimum(FRAME, 1)).all()
    assert list(allocation.index) == list(FRAME.index)
    assert allocation.dtype == np.int64


def test_allocate_proportional_values():
    frame = pd.Series({"north": 600, "south": 300, "east": 100})

    allocation = allocate(frame, 50)

    assert allocation.to_dict() == {"north": 30, "south": 15, "east": 5}


def test_allocate_largest_remainder():
    # Exact shares are 3.33 each, so the first stratum listed gets the tenth file.
    frame = pd.Series({"a": 10, "b": 10, "c": 10})

    allocation = allocate(frame, 10)

    assert allocation.to_dict() == {"a": 4, "b": 3, "c": 3}


def test_allocate_equal_with_small_stratum():
    allocation = allocate(FRAME, 100, method="equal")

    assert allocation.to_dict() == {
        "Barnet": 43,
        "Camden": 42,
        "Ealing": 12,
        "Enfield": 0,
        "Harrow": 3,
    }


def test_allocate_neyman_uses_rates():
    frame = pd.Series({"high": 1000, "mid": 1000})
    rates = pd.Series({"high": 0.99, "mid": 0.5})

    allocation = allocate(frame, 100, method="neyman", expected_rates=rates)
    expected_high = 100 * math.sqrt(0.99 * 0.01) / (math.sqrt(0.99 * 0.01) + 0.5)

    assert allocation["high"] == round(expected_high)
    assert allocation.sum() == 100


def test_allocate_neyman_zero_spread_stratum():
    frame = pd.Series({"certain": 1000, "unsure": 10})
    rates = pd.Series({"certain": 1.0, "unsure": 0.5})

    allocation = allocate(frame, 50, method="neyman", expected_rates=rates)

    assert allocation.to_dict() == {"certain": 40, "unsure": 10}


@pytest.mark.parametrize(
    ("total", "minimum", "fragment"),
    [(900, 1, "Cannot draw"), (3, 1, "minimum"), (20, 10, "minimum"), (-1, 1, "Invalid total")],
)
def test_allocate_invalid_totals_raise(total, minimum, fragment):
    with pytest.raises(ParameterError, match=fragment):
        allocate(FRAME, total, minimum=minimum)


def test_allocate_unknown_method_raises():
    with pytest.raises(ParameterError, match="Unknown allocation method"):
        allocate(FRAME, 10, method="optimal")


def test_allocate_negative_population_raises():
    with pytest.raises(ParameterError, match="Invalid population sizes"):
        allocate(pd.Series({"a": -1, "b": 5}), 3)


def test_allocate_nullable_integers():
    frame = pd.Series({"north": 600, "south": 400}, dtype="Int64")

    allocation = allocate(frame, 10)

    assert allocation.to_dict() == {"north": 6, "south": 4}


@pytest.mark.parametrize("sizes", [{"a": 1.5, "b": 5}, {"a": None, "b": 5}, {"a": "many", "b": 5}])
def test_allocate_invalid_population_raises(sizes):
    with pytest.raises(ParameterError, match="Invalid population sizes"):
        allocate(pd.Series(sizes), 3)
