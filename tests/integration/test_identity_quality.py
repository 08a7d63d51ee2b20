"""Identity resolution against the sample generator's ground truth: pairwise precision and recall.

Also holds the helpers the identity integration tests share (``generate_sample``, ``load_landing``,
``build_identity``, ``pairwise_quality``); the lead may move them into a conftest.

Pairs are counted over the identifiers crm_id, account_id, loyalty_card_no and anonymous_id:

* precision: of all pairs of such identifiers that resolved to the same customer (identity_map), the share
  that belong to the same true person;
* recall: of the pairs the delivered rows can link, the share that resolved to the same customer. A pair of
  one person's identifiers can be linked when the delivered records connect them through identifiers of that
  person (two identifiers of one record are connected; a cookie that never logs in is connected to nothing).
  Erased persons do not count. The generator's own ``delivered`` / ``logged_in`` flags are a looser bound (a
  delivered account that only ever appears in web events cannot be tied to the person's CRM record by any
  row); recall against them is reported too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cx_warehouse.generator.engine import generate
from cx_warehouse.ingest import ensure_raw_schema, load_all

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
STRONG_ID_TYPES = ("crm_id", "account_id", "loyalty_card_no", "anonymous_id")
# The identity models and everything upstream; tests only when all their parents are built. Staging's own
# tests are left to the staging suite (they would only slow these builds down).
IDENTITY_EXCLUSION = ("path:models/staging,resource_type:test", "path:models/staging,resource_type:unit_test")
IDENTITY_SELECTION = (
    "+dim_customer",
    "+identity_map",
    "+identity_history",
    "+int_identity_resolution_runs",
    "+int_records_resolved",
    "+int_identity_excluded_identifiers",
)


def generate_sample(root: Path, customers: int, days: int, seed: int = 42) -> tuple[Path, Path]:
    """Generated landing files and ground truth under ``root``: (landing root, truth dir)."""
    landing, truth = root / "landing", root / "truth"
    generate(out=landing, truth_dir=truth, customers=customers, days=days, seed=seed)
    return landing, truth


def load_landing(warehouse: Path, landing: Path, run_id: str = "test") -> None:
    """Load every landing file (not loaded before) into the warehouse's raw schema."""
    con = duckdb.connect(str(warehouse))
    try:
        ensure_raw_schema(con)
        load_all(con, landing, run_id=run_id)
    finally:
        con.close()


