import pandas as pd
import pytest

from dipcheck.screening import screen_notes, screen_text


@pytest.mark.parametrize(
    ("note", "removed"),
    [
        ("Referral made for Mr Smith on the day.", "Mr Smith"),
        ("Mrs Jones was not told of the arrest.", "Mrs Jones"),
        ("PC Walker updated the victim.", "PC Walker"),
        ("Email jane.doe@example.org sent.", "jane.doe@example.org"),
        ("Phoned 01632 960123 twice.", "01632 960123"),
        ("Phoned +44 20 7946 0018 twice.", "20 7946 0018"),
        ("Lives at SW1A 1AA.", "SW1A 1AA"),
        ("Born 12/03/1985.", "12/03/1985"),
        ("Born 3 March 1985.", "3 March 1985"),
        ("See 2026-05-01 entry.", "2026-05-01"),
        ("See CR-2026-000123 for details.", "CR-2026-000123"),
        ("Crime 01/123456/26 filed.", "01/123456/26"),
        ("Incident MPS1234567 linked.", "MPS1234567"),
    ],
)
def test_screen_text_removes(note, removed):
    screened, matches = screen_text(note)

    assert removed not in screened
    assert matches >= 1


def test_screen_text_literal_reference():
    screened, matches = screen_text("Case zx9q had no letter.", ["ZX9Q"])

    assert screened == "Case [removed] had no letter."
    assert matches == 1


@pytest.mark.parametrize(
    ("note", "references", "expected", "count"),
    [
        (
            "Files ab12 and AB12-X both late.",
            ["AB12", "AB12-X"],
            "Files [removed] and [removed] both late.",
            2,
        ),
        ("Case zxQ had no letter.", ["zxq", "ZXQ"], "Case [removed] had no letter.", 1),
        # The Kelvin sign matches "k" under IGNORECASE, so non-ASCII text still goes
        # through the pattern.
        ("Case \u212a7Q had no letter.", ["k7q"], "Case [removed] had no letter.", 1),
        ("Case k7q had no letter.", ["\u212a7Q"], "Case [removed] had no letter.", 1),
        ("No reference here.", ["ZX9Q"], "No reference here.", 0),
    ],
)
def test_screen_text_reference_cases(note, references, expected, count):
    screened, matches = screen_text(note, references)

    assert screened == expected
    assert matches == count


@pytest.mark.parametrize(
    "note",
    [
        "Referral to Victim Support within 2 working days.",
        "VPS offered and taken in 120 cases reviewed.",
        "Right 4 met; R11 not applicable.",
        "The Witness Care Unit told the victim the outcome.",
    ],
)
def test_screen_text_keeps_plain_notes(note):
    screened, matches = screen_text(note)

    assert screened == note
    assert matches == 0


def test_screen_notes_counts():
    reviews = pd.DataFrame(
        {
            "case_reference": ["A1", "A2", "A3"],
            "good_practice": ["Mr Smith was kind.", "", None],
            "areas_for_improvement": ["No letter.", "Call 01632 960123.", "Late update."],
        }
    )

    screened = screen_notes(reviews, case_references=reviews["case_reference"])

    assert len(screened.notes) == 4
    assert screened.redacted_notes == 2
    assert "case_reference" not in screened.notes.columns
