"""Column names of the case extract, the schema that ``docs/case-extract.md`` describes.

`dipcheck.frames` reads files into these columns and `dipcheck.extract_checks` checks and
types each column by the group it belongs to.
"""

REQUIRED_COLUMNS = ("case_reference", "date_reported", "offence_group", "area")
FLAG_COLUMNS = (
    "enhanced_most_serious",
    "enhanced_persistently_targeted",
    "enhanced_vulnerable_intimidated",
    "victim_under_18",
)
EVENT_DATE_COLUMNS = (
    "date_first_response",
    "date_written_acknowledgement",
    "date_needs_assessment",
    "date_referred_to_support",
    "date_suspect_event",
    "date_victim_told_suspect_event",
    "date_vps_offered",
    "date_outcome",
    "date_vcs_referral",
)
DATE_COLUMNS = ("date_reported", *EVENT_DATE_COLUMNS)
TEXT_COLUMNS = ("case_reference", "offence_group", "area", "suspect_event", "case_outcome")
NUMBER_COLUMNS = ("sentence_months",)
SCHEMA_COLUMNS = (
    *REQUIRED_COLUMNS,
    *FLAG_COLUMNS,
    "date_first_response",
    "date_written_acknowledgement",
    "date_needs_assessment",
    "date_referred_to_support",
    "suspect_event",
    "date_suspect_event",
    "date_victim_told_suspect_event",
    "date_vps_offered",
    "case_outcome",
    "date_outcome",
    "sentence_months",
    "date_vcs_referral",
)
"""Every column of the case extract schema, in the order of ``docs/case-extract.md``."""

SOURCE_COLUMNS = ("source_file", "source_row")
"""Columns `read_frame` adds: the file name and the row as the user sees it."""
