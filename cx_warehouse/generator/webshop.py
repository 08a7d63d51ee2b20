"""Webshop orders: every order is delivered as versions (placed -> shipped -> delivered, or cancelled;
returns are added to the delivered order), each in the file of the day the version was made.

Late deliveries, returns and cancellations are scheduled as order events that later cause contacts,
social messages, pain and surveys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.catalog import euros
from cx_warehouse.generator.clock import (
    DAY_SECONDS,
    HOUR,
    PROFILE_WEB,
    epoch_seconds,
    format_date,
    format_utc,
    sample_seconds,
)
from cx_warehouse.generator.delivery import json_strings, jsonl_table
from cx_warehouse.generator.identifiers import EMAIL_STYLES, POSTCODE_STYLES, format_postcode, messy_emails
from cx_warehouse.generator.pos import purchase_season
from cx_warehouse.generator.reference import RETURN_REASONS
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

BASE_ORDER = 0.007  # daily order probability of an average account holder
GUEST_FACTOR = 0.25  # persons without an account order less (as guest)
CLICK_BOOST = 4.0  # an e-mail click today makes an order more likely
SHARE_CANCELLED = 0.05
SHARE_RETURNED = 0.09
SURVEY_RESPONSE = 0.18
DELAYS = np.array([-1, 0, 1, 2, 3, 4])  # delivered minus promised, in days
DELAY_P = np.array([0.04, 0.83, 0.08, 0.03, 0.015, 0.005])
LATE, ON_TIME, RETURNED, CANCELLED = 0, 1, 2, 3


@dataclass
class OrderSessions:
    """Orders placed today, for the web events that lead to them."""

    person: np.ndarray
    ordered_at: np.ndarray
    order_id: np.ndarray
    sku: np.ndarray  # product index of the first item


def _weekday(world: World, day: np.ndarray) -> np.ndarray:
    return (world.clock.start.weekday() + day) % 7


def _local_to_utc(world: World, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """UTC of a wall-clock time ``seconds`` after midnight of business day ``day`` (any day)."""
    return world.clock.local_to_utc(world.clock.naive_midnight[0] + day * DAY_SECONDS + seconds)


def deliver_webshop(world: World, day: int, clicked: np.ndarray) -> OrderSessions:
    """Place today's orders, queue all their versions and order events; returns the order sessions."""
    rng, pop, state, clock = world.rng("webshop"), world.pop, world.state, world.clock
    has_account = pop.account_id != ""
    p = BASE_ORDER * pop.web_affinity * np.sqrt(pop.engagement) * state.recency_factor(day)
    p *= purchase_season(clock.day_of_year[day]) * (1.0 - 0.4 * np.minimum(state.pain, 1.0))
    p *= np.where(has_account, 1.0, GUEST_FACTOR)
    p[clicked] *= CLICK_BOOST
    buyer = np.flatnonzero(state.active(day) & (pop.esp_email >= 0) & (rng.random(pop.n) < p))
    o = len(buyer)
    buyer = buyer[rng.permutation(o)]  # order ids follow the order time, not the person
    ordered = np.sort(clock.at(day, sample_seconds(rng, o, PROFILE_WEB) + 1800))
    order_id = np.array(world.ids("WO", o, 8))
    n_items = np.minimum(1 + rng.poisson(0.8, size=o), 5)
    item_order = np.repeat(np.arange(o), n_items)
    sku = world.catalog.basket_skus(rng, len(item_order), day)
    qty = rng.choice([1, 1, 1, 1, 1, 2], size=len(item_order))
    price = world.catalog.price_cents[sku]
    price = np.where(rng.random(len(price)) < 0.2, (price * 0.9).round(), price).astype(np.int64)
    first_item = np.cumsum(n_items) - n_items
    timeline = _timeline(world, day, ordered, rng)
    returns = _returns(world, rng, timeline, first_item, sku, qty)
    _emit_versions(
        world, buyer, order_id, ordered, timeline, returns, _items_json(world, item_order, sku, qty, price, o)
    )
    _schedule_events(world, buyer, order_id, timeline, returns)
    world.usage.mark("account_id", np.where(has_account[buyer], buyer, -1), day)
    world.usage.mark("email", pop.esp_email[buyer], day)
    state.last_purchase[buyer] = day
    state.count("orders", buyer)
    return OrderSessions(buyer, ordered, order_id, sku[first_item])


@dataclass
class _Timeline:
    cancelled: np.ndarray
    cancelled_at: np.ndarray
    shipped_at: np.ndarray
    promised_day: np.ndarray
    delivered_day: np.ndarray
    delivered_at: np.ndarray