def build_identity(
    warehouse: Path, work_dir: Path, *extra: str, salt: str = "test-salt", unit_tests: bool = True
) -> str:
    """``dbt build`` of the identity models (and staging) into ``warehouse``; returns dbt's output.

    dbt's target and log folders go to ``work_dir`` so that a test never touches the project's own.
    ``unit_tests=False`` skips dbt's unit tests (for repeated builds of the same project).
    """
    env = {
        **os.environ,
        "CX_WAREHOUSE_PATH": str(warehouse),
        "CX_PSEUDONYM_SALT": salt,
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        str(DBT),
        "build",
        "--profiles-dir",
        str(DBT_PROJECT),
        "--project-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work_dir / "dbt_target"),
        "--log-path",
        str(work_dir / "dbt_logs"),
        "--indirect-selection",
        "cautious",
        "--select",
        *IDENTITY_SELECTION,
        "--exclude",
        *IDENTITY_EXCLUSION,
        *([] if unit_tests else ["resource_type:unit_test"]),
        *extra,
    ]
    result = subprocess.run(command, cwd=DBT_PROJECT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    return result.stdout


def build_sample_warehouse(root: Path, customers: int, days: int, seed: int = 42) -> tuple[Path, Path]:
    """Generate, load and build: (warehouse file, truth dir)."""
    landing, truth = generate_sample(root, customers, days, seed)
    warehouse = root / "warehouse.duckdb"
    load_landing(warehouse, landing)
    build_identity(warehouse, root)
    return warehouse, truth


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float  # of the pairs the delivered rows can link
    recall_delivered: float  # of the pairs the generator flags as delivered (and cookies as logged in)
    predicted_pairs: int
    linkable_pairs: int
    delivered_pairs: int
    largest_cluster: int  # strong identifiers in the largest customer
    iterations: int
    anchor_iterations: int
    label_iterations: int
    customers: int

    def summary(self) -> str:
        return (
            f"precision {self.precision:.4f} ({self.predicted_pairs} predicted pairs), "
            f"recall {self.recall:.4f} of {self.linkable_pairs} linkable pairs "
            f"({self.recall_delivered:.4f} of {self.delivered_pairs} delivered pairs), "
            f"largest customer {self.largest_cluster} strong ids, {self.customers} customers, "
            f"iterations {self.iterations} ({self.anchor_iterations} anchor + {self.label_iterations} label)"
        )


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, x: object) -> object:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: object, b: object) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def _pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise_quality(warehouse: Path, truth: Path) -> Quality:
    """Pairwise precision and recall of identity_map against the generator's ground truth."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute(
            "create temp table truth as select * from read_csv(?, all_varchar = true)",
            [str(truth / "person_identifiers.csv")],
        )
        con.execute(
            "create temp table persons as select * from read_csv(?, all_varchar = true)",
            [str(truth / "persons.csv")],
        )
        truth_rows = con.execute(
            """
            select
                t.person_id, t.id_type, t.id_value,
                t.delivered = 'true', coalesce(t.logged_in, '') = 'true'
            from truth as t
            inner join persons as p on t.person_id = p.person_id
            where coalesce(p.erased_on, '') = ''
            """
        ).fetchall()
        predicted = con.execute(
            """
            select distinct customer_key, id_type, id_value
            from marts.identity_map
            where id_type in ('crm_id', 'account_id', 'loyalty_card_no', 'anonymous_id')
            """
        ).fetchall()
        records = con.execute(
            """
            select source_model || '/' || record_id, id_type, id_value
            from intermediate.int_identity_record_identifiers
            where is_graph_source
            """
        ).fetchall()
        runs = con.execute(
            """
            select iterations, anchor_iterations, label_iterations, customers
            from intermediate.int_identity_resolution_runs
            order by run_started_at desc
            limit 1
            """
        ).fetchall()[0]
    finally:
        con.close()

    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for person, id_type, value, _, _ in truth_rows:
        owners[(id_type, value)].add(person)
    person_of = {
        (t, v): next(iter(p)) for (t, v), p in owners.items() if t in STRONG_ID_TYPES and len(p) == 1
    }

    # precision: predicted pairs within a customer that are pairs of one person
    cluster_sizes: Counter = Counter()
    cluster_person: Counter = Counter()
    customer_of: dict[tuple[str, str], str] = {}
    for key, id_type, value in predicted:
        cluster_sizes[key] += 1
        customer_of[(id_type, value)] = key
        cluster_person[(key, person_of.get((id_type, value)))] += 1
    predicted_pairs = _pairs(cluster_sizes)
    true_positive = _pairs(Counter({k: n for k, n in cluster_person.items() if k[1] is not None}))

    # recall: link each person's identifiers that the delivered records show together
    by_record: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for record, id_type, value in records:
        by_record[record].append((id_type, value))
    links = _UnionFind()
    for identifiers in by_record.values():
        per_person: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for identifier in identifiers:
            for person in owners.get(identifier, ()):
                per_person[person].append(identifier)
        for person, ids in per_person.items():
            for other in ids[1:]:
                links.union((person, ids[0]), (person, other))
    linkable: Counter = Counter()
    linked: Counter = Counter()
    delivered: Counter = Counter()
    delivered_linked: Counter = Counter()
    for person, id_type, value, is_delivered, logged_in in truth_rows:
        if id_type not in STRONG_ID_TYPES:
            continue
        identifier = (id_type, value)
        if (person, identifier) in links.parent:
            group = links.find((person, identifier))
            linkable[group] += 1
            if identifier in customer_of:
                linked[(group, customer_of[identifier])] += 1
        if is_delivered and (id_type != "anonymous_id" or logged_in):
            delivered[person] += 1
            if identifier in customer_of:
                delivered_linked[(person, customer_of[identifier])] += 1

    return Quality(
        precision=true_positive / predicted_pairs if predicted_pairs else 1.0,
        recall=_pairs(linked) / _pairs(linkable) if _pairs(linkable) else 1.0,
        recall_delivered=_pairs(delivered_linked) / _pairs(delivered) if _pairs(delivered) else 1.0,
        predicted_pairs=predicted_pairs,
        linkable_pairs=_pairs(linkable),
        delivered_pairs=_pairs(delivered),
        largest_cluster=max(cluster_sizes.values(), default=0),
        iterations=int(runs[0]),
        anchor_iterations=int(runs[1]),
        label_iterations=int(runs[2]),
        customers=int(runs[3]),
    )


@pytest.mark.integration
def test_identity_resolution_meets_precision_and_recall(tmp_path: Path) -> None:
    warehouse, truth = build_sample_warehouse(tmp_path, customers=2000, days=45)

    quality = pairwise_quality(warehouse, truth)
    print(quality.summary())

    assert quality.precision >= 0.99, quality.summary()
    assert quality.recall >= 0.97, quality.summary()
    assert quality.predicted_pairs > 1000, "too few linked pairs to measure anything"
    assert quality.iterations >= 2
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        excluded_rows = con.execute(
            "select id_value from intermediate.int_identity_excluded_identifiers"
        ).fetchall()
        placeholders = con.execute(
            """
            select normalised_value from read_csv(?, all_varchar = true)
            where normalised_value is not null and cast(persons_using as integer) > 0
            """,
            [str(truth / "placeholders.csv")],
        ).fetchall()
        in_map = con.execute(
            """
            select count(*) from marts.identity_map
            where id_value in (select normalised_value from read_csv(?, all_varchar = true))
            """,
            [str(truth / "placeholders.csv")],
        ).fetchall()[0][0]
    finally:
        con.close()
    # every placeholder the generator used (also those not in the seed) is excluded and maps to nobody
    assert {value for (value,) in placeholders} <= {value for (value,) in excluded_rows}
    assert in_map == 0
