"""Drift against the previous published run: is tonight's output plausibly the same business as last night's?

The statistics are computed the same way on the warehouse mart (tonight) and on the previously published
table (``main.<table>`` of the published file), so nothing extra has to be stored for them; each published
file also carries them in ``meta.table_stats`` for people to read.

Documented bounds (change them here, in review):

=================================  ====================================================================
row count, every published table   tonight / previous between 0.95 and 1.50 (erasures may remove a
                                   few rows; a nightly delta or a catch-up of late files adds some)
mean churn_propensity              within +-0.10 of the previous run's mean
mean purchase_propensity_30d       within +-0.10 of the previous run's mean
overall NPS (mart_satisfaction)    within +-10 points (response-weighted over every row)
=================================  ====================================================================

On the first publish (no previous file, or the table is new) there is nothing to compare with: the check
passes and says so in its notes. A run tagged ``cx/accept_drift=true`` (an operator's deliberate decision
after a known change, e.g. a model upgrade) records the drift but does not block on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class DriftBound:
    metric: str  # a key of table_stats()
    kind: str  # "ratio" (tonight / previous) or "delta" (tonight - previous)
    low: float
    high: float
    description: str


ROW_COUNT_BOUND = DriftBound("rows", "ratio", 0.95, 1.50, "row count may shrink 5 % or grow 50 %")

DRIFT_BOUNDS: dict[str, tuple[DriftBound, ...]] = {
    "customer_propensity": (
        ROW_COUNT_BOUND,
        DriftBound("mean_churn_propensity", "delta", -0.10, 0.10, "mean churn propensity moves <= 0.10"),
        DriftBound(
            "mean_purchase_propensity_30d",
            "delta",
            -0.10,
            0.10,
            "mean 30-day purchase propensity moves <= 0.10",
        ),
    ),
    "mart_satisfaction": (
        ROW_COUNT_BOUND,
        DriftBound("nps", "delta", -10.0, 10.0, "overall NPS moves <= 10 points"),
    ),
}


def bounds_for(table: str) -> tuple[DriftBound, ...]:
    return DRIFT_BOUNDS.get(table, (ROW_COUNT_BOUND,))


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        """select column_name from information_schema.columns
           where table_catalog = current_database() and table_schema = ? and table_name = ?""",
        [schema, table],
    ).fetchall()
    return {str(r[0]) for r in rows}


def table_stats(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, name: str
) -> dict[str, float] | None:
    """Drift statistics of ``schema.table`` (published as ``name``); None when the relation does not exist."""
    columns = _columns(con, schema, table)
    if not columns:
        return None
    relation = f'"{schema}"."{table}"'
    row = con.execute(f"select count(*) from {relation}").fetchall()[0]
    stats: dict[str, float] = {"rows": float(row[0] if row else 0)}
    if name == "customer_propensity" and {"churn_propensity", "purchase_propensity_30d"} <= columns:
        churn, purchase = con.execute(
            f"select avg(churn_propensity), avg(purchase_propensity_30d) from {relation}"
        ).fetchall()[0]
        if churn is not None:
            stats["mean_churn_propensity"] = float(churn)
        if purchase is not None:
            stats["mean_purchase_propensity_30d"] = float(purchase)
    if name == "mart_satisfaction" and {"nps", "nps_responses"} <= columns:
        (nps,) = con.execute(
            f"""select sum(nps * nps_responses) / nullif(sum(nps_responses), 0)
                from {relation} where nps is not null"""
        ).fetchall()[0]
        if nps is not None:
            stats["nps"] = float(nps)
    return stats


def compare(
    current: dict[str, float], previous: dict[str, float] | None, bounds: tuple[DriftBound, ...]
) -> tuple[dict[str, float], list[str]]:
    """(one value per bounded metric: ratio or delta, notes on metrics that could not be compared)."""
    if previous is None:
        return {}, ["no previous published table: first publish, drift not evaluated"]
    values: dict[str, float] = {}
    notes: list[str] = []
    for bound in bounds:
        now, before = current.get(bound.metric), previous.get(bound.metric)
        column = f"{bound.metric}_{bound.kind}"
        if now is None or before is None:
            notes.append(
                f"{bound.metric}: not available in {'tonight' if now is None else 'the previous'} run"
            )
        elif bound.kind == "ratio":
            if before == 0:
                notes.append(f"{bound.metric}: previous run had 0, ratio not evaluated")
            else:
                values[column] = now / before
        else:
            values[column] = now - before
    return values, notes
