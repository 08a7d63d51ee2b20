"""Long generator runs: identifiers that grow during the run never run out, and internal errors are not
reported as usage errors.

The 1 000 000-customer, 181-day run crashed on business day 2027-01-03: every person-day has a small chance
of a new mobile number, and the spare numbers drawn with the population (5 % of the persons) were used up
after about 167 days, whatever the population size. These tests raise the rate of phone changes so that a
small run across the new year uses up the pool within days.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from cx_warehouse.generator import cli, crm, generate
from cx_warehouse.generator.engine import InvalidArguments, build_world
from cx_warehouse.generator.identifiers import RESERVED_NATIONAL_NUMBERS, normalise_phone
from cx_warehouse.generator.population import MOBILE_PLACEHOLDERS, NEVER, Phones, build_population
from cx_warehouse.generator.world import stream
from cx_warehouse.ingest.spec import EXTRACTS

CUSTOMERS, DAYS, START, SEED = 1000, 20, date(2026, 12, 20), 42  # 2026-12-20 .. 2027-01-08


def _phone_truth(truth: Path) -> list[dict[str, str]]:
    with (truth / "person_identifiers.csv").open(encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if row["id_type"] == "phone"]


def test_phone_changes_beyond_the_spare_numbers_across_the_new_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crm, "RATE_PHONE_CHANGE", 0.02)  # about 17 new mobiles a day
    pool = build_population(stream(SEED, "population"), CUSTOMERS, DAYS, START).phones
    capacity = len(pool.nsn)  # the phones plus the spare mobiles drawn with the population

    summary = generate(tmp_path / "landing", tmp_path / "truth", CUSTOMERS, DAYS, START, SEED)

    crm_files = sorted((tmp_path / "landing" / "crm_customers").iterdir())
    assert len(crm_files) == DAYS and crm_files[-1].name == "crm_customers_20270108.csv"
    phones = _phone_truth(tmp_path / "truth")
    own = [row["id_value"] for row in phones if row["shared"] == "false"]
    numbers = {row["id_value"] for row in phones}
    assert len(numbers) > capacity  # the spare numbers ran out and were topped up
    assert len(own) == len(set(own))  # every mobile belongs to one person
    assert not {"+31" + p for p in MOBILE_PLACEHOLDERS} & numbers
    # every phone number in the CRM files is a known number (or a placeholder)
    with_phone, spec = 0, EXTRACTS["crm_customers"]
    for path in crm_files:
        with path.open(encoding=spec.encoding, newline="") as f:
            for row in csv.DictReader(f, delimiter=spec.delimiter):
                value = normalise_phone(row["phone"])
                if value and value.removeprefix("+31") not in RESERVED_NATIONAL_NUMBERS:
                    with_phone += 1
                    assert value in numbers, row["phone"]
    assert with_phone > 0 and summary.rows["crm_customers"] > 0


def test_new_mobiles_after_the_spare_numbers_are_unique() -> None:
    phones = Phones(["612345670", "201234567"], [0, -1], [-1, 0], ["687654321"], np.random.default_rng(1))
    first = phones.add_mobiles(np.array([0, 1, 2]))
    second = phones.add_mobiles(np.array([3]))
    assert first.tolist() == [2, 3, 4] and second.tolist() == [5]
    assert phones.count == 6 and len(phones.nsn) >= 6
    numbers = phones.nsn[: phones.count].tolist()
    assert len(set(numbers)) == 6 and numbers[2] == "687654321"
    assert all(n.startswith("6") and len(n) == 9 and n not in MOBILE_PLACEHOLDERS for n in numbers[2:])
    assert phones.owner[: phones.count].tolist() == [0, -1, 0, 1, 2, 3]


def test_usage_of_identifiers_added_during_the_run(tmp_path: Path) -> None:
    world = build_world(tmp_path / "landing", customers=20, days=3, start_date=START, seed=SEED)
    size = len(world.usage.first["phone"])
    world.usage.mark("phone", np.array([-1, 1, size + 2]), 1)
    first = world.usage.first_of("phone", np.array([1, size, size + 2, size + 10]))
    assert first.tolist() == [1, NEVER, 1, NEVER]


def test_cli_reports_bad_arguments_as_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--out", str(tmp_path / "l"), "--truth-dir", str(tmp_path / "l" / "t"), "--days", "1"])
    assert exc.value.code == 2


def test_cli_does_not_hide_an_internal_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: object) -> None:
        raise ValueError("shape mismatch")

    monkeypatch.setattr(cli, "generate", broken)
    with pytest.raises(ValueError, match="shape mismatch"):  # with its traceback, not as a usage error
        cli.main(["--out", str(tmp_path / "l"), "--truth-dir", str(tmp_path / "t")])
    assert issubclass(InvalidArguments, ValueError)  # callers catching ValueError keep working
