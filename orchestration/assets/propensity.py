"""The propensity models as Dagster assets: ``marts/customer_propensity`` and ``marts/model_metrics``.

One step trains, validates and scores both models (:mod:`cx_warehouse.models.propensity`) from the dbt
snapshots ``intermediate/int_customer_feature_snapshots`` and the personas ``marts/mart_customer_personas``,
replaces ``marts.customer_propensity`` and appends this run's rows to ``marts.model_metrics``. The validation
metrics (AUC against the recency-only baseline, Brier score, calibration by decile, base rates, training
window, top drivers, model_version) are the materialisation metadata of both assets.

With too little history to train (see :mod:`cx_warehouse.models.propensity`), the step does not fail: it
writes an empty ``marts.customer_propensity``, appends ``status = 'not_trained'`` rows with the reason to
``marts.model_metrics``, logs a warning, and the metadata ``status`` of both assets says
"not trained: <reason>".
"""

from collections import Counter
from collections.abc import Iterator

import dagster as dg

from cx_warehouse.models.features import FEATURES
from cx_warehouse.models.propensity import ModelMetrics, PropensityRun, run_propensity
from orchestration.resources import WarehouseResource

PROPENSITY_KEY = dg.AssetKey(["marts", "customer_propensity"])
MODEL_METRICS_KEY = dg.AssetKey(["marts", "model_metrics"])
FEATURE_KEYS = [
    dg.AssetKey(["intermediate", "int_customer_feature_snapshots"]),
    dg.AssetKey(["marts", "mart_customer_personas"]),
]