def _timeline(world: World, day: int, ordered: np.ndarray, rng: np.random.Generator) -> _Timeline:
    """When each order is cancelled, shipped, promised and delivered."""
    o = len(ordered)
    hour = (world.clock.to_local(ordered) % DAY_SECONDS) // HOUR
    days = np.full(o, day, dtype=np.int64)
    promised = days + np.where(hour < 22, 1, 2)
    promised += _weekday(world, promised) == 6  # no deliveries on Sunday
    shipped = np.where(
        hour < 18,
        _local_to_utc(world, days, 20 * HOUR + rng.integers(0, 3 * HOUR, size=o)),
        _local_to_utc(world, days + 1, 6 * HOUR + rng.integers(0, 3 * HOUR, size=o)),
    )
    delay = DELAYS[rng.choice(len(DELAYS), size=o, p=DELAY_P)]
    delay = np.where((delay < 0) & (promised - days < 2), 0, delay)
    delivered_day = promised + delay
    delivered_day += _weekday(world, delivered_day) == 6
    delivered_at = _local_to_utc(world, delivered_day, 10 * HOUR + rng.integers(0, 11 * HOUR, size=o))
    delivered_at = np.maximum(delivered_at, shipped + 2 * HOUR)
    return _Timeline(
        cancelled=rng.random(o) < SHARE_CANCELLED,
        cancelled_at=ordered + rng.integers(HOUR, 20 * HOUR, size=o),
        shipped_at=shipped,
        promised_day=promised,
        delivered_day=delivered_day,
        delivered_at=delivered_at,
    )


@dataclass
class _Returns:
    returned: np.ndarray  # per order
    returned_at: np.ndarray
    json: list[str]  # per order, the "returns" array once returned


def _returns(
    world: World,
    rng: np.random.Generator,
    t: _Timeline,
    first_item: np.ndarray,
    sku: np.ndarray,
    qty: np.ndarray,
) -> _Returns:
    """Some delivered orders are returned (the first item) 1-14 days after delivery."""
    o = len(first_item)
    returned = ~t.cancelled & (rng.random(o) < SHARE_RETURNED)
    days = t.delivered_day + rng.integers(1, 15, size=o)
    returned_at = np.maximum(
        _local_to_utc(world, days, 10 * HOUR + rng.integers(0, 10 * HOUR, size=o)), t.delivered_at + HOUR
    )
    reason = np.array(RETURN_REASONS)[rng.integers(0, len(RETURN_REASONS), size=o)]
    stamps = format_utc(returned_at)
    skus = world.catalog.sku[sku[first_item]]
    rqty = rng.integers(1, qty[first_item] + 1)
    text = [
        f'[{{"sku":"{s}","qty":{q},"reason":"{r}","returned_at":"{ts}"}}]'
        for s, q, r, ts in zip(skus.tolist(), rqty.tolist(), reason.tolist(), stamps, strict=True)
    ]
    return _Returns(returned, returned_at, text)


def _items_json(
    world: World, item_order: np.ndarray, sku: np.ndarray, qty: np.ndarray, price: np.ndarray, o: int
) -> list[str]:
    """The ``items`` array of every order as JSON text."""
    parts: list[list[str]] = [[] for _ in range(o)]
    for k, s, q, pr in zip(
        item_order.tolist(), world.catalog.sku[sku].tolist(), qty.tolist(), euros(price), strict=True
    ):
        parts[k].append(f'{{"sku":"{s}","qty":{q},"unit_price_eur":{pr}}}')
    return ["[" + ",".join(p) + "]" for p in parts]


def _emit_versions(
    world: World,
    buyer: np.ndarray,
    order_id: np.ndarray,
    ordered: np.ndarray,
    t: _Timeline,
    r: _Returns,
    items: list[str],
) -> None:
    """Queue every version of every order in the file of the day the version was made."""
    rng, pop = world.rng("webshop"), world.pop
    o = len(buyer)
    # versions: placed, cancelled | shipped, delivered, returned
    k = np.arange(o)
    shipped = k[~t.cancelled]
    version_order = np.r_[k, k[t.cancelled], shipped, shipped, k[r.returned]]
    status = np.r_[
        np.full(o, "placed"),
        np.full(int(t.cancelled.sum()), "cancelled"),
        np.full(len(shipped), "shipped"),
        np.full(len(shipped), "delivered"),
        np.full(int(r.returned.sum()), "delivered"),
    ]
    updated = np.r_[
        ordered,
        t.cancelled_at[t.cancelled],
        t.shipped_at[shipped],
        t.delivered_at[shipped],
        r.returned_at[r.returned],
    ]
    n_versions = len(version_order)
    has_delivery = np.r_[
        np.zeros(o + int(t.cancelled.sum()) + len(shipped), bool),
        np.ones(len(shipped) + int(r.returned.sum()), bool),
    ]
    with_returns = np.r_[
        np.zeros(n_versions - int(r.returned.sum()), bool), np.ones(int(r.returned.sum()), bool)
    ]
    account = pop.account_id[buyer]
    guest_email = messy_emails(
        pop.emails.address[pop.esp_email[buyer]].tolist(), rng.integers(0, EMAIL_STYLES, o)
    )
    email = np.where(account != "", pop.account_email[buyer], np.array(guest_email, dtype=object))
    postcode = [
        format_postcode(pc, s)
        for pc, s in zip(
            pop.households.postcode[pop.household[buyer]].tolist(),
            rng.integers(0, POSTCODE_STYLES, o).tolist(),
            strict=True,
        )
    ]
    start_day = epoch_seconds(world.clock.start) // DAY_SECONDS
    per_order = {
        "order_id": json_strings(order_id.tolist()),
        "account_id": json_strings(account.tolist()),
        "email": json_strings(email.tolist(), ascii_safe=False),
        "ordered_at": json_strings(format_utc(ordered)),
        "promised_delivery_date": json_strings(format_date(start_day + t.promised_day)),
        "delivered_at": json_strings(format_utc(t.delivered_at)),
        "shipping_postcode": json_strings(postcode),
    }
    v = version_order.tolist()
    columns: dict[str, list[str | None]] = {
        name: [values[i] for i in v] for name, values in per_order.items()
    }
    columns["delivered_at"] = [
        d if has else None for d, has in zip(columns["delivered_at"], has_delivery.tolist(), strict=True)
    ]
    columns["updated_at"] = json_strings(format_utc(updated))
    columns["status"] = json_strings(status.tolist())
    columns["items"] = [items[i] for i in v]
    columns["returns"] = [r.json[i] if ret else "[]" for i, ret in zip(v, with_returns.tolist(), strict=True)]
    records = jsonl_table(EXTRACTS["webshop_orders"], columns)
    world.delivery.add("webshop_orders", world.clock.day_of(updated), updated, records)


