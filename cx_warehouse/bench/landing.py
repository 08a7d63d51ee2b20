"""The bench's landing tree: the generation marker, and holding back (and restoring) the last business date.

The bench generates ``days + 1`` business days. The full build loads the first ``days``; the last business
date is *held back* (its files moved to ``<dir>/held_back/``, same relative paths) and put back for the
one-day incremental night. A file's business date is the date in its name (``<extract>_<YYYYMMDD>...``).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cx_warehouse.generator.engine import DEFAULT_START
from cx_warehouse.ingest.landing import LandingFile, discover

MARKER_NAME = "generated.json"


@dataclass(frozen=True)
class GenerationMarker:
    """What was generated into ``<dir>/landing`` (written after a successful ``cx-generate``).

    ``days`` is the bench's ``--days`` (the full build's days); ``generated_days`` = ``days + 1``. ``rows``,
    ``wall_s`` and ``peak_rss`` are the generate stage's figures, reported again when the landing is reused.
    ``start_date``: the first generated business date (ISO); None in markers written before it was recorded,
    whose trees start on the generator's default start.
    """

    customers: int
    days: int
    seed: int
    generated_days: int
    rows: int | None
    files: int
    wall_s: float
    peak_rss: int
    generated_at: str
    start_date: str | None = None

    def matches(self, customers: int, days: int, seed: int) -> bool:
        return (self.customers, self.days, self.seed) == (customers, days, seed)

    def last_date(self) -> date:
        """The last generated business date (the one the bench holds back)."""
        start = date.fromisoformat(self.start_date) if self.start_date else DEFAULT_START
        return start + timedelta(days=self.generated_days - 1)


def bench_start(days: int, today: date) -> date:
    """First business date of a bench of ``days`` days: the ``days + 1`` generated days end yesterday.

    Events dated after today are what the quality gate blocks (``_occurs_in_future``: a time-zone or parsing
    bug in real data), so a bench whose generated history ran past today could never publish.
    """
    return today - timedelta(days=days + 1)


def write_marker(directory: Path, marker: GenerationMarker) -> Path:
    path = directory / MARKER_NAME
    path.write_text(json.dumps(asdict(marker), indent=2) + "\n")
    return path


def read_marker(directory: Path) -> GenerationMarker | None:
    """The marker in ``directory``, or None when it is missing or unreadable."""
    path = directory / MARKER_NAME
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return GenerationMarker(**data)
    except (OSError, ValueError, TypeError):
        return None


def count_files(*roots: Path) -> int:
    return sum(1 for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file())


def last_date_files(files: list[LandingFile]) -> tuple[date, list[LandingFile]]:
    """The latest business date among ``files`` and every file of that date (all extracts, all deliveries)."""
    if not files:
        raise ValueError("no landing files: nothing to hold back")
    last = max(f.business_date for f in files)
    return last, [f for f in files if f.business_date == last]


def _move_tree_file(src: Path, src_root: Path, dst_root: Path) -> Path:
    target = dst_root / src.relative_to(src_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise FileExistsError(f"{target} already exists: not overwriting it with {src}")
    src.rename(target)
    return target


def _prune_empty_dirs(root: Path) -> None:
    for folder in sorted(
        (p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        if not any(folder.iterdir()):
            folder.rmdir()


def hold_back(landing: Path, held_back: Path) -> tuple[date, list[Path]]:
    """Move every file of the last business date under ``landing`` to ``held_back`` (same relative paths).

    Returns the date and the moved files' paths relative to the landing root.
    """
    last, files = last_date_files(discover(landing).files)
    moved = [_move_tree_file(f.path, landing, held_back).relative_to(held_back) for f in files]
    return last, sorted(moved)


def restore(held_back: Path, landing: Path) -> list[Path]:
    """Move every file under ``held_back`` back to ``landing``; returns their relative paths."""
    if not held_back.is_dir():
        return []
    moved = [
        _move_tree_file(p, held_back, landing).relative_to(landing)
        for p in sorted(held_back.rglob("*"))
        if p.is_file()
    ]
    _prune_empty_dirs(held_back)
    return moved


def remove_tree(path: Path) -> None:
    """Remove a file or directory if it exists."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
