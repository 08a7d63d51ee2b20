"""The propensity models' features and how they are explained.

Every feature is a column of ``intermediate.int_customer_feature_snapshots`` (built point-in-time by dbt;
see its YAML for the definitions and windows). Features are grouped into reason groups (:class:`ReasonGroup`):
a reason code is a group, so that correlated columns (purchases and days since the last purchase) explain
together. A reason's
text states the customer's own values ("2 unresolved or repeat contacts in the last 28 days"), so it is true
whatever the direction in which the model uses them; its code (the group name) is stable for grouping in BI.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Values = Mapping[str, float]


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _n(value: float) -> int:
    return 0 if _missing(value) else round(value)


def _window(values: Values) -> str:
    return f"in the last {_n(values['feature_window_days'])} days"


def _recency(values: Values) -> str:
    days = _n(values["days_since_last_activity"])
    if days > _n(values["feature_window_days"]):
        return f"No activity {_window(values)}"
    return f"Last active {days} day{'s' if days != 1 else ''} ago"


def _satisfaction(values: Values) -> str:
    nps = values["latest_nps"]
    if _missing(nps):
        return (
            f"No survey answer {_window(values)}" if _n(values["survey_responses"]) == 0 else "No NPS answer"
        )
    band = "detractor" if nps <= 6 else "passive" if nps <= 8 else "promoter"
    return f"Latest NPS {_n(nps)} ({band})"


def _email(values: Values) -> str:
    index = values["email_open_index"]
    if _missing(index):
        return f"No e-mail received {_window(values)}"
    return f"E-mail opens at {index:.1f}x the seasonal baseline"


@dataclass(frozen=True)
class ReasonGroup:
    """Features that explain together (``code``), and the sentence that states a customer's values."""

    code: str
    columns: tuple[str, ...]
    describe: Callable[[Values], str]


REASON_GROUPS: tuple[ReasonGroup, ...] = (
    ReasonGroup("recency", ("days_since_last_activity",), _recency),
    ReasonGroup(
        "frequency",
        ("active_days", "touchpoints"),
        lambda v: f"{_n(v['active_days'])} active days {_window(v)}",
    ),
    ReasonGroup(
        "purchases",
        ("purchases", "orders_placed", "store_visits", "days_since_last_purchase"),
        lambda v: f"{_n(v['purchases'])} purchases {_window(v)}",
    ),
    ReasonGroup(
        "monetary",
        ("spend_eur", "webshop_spend_eur", "store_spend_eur"),
        lambda v: f"EUR {_n(v['spend_eur'])} spent {_window(v)}",
    ),
    ReasonGroup("tenure", ("tenure_days",), lambda v: f"Customer for {_n(v['tenure_days'])} days"),
    ReasonGroup(
        "service_contacts",
        ("contacts", "days_since_last_resolved_contact"),
        lambda v: f"{_n(v['contacts'])} service contacts {_window(v)}",
    ),
    ReasonGroup(
        "unresolved_contacts",
        ("unresolved_contacts", "repeat_contacts"),
        lambda v: (
            f"{_n(v['unresolved_contacts']) + _n(v['repeat_contacts'])} unresolved or repeat contacts "
            f"{_window(v)}"
        ),
    ),
    ReasonGroup(
        "delivery_and_returns",
        ("late_deliveries", "returns", "order_cancellations"),
        lambda v: f"{_n(v['late_deliveries'])} late deliveries, {_n(v['returns'])} returns {_window(v)}",
    ),
    ReasonGroup(
        "pain_points",
        ("pain_points", "days_since_last_pain_point", "low_ces_responses", "social_pain_points"),
        lambda v: f"{_n(v['pain_points'])} pain points {_window(v)}",
    ),
    ReasonGroup(
        "satisfaction",
        ("survey_responses", "latest_nps", "latest_effectiveness", "latest_ease", "latest_emotion"),
        _satisfaction,
    ),
    ReasonGroup(
        "email_engagement",
        (
            "email_open_index",
            "emails_opened",
            "emails_delivered",
            "expected_email_opens",
            "marketing_email_clicks",
        ),
        _email,
    ),
    ReasonGroup(
        "web_activity",
        ("web_sessions", "help_page_views", "add_to_carts", "campaign_landings"),
        lambda v: f"{_n(v['web_sessions'])} web sessions {_window(v)}",
    ),
)

# The model features, in a fixed order (each in exactly one reason group).
FEATURES: tuple[str, ...] = tuple(column for group in REASON_GROUPS for column in group.columns)

# The recency-only baseline each model is compared with.
RECENCY_FEATURE = "days_since_last_activity"

if len(set(FEATURES)) != len(FEATURES):  # pragma: no cover - a mistake in the table above
    raise ValueError("a feature is listed in two reason groups")
