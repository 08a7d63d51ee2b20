"""The sample generator writes contract-conformant, deterministic landing files and a consistent truth."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from cx_warehouse.generator import generate
from cx_warehouse.generator.cli import main
from cx_warehouse.generator.engine import build_world
from cx_warehouse.generator.identifiers import normalise_email, normalise_phone, normalise_social
from cx_warehouse.generator.reference import CONTACT_CENTER_AGENTS, FIRST_NAMES, LAST_NAMES
from cx_warehouse.generator.surveys import scores
from cx_warehouse.ingest.spec import EXTRACTS, ExtractSpec, FileFormat

# 10 days around the autumn DST change (Sunday 2026-10-25); big enough that every channel has rows.
CUSTOMERS, DAYS, START, SEED = 1500, 10, date(2026, 10, 20), 7
FILE_NAME = re.compile(r"(?P<extract>[a-z_]+)_(?P<date>\d{8})(?:_r(?P<n>\d+))?\.(csv|jsonl|jsonl\.gz)")


def _run(base: Path, **kwargs: object) -> Path:
    args = {"customers": CUSTOMERS, "days": DAYS, "start_date": START, "seed": SEED, **kwargs}
    generate(out=base / "landing", truth_dir=base / "truth", **args)  # type: ignore[arg-type]
    return base


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("gen"))


def _text(spec: ExtractSpec, path: Path) -> str:
    data = path.read_bytes()
    if spec.gzip:
        data = gzip.decompress(data)
    return data.decode(spec.encoding if spec.format is FileFormat.CSV else "utf-8")


def _effective_files(run: Path, extract: str) -> list[Path]:
    """The files that count: an ``_r2`` file replaces the first file of its day."""
    by_day: dict[str, tuple[int, Path]] = {}
    for path in sorted((run / "landing" / extract).iterdir()):
        m = FILE_NAME.fullmatch(path.name)
        assert m, path.name
        n = int(m["n"] or 1)
        if m["date"] not in by_day or by_day[m["date"]][0] < n:
            by_day[m["date"]] = (n, path)
    return [p for _, p in sorted(by_day.values(), key=lambda v: v[1].name)]


def _csv_rows(run: Path, extract: str) -> list[dict[str, str]]:
    spec = EXTRACTS[extract]
    rows: list[dict[str, str]] = []
    for path in _effective_files(run, extract):
        rows += csv.DictReader(io.StringIO(_text(spec, path), newline=""), delimiter=spec.delimiter)
    return rows


def _json_rows(run: Path, extract: str) -> list[tuple[str, dict]]:
    spec = EXTRACTS[extract]
    return [
        (path.name, json.loads(line))
        for path in _effective_files(run, extract)
        for line in _text(spec, path).splitlines()
    ]


def _truth(run: Path, name: str) -> list[dict[str, str]]:
    with (run / "truth" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_same_arguments_give_byte_identical_output(run: Path, tmp_path: Path) -> None:
    again = _run(tmp_path)
    files = sorted(p.relative_to(run) for p in run.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (run / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_one_file_per_extract_and_day_with_the_spec_columns(run: Path) -> None:
    stamps = {(START + timedelta(days=i)).strftime("%Y%m%d") for i in range(DAYS)}
    for name, spec in EXTRACTS.items():
        files = _effective_files(run, name)
        assert {FILE_NAME.fullmatch(p.name)["date"] for p in files} == stamps, name  # type: ignore[index]
        for path in (run / "landing" / name).iterdir():
            assert path.name.endswith(spec.file_suffix)
            text = _text(spec, path)
            if spec.format is FileFormat.CSV:
                reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
                assert tuple(next(reader)) == spec.column_names, path.name
                assert all(len(row) == len(spec.column_names) for row in reader), path.name
            else:
                for line in text.splitlines():
                    assert set(json.loads(line)) <= set(spec.column_names), path.name
        rows = _csv_rows(run, name) if spec.format is FileFormat.CSV else _json_rows(run, name)
        assert rows or name == "privacy_requests", name  # privacy requests are rare by design


def test_contact_center_is_windows_1252_with_non_ascii_names(run: Path) -> None:
    spec = EXTRACTS["contact_center"]
    raw = [p.read_bytes() for p in sorted((run / "landing" / "contact_center").iterdir())]
    with_accents = [data for data in raw if re.search(rb"[\x80-\xff]", data)]
    assert with_accents
    for data in with_accents:
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    text = "".join(data.decode(spec.encoding) for data in raw)
    assert re.search("[éëüöçÉËÜÖÇ]", text)


def test_names_and_agents_fit_windows_1252() -> None:
    names = [f.name for f in FIRST_NAMES] + [n for n, _ in LAST_NAMES] + list(CONTACT_CENTER_AGENTS)
    for name in names:
        name.encode("cp1252")
    assert any(n != n.encode("ascii", "ignore").decode() for n in names)


def test_web_events_are_gzip_and_resent_the_next_day(run: Path) -> None:
    files_of: dict[str, set[str]] = defaultdict(set)
    for path in sorted((run / "landing" / "web_events").iterdir()):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    for file_name, event in _json_rows(run, "web_events"):
        files_of[event["event_id"]].add(file_name)
    assert sum(len(files) > 1 for files in files_of.values()) > 10


def test_local_timestamps_fall_in_the_autumn_dst_hour(run: Path) -> None:
    crm = [r["updated_at"] for r in _csv_rows(run, "crm_customers")]
    assert any(ts.startswith("2026-10-25 02:") for ts in crm)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ts) for ts in crm)


def test_local_timestamps_fall_in_the_missing_spring_hour(tmp_path: Path) -> None:
    spring = _run(tmp_path, customers=1000, days=4, start_date=date(2027, 3, 26))
    assert any(r["updated_at"].startswith("2027-03-28 02:") for r in _csv_rows(spring, "crm_customers"))


def test_truth_identifiers_are_normalised_as_the_contract_says(run: Path) -> None:
    for row in _truth(run, "person_identifiers.csv"):
        value, id_type = row["id_value"], row["id_type"]
        assert value == value.strip()
        if id_type == "email":
            assert value == normalise_email(value) and "@" in value
        elif id_type == "phone":
            assert re.fullmatch(r"\+31\d{9}", value) and normalise_phone(value) == value
        elif id_type == "social_handle":
            platform, _, handle = value.partition(":")
            assert platform in {"x", "facebook", "instagram", "whatsapp"}
            assert handle == handle.lower() and not handle.startswith("@")
            assert platform != "whatsapp" or handle.isdigit()
        assert row["logged_in"] in ({"true", "false"} if id_type == "anonymous_id" else {""})


def test_messy_crm_values_normalise_to_the_owners_identifiers(run: Path) -> None:
    identifiers = defaultdict(set)
    owner_of_crm_id = {}
    for row in _truth(run, "person_identifiers.csv"):
        identifiers[row["person_id"]].add((row["id_type"], row["id_value"]))
        if row["id_type"] == "crm_id":
            owner_of_crm_id[row["id_value"]] = row["person_id"]
    placeholders = {row["normalised_value"] for row in _truth(run, "placeholders.csv")} | {""}
    checked = 0
    for row in _csv_rows(run, "crm_customers"):
        person = owner_of_crm_id[row["crm_id"]]
        email, phone = normalise_email(row["email"]), normalise_phone(row["phone"])
        for id_type, value in (("email", email), ("phone", phone)):
            if value not in placeholders:
                assert (id_type, value) in identifiers[person], (row["crm_id"], value)
                checked += 1
    assert checked > CUSTOMERS
    raw_emails = {r["email"] for r in _csv_rows(run, "crm_customers")}
    assert any(e != e.strip() for e in raw_emails) and any(e != e.lower() for e in raw_emails)


def test_social_authors_are_customer_handles_or_the_company(run: Path) -> None:
    handles = {
        r["id_value"] for r in _truth(run, "person_identifiers.csv") if r["id_type"] == "social_handle"
    }
    messages = [m for _, m in _json_rows(run, "social_messages")]
    assert {m["direction"] for m in messages} == {"inbound", "outbound"}
    for m in messages:
        if m["direction"] == "inbound":
            assert normalise_social(m["platform"], m["author_handle"]) in handles
        else:
            assert m["author_handle"].lstrip("@") == "cxretail_nl"
        assert m["sentiment"] is None or -1 <= m["sentiment"] <= 1


def test_survey_scores_follow_the_experience_with_channel_weights() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    for survey_type in ("post_contact", "post_delivery", "post_store_visit", "relationship_nps"):
        types = np.full(n, survey_type)
        bad = scores(rng, types, np.full(n, -0.8))
        good = scores(rng, types, np.full(n, 0.8))
        for item in ("nps", "csat", "ces", "effectiveness", "ease", "emotion"):
            assert good[item].mean() > bad[item].mean() + 0.5, (survey_type, item)
    latent = rng.normal(0, 0.6, n)
    contact = scores(rng, np.full(n, "post_contact"), latent)
    delivery = scores(rng, np.full(n, "post_delivery"), latent)
    assert (
        np.corrcoef(contact["ease"], contact["nps"])[0, 1]
        > np.corrcoef(delivery["ease"], delivery["nps"])[0, 1]
    )


def test_pain_raises_the_churn_hazard(tmp_path: Path) -> None:
    world = build_world(tmp_path, customers=4000, days=60, start_date=START, seed=1)
    pained = np.arange(world.pop.n) % 2 == 0
    world.pop.created_day[:] = -1
    for day in range(60):
        world.state.pain[pained] = 2.0
        world.state.churn_step(day, world.rng("churn"))
    churned = world.state.churned_on >= 0
    assert churned[pained].mean() > 2 * churned[~pained].mean()


def test_every_persons_crm_id_is_in_a_crm_file(run: Path) -> None:
    delivered = {r["crm_id"] for r in _csv_rows(run, "crm_customers")}
    crm_ids = {r["id_value"] for r in _truth(run, "person_identifiers.csv") if r["id_type"] == "crm_id"}
    assert crm_ids and crm_ids <= delivered
    first_day = _effective_files(run, "crm_customers")[0]
    assert len(first_day.read_text(encoding="utf-8").splitlines()) > CUSTOMERS * 0.7  # the existing base


def test_placeholders_are_shared_and_belong_to_nobody(run: Path) -> None:
    placeholders = _truth(run, "placeholders.csv")
    contract_examples = {"geen@email.nl", "noreply@example.com", "0000000000", "0612345678"}
    assert {p["value"] for p in placeholders} >= contract_examples
    assert any(p["in_contract_list"] == "false" for p in placeholders)
    assert all(int(p["persons_using"]) >= 5 for p in placeholders)
    values = {p["normalised_value"] for p in placeholders} - {""}
    assert not values & {r["id_value"] for r in _truth(run, "person_identifiers.csv")}


def test_a_redelivery_replaces_the_first_file(run: Path) -> None:
    folder = run / "landing" / "pos_transactions"
    second = sorted(folder.glob("*_r2.csv"))
    assert len(second) == 1
    first = folder / second[0].name.replace("_r2", "")
    assert len(second[0].read_text().splitlines()) > len(first.read_text().splitlines())
    generation = json.loads((run / "truth" / "generation.json").read_text())
    assert generation["rows"]["pos_transactions"] == len(_csv_rows(run, "pos_transactions"))
    assert generation["arguments"]["seed"] == SEED


def test_truth_dir_inside_landing_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="truth"):
        generate(tmp_path / "landing", tmp_path / "landing" / "truth", customers=10, days=1)


def test_cli_prints_rows_per_extract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(
        ["--out", str(tmp_path / "l"), "--truth-dir", str(tmp_path / "t"), "--customers", "50", "--days", "1"]
    )
    printed = capsys.readouterr().out
    assert all(name in printed for name in EXTRACTS) and "generated in" in printed
    assert (tmp_path / "t" / "persons.csv").exists()


def test_a_day_without_crm_changes_gives_a_header_only_file(tmp_path):
    # 800 customers over 120 days (seed 1) has a day on which no CRM record is created or changed; that day
    # used to crash the generator. Its file must be header-only, like any day with nothing to deliver.
    generate(out=tmp_path / "landing", truth_dir=tmp_path / "truth", customers=800, days=120, seed=1)
    crm_files = sorted((tmp_path / "landing" / "crm_customers").iterdir())
    assert len(crm_files) == 120
    assert any(len(f.read_text(encoding="utf-8").splitlines()) == 1 for f in crm_files)
