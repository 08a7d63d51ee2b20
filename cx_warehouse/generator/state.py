"""Simulation state: who is still a customer, latent experience, future events and identifier usage."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from cx_warehouse.generator.population import NEVER, Population

PAIN_DECAY = 0.98  # per day; a pain point's effect halves in about five weeks
PAIN_CHURN_WEIGHT = 1.4  # logit per unit of pain (capped at 3 units)
SATISFACTION_CHURN_WEIGHT = 1.6  # logit per unit of satisfaction below its typical level
TYPICAL_SATISFACTION = 0.25
NO_PURCHASE = -10_000  # "day" of the last purchase of a person who never bought

COUNTERS = (
    "store_visits",
    "orders",
    "late_deliveries",
    "returns",
    "contacts",
    "unresolved_contacts",
    "repeat_contacts",
    "social_conversations",
    "slow_social_replies",
    "surveys",
    "low_scores",
)


class State:
    """Per-person state that evolves day by day; everything that drives churn and purchases."""

    def __init__(self, pop: Population, rng: np.random.Generator) -> None:
        n = pop.n
        self.pop = pop
        self.alive = np.ones(n, dtype=bool)  # neither churned nor erased
        self.churned_on = np.full(n, -1, dtype=np.int64)
        self.erased_on = np.full(n, -1, dtype=np.int64)
        self.pain = np.zeros(n)
        self.satisfaction = np.clip(rng.normal(TYPICAL_SATISFACTION, 0.3, size=n), -1, 1)
        self.last_purchase = np.where(pop.created_day < 0, -rng.integers(1, 120, size=n), NO_PURCHASE)
        self.opt_in = np.zeros(n, dtype=bool)  # marketing consent; set by the CRM
        self.profiling_opt_out = np.zeros(n, dtype=bool)
        self.counters = {name: np.zeros(n, dtype=np.int64) for name in COUNTERS}

    def active(self, day: int) -> np.ndarray:
        """Persons who are customers on ``day``: registered and neither churned nor erased."""
        return self.alive & (self.pop.created_day <= day)

    def count(self, name: str, persons: np.ndarray, amount: int | np.ndarray = 1) -> None:
        np.add.at(self.counters[name], persons, amount)

    def experience(
        self, persons: np.ndarray, pain: float | np.ndarray, satisfaction: float | np.ndarray
    ) -> None:
        """Apply experiences: pain points add pain, good or bad experiences move satisfaction."""
        np.add.at(self.pain, persons, pain)
        np.add.at(self.satisfaction, persons, satisfaction)
        np.clip(self.satisfaction, -1, 1, out=self.satisfaction)

    def recency_factor(self, day: int) -> np.ndarray:
        """Recent buyers buy again sooner: 1.5 right after a purchase, 0.5 long after."""
        return 0.5 + np.exp(-(day - self.last_purchase) / 30.0)

    def churn_step(self, day: int, rng: np.random.Generator) -> None:
        """Decay pain and draw today's churners from each person's hazard."""
        self.pain *= PAIN_DECAY
        self.satisfaction += 0.01 * (TYPICAL_SATISFACTION - self.satisfaction)
        logit = (
            self.pop.base_churn_logit
            + PAIN_CHURN_WEIGHT * np.minimum(self.pain, 3.0)
            - SATISFACTION_CHURN_WEIGHT * (self.satisfaction - TYPICAL_SATISFACTION)
        )
        at_risk = self.active(day)
        churn = at_risk & (rng.random(self.pop.n) < 1.0 / (1.0 + np.exp(-logit)))
        self.alive[churn] = False
        self.churned_on[churn] = day


class Schedule:
    """Future events per kind and day (e.g. a contact caused by a late delivery), column-wise."""

    def __init__(self, days: int) -> None:
        self.days = days
        self._queue: dict[str, defaultdict[int, list[dict[str, np.ndarray]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._taken: dict[str, int] = {}  # per kind, the last day whose events were taken

    def add(self, kind: str, day: int | np.ndarray, /, **columns: np.ndarray) -> None:
        """Queue events; ``day`` per event or one for all. Events after the range are dropped."""
        n = len(next(iter(columns.values())))
        days = np.broadcast_to(np.asarray(day, dtype=np.int64), (n,))
        for value in np.unique(days).tolist():
            if value >= self.days:
                break
            if value <= self._taken.get(kind, -1):
                raise RuntimeError(f"{kind} events added for day {value}, which was already processed")
            mask = days == value
            self._queue[kind][value].append({k: np.asarray(v)[mask] for k, v in columns.items()})

    def take(self, kind: str, day: int) -> dict[str, np.ndarray] | None:
        """All events of ``kind`` for ``day``, concatenated, or ``None``."""
        self._taken[kind] = day
        chunks = self._queue[kind].pop(day, None)
        if not chunks:
            return None
        return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


class Usage:
    """First business day on which each identifier appears in a delivered row (``NEVER`` if not)."""

    def __init__(self, pop: Population, crm_records: int) -> None:
        self.first = {
            "crm_id": np.full(crm_records, NEVER, dtype=np.int64),
            "account_id": np.full(pop.n, NEVER, dtype=np.int64),
            "loyalty_card_no": np.full(pop.n, NEVER, dtype=np.int64),
            "anonymous_id": np.full(len(pop.cookies.person), NEVER, dtype=np.int64),
            "login": np.full(len(pop.cookies.person), NEVER, dtype=np.int64),
            "email": np.full(len(pop.emails.address), NEVER, dtype=np.int64),
            "phone": np.full(len(pop.phones.nsn), NEVER, dtype=np.int64),
            "social_handle": np.full(pop.n, NEVER, dtype=np.int64),
        }
        self._placeholder_uses: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def mark(self, kind: str, index: np.ndarray, day: int | np.ndarray) -> None:
        """Record that identifiers ``index`` (-1 = none) appear in rows of business day ``day``."""
        index = np.asarray(index)
        days = np.broadcast_to(np.asarray(day, dtype=np.int64), index.shape)
        keep = index >= 0
        first = self.first[kind]
        if keep.any() and int(index[keep].max()) >= len(first):  # identifiers added since (new mobiles)
            first = self.first[kind] = np.r_[first, np.full(int(index[keep].max()) + 1 - len(first), NEVER)]
        np.minimum.at(first, index[keep], days[keep])

    def first_of(self, kind: str, index: np.ndarray) -> np.ndarray:
        """First day of use of identifiers ``index`` (``NEVER`` also for ones added but never marked)."""
        first = self.first[kind]
        index = np.asarray(index, dtype=np.int64)
        inside = index < len(first)
        return np.where(inside, first[np.where(inside, index, 0)], NEVER)

    def mark_placeholders(self, placeholder: np.ndarray, person: np.ndarray, day: int | np.ndarray) -> None:
        """Record rows in which a person's identifier was typed as a placeholder (-1 = not one)."""
        placeholder = np.asarray(placeholder)
        keep = placeholder >= 0
        days = np.broadcast_to(np.asarray(day, dtype=np.int64), placeholder.shape)
        self._placeholder_uses.append((placeholder[keep], np.asarray(person)[keep], days[keep]))

    def placeholder_uses(self, days: int) -> tuple[np.ndarray, np.ndarray]:
        """Placeholder index and person of every delivered placeholder use."""
        if not self._placeholder_uses:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        ph, person, day = (np.concatenate(parts) for parts in zip(*self._placeholder_uses, strict=True))
        delivered = day < days
        return ph[delivered], person[delivered]
