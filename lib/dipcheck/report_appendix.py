"""The later sections of the report: lessons learned, recommendations, the MoJ return,
and the appendices on method, data quality and provenance."""

from __future__ import annotations

import logging
import re
from typing import Any

import pandas as pd

import dipcheck
from dipcheck import htmlblocks as html
from dipcheck.charts import percent
from dipcheck.disclosure import fewer_than_text, format_counts, suppression_mask
from dipcheck.labels import (
    GENERAL_RIGHT,
    INTERVAL_METHOD_NAMES,
    RELIABILITY_EXPLAINED,
    RELIABILITY_NAMES,
    RIGHT_KEYWORDS,
    RIGHT_NAMES,
)
from dipcheck.mojreturn import moj_return_table
from dipcheck.recommendations import read_recommendations, summarise_recommendations
from dipcheck.report_sections import suppression_note
from dipcheck.reporting import ReportInputs, moj_questions
from dipcheck.screening import ScreenedNotes, screen_notes

logger = logging.getLogger(__name__)

NOTE_KINDS = {"good_practice": "Good practice", "areas_for_improvement": "Areas for improvement"}
CASE_SCORES = {
    1: "1: consistent with policy",
    2: "2: appropriate, with observations",
    3: "3: inappropriate",
    4: "4: no conclusion",
}
_RIGHT_MENTION = re.compile(r"\b(?:right\s+|R)(\d{1,2})\b", re.IGNORECASE)
PERSONAL_COLUMNS = ("case_reference", "reviewer", "name")


def rights_of_note(note: str) -> list[int]:
    """Return the rights a note is about: those it names ("Right 4", "R4"), else by keyword.

    NOTE: matching by keyword is a heuristic; a note that matches no right is listed
    under "Across the victim's journey".
    """
    named = sorted({int(number) for number in _RIGHT_MENTION.findall(note)} & set(RIGHT_NAMES))
    if named:
        return named
    lowered = note.lower()
    return [right for right, words in RIGHT_KEYWORDS.items() if any(w in lowered for w in words)]


_SCREENED: dict[int, tuple[ReportInputs, ScreenedNotes]] = {}


def screened_notes(inputs: ReportInputs) -> ScreenedNotes:
    """Screen the quarter's reviewer notes for personal details, once per report.

    The lessons section and the method appendix both need the screened notes; the result
    is kept for the last inputs screened, keyed by their identity.
    """
    cached = _SCREENED.get(id(inputs))
    if cached is not None and cached[0] is inputs:
        return cached[1]

    reviews = inputs.reviews if inputs.reviews is not None else pd.DataFrame()
    screened = screen_notes(reviews, NOTE_KINDS, inputs.case_references)
    _SCREENED.clear()
    _SCREENED[id(inputs)] = (inputs, screened)
    return screened


def screening_sentence(screened: ScreenedNotes) -> str:
    """Describe what the screening of notes removes, and how many notes it changed."""
    sentence = (
        "Notes are screened before publication: names with a title (such as Mrs or PC), "
        "case references, email addresses, telephone numbers, postcodes and dates would be "
        'replaced by "[removed]".'
    )
    if screened.redacted_notes == 0:
        return sentence + " This quarter no note contained any of these."
    notes = "note" if screened.redacted_notes == 1 else "notes"
    return (
        sentence + f" This quarter {screened.redacted_notes} of {len(screened.notes)} "
        f"{notes} had such details removed."
    )


def _case_count(count: int, threshold: int) -> str:
    """Word a count of cases, showing a count below the threshold as "fewer than N"."""
    if count < threshold:
        return f"{fewer_than_text(threshold)} cases"
    return f"{count} cases"


