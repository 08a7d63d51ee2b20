"""The Great Expectations suites that gate the published marts, as code: one function per suite.

Each :class:`SuiteSpec` pairs a SQL query (what is validated: the mart's rows plus derived columns for the
cross-table rules, computed by DuckDB) with a function that lists the suite's expectations explicitly. The
derived columns are named with a leading underscore and are always non-null booleans or numbers, so that an
expectation on them can only pass when every row satisfies the rule:

==========================  ==========================================================================
``_in_dim_customer``        the row's customer_key exists in ``marts.dim_customer``
``_profiling_opted_out``    the customer asked not to be profiled (``dim_customer``)
``_customer_known``         customer_key is null (anonymous) or exists in ``dim_customer``
``_occurs_in_future``       the event is more than a day in the future (a time-zone or parsing bug)
==========================  ==========================================================================

Bounds (ranges, row counts, drift) are the numbers written in the expectations below and in
:mod:`cx_warehouse.quality.drift`; change them there, in review.

How a suite is evaluated (:func:`cx_warehouse.quality.gate.run_suite`): expectations about the table as a
whole - row count, uniqueness of a key (:func:`_key`) or of a grain - are evaluated in DuckDB SQL on the whole
relation (:mod:`cx_warehouse.quality.whole_relation`); every other expectation is row by row and GX validates
the frame in bounded chunks (:func:`cx_warehouse.quality.gx_runner.validate_chunks`). A suite may only use
expectation types one of the two can judge; any other fails the suite. A suite with an :class:`Increment`
validates row by row only the batches recomputed since the last gated publish (see there).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import great_expectations as gx

SURVEY_TYPES = ["relationship_nps", "post_contact", "post_delivery", "post_store_visit"]
BOOLEAN = [True, False]
LIFECYCLE_STAGES = ["new", "active", "at_risk", "lapsed", "churned"]  # dim_customer's documented stages

# Score columns and their ranges (contract: NPS -100..100, CSAT 1-5, CES 1-7, the three E's 1-5).
SATISFACTION_SCORE_RANGES: dict[str, tuple[float, float]] = {
    "nps": (-100, 100),
    "csat_avg": (1, 5),
    "ces_avg": (1, 7),
    "effectiveness_avg": (1, 5),
    "ease_avg": (1, 5),
    "emotion_avg": (1, 5),
}
# The customer-level satisfaction table is not in the contract yet: a score column is recognised by its name
# (``csat_avg``, ``last_csat``, ``avg_ces``, ``nps_score``...) and must lie in its instrument's range.
CUSTOMER_SCORE_RULES: tuple[tuple[str, float, float], ...] = (
    (r"^nps$", -100, 100),  # an NPS index over the customer's responses
    (r"nps_(score|avg|mean|last|latest)$|^(avg|mean|last|latest)_nps(_score)?$", 0, 10),  # a 0-10 answer
    (r"(^|_)csat(_|$)", 1, 5),
    (r"(^|_)ces(_|$)", 1, 7),
    (r"(^|_)(effectiveness|ease|emotion)(_|$)", 1, 5),
)


@dataclass(frozen=True)
class SuiteParams:
    """Numbers a suite needs from outside its own frame (read from the warehouse before validating)."""

    dim_customer_rows: int
    eligible_customers: int  # dim_customer rows not opted out of profiling
    # Why the propensity models were not trained, when marts.model_metrics says so for the gate's own run id
    # (every row of that run has status 'not_trained'); None otherwise, including for any other run.
    propensity_not_trained: str | None = None


@dataclass(frozen=True)
class Increment:
    """Validate row by row only the rows recomputed since the rows of the last gated publish.

    ``batch_relation`` is the incremental dbt model that holds the suite's rows with ``batch_column`` (the dbt
    invocation that last recomputed a row). ``frame_sql`` is the suite's frame restricted to
    ``batch_column > $validated_through``. The gate uses it only when the run whose file is published passed
    this suite, with the same rules (fingerprint), and recorded the newest batch it validated; otherwise
    (first run, failed or unknown previous gate, rules changed) the whole frame is validated - a full refresh
    re-stamps every row, so it is validated whole anyway. Whole-table expectations (row count, uniqueness) are
    always evaluated on the whole relation, and so are the row-by-row expectations on
    ``whole_relation_columns``: columns whose value can change without their row being recomputed (looked up
    from a seed or another mart at query time) or that the increment's join cannot see (a null key).
    """

    batch_relation: str
    batch_column: str
    frame_sql: str
    whole_relation_columns: tuple[str, ...]


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    table: str  # the published table (registry name) this suite gates
    description: str
    frame_sql: str
    build: Callable[[SuiteParams, Sequence[str]], gx.ExpectationSuite]
    index_columns: tuple[str, ...]
    requires: tuple[str, ...]  # warehouse relations the frame reads
    increment: Increment | None = None


def _suite(name: str, expectations: list[Any]) -> gx.ExpectationSuite:
    import great_expectations as gx

    return gx.ExpectationSuite(name=name, expectations=expectations)


def _exists(gxe: Any, columns: Sequence[str]) -> list[Any]:
    return [gxe.ExpectColumnToExist(column=c) for c in columns]


def _key(gxe: Any, column: str) -> list[Any]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=column), gxe.ExpectColumnValuesToBeUnique(column=column)]


# ---------------------------------------------------------------------------------------------- dim_customer

DIM_CUSTOMER_SQL = """
select
    customer_key, first_seen_at, last_seen_at, lifecycle_stage,
    is_marketing_opted_in, is_profiling_opted_out, postcode_area
