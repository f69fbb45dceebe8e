"""Simulated reviewers: answers and case reviews for the sampled cases of a demo audit.

Everything here is invented. The reviewers' names and phrases are fictional, and no
answer describes a real case. The answers follow the stated true rates of
`dipcheck.demo`, so that the estimates of a demo report can be checked against them.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from dipcheck.demo import TRUE_RATES, true_rate
from dipcheck.quarters import Quarter

logger = logging.getLogger(__name__)

# Quality ratings (outstanding, good, requires improvement, inadequate) for an area with
# no quality shift. A positive shift in `AREA_QUALITY_SHIFTS` moves ratings down the scale.
QUALITY_RATINGS = {
    "Q_VULNERABILITY_IDENTIFIED": (0.12, 0.58, 0.22, 0.08),
    "Q_FIRST_RESPONSE_TIME": (0.10, 0.60, 0.22, 0.08),
    "Q_FIRST_RESPONSE_METHOD": (0.10, 0.62, 0.20, 0.08),
    "Q_WRITTEN_CONFIRMATION": (0.08, 0.60, 0.22, 0.10),
    "Q_SUPERVISOR_DIRECTION": (0.05, 0.45, 0.33, 0.17),
    "Q_NEEDS_AND_SPECIAL_MEASURES": (0.08, 0.52, 0.28, 0.12),
    "Q_EVIDENCE_CAPTURE": (0.10, 0.55, 0.25, 0.10),
    "Q_REFERRAL_QUALITY": (0.10, 0.55, 0.25, 0.10),
    "Q_STATEMENT_AND_VPS_QUALITY": (0.07, 0.50, 0.30, 0.13),
    "Q_UPDATES_QUALITY": (0.06, 0.48, 0.31, 0.15),
}
AREA_QUALITY_SHIFTS = {"Ashby Marsh": 0.5}

NOT_EVIDENCED_SHARE = 0.3
"""Share of failures that the reviewer records as "not evidenced on file"."""

OVERRIDE_PROBABILITY = 0.04
"""Chance that the reviewer overrides an answer suggested from the extract's dates."""

# Chance that a question is not applicable where the extract cannot tell (applicability
# pd.NA), for example on a data.police.uk frame with no event dates.
NOT_APPLICABLE_WHEN_UNKNOWN = {
    "R6_SUSPECT_UPDATE": 0.65,
    "R8_TRIAL_INFO": 0.85,
    "R9_OUTCOME": 0.85,
    "R10_EXPENSES_PROPERTY": 0.70,
    "R11_VCS": 0.97,
    "Q_REFERRAL_QUALITY": 0.25,
    "Q_UPDATES_QUALITY": 0.30,
}
NOT_APPLICABLE_WHEN_UNKNOWN_DEFAULT = 0.05

# Questions whose answer follows from whether the extract records the event's date:
# a date means met, a blank means not met (or not evidenced on file).
RECORDED_EVENT_COLUMNS = {
    "R3_ACKNOWLEDGEMENT": "date_written_acknowledgement",
    "R4_NEEDS_ASSESSMENT": "date_needs_assessment",
    "R7_VPS_OFFERED": "date_vps_offered",
}


def quality_probabilities(question_id: str, area: str) -> np.ndarray:
    """Return the stated chance of each rating, best first, for one question and area."""
    base = np.array(QUALITY_RATINGS.get(question_id, (0.10, 0.55, 0.25, 0.10)))
    shift = AREA_QUALITY_SHIFTS.get(area, 0.0)
    tilted = base * np.exp(shift * np.arange(len(base)))
    return tilted / tilted.sum()


