"""Next best action per scored customer: ordered, consent-respecting rules (the first that matches wins).

1. ``service_recovery`` - an open pain point: one in the last 14 days with no resolved contact since
   (mart_customer_personas.has_open_pain_point). A service contact, not marketing: no opt-in needed.
2. ``win_back`` - churn_propensity >= :data:`WIN_BACK_CHURN_THRESHOLD`; marketing, so only when
   is_marketing_opted_in.
3. ``cross_sell`` - purchase_propensity_30d >= :data:`CROSS_SELL_PURCHASE_THRESHOLD` and a cross_sell_category
   to offer (offer_category); marketing, so only when is_marketing_opted_in.
4. ``none`` - anything else.

A customer who qualifies for win-back or cross-sell without marketing consent gets ``none`` with the reason
``no marketing consent``. Customers who opted out of profiling are never scored, so they get no action at all
(they are not in the input). The same table is in the dbt docs of mart_customer_personas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WIN_BACK_CHURN_THRESHOLD = 0.5
CROSS_SELL_PURCHASE_THRESHOLD = 0.5

ACTIONS = ("service_recovery", "win_back", "cross_sell", "none")


def assign_next_best_actions(customers: pd.DataFrame) -> pd.DataFrame:
    """``next_best_action``, ``nba_reason`` and ``offer_category`` for each row of ``customers``.

    Expects the columns has_open_pain_point, is_marketing_opted_in, churn_propensity,
    purchase_propensity_30d and cross_sell_category; returns a frame with the same index.
    """
    open_pain = customers["has_open_pain_point"].fillna(False).astype(bool).to_numpy()
    consent = customers["is_marketing_opted_in"].fillna(False).astype(bool).to_numpy()
    churn = customers["churn_propensity"].to_numpy(dtype=float)
    purchase = customers["purchase_propensity_30d"].to_numpy(dtype=float)
    has_category = customers["cross_sell_category"].notna().to_numpy()
    high_churn = churn >= WIN_BACK_CHURN_THRESHOLD
    high_purchase = (purchase >= CROSS_SELL_PURCHASE_THRESHOLD) & has_category

    conditions = [
        open_pain,
        high_churn & consent,
        high_purchase & consent,
        high_churn | high_purchase,
    ]
    action = np.select(conditions, ["service_recovery", "win_back", "cross_sell", "none"], default="none")
    reason = np.select(
        conditions,
        [
            "open pain point without a resolved contact since",
            f"churn propensity >= {WIN_BACK_CHURN_THRESHOLD}",
            f"30-day purchase propensity >= {CROSS_SELL_PURCHASE_THRESHOLD}",
            "no marketing consent",
        ],
        default="no rule applies",
    )
    offer = np.where(action == "cross_sell", customers["cross_sell_category"].to_numpy(dtype=object), None)
    return pd.DataFrame(
        {"next_best_action": action, "nba_reason": reason, "offer_category": offer}, index=customers.index
    )
