import numpy as np
import pandas as pd
import pytest

from dipcheck.answer_checks import factorize_column


@pytest.mark.parametrize(
    "values",
    [
        ["a", "a", "a", "b", "b", "a", "a", "c", "c", "c"],  # runs: hashed once per run
        ["a", "b", "a", "b", "c", "a"],  # mostly run starts: plain factorize
        ["a", "a", None, None, "b", "b", None, "a"],  # missing values inside runs
        ["a", "a", float("nan"), float("nan"), "b", "b"],  # NaN never equals itself
        ["a", "a", pd.NA, pd.NA, "b", "b"],  # pd.NA cannot be compared: plain factorize
        ["only"],
        [],
    ],
)
def test_factorize_column_matches_pandas(values):
    series = pd.Series(values, dtype=object)
    codes, uniques = factorize_column(series)
    expected_codes, expected_uniques = pd.factorize(series)

    assert np.array_equal(np.asarray(codes), expected_codes)
    assert list(uniques) == list(expected_uniques)


def test_factorize_column_string_dtype():
    series = pd.Series(["x", "x", "y", None, "y", "y"], dtype="string")
    codes, uniques = factorize_column(series)
    expected_codes, expected_uniques = pd.factorize(series)

    assert np.array_equal(np.asarray(codes), expected_codes)
    assert list(uniques) == list(expected_uniques)
