"""Ground truth: who is who, which identifiers belong to whom (normalised as the contract says),
which values are placeholders, and how the data was generated. Written outside the landing root.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cx_warehouse.generator.clock import DAY_SECONDS, epoch_seconds, format_date
from cx_warehouse.generator.delivery import csv_text, take
from cx_warehouse.generator.identifiers import (
    PLACEHOLDERS,
    normalise_email,
    normalise_phone,
    normalise_social,
)
from cx_warehouse.generator.reference import CITIES
from cx_warehouse.generator.state import COUNTERS
from cx_warehouse.generator.world import World

IDENTIFIER_COLUMNS = (
    "person_id",
    "id_type",
    "id_value",
    "delivered",
    "first_delivered_on",
    "logged_in",
    "shared",
)


def _write_csv(path: Path, columns: dict[str, list[str]]) -> None:
    path.write_text(csv_text(list(columns), list(columns.values())), encoding="utf-8")


def _dates(world: World, days: np.ndarray) -> list[str]:
    """Business dates of day indices; empty for -1 / NEVER (outside the range)."""
    start = epoch_seconds(world.clock.start) // DAY_SECONDS
    inside = (days >= 0) & (days < world.clock.days)
    text = format_date(start + np.where(inside, days, 0))
    return [t if i else "" for t, i in zip(text, inside.tolist(), strict=True)]


def _flag(values: np.ndarray) -> list[str]:
    words = ("false", "true")
    return [words[v] for v in np.asarray(values, dtype=np.int8).tolist()]


def _decimals(values: np.ndarray, places: int) -> list[str]:
    return [f"{v:.{places}f}" for v in values.tolist()]


def write_truth(world: World, truth_dir: Path, arguments: dict[str, object]) -> None:
    """Write persons.csv, person_identifiers.csv, placeholders.csv and generation.json."""
    truth_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(truth_dir / "persons.csv", _persons(world))
    _write_csv(truth_dir / "person_identifiers.csv", _identifiers(world))
    _write_csv(truth_dir / "placeholders.csv", _placeholders(world))
    summary = {
        "arguments": arguments,
        "rows": world.delivery.rows,
        "rows_in_replaced_files": world.delivery.superseded_rows,
        "rows_resent_next_day": world.delivery.resent_rows,
        "files": world.delivery.files,
        "redeliveries": world.delivery.redeliveries,
        "persons": world.pop.n,
        "households": len(world.pop.households.city),
        "churned": int((world.state.churned_on >= 0).sum()),
        "erased": int((world.state.erased_on >= 0).sum()),
    }
    text = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    (truth_dir / "generation.json").write_text(text, encoding="utf-8")


def _persons(world: World) -> dict[str, list[str]]:
    """One row per person: household, personal data, lifecycle, latent traits and experience counts."""
    pop, state, hh = world.pop, world.state, world.pop.households
    h = pop.household
    cities = [c.name for c in CITIES]
    return {
        "person_id": pop.person_id.tolist(),
        "household_id": [f"H{i + 1:07d}" for i in h.tolist()],
        "first_name": pop.first_name.tolist(),
        "last_name": pop.last_name.tolist(),
        "gender": pop.gender.tolist(),
        "birth_date": format_date(pop.birth_day),
        "postcode": hh.postcode[h].tolist(),
        "house_number": hh.house_number[h].tolist(),
        "city": [cities[c] for c in hh.city[h].tolist()],
        "customer_before_start": _flag(pop.created_day < 0),
        "created_on": _dates(world, pop.created_day),
        "churned_on": _dates(world, state.churned_on),
        "erased_on": _dates(world, state.erased_on),
        "marketing_opt_in_at_end": _flag(state.opt_in),
        "profiling_opt_out": _flag(state.profiling_opt_out),
        "base_daily_churn_probability": _decimals(1 / (1 + np.exp(-pop.base_churn_logit)), 6),
        "engagement": _decimals(pop.engagement, 4),
        "satisfaction_at_end": _decimals(state.satisfaction, 4),
        "last_purchase_on": _dates(world, state.last_purchase),
        **{name: state.counters[name].astype("U").tolist() for name in COUNTERS},
    }


def _members(world: World, owner: np.ndarray, household: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(person, entry) pairs: an entry owned by a person once, a household entry once per member."""
    sizes = np.bincount(world.pop.household, minlength=len(world.pop.households.city))
    starts = np.cumsum(sizes) - sizes  # persons are numbered household by household
    own = np.flatnonzero(owner >= 0)
    shared = np.flatnonzero(owner < 0)
    count = sizes[household[shared]]
    rank = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    person = np.r_[owner[own], np.repeat(starts[household[shared]], count) + rank]
    return person.astype(np.int64), np.r_[own, np.repeat(shared, count)].astype(np.int64)


