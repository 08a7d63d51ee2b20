"""Data-quality gates for the published marts: GX suites as code, drift, PII guard, per-run reports."""

from cx_warehouse.quality.gate import GateReport, audit, run_drift, run_pii_guard, run_suite
from cx_warehouse.quality.results import ExpectationOutcome, SuiteOutcome
from cx_warehouse.quality.suites import SUITES, SUITES_BY_TABLE, SuiteParams, SuiteSpec

__all__ = [
    "SUITES",
    "SUITES_BY_TABLE",
    "ExpectationOutcome",
    "GateReport",
    "SuiteOutcome",
    "SuiteParams",
    "SuiteSpec",
    "audit",
    "run_drift",
    "run_pii_guard",
    "run_suite",
]
