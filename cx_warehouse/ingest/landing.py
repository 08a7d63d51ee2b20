"""The landing tree: which files are there, and what their names say.

Layout (``shared/extract-contract.md``, "Landing layout")::

    <landing root>/<extract>/<extract>_<YYYYMMDD>[_r<N>].<ext>      ext: csv | jsonl, optionally + .gz

Anything else under the landing root (unknown folder, a name that does not follow the pattern, a file of
another extract in the wrong folder, a format the extract is not delivered in) is *unrecognised*: it is
returned with the reason and logged as a warning, never silently ignored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

from cx_warehouse.ingest.spec import EXTRACTS

log = logging.getLogger("cx_warehouse.ingest")

_NAME = re.compile(
    r"^(?P<extract>[a-z0-9_]+?)_(?P<date>\d{8})(?:_r(?P<delivery>\d+))?"
    r"\.(?P<format>csv|jsonl)(?P<gz>\.gz)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, order=True)
class LandingFile:
    """One delivered file whose name follows the contract."""

    extract: str
    business_date: date
    delivery_no: int  # 1 for a first delivery (no suffix or ``_r1``), N for ``_rN``
    name: str  # file name, e.g. ``crm_customers_20260105_r2.csv``
    path: Path

    @property
    def gzip(self) -> bool:
        return self.name.lower().endswith(".gz")

    @property
    def format(self) -> str:
        """``csv`` or ``jsonl`` (from the name)."""
        return self.name.lower().removesuffix(".gz").rsplit(".", 1)[1]

    @property
    def sort_key(self) -> tuple[date, str, int, str]:
        """Processing order: per extract and day by delivery number (a plain name before ``_r1``)."""
        return (self.business_date, self.extract, self.delivery_no, self.name)


class Unrecognised(NamedTuple):
    """A file under the landing root that is not a contract file (not loaded), with the reason."""

    path: Path
    reason: str


class Discovery(list[LandingFile]):
    """The contract files under a landing root (a plain list of ``LandingFile``), plus ``unrecognised``."""

    def __init__(self, files: list[LandingFile], unrecognised: list[Unrecognised]) -> None:
        super().__init__(files)
        self.unrecognised: list[Unrecognised] = unrecognised

    @property
    def files(self) -> list[LandingFile]:
        return list(self)


def parse_file_name(name: str) -> tuple[str, date, int, str] | str:
    """Parse ``<extract>_<YYYYMMDD>[_r<N>].<ext>[.gz]``.

    Returns ``(extract, business_date, delivery_no, format)`` or, when the name is not a contract file name,
    a string saying why.
    """
    m = _NAME.match(name)
    if m is None:
        return "name does not match <extract>_<YYYYMMDD>[_r<N>].<csv|jsonl>[.gz]"
    extract = m["extract"]
    if extract not in EXTRACTS:
        return f"unknown extract {extract!r}"
    raw_date = m["date"]
    try:
        business_date = date(int(raw_date[:4]), int(raw_date[4:6]), int(raw_date[6:]))
    except ValueError:
        return f"invalid business date {raw_date!r}"
    delivery_no = int(m["delivery"]) if m["delivery"] is not None else 1
    if delivery_no < 1:
        return f"invalid re-delivery number _r{m['delivery']}"
    fmt = m["format"].lower()
    expected = EXTRACTS[extract].format.value
    if fmt != expected:
        return f"{extract} is delivered as .{expected}, not .{fmt}"
    return extract, business_date, delivery_no, fmt


def scan_landing(landing_root: Path) -> Discovery:
    """Every file under ``landing_root``: contract files (sorted) and unrecognised ones (with the reason)."""
    root = Path(landing_root)
    files: list[LandingFile] = []
    unrecognised: list[Unrecognised] = []
    if not root.is_dir():
        log.warning("landing root %s does not exist", root)
        return Discovery([], [])
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root)
        if len(rel.parts) != 2:
            unrecognised.append(
                Unrecognised(path, "not in an <extract>/ folder directly under the landing root")
            )
            continue
        folder = rel.parts[0]
        parsed = parse_file_name(path.name)
        if isinstance(parsed, str):
            unrecognised.append(Unrecognised(path, parsed))
            continue
        extract, business_date, delivery_no, _fmt = parsed
        if folder != extract:
            unrecognised.append(Unrecognised(path, f"a {extract} file in folder {folder!r}"))
            continue
        files.append(LandingFile(extract, business_date, delivery_no, path.name, path))
    for item in unrecognised:
        log.warning("not a contract file, not loaded: %s (%s)", item.path, item.reason)
    files.sort(key=lambda f: f.sort_key)
    return Discovery(files, unrecognised)


def discover(landing_root: Path) -> Discovery:
    """The contract files under ``landing_root``, sorted by business date, extract and delivery number.

    The result is a ``list[LandingFile]``; files that are not contract files are in its ``unrecognised``
    attribute (``(path, reason)`` pairs) and are logged as warnings on the ``cx_warehouse.ingest`` logger.
    """
    return scan_landing(landing_root)


def business_dates(landing_root: Path) -> list[date]:
    """The distinct business dates of the contract files under ``landing_root``, sorted."""
    return sorted({f.business_date for f in scan_landing(landing_root)})
