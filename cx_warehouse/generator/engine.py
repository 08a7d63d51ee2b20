"""``generate``: build the world, simulate it day by day and write the landing files and ground truth."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from cx_warehouse.generator.catalog import build_catalog, deliver_snapshots
from cx_warehouse.generator.clock import Clock
from cx_warehouse.generator.contact_center import deliver_contacts
from cx_warehouse.generator.crm import build_crm, deliver_crm, initial_opt_in
from cx_warehouse.generator.delivery import Delivery
from cx_warehouse.generator.email import apply_unsubscribes, deliver_email
from cx_warehouse.generator.population import build_population
from cx_warehouse.generator.pos import deliver_pos, first_delivery_variant, home_stores
from cx_warehouse.generator.privacy import deliver_privacy
from cx_warehouse.generator.social import deliver_social
from cx_warehouse.generator.state import Schedule, State, Usage
from cx_warehouse.generator.surveys import deliver_surveys
from cx_warehouse.generator.truth import write_truth
from cx_warehouse.generator.web import RESEND_SHARE, deliver_web, login_cookies
from cx_warehouse.generator.webshop import deliver_webshop, handle_order_events
from cx_warehouse.generator.world import World, stream

DEFAULT_START = date(2026, 7, 20)
REDELIVERED_EXTRACT = "pos_transactions"


class InvalidArguments(ValueError):
    """Bad arguments to :func:`generate` (the CLI reports these as a usage error; anything else is a bug)."""


@dataclass(frozen=True)
class GenerationSummary:
    out: Path
    truth_dir: Path
    rows: dict[str, int]  # rows per extract in the files that count (an _r2 file replaces its first file)
    files: int
    seconds: float


def _check_paths(out: Path, truth_dir: Path) -> None:
    """The ground truth must never be loadable as a delivery: not inside the landing root."""
    landing, truth = out.resolve(), truth_dir.resolve()
    if truth == landing or truth.is_relative_to(landing):
        raise InvalidArguments(f"truth dir {truth_dir} must not be inside the landing root {out}")


def build_world(out: Path, customers: int, days: int, start_date: date, seed: int) -> World:
    """The population, catalogue, CRM and empty state, ready to simulate."""
    clock = Clock(start_date, days)
    pop = build_population(stream(seed, "population"), customers, days, start_date)
    crm = build_crm(stream(seed, "crm-build"), pop, clock)
    state = State(pop, stream(seed, "state"))
    state.opt_in[:] = initial_opt_in(crm, pop, stream(seed, "opt-in"))
    delivery = Delivery(out, clock, stream(seed, "resend"), {"web_events": RESEND_SHARE})
    delivery.redeliver(REDELIVERED_EXTRACT, days // 2, first_delivery_variant)
    return World(
        seed=seed,
        clock=clock,
        pop=pop,
        catalog=build_catalog(stream(seed, "catalog"), clock),
        crm=crm,
        state=state,
        schedule=Schedule(days),
        usage=Usage(pop, len(crm.crm_id)),
        delivery=delivery,
    )


def simulate_day(world: World, day: int, home: np.ndarray, login_cookie: np.ndarray) -> None:
    """One business day: churn, then every channel, then that day's files.

    The order matters where one channel causes another on the same day (an e-mail click leads to a web
    visit and maybe an order; an order event to a contact; a contact to a survey).
    """
    world.state.churn_step(day, world.rng("churn"))
    deliver_privacy(world, day)
    deliver_crm(world, day)
    deliver_email(world, day)
    apply_unsubscribes(world, day)
    clicks = world.schedule.take("click", day) or {
        "person": np.zeros(0, np.int64),
        "ts": np.zeros(0, np.int64),
        "campaign": np.zeros(0, "U1"),
    }
    deliver_pos(world, day, home)
    orders = deliver_webshop(world, day, clicks["person"])
    handle_order_events(world, day)
    deliver_web(world, day, orders, clicks, login_cookie)
    deliver_contacts(world, day)
    deliver_social(world, day)
    deliver_surveys(world, day)
    deliver_snapshots(world.catalog, world.clock, world.delivery, day)
    world.delivery.flush(day)


def generate(
    out: Path,
    truth_dir: Path,
    customers: int = 10_000,
    days: int = 120,
    start_date: date = DEFAULT_START,
    seed: int = 42,
) -> GenerationSummary:
    """Write ``days`` business days of all 11 extracts for ``customers`` persons, and the ground truth.

    The same arguments always give byte-identical files.
    """
    if customers < 1 or days < 1:
        raise InvalidArguments("customers and days must be at least 1")
    _check_paths(out, truth_dir)
    began = time.perf_counter()
    world = build_world(out, customers, days, start_date, seed)
    world.delivery.prepare()
    home, login_cookie = home_stores(world), login_cookies(world)
    for day in range(days):
        simulate_day(world, day, home, login_cookie)
    arguments = {"customers": customers, "days": days, "start_date": start_date.isoformat(), "seed": seed}
    write_truth(world, truth_dir, arguments)
    return GenerationSummary(
        out=out,
        truth_dir=truth_dir,
        rows=dict(world.delivery.rows),
        files=world.delivery.files,
        seconds=time.perf_counter() - began,
    )
