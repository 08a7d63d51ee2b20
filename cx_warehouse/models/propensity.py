"""Churn and purchase propensity: time-based training on point-in-time snapshots, calibration, scoring.

Input: ``intermediate.int_customer_feature_snapshots`` (dbt; features strictly before each snapshot's as_of,
labels from it on - the point-in-time rules live there) and ``marts.mart_customer_personas`` (persona and the
next-best-action inputs of the scoring snapshot). Output: ``marts.customer_propensity`` (replaced) and
``marts.model_metrics`` (one row per model per run, appended).

Per model (:data:`TARGETS`):

1. **Time-based split.** The latest training snapshot with a fully observed label validates; the earlier
   ones train. Snapshots whose label window would reach into the validation snapshot are left out ("purged")
   when at least :data:`MIN_PURGED_SNAPSHOTS` remain; otherwise (the 90-day churn label on a short history)
   all earlier snapshots train and ``label_windows_overlap`` says so in the metrics.
2. **Model.** A gradient-boosted tree classifier (:data:`GBM_PARAMS`, fixed random state, no early stopping)
   inside ``CalibratedClassifierCV(ensemble=False)``: the trees are fit on all training rows and a sigmoid
   (Platt) calibrator on their out-of-fold predictions, folds grouped by customer (a customer's snapshots stay
   in one fold). Scores are calibrated probabilities. (Isotonic calibration was as well calibrated on the
   demo data but maps the extremes to exactly 0 and 1, and its ties cost AUC.)
3. **Validation metrics** on the validation snapshot: AUC, the AUC of the recency-only baseline (days
   since the last activity), Brier score (and that of always predicting the training base rate), a decile
   calibration table and its expected calibration error, base rates, and the top drivers (AUC lost when a
   reason group's features are shuffled together).
4. **Scoring.** The same recipe refit on every labelled snapshot scores the scoring snapshot (as of the day
   after the latest business date loaded), streamed from DuckDB in chunks. Reason codes: per customer, the
   three reason groups (:mod:`cx_warehouse.models.features`) whose replacement by a typical customer's
   values lowers the model's log-odds most, i.e. what raises this customer's score, each stated with the
   customer's own values.

Customers who opted out of profiling are in no snapshot (dbt), so they are neither trained on nor scored. The
next best action is assigned by :mod:`cx_warehouse.models.next_best_action`.

**Bounded work at any population size** (:class:`Limits`, environment variables below). The snapshots are
customers x snapshot dates (1M customers x 24 weekly snapshots = 24M rows); nothing reads them whole. Each
fit (validation model, final model) trains on at most ``CX_PROPENSITY_MAX_TRAINING_ROWS`` (default 300,000)
labelled rows and the validation metrics use at most ``CX_PROPENSITY_MAX_VALIDATION_ROWS`` (default
300,000) rows of the validation snapshot: a **plain (unstratified), deterministic random sample** of rows -
the rows with the smallest ``md5(customer_key | as_of)`` - selected in DuckDB, so only the sample reaches
pandas. Plain, not stratified by label, so that the sample keeps the population's base rate and the Platt
calibration fit on it stays calibrated for the population. Below the caps every row is used, exactly as
without them. The sizes (used and available) are recorded per model in ``marts.model_metrics``
(``train_rows`` / ``train_rows_available``, ``validation_rows`` / ``validation_rows_available``,
``final_training_rows`` / ``final_training_rows_available``, ``max_training_rows``, ``max_validation_rows``,
``sampling``). Only the columns the models use are read. Scoring streams every scoring row in chunks of
``CX_PROPENSITY_SCORING_CHUNK_ROWS`` (default 100,000), and the reason texts share one string object per
distinct text. Features stay float64: scikit-learn's gradient boosting converts its input to float64 anyway
(float32 would add a copy per fit and prediction, not save one), and the capped frames are small.

**Too little history.** When a model cannot be trained (fewer than two snapshots with a complete label
window, a single class, or too few rows of a class for the customer-grouped folds - :class:`NotTrainable`),
nobody is scored: ``marts.customer_propensity`` is replaced by an empty table with the same columns and
``marts.model_metrics`` gets one row per model with ``status = 'not_trained'`` and the ``reason``. The run
does not fail; the quality gate accepts the empty table only for the run whose metrics say so.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold

from cx_warehouse.models.features import FEATURES, REASON_GROUPS, RECENCY_FEATURE
from cx_warehouse.models.next_best_action import assign_next_best_actions

RECIPE_VERSION = 1
SNAPSHOTS_RELATION = "intermediate.int_customer_feature_snapshots"
PERSONAS_RELATION = "marts.mart_customer_personas"
PROPENSITY_RELATION = "marts.customer_propensity"
METRICS_RELATION = "marts.model_metrics"

GBM_PARAMS: dict[str, Any] = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
CV_FOLDS = 5
CALIBRATION = "sigmoid"
MIN_PURGED_SNAPSHOTS = 2
CALIBRATION_BINS = 10
PERMUTATION_REPEATS = 3
REASON_CODES = 3
REASON_MIN_LOGIT = 0.01  # a reason must raise the log-odds by at least this much
RISK_BANDS: tuple[tuple[float, str], ...] = ((0.5, "high"), (0.2, "medium"), (0.0, "low"))
MIN_CLASS_ROWS = CV_FOLDS  # rows of each class a training set needs (and each fold's training part has one)
TRAINED = "trained"
NOT_TRAINED = "not_trained"

MAX_TRAINING_ROWS_ENV = "CX_PROPENSITY_MAX_TRAINING_ROWS"
MAX_VALIDATION_ROWS_ENV = "CX_PROPENSITY_MAX_VALIDATION_ROWS"
SCORING_CHUNK_ROWS_ENV = "CX_PROPENSITY_SCORING_CHUNK_ROWS"
SAMPLING = "plain random sample of rows: the smallest md5(customer_key || '|' || as_of), when over the cap"


class PropensityError(RuntimeError):
    """The snapshots cannot support training or scoring (too little history, one class only, ...)."""


class NotTrainable(PropensityError):
    """Too little labelled history to train a model: the run scores nobody and says why (not a failure)."""


@dataclass(frozen=True)
class Target:
    """A model: the label column of the snapshots, its horizon (as in the dbt vars) and its outputs."""

    model_name: str
    label: str
    horizon_days: int
    score_column: str
    reason_prefix: str
    definition: str


TARGETS: tuple[Target, ...] = (
    Target(
        "churn_90d",
        "churn_label",
        90,
        "churn_propensity",
        "churn_reason",
        "no activity (any touchpoint except a delivery) in the 90 days from the scoring date",
    ),
    Target(
        "purchase_30d",
        "purchase_label",
        30,
        "purchase_propensity_30d",
        "purchase_reason",
        "a purchase (webshop order or store receipt with a sale) in the 30 days from the scoring date",
    ),
)


def _env_rows(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    rows = int(value) if value else default
    if rows < 1:
        raise ValueError(f"{name} must be a positive number of rows, got {value!r}")
    return rows


@dataclass(frozen=True)
class Limits:
    """What bounds a run's memory and time whatever the number of customers (see the module's docstring)."""

    max_training_rows: int = 300_000  # per fit: the validation model's and the final model's
    max_validation_rows: int = 300_000  # rows of the validation snapshot the metrics are computed on
    scoring_chunk_rows: int = 100_000  # scoring rows in pandas at a time

    @classmethod
    def from_env(cls) -> Limits:
        default = cls()
        return cls(
            max_training_rows=_env_rows(MAX_TRAINING_ROWS_ENV, default.max_training_rows),
            max_validation_rows=_env_rows(MAX_VALIDATION_ROWS_ENV, default.max_validation_rows),
            scoring_chunk_rows=_env_rows(SCORING_CHUNK_ROWS_ENV, default.scoring_chunk_rows),
        )


@dataclass(frozen=True)
class Split:
    train_as_of: tuple[date, ...]
    validation_as_of: date
    label_windows_overlap: bool


@dataclass(frozen=True)
class ModelMetrics:
    """One row of marts.model_metrics."""

    model_name: str
    label_definition: str
    algorithm: str
    calibration_method: str
    training_snapshots: tuple[date, ...]
    validation_snapshot: date
    label_windows_overlap: bool
    train_rows: int
    validation_rows: int
    train_base_rate: float
    validation_base_rate: float
    auc: float
    recency_baseline_auc: float
    brier: float
    base_rate_brier: float
    calibration_error: float
    mean_predicted: float
    calibration_deciles: tuple[dict[str, float], ...]
    top_drivers: tuple[dict[str, float], ...]
    final_training_rows: int
    scored_customers: int
    mean_score: float
    # the sample (rows used above of the rows available; equal when under the caps)
    train_rows_available: int = 0
    validation_rows_available: int = 0
    final_training_rows_available: int = 0
    max_training_rows: int = 0
    max_validation_rows: int = 0
    sampling: str = SAMPLING

    @property
    def beats_recency_baseline(self) -> bool:
        return self.auc > self.recency_baseline_auc


@dataclass(frozen=True)
class PropensityRun:
    """What a run produced: the scored customers and one metrics record per model."""

    scores: pd.DataFrame
    metrics: tuple[ModelMetrics, ...]
    scoring_date: date
    scored_at: datetime
    model_version: str
    not_trained: tuple[tuple[str, str], ...] = ()  # (model_name, reason) per model when nobody was scored

    @property
    def trained(self) -> bool:
        return not self.not_trained

    @property
    def not_trained_reason(self) -> str:
        """Why nobody was scored (the models that could not be trained), empty when trained."""
        return "; ".join(reason for _, reason in self.not_trained if not reason.startswith(SKIPPED_PREFIX))


# ----------------------------------------------------------------------------------------------- data


def load_snapshots(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All snapshots, as_of as ``datetime.date``, in a fixed order (so training is reproducible)."""
    frame = con.execute(f"select * from {SNAPSHOTS_RELATION} order by as_of, customer_key").df()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame


def feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The model features as floats (unknown = NaN, which the trees handle natively)."""
    return frame.loc[:, list(FEATURES)].apply(pd.to_numeric).astype("float64")


def labelled_rows(frame: pd.DataFrame, target: Target) -> pd.DataFrame:
    return frame[(frame["snapshot_role"] == "training") & frame[target.label].notna()]


def split_dates(dates: Iterable[date], target: Target) -> Split:
    """Validate on the latest labelled snapshot date; train on the earlier ones (purged of overlapping labels
    when enough remain)."""
    ordered = sorted(set(dates))
    if len(ordered) < 2:
        raise NotTrainable(
            f"{target.model_name}: {len(ordered)} snapshot(s) with a {target.horizon_days}-day label; need 2 "
            "(load more history)"
        )
    validation = ordered[-1]
    earlier = ordered[:-1]
    purged = [d for d in earlier if d + timedelta(days=target.horizon_days) <= validation]
    if len(purged) >= MIN_PURGED_SNAPSHOTS:
        return Split(tuple(purged), validation, label_windows_overlap=False)
    return Split(tuple(earlier), validation, label_windows_overlap=True)


def time_split(frame: pd.DataFrame, target: Target) -> Split:
    """:func:`split_dates` of the labelled snapshots in ``frame``."""
    return split_dates(labelled_rows(frame, target)["as_of"], target)


@dataclass(frozen=True)
class TargetData:
    """One model's rows (customer_key, label, features): the training, validation and final-training sets
    (each a sample when it has more rows than the caps) and the number of rows each set has."""

    target: Target
    split: Split
    train: pd.DataFrame
    valid: pd.DataFrame
    final: pd.DataFrame
    train_available: int
    valid_available: int
    final_available: int


def target_data_from_frame(frame: pd.DataFrame, target: Target) -> TargetData:
    """The sets of one model from snapshots already in memory (every row, no sampling)."""
    split = time_split(frame, target)
    labelled = labelled_rows(frame, target)
    train = labelled[labelled["as_of"].isin(split.train_as_of)]
    valid = labelled[labelled["as_of"] == split.validation_as_of]
    return TargetData(target, split, train, valid, labelled, len(train), len(valid), len(labelled))


def labelled_dates(con: duckdb.DuckDBPyConnection, target: Target) -> list[date]:
    """The training snapshot dates with a (fully observed) label for ``target``."""
    rows = con.execute(
        f"""select distinct cast(as_of as date) from {SNAPSHOTS_RELATION}
            where snapshot_role = 'training' and {target.label} is not null order by 1"""
    ).fetchall()
    return [row[0] for row in rows]


def _features_sql() -> str:
    return ", ".join(f"cast({c} as double) as {c}" for c in FEATURES)


def labelled_sample(
    con: duckdb.DuckDBPyConnection,
    target: Target,
    dates: Sequence[date],
    limit: int,
    *,
    features: bool = True,
) -> tuple[pd.DataFrame, int]:
    """(the labelled rows of ``dates`` - at most ``limit``, a plain deterministic random sample when there
    are more - ordered by as_of and customer_key, the number of rows there are). Only the model's columns:
    customer_key, the label and (``features``) the features."""
    where = (
        f"snapshot_role = 'training' and {target.label} is not null "
        "and list_contains($dates, cast(as_of as date))"
    )
    params = {"dates": list(dates)}
    (available,) = con.sql(
        f"select count(*) from {SNAPSHOTS_RELATION} where {where}", params=params
    ).fetchall()[0]
    rows = (
        f"select customer_key, cast(as_of as date) as as_of, {target.label}"
        f"{', ' + _features_sql() if features else ''} from {SNAPSHOTS_RELATION} where {where}"
    )
    if available > limit:
        sample_order = "md5(customer_key || '|' || cast(as_of as varchar))"
        rows = f"select * from ({rows}) order by {sample_order} limit {limit}"
    frame = con.sql(
        f"select * exclude (as_of) from ({rows}) order by as_of, customer_key", params=params
    ).df()
    return frame, int(available)


def load_target_data(
    con: duckdb.DuckDBPyConnection, target: Target, limits: Limits, *, features: bool = True
) -> TargetData:
    """One model's sets read from the warehouse (:class:`NotTrainable` when there are too few snapshots);
    without ``features`` only customer_key and the label (enough to check that it can be trained)."""
    dates = labelled_dates(con, target)
    split = split_dates(dates, target)
    train, train_available = labelled_sample(
        con, target, split.train_as_of, limits.max_training_rows, features=features
    )
    valid, valid_available = labelled_sample(
        con, target, (split.validation_as_of,), limits.max_validation_rows, features=features
    )
    final, final_available = labelled_sample(con, target, dates, limits.max_training_rows, features=features)
    return TargetData(target, split, train, valid, final, train_available, valid_available, final_available)


# ---------------------------------------------------------------------------------------------- model


def calibration_folds(
    x: pd.DataFrame | np.ndarray, y: np.ndarray, groups: pd.Series
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The customer-grouped folds; :class:`NotTrainable` unless every fold trains on both classes."""
    counts = {int(k): int(v) for k, v in zip(*np.unique(y, return_counts=True), strict=True)}
    if not counts:
        raise NotTrainable("no labelled rows")
    if len(counts) < 2:
        label = "positive" if 1 in counts else "negative"
        raise NotTrainable(f"the labels have a single class ({len(y)} row(s), all {label})")
    if min(counts.values()) < MIN_CLASS_ROWS or groups.nunique() < 2:
        raise NotTrainable(
            f"too few rows: {counts.get(1, 0)} positive and {counts.get(0, 0)} negative label(s) of "
            f"{groups.nunique()} customer(s); need {MIN_CLASS_ROWS} of each class from 2 or more customers"
        )
    folds = list(GroupKFold(n_splits=min(CV_FOLDS, groups.nunique())).split(x, y, groups))
    if any(len(np.unique(y[train])) < 2 for train, _ in folds):
        raise NotTrainable("too few rows: a customer-grouped calibration fold would train on one class only")
    return folds