from marts.dim_customer
"""


def dim_customer_suite(params: SuiteParams, columns: Sequence[str]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    return _suite(
        "dim_customer",
        [
            *_exists(gxe, ["customer_key", "first_seen_at", "last_seen_at", "lifecycle_stage"]),
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            *_key(gxe, "customer_key"),
            gxe.ExpectColumnValuesToNotBeNull(column="first_seen_at"),
            # last_seen_at is null for a customer who was never active (dim_customer's documentation).
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="last_seen_at",
                column_B="first_seen_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="lifecycle_stage"),
            gxe.ExpectColumnValuesToBeInSet(column="lifecycle_stage", value_set=LIFECYCLE_STAGES),
            gxe.ExpectColumnValuesToNotBeNull(column="is_marketing_opted_in"),
            gxe.ExpectColumnValuesToBeInSet(column="is_marketing_opted_in", value_set=BOOLEAN),
            gxe.ExpectColumnValuesToNotBeNull(column="is_profiling_opted_out"),
            gxe.ExpectColumnValuesToBeInSet(column="is_profiling_opted_out", value_set=BOOLEAN),
            # The 4-digit area only: a full postcode here would be direct personal data.
            gxe.ExpectColumnValuesToMatchRegex(column="postcode_area", regex=r"^[1-9][0-9]{3}$"),
        ],
    )


# ------------------------------------------------------------------------------------------- fct_touchpoints


def _fct_touchpoints_sql(rows: str = "") -> str:
    """The fct_touchpoints frame; ``rows``: a join that keeps only some touchpoints (the increment)."""
    return f"""
select
    t.touchpoint_id, t.customer_key, t.channel, t.touchpoint_type, t.occurred_at, t.journey_stage,
    (t.customer_key is null or d.customer_key is not null) as _customer_known,
    coalesce(t.occurred_at::timestamptz > now() + interval 1 day, false) as _occurs_in_future
from marts.fct_touchpoints as t{rows}
left join (select distinct customer_key from marts.dim_customer) as d on t.customer_key = d.customer_key
"""


FCT_TOUCHPOINTS_SQL = _fct_touchpoints_sql()


# fct_touchpoints is a view over the incremental intermediate.int_touchpoints_unioned, which stamps every row
# it recomputes with the dbt invocation's start (_batch_at); the BI view does not expose it, so the increment
# joins back to the intermediate model on touchpoint_id. Rows with a null touchpoint_id cannot join: the key's
# not-null rule is evaluated on the whole relation, as are journey_stage (the seed taxonomy, looked up by the
# view) and _customer_known (dim_customer, rebuilt every night). _occurs_in_future only turns false over time.
FCT_TOUCHPOINTS_INCREMENT = Increment(
    batch_relation="intermediate.int_touchpoints_unioned",
    batch_column="_batch_at",
    frame_sql=_fct_touchpoints_sql(
        """
