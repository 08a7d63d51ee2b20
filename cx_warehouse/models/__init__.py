"""Propensity models of CX Warehouse (Dagster-independent).

- :mod:`cx_warehouse.models.features`: the model features (columns of int_customer_feature_snapshots) and the
  reason-code groups they form;
- :mod:`cx_warehouse.models.propensity`: time-based training, calibration, validation metrics, scoring and
  reason codes; writes marts.customer_propensity and marts.model_metrics;
- :mod:`cx_warehouse.models.next_best_action`: the consent-respecting next-best-action rules.
"""