def fit_calibrated(x: pd.DataFrame, y: np.ndarray, groups: pd.Series) -> CalibratedClassifierCV:
    """Gradient-boosted trees fit on all rows, calibrated on out-of-fold predictions (folds by customer)."""
    folds = calibration_folds(x, y, groups)
    model = CalibratedClassifierCV(
        HistGradientBoostingClassifier(**GBM_PARAMS),
        method=CALIBRATION,
        cv=folds,
        ensemble=False,
    )
    return model.fit(x, y)


def log_odds(model: CalibratedClassifierCV, x: pd.DataFrame) -> np.ndarray:
    """The trees' raw log-odds (before calibration): what the reason codes decompose."""
    return model.calibrated_classifiers_[0].estimator.decision_function(x)


def reference_values(x: pd.DataFrame) -> dict[str, float]:
    """A typical customer: the median of each feature, or unknown when most customers have no value."""
    return {
        column: float("nan") if x[column].isna().mean() > 0.5 else float(x[column].median()) for column in x
    }


# -------------------------------------------------------------------------------------------- metrics


def safe_auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


def recency_baseline_auc(
    x_train: pd.DataFrame, y_train: np.ndarray, x_valid: pd.DataFrame, y_valid: np.ndarray
) -> float:
    """AUC of days since the last activity alone, oriented as it relates to the label in training."""
    train_auc = safe_auc(y_train, x_train[RECENCY_FEATURE].to_numpy())
    sign = -1.0 if train_auc < 0.5 else 1.0
    return safe_auc(y_valid, sign * x_valid[RECENCY_FEATURE].to_numpy())