inner join (
    select distinct touchpoint_id from intermediate.int_touchpoints_unioned
    where _batch_at > $validated_through
) as b on t.touchpoint_id = b.touchpoint_id"""
    ),
    whole_relation_columns=("touchpoint_id", "journey_stage", "_customer_known"),
)


def fct_touchpoints_suite(params: SuiteParams, columns: Sequence[str]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    return _suite(
        "fct_touchpoints",
        [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            *_key(gxe, "touchpoint_id"),
            gxe.ExpectColumnValuesToNotBeNull(column="channel"),
            gxe.ExpectColumnValuesToNotBeNull(column="touchpoint_type"),
            gxe.ExpectColumnValuesToNotBeNull(column="occurred_at"),
            gxe.ExpectColumnValuesToNotBeNull(column="journey_stage"),
            gxe.ExpectColumnValuesToBeInSet(column="_customer_known", value_set=[True]),
            gxe.ExpectColumnValuesToBeInSet(column="_occurs_in_future", value_set=[False]),
        ],
    )


# ---------------------------------------------------------------------------------------------- fct_contacts

FCT_CONTACTS_SQL = """
select
    c.contact_id, c.customer_key, c.channel, c.reason, c.is_first_contact_resolution,
    (c.customer_key is null or d.customer_key is not null) as _customer_known
from marts.fct_contacts as c
left join (select distinct customer_key from marts.dim_customer) as d on c.customer_key = d.customer_key
"""


def fct_contacts_suite(params: SuiteParams, columns: Sequence[str]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    return _suite(
        "fct_contacts",
        [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            *_key(gxe, "contact_id"),
            gxe.ExpectColumnValuesToNotBeNull(column="channel"),
            gxe.ExpectColumnValuesToNotBeNull(column="reason"),
            gxe.ExpectColumnValuesToNotBeNull(column="is_first_contact_resolution"),
            gxe.ExpectColumnValuesToBeInSet(column="is_first_contact_resolution", value_set=BOOLEAN),
            gxe.ExpectColumnValuesToBeInSet(column="_customer_known", value_set=[True]),
        ],
    )


# ----------------------------------------------------------------------------------------- mart_satisfaction

MART_SATISFACTION_SQL = """
select
    "date", channel, survey_type, responses, nps_responses,
    nps, csat_avg, ces_avg, effectiveness_avg, ease_avg, emotion_avg
from marts.mart_satisfaction
"""


def mart_satisfaction_suite(params: SuiteParams, columns: Sequence[str]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    grain = ["date", "channel", "survey_type"]
    return _suite(
        "mart_satisfaction",
        [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in grain],
            gxe.ExpectCompoundColumnsToBeUnique(column_list=grain),
            gxe.ExpectColumnValuesToBeInSet(column="survey_type", value_set=SURVEY_TYPES),
            gxe.ExpectColumnValuesToNotBeNull(column="responses"),
            gxe.ExpectColumnValuesToBeBetween(column="responses", min_value=1),
            gxe.ExpectColumnValuesToNotBeNull(column="nps_responses"),
            gxe.ExpectColumnValuesToBeBetween(column="nps_responses", min_value=0),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="responses", column_B="nps_responses", or_equal=True
            ),
            *[
                gxe.ExpectColumnValuesToBeBetween(column=c, min_value=lo, max_value=hi)
                for c, (lo, hi) in SATISFACTION_SCORE_RANGES.items()
            ],
        ],
    )


# Completeness: every survey response of a day is counted in the mart, under some channel. A missing
# (date, channel, survey_type) row - a day's channel dropped by a join - shows as responses short for that
# (date, survey_type); double counting shows as a surplus. Responses are counted once per response_id in
# stg_survey__responses, on the Europe/Amsterdam date of responded_at (the contract's grain).
MART_SATISFACTION_COMPLETENESS_SQL = """
with expected as (
    select
        cast(responded_at_local as date) as "date",
        survey_type,
        count(*) as expected_responses,
        count(nps) as expected_nps_responses
    from staging.stg_survey__responses
    where responded_at_local is not null and survey_type is not null
    group by 1, 2
),

