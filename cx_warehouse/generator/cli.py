"""``cx-generate``: write sample landing files for all channel extracts plus the ground truth."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from cx_warehouse.generator.engine import DEFAULT_START, GenerationSummary, InvalidArguments, generate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cx-generate",
        description="Generate deterministic sample channel extracts (landing files) and their ground truth.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("CX_LANDING_DIR", "data/landing")),
        help="landing root (default: $CX_LANDING_DIR or data/landing)",
    )
    parser.add_argument(
        "--truth-dir",
        type=Path,
        default=Path("data/ground_truth"),
        help="ground-truth folder, outside the landing root (default: data/ground_truth)",
    )
    parser.add_argument("--customers", type=int, default=10_000, help="number of persons (default: 10000)")
    parser.add_argument("--days", type=int, default=120, help="number of business days (default: 120)")
    parser.add_argument(
        "--start-date",
        type=date.fromisoformat,
        default=DEFAULT_START,
        help=f"first business day, YYYY-MM-DD (default: {DEFAULT_START.isoformat()})",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    return parser


def format_summary(summary: GenerationSummary) -> str:
    """Rows per extract, files and time, as printed by the CLI."""
    width = max(len(name) for name in summary.rows)
    lines = [f"{name:<{width}}  {rows:>12,}" for name, rows in summary.rows.items()]
    lines.append(f"{'total':<{width}}  {sum(summary.rows.values()):>12,}")
    lines.append(f"{summary.files:,} files in {summary.out}; ground truth in {summary.truth_dir}")
    lines.append(f"generated in {summary.seconds:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, generate, print the summary."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        summary = generate(
            out=args.out,
            truth_dir=args.truth_dir,
            customers=args.customers,
            days=args.days,
            start_date=args.start_date,
            seed=args.seed,
        )
    except (
        InvalidArguments
    ) as exc:  # only bad arguments are a usage error; any other exception keeps its traceback
        parser.error(str(exc))
    print(format_summary(summary))


if __name__ == "__main__":
    main()