def lessons_section(inputs: ReportInputs, threshold: int) -> str:
    """Return good practice and areas for improvement from reviewers' notes, by right."""
    heading = html.heading(2, "Lessons learned")
    screened = screened_notes(inputs)
    if screened.notes.empty:
        return html.section(heading, html.paragraph("Reviewers recorded no notes this quarter."))

    grouped: dict[str, dict[str, dict[str, int]]] = {}
    for note in screened.notes.itertuples(index=False):
        rights = rights_of_note(note.note) or [None]
        for right in rights:
            title = RIGHT_NAMES.get(right, GENERAL_RIGHT)
            kinds = grouped.setdefault(title, {kind: {} for kind in NOTE_KINDS})
            kinds[note.kind][note.note] = kinds[note.kind].get(note.note, 0) + 1

    order = [*RIGHT_NAMES.values(), GENERAL_RIGHT]
    few = fewer_than_text(threshold)
    parts = [
        heading,
        html.paragraph(
            "What reviewers noted, grouped by the right each note is about. The same note "
            "is often made about several cases, so each note is listed once with the number "
            f'of cases it was made in; a number from 1 to {threshold - 1} is shown as "{few}".'
        ),
        html.paragraph(screening_sentence(screened)),
    ]
    for title in [title for title in order if title in grouped]:
        parts.append(html.heading(3, title))
        for kind, label in NOTE_KINDS.items():
            notes = grouped[title][kind]
            if not notes:
                continue
            items = []
            for text, count in sorted(notes.items(), key=lambda item: -item[1]):
                items.append(f"{text} (noted in {_case_count(count, threshold)})")
            parts.append(html.heading(4, label))
            parts.append(html.bullet_list(items))

    if inputs.reviews is not None and "case_score" in inputs.reviews.columns:
        parts.append(_case_scores(inputs.reviews, threshold))
    return html.section(*parts)


def _case_scores(reviews: pd.DataFrame, threshold: int) -> str:
    scores = pd.to_numeric(reviews["case_score"], errors="coerce")
    counts = pd.DataFrame(
        [[int((scores == score).sum()) for score in CASE_SCORES]],
        columns=list(CASE_SCORES.values()),
    )
    counts["Cases scored"] = counts.sum(axis=1)
    mask = suppression_mask(counts, threshold, total_column="Cases scored")
    text = format_counts(counts, mask, threshold)
    frame = pd.DataFrame({"Case score": text.columns, "Cases": text.iloc[0].to_list()})
    return html.heading(3, "Overall case scores") + html.table(
        frame, "Reviewers' overall score of each case", notes=suppression_note(threshold)
    )


def _register_table(rows: pd.DataFrame, caption: str) -> str:
    if rows.empty:
        return html.paragraph(f"{caption}: none.")
    frame = pd.DataFrame(
        {
            "Id": rows["id"],
            "Recommendation": rows["recommendation"],
            "Right": rows["right"].map(lambda right: "" if pd.isna(right) else f"Right {right}"),
            "Owner": rows["owner"],
            "Raised": rows["date_raised"].map(str),
            "Due": rows["due"].map(lambda day: "" if day is None else str(day)),
            "Force response": rows["force_response"],
            "Closed": rows["date_closed"].map(lambda day: "" if day is None else str(day)),
        }
    )
    return html.table(frame, caption)


def recommendations_section(inputs: ReportInputs) -> str:
    """Return the recommendations register as it stood at the quarter's end.

    Raises
    ------
    InputError
        If the register is invalid.
    """
    heading = html.heading(2, "Recommendations")
    if not inputs.register_path.exists():
        return html.section(heading, html.paragraph("No recommendations register was found."))

    register = read_recommendations(inputs.register_path)
    summary = summarise_recommendations(register, inputs.quarter)
    return html.section(
        heading,
        html.paragraph(
            f"At the end of the quarter {len(summary.open)} recommendations were open, "
            f"{len(summary.overdue)} of them past their due date. Open recommendations are "
            "carried forward until the force's response closes them."
        ),
        html.heading(3, "Raised this quarter"),
        _register_table(summary.new, "Recommendations raised this quarter"),
        html.heading(3, "Overdue"),
        _register_table(summary.overdue, "Open recommendations past their due date"),
        html.heading(3, "Open"),
        _register_table(summary.open, "Open recommendations at the end of the quarter"),
        html.heading(3, "Closed this quarter"),
        _register_table(summary.closed, "Recommendations closed this quarter"),
    )


def moj_return_for(inputs: ReportInputs, threshold: int) -> pd.DataFrame:
    """Build the quarter's Ministry of Justice return from the report inputs."""
    return moj_return_table(
        inputs.current, moj_questions(inputs.questions), str(inputs.quarter), threshold
    )


