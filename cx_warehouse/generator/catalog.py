"""Reference data: the product catalogue and the store network, delivered as full snapshots every day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from cx_warehouse.generator.clock import Clock
from cx_warehouse.generator.delivery import Delivery, csv_table
from cx_warehouse.generator.population import NEVER
from cx_warehouse.generator.reference import (
    CITIES,
    PRODUCT_ADJECTIVES,
    PRODUCT_BRANDS,
    PRODUCT_CATEGORIES,
    PRODUCT_VARIANTS,
    STORE_STREETS,
)
from cx_warehouse.ingest.spec import EXTRACTS

N_PRODUCTS = 480


@dataclass
class Catalog:
    sku: np.ndarray
    name: list[str]
    category: list[str]
    subcategory: list[str]
    brand: list[str]
    price_cents: np.ndarray
    popularity: np.ndarray  # probability of being picked in a basket
    listed_day: np.ndarray  # first day in the snapshot (-1: before the range)
    delisted_day: np.ndarray  # first day the product is inactive (NEVER: stays active)
    store_id: np.ndarray
    store_name: list[str]
    store_city: np.ndarray  # index into reference.CITIES
    store_opened_on: list[date]
    store_open_day: np.ndarray  # first business day the store is open (-1: before the range)

    def open_stores(self, day: int) -> np.ndarray:
        return np.flatnonzero(self.store_open_day <= day)

    def basket_skus(self, rng: np.random.Generator, n: int, day: int) -> np.ndarray:
        """``n`` product indices picked by popularity among products listed and active on ``day``."""
        weights = np.where((self.listed_day <= day) & (self.delisted_day > day), self.popularity, 0.0)
        return rng.choice(len(weights), size=n, p=weights / weights.sum())


def build_catalog(rng: np.random.Generator, clock: Clock) -> Catalog:
    """Products with Dutch names (some with commas and quotes) and one or more stores per city."""
    subs = [(cat, sub, nouns) for cat, subs_ in PRODUCT_CATEGORIES.items() for sub, nouns in subs_.items()]
    names, cats, subcats, brands, base = [], [], [], [], []
    seen: set[str] = set()
    while len(names) < N_PRODUCTS:
        cat, sub, nouns = subs[rng.integers(len(subs))]
        noun = nouns[rng.integers(len(nouns))]
        name = f"{PRODUCT_ADJECTIVES[rng.integers(len(PRODUCT_ADJECTIVES))]} {noun}"
        name += PRODUCT_VARIANTS[rng.integers(len(PRODUCT_VARIANTS))]
        if rng.random() < 0.04:
            name = f'{name.split(" ")[0]} {noun} "Delfts blauw", {rng.integers(2, 6)} stuks'
        if name in seen:
            continue
        seen.add(name)
        names.append(name)
        cats.append(cat)
        subcats.append(sub)
        brands.append(PRODUCT_BRANDS[rng.integers(len(PRODUCT_BRANDS))])
        base.append({"Elektronica": 2500, "Wonen": 1500, "Tuin": 1200}.get(cat, 800))
    price = (np.array(base) * rng.lognormal(0, 0.5, size=N_PRODUCTS) / 5).round().astype(np.int64) * 5 - 1
    listed = np.where(rng.random(N_PRODUCTS) < 0.03, rng.integers(0, clock.days, N_PRODUCTS), -1)
    delisted = np.where(rng.random(N_PRODUCTS) < 0.04, rng.integers(1, clock.days + 1, N_PRODUCTS), NEVER)
    delisted = np.where(delisted <= listed, NEVER, delisted)
    store_city, store_name = [], []
    for c, city in enumerate(CITIES):
        for street in STORE_STREETS.get(city.name, ("Centrum",)):
            store_city.append(c)
            store_name.append(f"CX Retail {city.name} {street}")
    opened = [date(2003, 3, 1) + timedelta(days=int(x)) for x in rng.integers(0, 7000, size=len(store_city))]
    new_store_day = clock.days * 3 // 5
    store_city.append(next(i for i, c in enumerate(CITIES) if c.name == "Almere"))
    store_name.append("CX Retail Almere Poort")
    opened.append(clock.dates[new_store_day])
    return Catalog(
        sku=np.array([f"SKU{100001 + i}" for i in range(N_PRODUCTS)]),
        name=names,
        category=cats,
        subcategory=subcats,
        brand=brands,
        price_cents=np.maximum(price, 99),
        popularity=rng.pareto(1.2, size=N_PRODUCTS) + 0.05,
        listed_day=listed,
        delisted_day=delisted,
        store_id=np.array([f"S{i + 1:03d}" for i in range(len(store_city))]),
        store_name=store_name,
        store_city=np.array(store_city),
        store_opened_on=opened,
        store_open_day=np.array([(d - clock.start).days if d >= clock.start else -1 for d in opened]),
    )


def euros(cents: np.ndarray) -> list[str]:
    """Amounts with a decimal point and two decimals (``12.50``, ``-3.99``)."""
    cents = np.asarray(cents, dtype=np.int64)
    if cents.size == 0:
        return []
    whole = np.strings.add(np.where(cents < 0, "-", ""), (np.abs(cents) // 100).astype("U"))
    return np.strings.add(
        np.strings.add(whole, "."), np.strings.zfill((np.abs(cents) % 100).astype("U"), 2)
    ).tolist()


def deliver_snapshots(catalog: Catalog, clock: Clock, delivery: Delivery, day: int) -> None:
    """Today's full snapshots of ``products`` and ``stores``."""
    listed = np.flatnonzero(catalog.listed_day <= day)
    products = {
        "sku": catalog.sku[listed].tolist(),
        "product_name": [catalog.name[i] for i in listed.tolist()],
        "category": [catalog.category[i] for i in listed.tolist()],
        "subcategory": [catalog.subcategory[i] for i in listed.tolist()],
        "brand": [catalog.brand[i] for i in listed.tolist()],
        "list_price_eur": euros(catalog.price_cents[listed]),
        "active": np.where(catalog.delisted_day[listed] > day, "true", "false").tolist(),
    }
    delivery.add("products", day, np.zeros(len(listed), np.int64), csv_table(EXTRACTS["products"], products))
    open_ = catalog.open_stores(day)
    stores = {
        "store_id": catalog.store_id[open_].tolist(),
        "store_name": [catalog.store_name[i] for i in open_.tolist()],
        "city": [CITIES[c].name for c in catalog.store_city[open_].tolist()],
        "province": [CITIES[c].province for c in catalog.store_city[open_].tolist()],
        "opened_on": [catalog.store_opened_on[i].isoformat() for i in open_.tolist()],
    }
    delivery.add("stores", day, np.zeros(len(open_), np.int64), csv_table(EXTRACTS["stores"], stores))