def calibration_deciles(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict[str, float]]:
    """Equal-count bins of the predicted probability: rows, mean prediction and observed rate per bin."""
    order = np.argsort(p, kind="stable")
    table = []
    for number, index in enumerate(np.array_split(order, min(bins, len(p))), start=1):
        if len(index) == 0:
            continue
        table.append(
            {
                "bin": number,
                "rows": len(index),
                "mean_predicted": round(float(p[index].mean()), 4),
                "observed_rate": round(float(y[index].mean()), 4),
            }
        )
    return table


def expected_calibration_error(table: list[dict[str, float]]) -> float:
    rows = sum(row["rows"] for row in table)
    return float(sum(row["rows"] / rows * abs(row["mean_predicted"] - row["observed_rate"]) for row in table))


def driver_importance(
    model: CalibratedClassifierCV, x: pd.DataFrame, y: np.ndarray
) -> list[dict[str, float]]:
    """Per reason group, the validation AUC lost when its features are shuffled together (mean of repeats)."""
    base = safe_auc(y, model.predict_proba(x)[:, 1])
    rng = np.random.default_rng(0)
    drivers = []
    for group in REASON_GROUPS:
        columns = list(group.columns)
        drops = []
        for _ in range(PERMUTATION_REPEATS):
            shuffled = x.copy()
            shuffled[columns] = x[columns].to_numpy()[rng.permutation(len(x))]
            drops.append(base - safe_auc(y, model.predict_proba(shuffled)[:, 1]))
        drivers.append({"driver": group.code, "auc_drop": round(float(np.mean(drops)), 4)})
    return sorted(drivers, key=lambda d: -d["auc_drop"])