def _metrics_table(metrics: tuple[ModelMetrics, ...]) -> str:
    lines = [
        "| model | AUC | recency-only AUC | Brier | base-rate Brier | calibration error | base rate train / "
        "validation | training snapshots | validation snapshot | label windows overlap |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in metrics:
        lines.append(
            f"| {m.model_name} | {m.auc:.3f} | {m.recency_baseline_auc:.3f} | {m.brier:.4f} | "
            f"{m.base_rate_brier:.4f} | {m.calibration_error:.4f} | {m.train_base_rate:.3f} / "
            f"{m.validation_base_rate:.3f} | {', '.join(str(d) for d in m.training_snapshots)} | "
            f"{m.validation_snapshot} | {m.label_windows_overlap} |"
        )
    return "\n".join(lines)


def _calibration_table(metrics: tuple[ModelMetrics, ...]) -> str:
    lines = ["| model | bin | rows | mean predicted | observed rate |", "|---|---|---|---|---|"]
    for m in metrics:
        lines += [
            f"| {m.model_name} | {row['bin']} | {row['rows']} | {row['mean_predicted']:.3f} | "
            f"{row['observed_rate']:.3f} |"
            for row in m.calibration_deciles
        ]
    return "\n".join(lines)


def _drivers_table(metrics: tuple[ModelMetrics, ...], top: int = 5) -> str:
    lines = ["| model | rank | driver | validation AUC lost when shuffled |", "|---|---|---|---|"]
    for m in metrics:
        lines += [
            f"| {m.model_name} | {rank} | {d['driver']} | {d['auc_drop']:.4f} |"
            for rank, d in enumerate(m.top_drivers[:top], start=1)
        ]
    return "\n".join(lines)


def _status(run: PropensityRun) -> str:
    return "trained" if run.trained else f"not trained: {run.not_trained_reason}"


def _not_trained_metadata(run: PropensityRun) -> dict[str, dg.MetadataValue]:
    return {
        "status": dg.MetadataValue.text(_status(run)),
        "model_version": dg.MetadataValue.text(run.model_version),
        "scoring_date": dg.MetadataValue.text(str(run.scoring_date)),
        "scored_at": dg.MetadataValue.text(str(run.scored_at)),
        "not_trained": dg.MetadataValue.md(
            "\n".join(["| model | reason |", "|---|---|", *(f"| {m} | {r} |" for m, r in run.not_trained)])
        ),
        "features": dg.MetadataValue.json(list(FEATURES)),
    }


def _shared_metadata(run: PropensityRun) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "status": dg.MetadataValue.text(_status(run)),
        "model_version": dg.MetadataValue.text(run.model_version),
        "scoring_date": dg.MetadataValue.text(str(run.scoring_date)),
        "scored_at": dg.MetadataValue.text(str(run.scored_at)),
        "model_metrics": dg.MetadataValue.md(_metrics_table(run.metrics)),
        "calibration": dg.MetadataValue.md(_calibration_table(run.metrics)),
        "top_drivers": dg.MetadataValue.md(_drivers_table(run.metrics)),
        "features": dg.MetadataValue.json(list(FEATURES)),
    }
    for m in run.metrics:
        metadata[f"{m.model_name}/auc"] = dg.MetadataValue.float(m.auc)
        metadata[f"{m.model_name}/recency_baseline_auc"] = dg.MetadataValue.float(m.recency_baseline_auc)
        metadata[f"{m.model_name}/brier"] = dg.MetadataValue.float(m.brier)
        metadata[f"{m.model_name}/calibration_error"] = dg.MetadataValue.float(m.calibration_error)
        metadata[f"{m.model_name}/validation_base_rate"] = dg.MetadataValue.float(m.validation_base_rate)
    return metadata


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PROPENSITY_KEY,
            deps=FEATURE_KEYS,
            group_name="marts",
            kinds={"python", "scikit-learn", "duckdb"},
            description="One row per scored customer: calibrated churn (90 days) and 30-day purchase "
            "propensity as of the latest business date loaded, top-3 reason codes, persona and a "
            "consent-respecting next best action. Profiling opt-outs are not scored.",
        ),
        dg.AssetSpec(
            MODEL_METRICS_KEY,
            deps=FEATURE_KEYS,
            group_name="marts",
            kinds={"python", "duckdb"},
            description="One row per propensity model per run: time-based validation AUC, recency-only "
            "baseline AUC, Brier score, calibration by decile, base rates, training window, features, top "
            "drivers, model_version.",
        ),
    ],
)
def propensity_models(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Train, validate and score the churn and purchase models; write the scores and the run's metrics."""
    with warehouse.connect() as con:
        run = run_propensity(con, run_id=context.run.run_id)
    if not run.trained:
        context.log.warning(
            f"propensity models not trained, nobody scored (marts.customer_propensity is empty): "
            f"{run.not_trained_reason}"
        )
        metadata = _not_trained_metadata(run)
        yield dg.MaterializeResult(
            asset_key=PROPENSITY_KEY, metadata={**metadata, "dagster/row_count": dg.MetadataValue.int(0)}
        )
        yield dg.MaterializeResult(
            asset_key=MODEL_METRICS_KEY,
            metadata={**metadata, "rows_appended": dg.MetadataValue.int(len(run.not_trained))},
        )
        return
    for m in run.metrics:
        context.log.info(
            f"{m.model_name}: validation AUC {m.auc:.3f} (recency-only {m.recency_baseline_auc:.3f}), "
            f"Brier {m.brier:.4f}, calibration error {m.calibration_error:.4f}"
        )
    shared = _shared_metadata(run)
    scores = run.scores
    yield dg.MaterializeResult(
        asset_key=PROPENSITY_KEY,
        metadata={
            **shared,
            "dagster/row_count": dg.MetadataValue.int(len(scores)),
            "mean_churn_propensity": dg.MetadataValue.float(float(scores["churn_propensity"].mean())),
            "mean_purchase_propensity_30d": dg.MetadataValue.float(
                float(scores["purchase_propensity_30d"].mean())
            ),
            "next_best_actions": dg.MetadataValue.json(dict(Counter(scores["next_best_action"]))),
            "personas": dg.MetadataValue.json(dict(Counter(scores["persona"].fillna("(none)")))),
        },
    )
    yield dg.MaterializeResult(
        asset_key=MODEL_METRICS_KEY,
        metadata={**shared, "rows_appended": dg.MetadataValue.int(len(run.metrics))},
    )