in_mart as (
    select
        cast("date" as date) as "date",
        survey_type,
        sum(responses) as mart_responses,
        sum(nps_responses) as mart_nps_responses
    from marts.mart_satisfaction
    group by 1, 2
)

select
    coalesce(e."date", m."date") as "date",
    coalesce(e.survey_type, m.survey_type) as survey_type,
    coalesce(e.expected_responses, 0) as expected_responses,
    coalesce(m.mart_responses, 0) as mart_responses,
    coalesce(m.mart_responses, 0) - coalesce(e.expected_responses, 0) as responses_difference,
    coalesce(m.mart_nps_responses, 0) - coalesce(e.expected_nps_responses, 0) as nps_responses_difference
from expected as e
full outer join in_mart as m on e."date" = m."date" and e.survey_type = m.survey_type
"""


def mart_satisfaction_completeness_suite(params: SuiteParams, columns: Sequence[str]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    return _suite(
        "mart_satisfaction_completeness",
        [
            gxe.ExpectTableRowCountToBeBetween(min_value=1),
            gxe.ExpectColumnValuesToBeBetween(column="responses_difference", min_value=0, max_value=0),
            gxe.ExpectColumnValuesToBeBetween(column="nps_responses_difference", min_value=0, max_value=0),
        ],
    )


# -------------------------------------------------------------------------------- mart_customer_satisfaction

MART_CUSTOMER_SATISFACTION_SQL = """
select
    s.*,
    d.customer_key is not null as _in_dim_customer
from marts.mart_customer_satisfaction as s
left join (select distinct customer_key from marts.dim_customer) as d on s.customer_key = d.customer_key
"""


def customer_score_ranges(columns: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The range each score column of the customer-level table must lie in (:data:`CUSTOMER_SCORE_RULES`)."""
    ranges: dict[str, tuple[float, float]] = {}
    for column in columns:
        if column.startswith("_") or re.search(r"(^|_)(count|responses|n)$|^n_", column):
            continue
        for pattern, lo, hi in CUSTOMER_SCORE_RULES:
            if re.search(pattern, column):
                ranges[column] = (lo, hi)
                break
    return ranges


def mart_customer_satisfaction_suite(params: SuiteParams, columns: Sequence[str]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    counts = [c for c in columns if c == "responses" or c.endswith("_responses")]
    return _suite(
        "mart_customer_satisfaction",
        [
            gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=params.dim_customer_rows),
            *_key(gxe, "customer_key"),
            gxe.ExpectColumnValuesToBeInSet(column="_in_dim_customer", value_set=[True]),
            *[gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in counts],
            *[
                gxe.ExpectColumnValuesToBeBetween(column=c, min_value=lo, max_value=hi)
                for c, (lo, hi) in customer_score_ranges(columns).items()
            ],
        ],
    )


# --------------------------------------------------------------------------------------- customer_propensity

CUSTOMER_PROPENSITY_SQL = """
select
    p.customer_key, p.scored_at, p.churn_propensity, p.purchase_propensity_30d, p.model_version,
    d.customer_key is not null as _in_dim_customer,
    coalesce(d.is_profiling_opted_out, false) as _profiling_opted_out
from marts.customer_propensity as p
left join (
    select customer_key, bool_or(coalesce(is_profiling_opted_out, false)) as is_profiling_opted_out
    from marts.dim_customer
    group by customer_key
) as d on p.customer_key = d.customer_key
"""


def customer_propensity_suite(params: SuiteParams, columns: Sequence[str]) -> gx.ExpectationSuite:
    import great_expectations.expectations as gxe

    if params.propensity_not_trained:
        # This run's model_metrics says the models were not trained (too little history): nobody is scored,
        # so the table must be empty - zero rows are accepted for this reason only, and rows would be stale.
        row_count = gxe.ExpectTableRowCountToBeBetween(
            min_value=0,
            max_value=0,
            notes=f"models not trained in this run: {params.propensity_not_trained}",
        )
    else:
        # Consistent with dim_customer: at least one and at most one score per customer who may be profiled.
        row_count = gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=params.eligible_customers)
    return _suite(
        "customer_propensity",
        [
            row_count,
            *_key(gxe, "customer_key"),
            gxe.ExpectColumnValuesToNotBeNull(column="scored_at"),
            gxe.ExpectColumnValuesToNotBeNull(column="model_version"),
            gxe.ExpectColumnValuesToNotBeNull(column="churn_propensity"),
            gxe.ExpectColumnValuesToBeBetween(column="churn_propensity", min_value=0, max_value=1),
            gxe.ExpectColumnValuesToNotBeNull(column="purchase_propensity_30d"),
            gxe.ExpectColumnValuesToBeBetween(column="purchase_propensity_30d", min_value=0, max_value=1),
            # Every scored customer exists; nobody who opted out of profiling is scored.
            gxe.ExpectColumnValuesToBeInSet(column="_in_dim_customer", value_set=[True]),
            gxe.ExpectColumnValuesToBeInSet(column="_profiling_opted_out", value_set=[False]),
        ],
    )