def moj_return_section(inputs: ReportInputs, threshold: int) -> str:
    """Return the Ministry of Justice return as a table."""
    table = moj_return_for(inputs, threshold)

    def figure(value: Any) -> str:
        return "" if pd.isna(value) else f"{value:.1f}%"

    frame = pd.DataFrame(
        {
            "Key entitlement": table["entitlement_number"].map(str) + ". " + table["entitlement"],
            "Right": table["right"].map(lambda right: "" if pd.isna(right) else str(right)),
            "Met": table["numerator"].map(lambda value: "" if pd.isna(value) else str(value)),
            "Applied": table["denominator"].map(
                lambda value: "" if pd.isna(value) else str(value)
            ),
            "Percentage": table["percentage"].map(figure),
            "Lower": table["lower"].map(figure),
            "Upper": table["upper"].map(figure),
            "Notes": table["notes"].fillna(""),
        }
    )
    folder = f"reports/{inputs.quarter}/"
    return html.section(
        html.heading(2, "Ministry of Justice return"),
        html.paragraph(
            "The five key entitlements as returned to the Ministry of Justice. The same "
            f"figures are in the files moj-return.csv and moj-return.xlsx in the folder "
            f"{folder} of this project."
        ),
        html.table(frame, f"Key entitlements return, {inputs.quarter}"),
    )


CLEAR_CHANGE_EXPLAINED = (
    "Two samples of cases differ by chance even when nothing has changed. Each change "
    "between two quarters is tested, and because many entitlements are tested at once the "
    "test results are adjusted (Holm's method) so that chance alone rarely produces a "
    'clear change anywhere in the report. A change is "clear" when the adjusted test '
    'result (p-value) is below 0.05; otherwise we say "no clear change". Over three or '
    "more quarters a test for a steady rise or fall (the Cochran-Armitage trend test) is "
    "adjusted the same way, and a clear trend is reported as a steady rise or fall. The "
    "unadjusted and adjusted p-values are in the file reports/{quarter}/changes.csv."
)

AGREEMENT_EXPLAINED = (
    "A share of the cases was checked again by a second reviewer. Agreement is the share "
    "of those cases where both gave the same answer. Kappa and AC1 correct agreement for "
    "chance: 1 is perfect agreement and 0 is no better than chance. Kappa can be low even "
    "when reviewers almost always agree, if nearly every answer is the same one; AC1 does "
    "not have that problem, so we show both."
)


def _decimal(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.2f}"


def agreement_rows(inputs: ReportInputs) -> pd.DataFrame:
    """Return the agreement table in plain terms: one row per question."""
    table = inputs.agreement
    names = [
        "Case score" if question == "case_score" else inputs.name_of(question)
        for question in table["question_id"]
    ]
    return pd.DataFrame(
        {
            "Question": names,
            "Cases checked twice": table["cases"].astype(int).astype(str),
            "Agreement": [percent(value) for value in table["percent_agreement"]],
            "Kappa": [_decimal(value) for value in table["kappa"]],
            "AC1": [_decimal(value) for value in table["ac1"]],
            "AC1 95% interval": [
                "" if pd.isna(low) else f"{low:.2f} to {high:.2f}"
                for low, high in zip(table["ac1_lower"], table["ac1_upper"], strict=True)
            ],
        }
    )