def simulate_answers(
    sample: pd.DataFrame,
    framework,
    quarter: Quarter | str,
    seed: int,
    *,
    applicability: pd.DataFrame | None = None,
    suggested: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answer every question for every sampled case, as a reviewer might.

    Rows with ``role`` "reserve" are skipped. For each other case and each question of
    the framework, the answer is chosen in this order:

    1. not applicable where the question does not apply. Where the extract cannot tell,
       not applicable with the chance in `NOT_APPLICABLE_WHEN_UNKNOWN`.
    2. the answer suggested from the extract's dates, overridden with a reason at
       `OVERRIDE_PROBABILITY`.
    3. for `RECORDED_EVENT_COLUMNS`, met when the event's date is recorded.
    4. otherwise drawn from `true_rate`, or from `quality_probabilities` for ratings.

    Parameters
    ----------
    sample
        Drawn cases with ``case_reference``, ``area`` and, when present, ``stratum``,
        ``role`` and ``reviewer``.
    framework
        A `dipcheck.framework.Framework`.
    quarter
        The quarter reviewed, which sets the true rates.
    seed
        Seed of the random generator; the same inputs and seed give the same answers.
    applicability, suggested
        Tables on the sample's index, one column per question; computed with the
        framework's `applicability` and `suggested_answers` when not given.

    Returns
    -------
    tuple of DataFrame
        The answers and the case reviews, in the long formats of ``answers.csv`` and
        ``reviews.csv``.
    """
    quarter = Quarter.parse(quarter)
    cases = sample
    if "role" in sample.columns:
        cases = sample[sample["role"].fillna("sample") == "sample"]
    if applicability is None:
        applicability = framework.applicability(cases)
    if suggested is None:
        suggested = framework.suggested_answers(cases)

    rng = np.random.default_rng([seed, quarter.year, quarter.number])
    answers, reviews = _answer_cases(
        cases, framework, quarter, rng, applicability.loc[cases.index], suggested.loc[cases.index]
    )
    logger.info(
        "simulated %d answers and %d case reviews for %s", len(answers), len(reviews), quarter
    )
    return answers, reviews


OVERRIDE_REASONS = {
    "met": {
        "R4_REFERRAL": "The date in the system is when the referral was drafted; it was "
        "sent later.",
        "R6_SUSPECT_UPDATE": "The update was a voicemail with no call back; the victim was "
        "not told.",
        "R11_VCS": "The referral went to the wrong unit and was not received in time.",
    },
    "not_met": {
        "R4_REFERRAL": "Referral made by phone on the day; recorded late in the system.",
        "R6_SUSPECT_UPDATE": "The victim was told in person the same day; the system date "
        "is when the note was typed.",
        "R11_VCS": "The referral was made on time by secure email; the system date is "
        "when it was filed.",
    },
}
GENERIC_OVERRIDE_REASON = {
    "met": "The date in the system is the date the letter was generated, not sent.",
    "not_met": "The file shows the action was done on time; the system date was entered late.",
}

# Reviewers' phrases by right (0 for the quality of the file as a whole).
GOOD_PRACTICE = {
    1: ["Interpreter booked for the first statement and every update."],
    2: ["Crime recorded promptly with a full account of the victim's words."],
    3: ["Written acknowledgement sent the same day with a named contact."],
    4: [
        "Needs assessment completed at first contact and referral made the same day.",
        "Specialist referral made to an independent domestic abuse adviser.",
    ],
    5: ["Compensation explained clearly and recorded in the victim's words."],
    6: [
        "Victim told of the arrest within hours, with a clear next step.",
        "Updates agreed with the victim and kept to the agreed frequency.",
    ],
    7: ["Victim Personal Statement explained and taken with the first statement."],
    8: ["Witness care contact made promptly with the hearing details."],
    9: ["Outcome explained by phone and confirmed in writing."],
    11: ["Victim Contact Scheme referral made within days of sentence."],
    12: ["Complaints route explained in the first letter."],
    0: ["Supervisor's review sets clear actions and victim care points."],
}
AREAS_FOR_IMPROVEMENT = {
    1: ["No record of whether the victim needed an interpreter."],
    2: ["Recording delayed without a recorded reason."],
    3: ["No written acknowledgement on file."],
    4: [
        "Referral to support services made late with no reason recorded.",
        "Needs assessment not recorded, so enhanced rights were not considered.",
    ],
    5: ["No record that compensation was discussed."],
    6: [
        "Victim not told of the suspect's release within the timescale.",
        "Updates lapsed after the suspect was released under investigation.",
    ],
    7: ["No record that a Victim Personal Statement was offered."],
    8: ["Hearing details passed to the victim late."],
    9: ["Outcome not explained to the victim."],
    10: ["Property return not discussed with the victim."],
    11: ["Victim Contact Scheme referral not evidenced."],
    12: ["Complaints route not explained."],
    0: ["Supervisor's review does not address the victim's needs."],
}
CASE_SCORE_CHANCES = {
    0: (0.85, 0.12, 0.0, 0.03),
    1: (0.05, 0.60, 0.30, 0.05),
    2: (0.0, 0.30, 0.65, 0.05),
}
"""Chance of each case score (1 to 4): key 0 with no failed entitlement, 1 with one or
two, 2 with three or more."""

FAILED = ("not_met", "not_evidenced")
REVIEW_COLUMNS = [
    "quarter",
    "case_reference",
    "reviewer",
    "review_date",
    "case_score",
    "good_practice",
    "areas_for_improvement",
]


def _answer_cases(cases, framework, quarter, rng, applies, suggested):
    areas = cases["area"].astype(str).to_numpy()
    size = len(cases)
    if "reviewer" in cases.columns:
        reviewers = cases["reviewer"].fillna("Reviewer A").astype(str).to_numpy()
    else:
        reviewers = rng.choice(["Reviewer A", "Reviewer B"], size=size)
    strata = cases["stratum"] if "stratum" in cases.columns else cases["area"]

    tables = []
    for question in framework.questions:
        question_id = question.id
        known = applies[question_id]
        not_applicable_chance = NOT_APPLICABLE_WHEN_UNKNOWN.get(
            question_id, NOT_APPLICABLE_WHEN_UNKNOWN_DEFAULT
        )
        applicable = known.fillna(False).to_numpy(dtype=bool)
        applicable |= known.isna().to_numpy() & (rng.random(size) >= not_applicable_chance)

        hint = suggested[question_id].astype("string")
        usable_hint = applicable & hint.isin(["met", "not_met"]).to_numpy(dtype=bool)
        answer = np.full(size, "not_applicable", dtype=object)
        reason = np.full(size, "", dtype=object)

        if question.kind == "quality":
            scale = list(framework.quality_scale)
            ratings = np.empty(size, dtype=object)
            for area in np.unique(areas):
                in_area = areas == area
                chances = quality_probabilities(question_id, area)
                ratings[in_area] = rng.choice(scale, size=int(in_area.sum()), p=chances)
            answer[applicable] = ratings[applicable]
        else:
            met = _draw_met(cases, question_id, areas, quarter, rng)
            failure = np.where(rng.random(size) < NOT_EVIDENCED_SHARE, "not_evidenced", "not_met")
            answer[applicable] = np.where(met, "met", failure)[applicable]

            answer[usable_hint] = hint.to_numpy(dtype=object)[usable_hint]
            overridden = usable_hint & (rng.random(size) < OVERRIDE_PROBABILITY)
            for position in np.flatnonzero(overridden):
                given = answer[position]
                reason[position] = OVERRIDE_REASONS[given].get(
                    question_id, GENERIC_OVERRIDE_REASON[given]
                )
                answer[position] = "not_met" if given == "met" else "met"

        tables.append(
            pd.DataFrame(
                {
                    "quarter": str(quarter),
                    "case_reference": cases["case_reference"].astype(str).to_numpy(),
                    "stratum": strata.astype(str).to_numpy(),
                    "question_id": question_id,
                    "answer": answer,
                    "reviewer": reviewers,
                    "suggested_answer": hint.fillna("").to_numpy(dtype=object),
                    "override_reason": reason,
                }
            )
        )

    answers = pd.concat(tables, ignore_index=True)
    answers = answers.sort_values(["case_reference"], kind="stable", ignore_index=True)
    reviews = _reviews(cases, framework, quarter, rng, answers, reviewers)
    return answers, reviews


def _draw_met(cases, question_id, areas, quarter, rng) -> np.ndarray:
    """Decide met or failed for each case where no suggested answer decides it."""
    column = RECORDED_EVENT_COLUMNS.get(question_id)
    if column is not None and column in cases.columns:
        return cases[column].notna().to_numpy()
    if question_id in TRUE_RATES:
        chances = np.array([true_rate(question_id, area, quarter) for area in areas])
    else:
        chances = np.full(len(areas), 0.85)
    return rng.random(len(areas)) < chances


def _reviews(cases, framework, quarter, rng, answers, reviewers) -> pd.DataFrame:
    rights = {question.id: question.right or 0 for question in framework.questions}
    answer_rights = answers["question_id"].map(rights)
    entitlement_failed = answers["answer"].isin(FAILED)
    praised = answers["answer"].isin(["met", "outstanding"])
    criticised = entitlement_failed | (answers["answer"] == "inadequate")

    references = answers["case_reference"]
    failures = entitlement_failed.groupby(references).sum()
    praised_rights = answer_rights[praised].groupby(references[praised]).agg(list)
    criticised_rights = answer_rights[criticised].groupby(references[criticised]).agg(list)

    rows = []
    for position, reference in enumerate(cases["case_reference"].astype(str)):
        failed = int(failures.get(reference, 0))
        score = 1 + rng.choice(4, p=CASE_SCORE_CHANCES[min((failed + 1) // 2, 2)])
        good = _phrase(GOOD_PRACTICE, praised_rights.get(reference, []), rng)
        improve = _phrase(AREAS_FOR_IMPROVEMENT, criticised_rights.get(reference, []), rng)
        review_date = pd.Timestamp(quarter.end) + pd.Timedelta(days=int(rng.integers(10, 41)))
        rows.append(
            {
                "quarter": str(quarter),
                "case_reference": reference,
                "reviewer": reviewers[position],
                "review_date": review_date.strftime("%Y-%m-%d"),
                "case_score": int(score),
                "good_practice": good,
                "areas_for_improvement": improve,
            }
        )
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


def _phrase(bank: dict[int, list[str]], rights: list[int], rng) -> str:
    """Pick one phrase for a right drawn from ``rights``; blank when none has a phrase."""
    candidates = [right for right in rights if right in bank]
    if not candidates:
        return ""
    right = candidates[int(rng.integers(len(candidates)))]
    phrases = bank[right]
    return phrases[int(rng.integers(len(phrases)))]


SECOND_REVIEWER_DISAGREEMENT = 0.06
"""Chance that a simulated second reviewer gives another answer to a question.

Only answers with no suggestion from the dates are changed, so the second reviewer never
needs an override reason. Yes/no answers move between met, not met and not evidenced;
quality ratings move one level up or down the scale.
"""

_OTHER_ANSWERS = {
    "met": ("not_met", "not_evidenced"),
    "not_met": ("met", "not_evidenced"),
    "not_evidenced": ("met", "not_met"),
}


def second_opinion(
    answers: pd.DataFrame,
    quality_scale: list[str],
    seed: int,
    share: float = SECOND_REVIEWER_DISAGREEMENT,
) -> pd.DataFrame:
    """Return a second reviewer's answers: the first reviewer's, a few changed at random.

    Parameters
    ----------
    answers
        Long-format answers of the first reviewer (``answer``, ``suggested_answer``).
    quality_scale
        The framework's quality levels, best first.
    seed
        Seed of the random changes.
    share
        Chance that any one answer without a suggestion is changed.
    """
    rng = np.random.default_rng(seed)
    changed = answers.copy()
    suggested = changed["suggested_answer"].fillna("").astype(str) != ""
    candidates = ~suggested & changed["answer"].isin([*_OTHER_ANSWERS, *quality_scale])
    chosen = candidates & (rng.random(len(changed)) < share)

    new_answers = []
    for answer in changed.loc[chosen, "answer"]:
        if answer in _OTHER_ANSWERS:
            new_answers.append(rng.choice(_OTHER_ANSWERS[answer]))
            continue
        level = quality_scale.index(answer)
        step = rng.choice([-1, 1])
        new_answers.append(quality_scale[min(max(level + step, 0), len(quality_scale) - 1)])
    changed.loc[chosen, "answer"] = new_answers
    return changed