def suite_notes(spec: SuiteSpec, params: SuiteParams) -> list[str]:
    """What a reader of the suite's outcome must know about how ``params`` shaped it."""
    if spec.name == "customer_propensity" and params.propensity_not_trained:
        return [f"not trained in this run, zero rows expected: {params.propensity_not_trained}"]
    return []


SUITES: tuple[SuiteSpec, ...] = (
    SuiteSpec(
        "dim_customer",
        "dim_customer",
        "Golden customer record: unique keys, seen-dates in order, opt-in flags set, postcode area only.",
        DIM_CUSTOMER_SQL,
        dim_customer_suite,
        ("customer_key",),
        ("marts.dim_customer",),
    ),
    SuiteSpec(
        "fct_touchpoints",
        "fct_touchpoints",
        "Touchpoints: unique ids, required attributes set, every customer_key known, nothing in the future. "
        "Row-by-row rules on the rows recomputed since the last gated publish (intermediate."
        "int_touchpoints_unioned._batch_at, joined on touchpoint_id: the BI view does not expose it); ids, "
        "row count, journey_stage and known customers on the whole table.",
        FCT_TOUCHPOINTS_SQL,
        fct_touchpoints_suite,
        ("touchpoint_id",),
        ("marts.fct_touchpoints", "marts.dim_customer"),
        FCT_TOUCHPOINTS_INCREMENT,
    ),
    SuiteSpec(
        "fct_contacts",
        "fct_contacts",
        "Contacts: unique ids, reason and first-contact resolution set, every customer_key known.",
        FCT_CONTACTS_SQL,
        fct_contacts_suite,
        ("contact_id",),
        ("marts.fct_contacts", "marts.dim_customer"),
    ),
    SuiteSpec(
        "mart_satisfaction",
        "mart_satisfaction",
        "Daily satisfaction: unique grain, known survey types, scores in their instruments' ranges.",
        MART_SATISFACTION_SQL,
        mart_satisfaction_suite,
        ("date", "channel", "survey_type"),
        ("marts.mart_satisfaction",),
    ),
    SuiteSpec(
        "mart_satisfaction_completeness",
        "mart_satisfaction",
        "Every survey response of every day is counted once in mart_satisfaction (no day's channel missing).",
        MART_SATISFACTION_COMPLETENESS_SQL,
        mart_satisfaction_completeness_suite,
        ("date", "survey_type"),
        ("marts.mart_satisfaction", "staging.stg_survey__responses"),
    ),
    SuiteSpec(
        "mart_customer_satisfaction",
        "mart_customer_satisfaction",
        "Customer-level satisfaction: one row per known customer, scores in range.",
        MART_CUSTOMER_SATISFACTION_SQL,
        mart_customer_satisfaction_suite,
        ("customer_key",),
        ("marts.mart_customer_satisfaction", "marts.dim_customer"),
    ),
    SuiteSpec(
        "customer_propensity",
        "customer_propensity",
        "Propensities in 0-1, one per existing customer, none for profiling opt-outs.",
        CUSTOMER_PROPENSITY_SQL,
        customer_propensity_suite,
        ("customer_key",),
        ("marts.customer_propensity", "marts.dim_customer"),
    ),
)

SUITES_BY_TABLE: dict[str, tuple[SuiteSpec, ...]] = {}
for _spec in SUITES:
    SUITES_BY_TABLE[_spec.table] = (*SUITES_BY_TABLE.get(_spec.table, ()), _spec)
