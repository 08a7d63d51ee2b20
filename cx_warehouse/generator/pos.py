"""Store visits: POS receipts with several lines, anonymous or with a loyalty card, in-store returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.catalog import euros
from cx_warehouse.generator.clock import (
    PROFILE_STORE_SUNDAY,
    PROFILE_STORE_WEEKDAY,
    format_local,
    sample_seconds,
)
from cx_warehouse.generator.delivery import Table, csv_table, take_rows
from cx_warehouse.generator.reference import PAYMENT_METHODS
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

BASE_VISIT = 0.022  # daily store-visit probability of an average customer
SHOW_CARD = 0.75  # a card holder scans the loyalty card
SHARE_RETURN_RECEIPTS = 0.03  # receipts that only return an item
SHARE_DISCOUNT_LINES = 0.15
SURVEY_INVITE = 0.05  # identified visits that get a post-store-visit survey answer
WEEKDAY_FACTOR = np.array([0.9, 0.9, 0.95, 1.0, 1.2, 1.5, 0.6])


def home_stores(world: World) -> np.ndarray:
    """Each person's usual store: one in the home city when there is one, else any store."""
    rng, cat = world.rng("pos-home"), world.catalog
    city = world.pop.households.city[world.pop.household]
    stores_open = cat.open_stores(0)
    home = stores_open[rng.integers(0, len(stores_open), size=world.pop.n)]
    for c in np.unique(city).tolist():
        local = stores_open[cat.store_city[stores_open] == c]
        if len(local):
            mask = city == c
            home[mask] = local[rng.integers(0, len(local), size=int(mask.sum()))]
    return home


def deliver_pos(world: World, day: int, home: np.ndarray) -> None:
    """Today's receipts; schedules surveys for some identified visits."""
    rng, pop, state, clock, cat = world.rng("pos"), world.pop, world.state, world.clock, world.catalog
    season = purchase_season(clock.day_of_year[day])
    p = (
        BASE_VISIT
        * pop.store_affinity
        * state.recency_factor(day)
        * WEEKDAY_FACTOR[clock.weekday[day]]
        * season
    )
    p *= 1.0 - 0.3 * np.minimum(state.pain, 1.0)
    visitor = np.flatnonzero(state.active(day) & (rng.random(pop.n) < p))
    v = len(visitor)
    stores_open = cat.open_stores(day)
    store = np.where(
        rng.random(v) < 0.85, home[visitor], stores_open[rng.integers(0, len(stores_open), size=v)]
    )
    profile = PROFILE_STORE_SUNDAY if clock.weekday[day] == 6 else PROFILE_STORE_WEEKDAY
    naive = clock.naive_midnight[day] + sample_seconds(rng, v, profile)
    order = np.argsort(naive, kind="stable")
    visitor, store, naive = visitor[order], store[order], naive[order]
    is_return = rng.random(v) < SHARE_RETURN_RECEIPTS
    lines = np.where(is_return, 1, 1 + rng.poisson(1.8, size=v))
    card_on = pop.loyalty_day[visitor] <= day
    card = np.where(card_on & (rng.random(v) < SHOW_CARD), pop.loyalty_card[visitor], "")
    payment = np.array([m for m, _ in PAYMENT_METHODS])[
        rng.choice(len(PAYMENT_METHODS), size=v, p=[w for _, w in PAYMENT_METHODS])
    ]
    txn = world.ids("T", v, 10)
    # receipt lines
    receipt = np.repeat(np.arange(v), lines)
    line_no = np.arange(len(receipt)) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    sku = cat.basket_skus(rng, len(receipt), day)
    qty = rng.choice([1, 1, 1, 1, 2, 2, 3], size=len(receipt))
    qty = np.where(is_return[receipt], -1, qty)
    price = cat.price_cents[sku]
    discount = np.where(
        (rng.random(len(receipt)) < SHARE_DISCOUNT_LINES) & ~is_return[receipt],
        (price * np.abs(qty) * rng.choice([0.1, 0.2, 0.25, 0.3], size=len(receipt)) / 5).round() * 5,
        0,
    ).astype(np.int64)
    columns = {
        "transaction_id": [txn[i] for i in receipt.tolist()],
        "line_no": line_no.astype("U").tolist(),
        "store_id": cat.store_id[store][receipt].tolist(),
        "register_ts": format_local(naive[receipt]),
        "loyalty_card_no": card[receipt].tolist(),
        "sku": cat.sku[sku].tolist(),
        "quantity": qty.astype("U").tolist(),
        "unit_price_eur": euros(price),
        "discount_eur": euros(discount),
        "payment_method": payment[receipt].tolist(),
    }
    world.delivery.add(
        "pos_transactions", day, naive[receipt], csv_table(EXTRACTS["pos_transactions"], columns)
    )
    identified = card != ""
    world.usage.mark("loyalty_card_no", visitor[identified], day)
    buyers = visitor[~is_return]
    state.last_purchase[buyers] = day
    state.count("store_visits", visitor)
    _invite_surveys(world, day, visitor, naive, identified, is_return, np.array(txn))


def _invite_surveys(
    world: World,
    day: int,
    visitor: np.ndarray,
    naive: np.ndarray,
    identified: np.ndarray,
    is_return: np.ndarray,
    txn: np.ndarray,
) -> None:
    """Identified visits answer a post-store-visit survey within two days, sometimes."""
    rng = world.rng("pos")
    pick = np.flatnonzero(identified & (rng.random(len(visitor)) < SURVEY_INVITE))
    experience = rng.normal(0.35, 0.45, size=len(pick)) - 0.3 * is_return[pick]
    sent = world.clock.local_to_utc(naive[pick]) + rng.integers(3600, 2 * 86400, size=len(pick))
    world.schedule.add(
        "survey",
        world.clock.day_of(sent),
        person=visitor[pick],
        survey_type=np.full(len(pick), "post_store_visit"),
        ref=txn[pick],
        experience=experience,
        ts=sent,
    )


def purchase_season(day_of_year: int) -> float:
    """Shopping seasonality: quiet summer holidays, Black Friday and December peaks."""
    black_friday = np.exp(-(((day_of_year - 331) / 5.0) ** 2))
    december = np.exp(-(((day_of_year - 350) / 10.0) ** 2))
    summer = np.exp(-(((day_of_year - 215) / 15.0) ** 2))
    return float(1.0 + 0.8 * black_friday + 0.5 * december - 0.2 * summer)


def first_delivery_variant(table: Table) -> Table:
    """The wrong first delivery that an ``_r2`` file corrects: the last store's registers had not synced
    and discounts were exported as zero."""
    names = EXTRACTS["pos_transactions"].column_names
    stores = table[names.index("store_id")]
    missing = max(stores, default="")
    keep = [i for i, store in enumerate(stores) if store != missing]
    variant = take_rows(table, keep)
    variant[names.index("discount_eur")] = ["0.00"] * len(keep)
    return variant