def _schedule_events(
    world: World, buyer: np.ndarray, order_id: np.ndarray, t: _Timeline, r: _Returns
) -> None:
    """Queue what customers will experience: late or timely deliveries, returns, cancellations, surveys."""
    rng, clock = world.rng("webshop"), world.clock
    sent = ~t.cancelled
    late = sent & (t.delivered_day > t.promised_day)
    on_time = sent & ~late
    delay = (t.delivered_day - t.promised_day).astype(float)
    for mask, kind, day in (
        (late, LATE, t.promised_day + 1),
        (on_time, ON_TIME, t.delivered_day),
        (r.returned, RETURNED, clock.day_of(r.returned_at)),
        (t.cancelled, CANCELLED, clock.day_of(t.cancelled_at)),
    ):
        world.schedule.add(
            "order_event",
            day[mask],
            person=buyer[mask],
            order=order_id[mask],
            kind=np.full(int(mask.sum()), kind),
            delay=delay[mask],
        )
    answer = sent & (rng.random(len(buyer)) < SURVEY_RESPONSE)
    ts = t.delivered_at[answer] + rng.integers(2 * HOUR, 3 * DAY_SECONDS, size=int(answer.sum()))
    experience = np.where(late, -0.35 - 0.2 * np.minimum(delay, 3), np.where(delay < 0, 0.6, 0.45))[answer]
    world.schedule.add(
        "survey",
        clock.day_of(ts),
        person=buyer[answer],
        survey_type=np.full(len(ts), "post_delivery"),
        ref=order_id[answer],
        experience=experience + rng.normal(0, 0.3, len(ts)),
        ts=ts,
    )


def handle_order_events(world: World, day: int) -> None:
    """Today's consequences of earlier orders: pain, satisfaction, contacts and social messages."""
    events = world.schedule.take("order_event", day)
    if events is None:
        return
    rng, state = world.rng("order-events"), world.state
    person, kind, delay = events["person"], events["kind"], events["delay"]
    late, returned, cancelled = kind == LATE, kind == RETURNED, kind == CANCELLED
    state.experience(person[late], 0.7 + 0.25 * np.minimum(delay[late], 3), -0.25)
    state.experience(person[kind == ON_TIME], 0.0, 0.04)
    state.experience(person[returned], 0.1, -0.03)
    state.experience(person[cancelled], 0.2, -0.05)
    state.count("late_deliveries", person[late])
    state.count("returns", person[returned])
    p_contact = np.select([late, returned, cancelled], [0.2 + 0.1 * delay, 0.12, 0.15], 0.0)
    contact = (rng.random(len(person)) < p_contact) & world.state.active(day)[person]
    reason = np.select([late, returned], ["bezorging", "retour"], "betaling")
    world.schedule.add(
        "contact",
        day + rng.integers(0, 2, int(contact.sum())),
        person=person[contact],
        reason=reason[contact],
        case=np.full(int(contact.sum()), ""),
        attempt=np.ones(int(contact.sum()), np.int64),
    )
    social = (late | returned) & (world.pop.social_platform[person] != "") & (rng.random(len(person)) < 0.3)
    world.schedule.add(
        "social",
        day,
        person=person[social],
        topic=np.where(late[social], "bezorging", "retour"),
        order=events["order"][social],
    )