# --------------------------------------------------------------------------------------- reason codes

REASON_BLOCK_ROWS = 10_000


def _shared(texts: dict[str, str], text: str) -> str:
    return texts.setdefault(text, text)


def reason_codes(
    model: CalibratedClassifierCV,
    x: pd.DataFrame,
    reference: dict[str, float],
    window_days: pd.Series,
    top: int = REASON_CODES,
    *,
    texts: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The ``top`` reason groups that raise each customer's score most: their sentences (reason_1 ...
    reason_<top>) and their codes, most important first (reason_codes, ``|``-separated).

    A group's contribution is the drop in the trees' log-odds when the customer's values of that group are
    replaced by the reference (typical) values; only contributions of at least :data:`REASON_MIN_LOGIT` count.
    ``texts``: shared across calls, one string object per distinct text (millions of rows, few texts).
    """
    raw = log_odds(model, x)
    contributions = np.column_stack(
        [raw - log_odds(model, x.assign(**{c: reference[c] for c in g.columns})) for g in REASON_GROUPS]
    )
    ranked = np.argsort(-contributions, axis=1, kind="stable")[:, :top]
    values = x.assign(feature_window_days=window_days.to_numpy(dtype=float))
    names = list(values.columns)
    matrix = values.to_numpy(dtype=float)
    shared = texts if texts is not None else {}
    rows = []
    for start in range(0, len(matrix), REASON_BLOCK_ROWS):  # a block of rows as Python floats at a time
        for offset, row in enumerate(matrix[start : start + REASON_BLOCK_ROWS].tolist()):
            i = start + offset
            record = dict(zip(names, row, strict=True))
            groups = [REASON_GROUPS[g] for g in ranked[i] if contributions[i, g] >= REASON_MIN_LOGIT]
            said = [_shared(shared, group.describe(record)) for group in groups]
            codes = _shared(shared, "|".join(group.code for group in groups)) if groups else None
            rows.append([*said, *([None] * (top - len(said))), codes])
    columns = [*(f"reason_{n}" for n in range(1, top + 1)), "reason_codes"]
    return pd.DataFrame(rows, index=x.index, columns=columns)


# ------------------------------------------------------------------------------------------ the run

SKIPPED_PREFIX = "not scored: "


def _check_trainable(data: TargetData) -> None:
    """:class:`NotTrainable` unless both fits (validation model, final model) can be made on these rows."""
    label = data.target.label
    for rows in (data.train, data.final):  # (the folds only depend on the labels and customers)
        calibration_folds(np.zeros((len(rows), 1)), rows[label].astype(int).to_numpy(), rows["customer_key"])


def _problem_text(target: Target, exc: NotTrainable) -> str:
    message = str(exc)
    prefix = f"{target.model_name}: "
    return message if message.startswith(prefix) else prefix + message


def training_problem(frame: pd.DataFrame, target: Target) -> str | None:
    """Why ``target`` cannot be trained on these snapshots (None when it can), without fitting anything.

    The same checks :func:`time_split` and :func:`fit_calibrated` make, on the validation model's training
    rows and on the final model's (every labelled snapshot).
    """
    try:
        _check_trainable(target_data_from_frame(frame, target))
    except NotTrainable as exc:
        return _problem_text(target, exc)
    return None


@dataclass(frozen=True)
class FittedModel:
    target: Target
    model: CalibratedClassifierCV
    reference: dict[str, float]  # the typical customer the reason codes compare with
    metrics: ModelMetrics  # scored_customers and mean_score are filled in after scoring


def _train_target(data: TargetData, limits: Limits) -> FittedModel:
    """Validate and refit one model: its validation metrics and the final model that scores."""
    target, split, train, valid = data.target, data.split, data.train, data.valid
    x_train, y_train = feature_matrix(train), train[target.label].astype(int).to_numpy()
    x_valid, y_valid = feature_matrix(valid), valid[target.label].astype(int).to_numpy()

    validated = fit_calibrated(x_train, y_train, train["customer_key"])
    p_valid = validated.predict_proba(x_valid)[:, 1]
    deciles = calibration_deciles(y_valid, p_valid)
    drivers = driver_importance(validated, x_valid, y_valid)
    del validated

    x_all, y_all = feature_matrix(data.final), data.final[target.label].astype(int).to_numpy()
    final = fit_calibrated(x_all, y_all, data.final["customer_key"])

    metrics = ModelMetrics(
        model_name=target.model_name,
        label_definition=target.definition,
        algorithm="HistGradientBoostingClassifier + CalibratedClassifierCV(ensemble=False)",
        calibration_method=CALIBRATION,
        training_snapshots=split.train_as_of,
        validation_snapshot=split.validation_as_of,
        label_windows_overlap=split.label_windows_overlap,
        train_rows=len(train),
        validation_rows=len(valid),
        train_base_rate=float(y_train.mean()),
        validation_base_rate=float(y_valid.mean()),
        auc=safe_auc(y_valid, p_valid),
        recency_baseline_auc=recency_baseline_auc(x_train, y_train, x_valid, y_valid),
        brier=float(brier_score_loss(y_valid, p_valid)),
        base_rate_brier=float(brier_score_loss(y_valid, np.full(len(y_valid), y_train.mean()))),
        calibration_error=expected_calibration_error(deciles),
        mean_predicted=float(p_valid.mean()),
        calibration_deciles=tuple(deciles),
        top_drivers=tuple(drivers),
        final_training_rows=len(data.final),
        scored_customers=0,
        mean_score=float("nan"),
        train_rows_available=data.train_available,
        validation_rows_available=data.valid_available,
        final_training_rows_available=data.final_available,
        max_training_rows=limits.max_training_rows,
        max_validation_rows=limits.max_validation_rows,
    )
    return FittedModel(target, final, reference_values(x_all), metrics)


def score_chunks(
    con: duckdb.DuckDBPyConnection, models: Sequence[FittedModel], chunk_rows: int
) -> pd.DataFrame:
    """customer_key, then per model its score and reason columns, for every row of the scoring snapshot.

    The rows stream from DuckDB ``chunk_rows`` at a time (ordered by customer_key, so runs are reproducible);
    identical reason texts share one string.
    """
    import pyarrow as pa

    sql = (
        f"select customer_key, cast(feature_window_days as double) as feature_window_days, {_features_sql()} "
        f"from {SNAPSHOTS_RELATION} where snapshot_role = 'scoring' order by as_of, customer_key"
    )
    texts: dict[str, str] = {}
    parts: list[pd.DataFrame] = []
    stream = con.cursor()
    try:
        for batch in stream.sql(sql).to_arrow_reader(chunk_rows):
            chunk = con.from_arrow(pa.Table.from_batches([batch])).df()
            x = feature_matrix(chunk)
            scored = [chunk[["customer_key"]]]
            for fitted in models:
                target = fitted.target
                reasons = reason_codes(
                    fitted.model, x, fitted.reference, chunk["feature_window_days"], texts=texts
                )
                reasons.columns = [c.replace("reason", target.reason_prefix) for c in reasons.columns]
                score = pd.DataFrame(
                    {target.score_column: fitted.model.predict_proba(x)[:, 1]}, index=x.index
                )
                scored += [score, reasons]
            parts.append(pd.concat(scored, axis=1))
    finally:
        stream.close()
    if not parts:
        return pd.DataFrame(columns=["customer_key"])
    return pd.concat(parts, ignore_index=True)


def model_version(scoring_date: date, metrics: tuple[ModelMetrics, ...]) -> str:
    """Deterministic: the same snapshots and recipe give the same version."""
    recipe = {
        "recipe": RECIPE_VERSION,
        "features": FEATURES,
        "gbm": GBM_PARAMS,
        "models": [
            [
                m.model_name,
                [str(d) for d in m.training_snapshots],
                str(m.validation_snapshot),
                m.final_training_rows,
                m.final_training_rows_available,
                m.max_training_rows,
            ]
            for m in metrics
        ],
    }
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"propensity-v{RECIPE_VERSION}-{scoring_date:%Y%m%d}-{digest}"


def risk_band(p: np.ndarray) -> np.ndarray:
    conditions = [p >= threshold for threshold, _ in RISK_BANDS]
    return np.select(conditions, [band for _, band in RISK_BANDS], default="low")


def _scoring_snapshot(con: duckdb.DuckDBPyConnection) -> tuple[date, datetime] | None:
    """(as_of, as_of_at) of the scoring snapshot, None when there is none."""
    rows = con.execute(
        f"""select cast(as_of as date), as_of_at from {SNAPSHOTS_RELATION}
            where snapshot_role = 'scoring' order by as_of, customer_key limit 1"""
    ).fetchall()
    if not rows:
        return None
    as_of, as_of_at = rows[0]
    return as_of, pd.Timestamp(as_of_at).to_pydatetime()


def train_and_score(con: duckdb.DuckDBPyConnection, limits: Limits | None = None) -> PropensityRun:
    """Train, validate and score both models from the warehouse's snapshots and personas (writes nothing).

    ``limits``: the sample caps and scoring chunk size (default: :meth:`Limits.from_env`).
    """
    limits = limits or Limits.from_env()
    scoring = _scoring_snapshot(con)
    if scoring is None:
        raise PropensityError(f"{SNAPSHOTS_RELATION} has no scoring snapshot (no data loaded?)")
    scoring_as_of, scored_at = scoring

    # First whether every model can be trained (labels and customers only), then one model's rows at a time.
    problems: dict[str, str | None] = {}
    for target in TARGETS:
        try:
            _check_trainable(load_target_data(con, target, limits, features=False))
            problems[target.model_name] = None
        except NotTrainable as exc:
            problems[target.model_name] = _problem_text(target, exc)
    if any(problems.values()):
        failing = ", ".join(name for name, problem in problems.items() if problem)
        return PropensityRun(
            scores=pd.DataFrame(columns=list(SCORE_COLUMNS)),
            metrics=(),
            scoring_date=scoring_as_of - timedelta(days=1),
            scored_at=scored_at,
            model_version=f"propensity-v{RECIPE_VERSION}-{scoring_as_of:%Y%m%d}-not-trained",
            not_trained=tuple(
                (name, problem or f"{SKIPPED_PREFIX}{failing} cannot be trained")
                for name, problem in problems.items()
            ),
        )

    models = [_train_target(load_target_data(con, target, limits), limits) for target in TARGETS]
    scores = score_chunks(con, models, limits.scoring_chunk_rows)
    metrics = tuple(
        replace(
            m.metrics,
            scored_customers=len(scores),
            mean_score=float(scores[m.target.score_column].mean()) if len(scores) else float("nan"),
        )
        for m in models
    )
    version = model_version(scoring_as_of, metrics)

    personas = con.execute(
        f"select customer_key, persona, persona_description, is_marketing_opted_in, has_open_pain_point, "
        f"cross_sell_category from {PERSONAS_RELATION}"
    ).df()
    scores = scores.merge(personas, on="customer_key", how="left", validate="one_to_one")
    del personas
    scores = scores.join(assign_next_best_actions(scores))
    scores["churn_risk_band"] = risk_band(scores["churn_propensity"].to_numpy())
    scores["scored_at"] = scored_at
    scores["scoring_date"] = scoring_as_of - timedelta(days=1)
    scores["model_version"] = version
    return PropensityRun(
        scores=scores,
        metrics=metrics,
        scoring_date=scoring_as_of - timedelta(days=1),
        scored_at=scored_at,
        model_version=version,
    )


# ------------------------------------------------------------------------------------------- writing

SCORE_COLUMNS = (
    "customer_key",
    "scored_at",
    "scoring_date",
    "churn_propensity",
    "churn_risk_band",
    "purchase_propensity_30d",
    "churn_reason_1",
    "churn_reason_2",
    "churn_reason_3",
    "churn_reason_codes",
    "purchase_reason_1",
    "purchase_reason_2",
    "purchase_reason_3",
    "purchase_reason_codes",
    "persona",
    "persona_description",
    "next_best_action",
    "nba_reason",
    "offer_category",
    "model_version",
)
PROPENSITY_COLUMNS = """
    cast(customer_key as varchar) as customer_key,
    cast(scored_at as timestamp) as scored_at,
    cast(scoring_date as date) as scoring_date,
    cast(churn_propensity as double) as churn_propensity,
    cast(churn_risk_band as varchar) as churn_risk_band,
    cast(purchase_propensity_30d as double) as purchase_propensity_30d,
    cast(churn_reason_1 as varchar) as churn_reason_1,
    cast(churn_reason_2 as varchar) as churn_reason_2,
    cast(churn_reason_3 as varchar) as churn_reason_3,
    cast(churn_reason_codes as varchar) as churn_reason_codes,
    cast(purchase_reason_1 as varchar) as purchase_reason_1,
    cast(purchase_reason_2 as varchar) as purchase_reason_2,
    cast(purchase_reason_3 as varchar) as purchase_reason_3,
    cast(purchase_reason_codes as varchar) as purchase_reason_codes,
    cast(persona as varchar) as persona,
    cast(persona_description as varchar) as persona_description,
    cast(next_best_action as varchar) as next_best_action,
    cast(nba_reason as varchar) as nba_reason,
    cast(offer_category as varchar) as offer_category,
    cast(model_version as varchar) as model_version
