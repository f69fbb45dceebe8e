"""Plain-English names of the Victims' Code rights and questions, as the report prints them.

The framework's question text is written for reviewers ("Was the victim referred ...?");
a lay panel reads shorter names in charts and whole sentences in the summary. Questions
that a force adds locally have no entry here and are shown by their framework text.
"""

from __future__ import annotations

RIGHT_NAMES = {
    1: "Right 1: to understand and be understood",
    2: "Right 2: to have the crime recorded without unjustified delay",
    3: "Right 3: information when reporting the crime",
    4: "Right 4: referral to support services and a needs assessment",
    5: "Right 5: information about compensation",
    6: "Right 6: information about the investigation and prosecution",
    7: "Right 7: to make a Victim Personal Statement",
    8: "Right 8: information about the trial",
    9: "Right 9: information about the outcome and any appeal",
    10: "Right 10: expenses and the return of property",
    11: "Right 11: information about the offender after conviction",
    12: "Right 12: to make a complaint",
}
GENERAL_RIGHT = "Across the victim's journey"

SHORT_NAMES = {
    "R1_UNDERSTOOD": "Understanding and being understood",
    "R2_RECORDED": "Crime recorded without delay",
    "R3_ACKNOWLEDGEMENT": "Written acknowledgement",
    "R4_NEEDS_ASSESSMENT": "Needs assessment",
    "R4_REFERRAL": "Referral to support services",
    "R5_COMPENSATION": "Information on compensation",
    "R6_SUSPECT_UPDATE": "Told of suspect events in time",
    "R7_VPS_OFFERED": "Victim Personal Statement offered",
    "R8_TRIAL_INFO": "Information about the trial",
    "R9_OUTCOME": "Told the outcome",
    "R10_EXPENSES_PROPERTY": "Expenses and property",
    "R11_VCS": "Victim Contact Scheme referral",
    "R12_COMPLAINTS": "Told how to complain",
    "Q_VULNERABILITY_IDENTIFIED": "Vulnerability identified",
    "Q_FIRST_RESPONSE_TIME": "Time to first response",
    "Q_FIRST_RESPONSE_METHOD": "Method of first response",
    "Q_WRITTEN_CONFIRMATION": "Written confirmation",
    "Q_SUPERVISOR_DIRECTION": "Supervisor's direction",
    "Q_NEEDS_AND_SPECIAL_MEASURES": "Needs and special measures",
    "Q_EVIDENCE_CAPTURE": "Evidence capture",
    "Q_REFERRAL_QUALITY": "Quality of the referral",
    "Q_STATEMENT_AND_VPS_QUALITY": "Statements and VPS offer",
    "Q_UPDATES_QUALITY": "Quality of updates",
}

# Sentence openings of the summary, completed by "in 84% of ... cases".
HEADLINE_PHRASES = {
    "R3_ACKNOWLEDGEMENT": "Victims received written acknowledgement of their crime report",
    "R4_REFERRAL": "Victims were referred to support services within 2 working days",
    "R6_SUSPECT_UPDATE": "Victims were told in time when a suspect was arrested, "
    "interviewed, charged, bailed or released",
    "R7_VPS_OFFERED": "Victims were offered the chance to make a Victim Personal Statement",
    "R11_VCS": "Eligible victims were referred to the Victim Contact Scheme",
}

# The Ministry of Justice's five key entitlements and the questions that measure them.
MOJ_KEY_ENTITLEMENTS = {
    1: ("Written acknowledgement of the crime report", 3, "R3_ACKNOWLEDGEMENT"),
    2: ("Referral to victim support services", 4, "R4_REFERRAL"),
    3: ("Updates within the stated timeframes", 6, "R6_SUSPECT_UPDATE"),
    4: ("Offer to make a Victim Personal Statement", 7, "R7_VPS_OFFERED"),
    5: ("Told the offender's release date (Victim Contact Scheme)", 11, "R11_VCS"),
}

RATING_NAMES = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement",
    "inadequate": "Inadequate",
}

# The report's words for the reliability flags of `dipcheck.reliability`.
RELIABILITY_NAMES = {
    "reliable": "Reliable",
    "caution": "Use with caution",
    "suppress": "Not shown",
}

# Confidence interval methods of `dipcheck.estimation` and `dipcheck.intervals`, named and
# explained for the panel.
INTERVAL_METHOD_NAMES = {
    "korn-graubard": "the Korn-Graubard method, an exact (Clopper-Pearson) interval adjusted "
    "for the stratified sample, which errs on the side of a wider range when cases are few",
    "logit": "the logit method, an interval worked out on the log-odds scale so that it "
    "stays between 0% and 100%",
    "clopper-pearson": "the Clopper-Pearson method, an exact interval that errs on the side "
    "of a wider range",
    "wilson": "the Wilson score method, an interval that stays reliable with few cases or "
    "rates near 0% or 100%",
    "jeffreys": "the Jeffreys method, an interval that stays reliable with few cases",
    "agresti-coull": "the Agresti-Coull method, a simple interval that stays reliable with "
    "few cases",
    "wald": "the Wald method, the simplest interval, which is too narrow when cases are few",
}

RELIABILITY_EXPLAINED = {
    "reliable": "Reliable: enough cases for the figure to be reported as it is.",
    "caution": "Use with caution: few cases, or a wide interval, so the figure could be "
    "quite different from the true rate.",
    "suppress": "Not shown: too few cases to give a meaningful or safe figure.",
}

# Words in a reviewer's note that tie it to a right, for grouping lessons learned.
RIGHT_KEYWORDS = {
    1: ["interpreter", "translat", "understood", "language"],
    2: ["crime recorded", "crime record", "recording of the crime"],
    3: ["acknowledg", "crime reference", "restorative"],
    4: ["referr", "support service", "needs assessment", "victim support"],
    5: ["compensation"],
    6: ["update", "arrest", "suspect", "bail", "released under investigation"],
    7: ["personal statement", "vps"],
    8: ["trial", "witness care", "hearing"],
    9: ["outcome", "appeal", "verdict"],
    10: ["expenses", "property"],
    11: ["victim contact scheme", "vcs", "release date", "victim liaison"],
    12: ["complain"],
}


def joined_names(names: list[str]) -> str:
    """Join names as a sentence lists them: "A", "A and B", "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
