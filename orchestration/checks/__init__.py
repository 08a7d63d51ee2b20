"""Asset checks of the code location (the quality gate of the published marts)."""

from orchestration.checks.quality import build_quality_checks

__all__ = ["build_quality_checks"]