"""

METRICS_DDL = f"""
create table if not exists {METRICS_RELATION} (
    run_id varchar not null,
    model_version varchar not null,
    model_name varchar not null,
    label_definition varchar,
    algorithm varchar,
    calibration_method varchar,
    scoring_date date,
    scored_at timestamp,
    training_window_start date,
    training_window_end date,
    training_snapshots varchar,
    validation_snapshot date,
    label_windows_overlap boolean,
    train_rows bigint,
    validation_rows bigint,
    final_training_rows bigint,
    train_base_rate double,
    validation_base_rate double,
    auc double,
    recency_baseline_auc double,
    beats_recency_baseline boolean,
    brier double,
    base_rate_brier double,
    calibration_error double,
    mean_predicted double,
    calibration_deciles varchar,
    features varchar,
    top_drivers varchar,
    scored_customers bigint,
    mean_score double,
    created_at timestamp,
    status varchar,
    reason varchar,
    train_rows_available bigint,
    validation_rows_available bigint,
    final_training_rows_available bigint,
    max_training_rows bigint,
    max_validation_rows bigint,
    sampling varchar
)
"""
# Columns added after the first release: a warehouse whose model_metrics predates them gets them added.
METRICS_MIGRATIONS = tuple(
    f"alter table {METRICS_RELATION} add column if not exists {column} {sql_type}"
    for column, sql_type in (
        ("status", "varchar"),
        ("reason", "varchar"),
        ("train_rows_available", "bigint"),
        ("validation_rows_available", "bigint"),
        ("final_training_rows_available", "bigint"),
        ("max_training_rows", "bigint"),
        ("max_validation_rows", "bigint"),
        ("sampling", "varchar"),
    )
)


def metrics_frame(run: PropensityRun, run_id: str) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    created_at = datetime.now(UTC).replace(tzinfo=None)
    definitions = {t.model_name: t.definition for t in TARGETS}
    for name, reason in run.not_trained:
        rows.append(
            {
                "run_id": run_id,
                "model_version": run.model_version,
                "model_name": name,
                "label_definition": definitions.get(name),
                "scoring_date": run.scoring_date,
                "scored_at": run.scored_at,
                "features": json.dumps(list(FEATURES)),
                "scored_customers": 0,
                "created_at": created_at,
                "status": NOT_TRAINED,
                "reason": reason,
            }
        )
    for m in run.metrics:
        row = asdict(m)
        row.update(
            run_id=run_id,
            model_version=run.model_version,
            scoring_date=run.scoring_date,
            scored_at=run.scored_at,
            training_window_start=min(m.training_snapshots),
            training_window_end=max(m.training_snapshots),
            training_snapshots=json.dumps([str(d) for d in m.training_snapshots]),
            beats_recency_baseline=m.beats_recency_baseline,
            calibration_deciles=json.dumps(list(m.calibration_deciles)),
            features=json.dumps(list(FEATURES)),
            top_drivers=json.dumps(list(m.top_drivers)),
            created_at=created_at,
            status=TRAINED,
            reason=None,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def write_outputs(con: duckdb.DuckDBPyConnection, run: PropensityRun, run_id: str) -> None:
    """Replace marts.customer_propensity and append this run's rows to marts.model_metrics, atomically."""
    con.register("propensity_scores", run.scores)
    con.register("propensity_metrics", metrics_frame(run, run_id))
    try:
        con.execute("begin transaction")
        con.execute("create schema if not exists marts")
        con.execute(
            f"create or replace table {PROPENSITY_RELATION} as "
            f"select {PROPENSITY_COLUMNS} from propensity_scores order by customer_key"
        )
        con.execute(METRICS_DDL)
        for statement in METRICS_MIGRATIONS:
            con.execute(statement)
        con.execute(f"delete from {METRICS_RELATION} where run_id = ?", [run_id])
        con.execute(f"insert into {METRICS_RELATION} by name select * from propensity_metrics")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("propensity_scores")
        con.unregister("propensity_metrics")


def run_propensity(con: duckdb.DuckDBPyConnection, run_id: str) -> PropensityRun:
    """Train, score and write: the whole job of the ``marts/customer_propensity`` asset."""
    run = train_and_score(con)
    write_outputs(con, run, run_id)
    return run
