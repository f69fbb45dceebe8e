import numpy as np
import pandas as pd
import pytest

from dipcheck.errors import ParameterError
from dipcheck.sampling import _members_by_stratum, draw_sample, stratum_labels


def make_frame(sizes: dict[str, int]) -> pd.DataFrame:
    rows = []
    for area, size in sizes.items():
        for number in range(size):
            rows.append({"case_reference": f"{area[:3].upper()}-{number:05d}", "area": area})
    return pd.DataFrame(rows)


SIZES = {"Northmoor": 600, "Eastvale": 300, "Southby": 90, "Westford": 10}


def test_strata_population_matches_frame():
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    population = dict(zip(draw.design["stratum"], draw.design["population"], strict=True))
    assert population == SIZES


def test_sample_sizes_add_up():
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    assert draw.design["sample"].sum() == 100
    assert len(draw.sample) == 100


def test_proportional_allocation_by_hand():
    # 100 of 1,000 cases: 10% of each stratum is 60, 30, 9 and 1. Westford gets the
    # minimum of 2, so one case comes off the largest remainder elsewhere.
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    sample = dict(zip(draw.design["stratum"], draw.design["sample"], strict=True))
    assert sample["Westford"] == 2
    assert sample["Northmoor"] + sample["Eastvale"] + sample["Southby"] == 98
    assert 59 <= sample["Northmoor"] <= 60
    assert 29 <= sample["Eastvale"] <= 30
    assert 8 <= sample["Southby"] <= 9


def test_drawn_cases_belong_to_their_stratum():
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    assert (draw.cases["stratum"] == draw.cases["area"]).all()


def test_counts_per_stratum_match_design():
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    counted = draw.sample.groupby("stratum").size()
    designed = draw.design.set_index("stratum")["sample"]
    assert counted.to_dict() == designed.to_dict()


def test_reserves_are_other_cases():
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    sampled = set(draw.sample["case_reference"])
    reserves = set(draw.reserves["case_reference"])
    assert reserves
    assert not sampled & reserves
    assert draw.cases["case_reference"].is_unique


def test_reserve_follows_sample_in_draw_order():
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    for _, members in draw.cases.groupby("stratum"):
        last_sampled = members.loc[members["role"] == "sample", "draw_order"].max()
        first_reserve = members.loc[members["role"] == "reserve", "draw_order"].min()
        assert first_reserve > last_sampled


def test_same_seed_same_draw():
    frame = make_frame(SIZES)
    first = draw_sample(frame, sample_size=100, seed=7, stratify_by=["area"])
    second = draw_sample(frame, sample_size=100, seed=7, stratify_by=["area"])
    pd.testing.assert_frame_equal(first.cases, second.cases)


def test_other_seed_other_draw():
    frame = make_frame(SIZES)
    first = draw_sample(frame, sample_size=100, seed=7, stratify_by=["area"])
    second = draw_sample(frame, sample_size=100, seed=8, stratify_by=["area"])
    assert set(first.sample["case_reference"]) != set(second.sample["case_reference"])


def test_row_order_does_not_change_draw():
    frame = make_frame(SIZES)
    shuffled = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    first = draw_sample(frame, sample_size=100, seed=7, stratify_by=["area"])
    second = draw_sample(shuffled, sample_size=100, seed=7, stratify_by=["area"])
    assert list(first.cases["case_reference"]) == list(second.cases["case_reference"])


def test_members_sorted_as_python_sorts_text():
    references = ["b-2", "B-10", "a-9", "a-10", "é-1", "Z", "z", "a", "ab", "a b", "Ω-3"]
    frame = pd.DataFrame({"case_reference": references, "area": "All"})
    shuffled = frame.sample(frac=1, random_state=5).reset_index(drop=True)
    labels = stratum_labels(shuffled, ["area"])

    (members,) = _members_by_stratum(shuffled, labels, pd.Index(["All"]))

    assert list(shuffled["case_reference"].iloc[members]) == sorted(references)


def test_selection_is_uniform_within_stratum():
    # Each of 50 cases should be drawn with probability 10/50 = 0.2. Over 400 seeds the
    # count per case is Binomial(400, 0.2): mean 80, sd 8. Bounds of 80 ± 40 (5 sd) fail
    # only for a badly biased draw.
    frame = make_frame({"Only": 50})
    counts = pd.Series(0, index=frame["case_reference"])
    for seed in range(400):
        drawn = draw_sample(frame, sample_size=10, seed=seed).sample["case_reference"]
        counts[drawn.to_numpy()] += 1
    assert counts.min() >= 40
    assert counts.max() <= 120
    assert counts.sum() == 4000


def test_whole_frame_can_be_drawn():
    frame = make_frame({"Only": 12})
    draw = draw_sample(frame, sample_size=12, seed=1)
    assert len(draw.sample) == 12
    assert draw.reserves.empty


@pytest.mark.parametrize(
    ("sample_size", "message"),
    [
        (0, "at least 1"),
        (-5, "at least 1"),
        (1001, "larger than the frame"),
        (2.5, "whole number"),
    ],
)
def test_invalid_sample_size(sample_size, message):
    frame = make_frame(SIZES)
    with pytest.raises(ParameterError, match=message):
        draw_sample(frame, sample_size=sample_size, seed=1, stratify_by=["area"])


def test_unknown_stratify_column():
    frame = make_frame(SIZES)
    with pytest.raises(ParameterError, match="no such column"):
        draw_sample(frame, sample_size=10, seed=1, stratify_by=["borough"])


def test_blank_stratum_value_kept():
    frame = make_frame({"Northmoor": 5})
    frame.loc[0, "area"] = None
    frame.loc[1, "area"] = "  "
    labels = stratum_labels(frame, ["area"])
    assert labels.tolist().count("Not recorded") == 2


def test_two_stratify_columns_join():
    frame = pd.DataFrame(
        {"case_reference": ["a", "b"], "area": ["North", "South"], "group": ["Theft", "Burglary"]}
    )
    labels = stratum_labels(frame, ["area", "group"])
    assert labels.tolist() == ["North / Theft", "South / Burglary"]


def test_draw_order_is_whole_draw():
    frame = make_frame(SIZES)
    draw = draw_sample(frame, sample_size=100, seed=1, stratify_by=["area"])
    assert sorted(draw.cases["draw_order"]) == list(np.arange(1, len(draw.cases) + 1))
