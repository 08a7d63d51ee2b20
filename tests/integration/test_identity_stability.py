"""Stable customer keys across runs, a late merge that keeps the older key, and erasure end to end.

Sample data is generated for N days. Run 1 loads days 1..N-1; run 2 repeats the build on unchanged input;
run 3 adds day N with a survey response that ties a person's CRM record to their webshop account (a late
merge) and an erasure request; run 4 adds a later contact-center contact of the erased person, which must stay
suppressed.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.ingest import parse_file_name
from cx_warehouse.ingest.spec import EXTRACTS
from tests.integration.test_identity_quality import build_identity, generate_sample, load_landing

ERASURE_REQUEST_ID = "PR_TEST_ERASURE"
MERGE_RESPONSE_ID = "SR_TEST_LATE_MERGE"
LATER_CONTACT_ID = "CC_TEST_AFTER_ERASURE"
LATER_PHONE = "+44 20 7946 0958"  # normalised: +442079460958, a number no sample person has


def _business_date(path: Path) -> date:
    parsed = parse_file_name(path.name)
    assert not isinstance(parsed, str), parsed
    return parsed[1]


def _copy_landing(source: Path, target: Path, keep: Callable[[date], bool]) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file() and keep(_business_date(path)):
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def _redeliver_with_row(landing: Path, extract: str, day: date, row: dict[str, str]) -> None:
    """Re-deliver a day's CSV file as ``_r2`` with one extra row (the contract's way to change a delivery)."""
    spec = EXTRACTS[extract]
    folder = landing / extract
    folder.mkdir(parents=True, exist_ok=True)
    stamp = day.strftime("%Y%m%d")
    original = folder / f"{extract}_{stamp}.csv"
    rows: list[list[str]] = []
    if original.exists():
        text = original.read_bytes().decode(spec.encoding).lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text), delimiter=spec.delimiter))[1:]
    rows.append([row.get(column, "") for column in spec.column_names])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=spec.delimiter, lineterminator="\n")
    writer.writerow(spec.column_names)
    writer.writerows(rows)
    (folder / f"{extract}_{stamp}_r2.csv").write_bytes(buffer.getvalue().encode(spec.encoding))


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _keys(warehouse: Path) -> dict[tuple[str, str], str]:
    """Customer key of every identifier that resolved (shared household identifiers left out)."""
    rows = _query(
        warehouse, "select id_type, id_value, customer_key from marts.identity_map where not is_shared"
    )
    return {(id_type, value): key for id_type, value, key in rows}


def _last_invocation(warehouse: Path) -> str:
    return _query(
        warehouse,
        """
        select invocation_id from intermediate.int_identity_resolution_runs
        order by run_started_at desc
        limit 1
        """,
    )[0][0]


def _events(warehouse: Path, invocation_id: str) -> list[tuple[str, str, str | None]]:
    return _query(
        warehouse,
        """
        select event_type, customer_key, related_customer_key from marts.identity_history
        where invocation_id = ?
        """,
        [invocation_id],
    )


def _truth(truth: Path, sql: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        con.execute(
            "create table ids as select * from read_csv(?, all_varchar = true)",
            [str(truth / "person_identifiers.csv")],
        )
        con.execute(
            "create table persons as select * from read_csv(?, all_varchar = true)",
            [str(truth / "persons.csv")],
        )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _customer_with(keys: dict[tuple[str, str], str], id_types: set[str], exclude: set[str]) -> str:
    """A customer key holding identifiers of all ``id_types`` (the smallest such key not in ``exclude``)."""
    held: dict[str, set[str]] = {}
    for (id_type, _), key in keys.items():
        held.setdefault(key, set()).add(id_type)
    return min(key for key, types in held.items() if id_types <= types and key not in exclude)


@pytest.mark.integration
def test_keys_are_stable_merges_keep_the_older_key_and_erasure_sticks(tmp_path: Path) -> None:
    sample, truth = generate_sample(tmp_path / "sample", customers=1200, days=24, seed=7)
    days = sorted({_business_date(p) for p in sample.rglob("*") if p.is_file()})
    last_day = days[-1]
    later_day = date.fromordinal(last_day.toordinal() + 1)
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"

    # run 1: days 1..N-1
    _copy_landing(sample, landing, keep=lambda day: day < last_day)
    load_landing(warehouse, landing)
    build_identity(warehouse, tmp_path)
    keys_1 = _keys(warehouse)

    # run 2: nothing new -> no key changes, no history events
    build_identity(warehouse, tmp_path, unit_tests=False)
    assert _keys(warehouse) == keys_1
    assert _events(warehouse, _last_invocation(warehouse)) == []

    # run 3: the last day, plus
    # - a late merge: a survey response ties a person's CRM record to the e-mail of their webshop account,
    #   which were two customers so far (the CRM customer existed long before the webshop customer was seen)
    # - an erasure request for a customer with a CRM record, account, e-mail and loyalty card
    merge_candidates = _truth(
        truth,
        """
        select c.id_value, a.id_value, p.person_id
        from ids as c
        inner join ids as a on c.person_id = a.person_id and a.id_type = 'account_id'
        inner join persons as p on c.person_id = p.person_id
        where c.id_type = 'crm_id' and p.customer_before_start = 'true' and coalesce(p.erased_on, '') = ''
        order by c.id_value
        """,
    )
    emails_by_key: dict[str, list[str]] = {}
    for (id_type, value), key in sorted(keys_1.items()):
        if id_type == "email":
            emails_by_key.setdefault(key, []).append(value)
    crm_id, account_id, person = next(
        (c, a, p)
        for c, a, p in merge_candidates
        if ("crm_id", c) in keys_1
        and ("account_id", a) in keys_1
        and keys_1[("crm_id", c)] != keys_1[("account_id", a)]
        and keys_1[("account_id", a)] in emails_by_key
    )
    crm_key, account_key = keys_1[("crm_id", crm_id)], keys_1[("account_id", account_id)]
    account_email = emails_by_key[account_key][0]
    erased_key = _customer_with(
        keys_1, {"crm_id", "account_id", "email", "loyalty_card_no"}, exclude={crm_key, account_key}
    )
    erased = {identifier for identifier, key in keys_1.items() if key == erased_key}
    erased_crm = min(value for id_type, value in erased if id_type == "crm_id")
    erased_email = min(value for id_type, value in erased if id_type == "email")

    _copy_landing(sample, landing, keep=lambda day: day == last_day)
    _redeliver_with_row(
        landing,
        "survey_responses",
        last_day,
        {
            "response_id": MERGE_RESPONSE_ID,
            "survey_type": "relationship_nps",
            "respondent_email": f" {account_email.title()} ",
            "crm_id": crm_id,
            "responded_at": f"{last_day.isoformat()}T09:30:00+00:00",
            "nps": "9",
        },
    )
    _redeliver_with_row(
        landing,
        "privacy_requests",
        last_day,
        {
            "request_id": ERASURE_REQUEST_ID,
            "crm_id": erased_crm,
            "email": erased_email.upper(),
            "request_type": "erasure",
            "received_at": f"{last_day.isoformat()}T12:00:00Z",
        },
    )
    load_landing(warehouse, landing, run_id="test-last-day")
    build_identity(warehouse, tmp_path, unit_tests=False)
    keys_3 = _keys(warehouse)
    events_3 = _events(warehouse, _last_invocation(warehouse))
    merged = {(related, key) for event, key, related in events_3 if event == "merged"}

    # the late merge keeps the older key
    assert keys_3[("account_id", account_id)] == crm_key, person
    assert keys_3[("crm_id", crm_id)] == crm_key
    assert (account_key, crm_key) in merged
    assert account_key not in set(keys_3.values())

    # only keys of customers that merged changed; every other identifier kept its key
    changed = {
        identifier: (keys_1[identifier], keys_3[identifier])
        for identifier in keys_1.keys() & keys_3.keys()
        if keys_1[identifier] != keys_3[identifier]
    }
    assert changed, "the late merge should change the account's key"
    unexplained = {identifier: change for identifier, change in changed.items() if change not in merged}
    assert not unexplained, unexplained
    assert len(keys_1.keys() & keys_3.keys()) - len(changed) > 0.95 * len(keys_1)

    # the erasure: the customer is gone from identity_map and dim_customer in this run, the history says so,
    # and every identifier it had is on the suppression list (as a hash)
    assert not erased & keys_3.keys()
    assert erased_key not in set(keys_3.values())
    assert ("erased", erased_key, None) in events_3
    assert not _query(warehouse, "select 1 from marts.dim_customer where customer_key = ?", [erased_key])
    suppressed = _query(
        warehouse,
        "select count(*) from intermediate.int_identity_suppression_list where erasure_request_id = ?",
        [ERASURE_REQUEST_ID],
    )[0][0]
    assert suppressed >= len(erased)

    # run 4: a later delivery about the erased person (a call from a new number, identified by the agent)
    # stays out: not attributed, not in identity_map, and the new number is suppressed too
    _redeliver_with_row(
        landing,
        "contact_center",
        later_day,
        {
            "contact_id": LATER_CONTACT_ID,
            "case_id": "CASE_TEST",
            "channel": "telefoon",
            "customer_phone": LATER_PHONE,
            "crm_id": erased_crm,
            "started_at": f"{later_day.isoformat()} 10:00:00",
            "ended_at": f"{later_day.isoformat()} 10:05:00",
            "wait_seconds": "30",
            "handle_seconds": "270",
            "reason": "account",
            "outcome": "opgelost",
            "agent_id": "A001",
            "transfer_count": "0",
        },
    )
    load_landing(warehouse, landing, run_id="test-later-day")
    build_identity(warehouse, tmp_path, unit_tests=False)
    keys_4 = _keys(warehouse)
    assert not erased & keys_4.keys()
    assert ("phone", "+442079460958") not in keys_4
    contact = _query(
        warehouse,
        """
        select customer_key, is_erased_subject from intermediate.int_records_resolved
        where source_model = 'stg_contact_center__contacts' and record_id = ?
        """,
        [LATER_CONTACT_ID],
    )
    assert contact == [(None, True)]
    suppressed_types = {
        id_type
        for (id_type,) in _query(
            warehouse,
            "select id_type from intermediate.int_identity_suppression_list where erasure_request_id = ?",
            [ERASURE_REQUEST_ID],
        )
    }
    assert {"crm_id", "account_id", "email", "loyalty_card_no", "phone"} <= suppressed_types
    assert keys_4 == keys_3