class _Rows:
    """Identifier rows collected per type, column-wise."""

    def __init__(self) -> None:
        self.person: list[np.ndarray] = []
        self.id_type: list[np.ndarray] = []
        self.value: list[str] = []
        self.first: list[np.ndarray] = []
        self.logged_in: list[np.ndarray] = []
        self.shared: list[np.ndarray] = []

    def add(
        self,
        person: np.ndarray,
        id_type: str,
        values: list[str],
        first: np.ndarray,
        shared: np.ndarray | None = None,
    ) -> None:
        n = len(person)
        self.person.append(np.asarray(person, dtype=np.int64))
        self.id_type.append(np.full(n, id_type))
        self.value += values
        self.first.append(np.asarray(first, dtype=np.int64))
        self.logged_in.append(np.full(n, -1, dtype=np.int8))
        self.shared.append(np.zeros(n, bool) if shared is None else shared)


def _identifiers(world: World) -> dict[str, list[str]]:
    """One row per person and identifier; household phones and e-mail addresses under every member."""
    pop, crm, usage, days = world.pop, world.crm, world.usage, world.clock.days
    rows = _Rows()
    rows.add(crm.person, "crm_id", [c.strip() for c in crm.crm_id.tolist()], usage.first["crm_id"])
    for id_type, values in (("account_id", pop.account_id), ("loyalty_card_no", pop.loyalty_card)):
        has = np.flatnonzero(values != "")
        rows.add(has, id_type, [v.strip() for v in values[has].tolist()], usage.first[id_type][has])
    cookies = [c.strip() for c in pop.cookies.cookie_id.tolist()]
    rows.add(pop.cookies.person, "anonymous_id", cookies, usage.first["anonymous_id"])
    rows.logged_in[-1] = (usage.first["login"] < days).astype(np.int8)
    emails = pop.emails
    person, entry = _members(world, emails.owner, emails.household)
    address = [normalise_email(a) for a in emails.address.tolist()]
    rows.add(person, "email", take(address, entry), usage.first["email"][entry], emails.owner[entry] < 0)
    phones, k = pop.phones, pop.phones.count
    person, entry = _members(world, phones.owner[:k], phones.household[:k])
    e164 = np.strings.add("+31", phones.nsn[:k]).tolist()  # national significant numbers: E.164 directly
    rows.add(person, "phone", take(e164, entry), usage.first_of("phone", entry), phones.owner[entry] < 0)
    social = np.flatnonzero(pop.social_platform != "")
    handles = [
        normalise_social(pl, h)
        for pl, h in zip(
            pop.social_platform[social].tolist(), pop.social_handle[social].tolist(), strict=True
        )
    ]
    rows.add(social, "social_handle", handles, usage.first["social_handle"][social])
    person = np.concatenate(rows.person)
    id_type = np.concatenate(rows.id_type)
    order = np.lexsort((id_type, person))
    first = np.concatenate(rows.first)[order]
    delivered = first < days
    logged_in = np.concatenate(rows.logged_in)[order]
    return {
        "person_id": take(pop.person_id.tolist(), person[order]),
        "id_type": id_type[order].tolist(),
        "id_value": take(rows.value, order),
        "delivered": _flag(delivered),
        "first_delivered_on": _dates(world, np.where(delivered, first, -1)),
        "logged_in": [("", "false", "true")[v + 1] for v in logged_in.tolist()],
        "shared": _flag(np.concatenate(rows.shared)[order]),
    }


def _placeholders(world: World) -> dict[str, list[str]]:
    """The placeholder values and how many different persons' delivered rows carry each."""
    ph, person = world.usage.placeholder_uses(world.clock.days)
    pairs = np.unique(np.stack([ph, person]), axis=1) if len(ph) else np.zeros((2, 0), np.int64)
    persons_using = np.bincount(pairs[0], minlength=len(PLACEHOLDERS))
    return {
        "id_type": [p.id_type for p in PLACEHOLDERS],
        "value": [p.value for p in PLACEHOLDERS],
        "normalised_value": [
            normalise_email(p.value) if p.id_type == "email" else normalise_phone(p.value)
            for p in PLACEHOLDERS
        ],
        "in_contract_list": _flag(np.array([p.in_contract_list for p in PLACEHOLDERS])),
        "persons_using": persons_using.astype("U").tolist(),
    }
