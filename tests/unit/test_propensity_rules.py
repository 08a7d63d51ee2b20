"""Next-best-action rules and reason-code wording."""

from __future__ import annotations

import math

import pandas as pd

from cx_warehouse.models.features import FEATURES, REASON_GROUPS
from cx_warehouse.models.next_best_action import assign_next_best_actions


def _customers(*rows: tuple[bool, bool | None, float, float, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[
            "has_open_pain_point",
            "is_marketing_opted_in",
            "churn_propensity",
            "purchase_propensity_30d",
            "cross_sell_category",
        ],
    )


def test_next_best_action_rules_in_order_and_consent():
    actions = assign_next_best_actions(
        _customers(
            (True, False, 0.9, 0.9, "Wonen"),  # service recovery first, also without marketing consent
            (False, True, 0.6, 0.9, "Wonen"),  # win-back before cross-sell
            (False, False, 0.6, 0.1, "Wonen"),  # high churn, no consent: nothing
            (False, None, 0.1, 0.7, "Tuin"),  # unknown consent counts as no consent
            (False, True, 0.1, 0.7, "Tuin"),  # cross-sell with its category
            (False, True, 0.1, 0.7, None),  # nothing to offer
            (False, True, 0.49, 0.49, "Tuin"),  # below both thresholds
        )
    )
    assert actions["next_best_action"].tolist() == [
        "service_recovery",
        "win_back",
        "none",
        "none",
        "cross_sell",
        "none",
        "none",
    ]
    assert actions["nba_reason"].tolist()[2:4] == ["no marketing consent", "no marketing consent"]
    assert actions["offer_category"].tolist()[4] == "Tuin"
    assert actions["offer_category"].isna().tolist() == [True, True, True, True, False, True, True]


def _typical() -> dict[str, float]:
    values = dict.fromkeys(FEATURES, 0.0)
    values.update(feature_window_days=28.0, days_since_last_activity=3.0, latest_nps=math.nan)
    values.update(email_open_index=math.nan, tenure_days=400.0)
    return values


def test_reason_texts_state_the_customers_values():
    describe = {g.code: g.describe for g in REASON_GROUPS}
    values = _typical()
    assert describe["recency"](values) == "Last active 3 days ago"
    lapsed = {**values, "days_since_last_activity": 29.0}
    assert describe["recency"](lapsed) == "No activity in the last 28 days"
    assert describe["satisfaction"](values) == "No survey answer in the last 28 days"
    assert describe["satisfaction"]({**values, "latest_nps": 4.0}) == "Latest NPS 4 (detractor)"
    assert describe["satisfaction"]({**values, "latest_nps": 9.0}) == "Latest NPS 9 (promoter)"
    assert describe["email_engagement"](values) == "No e-mail received in the last 28 days"
    assert describe["email_engagement"]({**values, "email_open_index": 0.5}) == (
        "E-mail opens at 0.5x the seasonal baseline"
    )
    unresolved = {**values, "unresolved_contacts": 2.0, "repeat_contacts": 1.0}
    expected = "3 unresolved or repeat contacts in the last 28 days"
    assert describe["unresolved_contacts"](unresolved) == expected
    assert describe["tenure"](values) == "Customer for 400 days"


def test_every_feature_is_in_exactly_one_reason_group():
    listed = [c for g in REASON_GROUPS for c in g.columns]
    assert sorted(listed) == sorted(FEATURES)
    assert len(set(listed)) == len(listed)