def method_section(inputs: ReportInputs, threshold: int) -> str:
    """Return the appendix on the sample design, exclusions, agreement and reliability."""
    manifest = inputs.manifest
    parts = [
        html.heading(2, "Appendix: method and data quality"),
        html.heading(3, "Sample design"),
        html.paragraph(
            "Case files were drawn at random from the force's records for the quarter, "
            f"separately within each stratum (stratified by "
            f"{', '.join(manifest.get('stratify_by') or []) or 'no variable'}), using the "
            f"random seed {manifest.get('seed', 'not recorded')}. Estimates weight each "
            "stratum by its share of the population and include the finite population "
            "correction."
        ),
    ]

    strata = pd.DataFrame(
        manifest.get("strata") or [], columns=["stratum", "population", "sample"]
    )
    if not strata.empty:
        fraction = strata["sample"] / strata["population"]
        frame = pd.DataFrame(
            {
                "Stratum": strata["stratum"],
                "Cases in the records (population)": strata["population"].map(str),
                "Cases drawn (sample)": strata["sample"].map(str),
                "Sampling fraction": fraction.map(lambda value: f"{100 * value:.1f}%"),
            }
        )
        parts.append(html.table(frame, "Population and sample by stratum"))

    frame_info = manifest.get("frame") or {}
    dropped = frame_info.get("dropped") or {}
    if dropped:
        items = [f"{reason}: {count} rows" for reason, count in dropped.items()]
        parts.append(html.paragraph("Rows left out of the sampling frame before the draw:"))
        parts.append(html.bullet_list(items))

    parts.append(html.heading(3, "Exclusions and replacements"))
    exclusions = inputs.exclusions
    if exclusions is None or exclusions.empty:
        parts.append(html.paragraph("No drawn case was excluded this quarter."))
    else:
        counts = exclusions["reason"].value_counts().to_frame().T.reset_index(drop=True)
        counts["All exclusions"] = counts.sum(axis=1)
        mask = suppression_mask(counts, threshold, total_column="All exclusions")
        text = format_counts(counts, mask, threshold)
        frame = pd.DataFrame({"Reason": text.columns, "Cases": text.iloc[0].to_list()})
        parts.append(
            html.paragraph(
                "Drawn cases found to be out of scope were excluded and replaced by reserve "
                "cases drawn at the same time, in draw order."
            )
        )
        parts.append(
            html.table(frame, "Cases excluded, by reason", notes=suppression_note(threshold))
        )

    parts.append(html.heading(3, "Reviewer agreement"))
    if inputs.agreement is not None and not inputs.agreement.empty:
        parts.append(html.paragraph(AGREEMENT_EXPLAINED))
        parts.append(
            html.table(
                agreement_rows(inputs),
                "Agreement between reviewers on double-checked cases",
                notes="Blank: not defined, because the reviewers gave only one answer.",
            )
        )
    elif inputs.double_checks is not None and "case_reference" in inputs.double_checks.columns:
        checked = inputs.double_checks["case_reference"].nunique()
        parts.append(html.paragraph(f"{checked} cases were checked by a second reviewer."))
    else:
        parts.append(html.paragraph("No case was double-checked by a second reviewer."))

    parts.append(html.heading(3, "Reliability of the figures"))
    parts.append(html.bullet_list(RELIABILITY_EXPLAINED.values()))
    flagged = inputs.current[inputs.current["reliability"] != "reliable"]
    if not flagged.empty:
        frame = pd.DataFrame(
            {
                "Question": flagged["question_id"].map(inputs.name_of),
                "Flag": flagged["reliability"].map(lambda flag: RELIABILITY_NAMES.get(flag, flag)),
                "Reason": flagged["reliability_reason"],
            }
        )
        parts.append(html.table(frame, "Figures flagged for caution or not shown"))
    methods = sorted(inputs.current["method"].dropna().astype(str).unique())
    descriptions = [INTERVAL_METHOD_NAMES.get(method, method) for method in methods]
    parts.append(
        html.paragraph(
            "Range of likely values (95% confidence interval): "
            f"{'; '.join(descriptions) or 'method not recorded'}."
        )
    )

    parts.append(html.heading(3, "What a clear change means"))
    parts.append(html.paragraph(CLEAR_CHANGE_EXPLAINED.format(quarter=inputs.quarter)))

    screened = screened_notes(inputs)
    parts.append(html.heading(3, "Screening of reviewers' notes"))
    parts.append(
        html.paragraph(
            f"{screened.redacted_notes} of {len(screened.notes)} notes had personal details "
            f"removed before publication ({screened.redacted_matches} items removed)."
        )
    )
    return html.section(*parts)


def provenance_section(inputs: ReportInputs, parameters: dict[str, Any]) -> str:
    """Return the provenance appendix: parameters, checksums and versions."""
    manifest = inputs.manifest
    framework = manifest.get("framework") or {}
    versions = pd.DataFrame(
        [
            ["Quarter", str(inputs.quarter)],
            ["Framework", f"{inputs.framework_id or framework.get('id', '')}"],
            ["Framework version", f"{inputs.framework_version or framework.get('version', '')}"],
            ["Code version of the draw", str(manifest.get("code_version", "not recorded"))],
            ["dipcheck version of this report", dipcheck.__version__],
            ["Random seed", str(manifest.get("seed", "not recorded"))],
            ["Answers simulated", "yes" if inputs.answers_simulated else "no"],
        ],
        columns=["Item", "Value"],
    )
    settings = {**(manifest.get("parameters") or {}), **parameters}
    settings_frame = pd.DataFrame(
        [[str(key), str(value)] for key, value in settings.items()], columns=["Parameter", "Value"]
    )

    files = [[path, digest] for path, digest in sorted(inputs.checksums.items())]
    for source in (manifest.get("frame") or {}).get("files") or []:
        files.append([f"frame: {source.get('path', '')}", str(source.get("sha256", ""))])
    files_frame = pd.DataFrame(files, columns=["File", "SHA-256 checksum"])

    return html.section(
        html.heading(2, "Appendix: provenance"),
        html.paragraph("What this report was built from, so that it can be rebuilt and checked."),
        html.table(versions, "Versions and settings"),
        html.table(settings_frame, "Parameters of the draw and of this report"),
        '<div class="checksums">'
        + html.table(files_frame, "Input files and their SHA-256 checksums")
        + "</div>",
    )
