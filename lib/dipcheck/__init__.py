"""Victims' Code compliance dip checks: draw a sample, take in reviewers' answers,
estimate compliance with confidence intervals and report to a scrutiny panel."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dipcheck")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
