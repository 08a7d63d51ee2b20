"""Web events: sessions on browser cookies, vectorised over all of a day's sessions.

Three kinds of session: browsing (more help pages after a pain point), the checkout that places an order
(``order_complete`` links to the ``order_id``), and a visit after an e-mail click (``utm_*`` set). A login
event sets ``account_id`` on the rest of the session; a browser that logged in before is often still
logged in. At-least-once delivery (a share of each day's events in the next day's file) is done by
``Delivery``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.clock import PROFILE_WEB, format_utc, sample_seconds
from cx_warehouse.generator.delivery import json_strings, jsonl_table
from cx_warehouse.generator.identifiers import uuids
from cx_warehouse.generator.population import NEVER
from cx_warehouse.generator.reference import AD_UTM, HELP_TOPICS, LANDING_PAGES, SEARCH_TERMS, USER_AGENTS
from cx_warehouse.generator.webshop import OrderSessions
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

BASE_BROWSE = 0.03  # daily browsing-session probability of an average person with a cookie
RESEND_SHARE = 0.03  # share of a day's events delivered again in the next day's file
TYPES = np.array(
    [
        "page_view",
        "product_view",
        "search",
        "add_to_cart",
        "checkout_start",
        "order_complete",
        "login",
        "help_page_view",
    ]
)
PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, CHECKOUT, ORDER_COMPLETE, LOGIN, HELP = range(8)
BROWSE_MIX = np.array([0.30, 0.42, 0.16, 0.09, 0.03])  # page_view .. checkout_start
BROWSE, ORDER, CLICK = 0, 1, 2


def login_cookies(world: World) -> np.ndarray:
    """Per person, the first cookie on which the person logs in (-1 when none)."""
    cookies = world.pop.cookies
    first = np.full(world.pop.n, NEVER, dtype=np.int64)
    can = np.flatnonzero(cookies.can_login)
    np.minimum.at(first, cookies.person[can], can)
    return np.where(first == NEVER, -1, first)


def _sessions(
    world: World, day: int, orders: OrderSessions, clicks: dict[str, np.ndarray], login_cookie: np.ndarray
) -> dict[str, np.ndarray]:
    """Today's sessions: person, kind, cookie, anchor time, order and campaign."""
    rng, pop, state = world.rng("web"), world.pop, world.state
    with_cookie = pop.cookie_count > 0
    p = BASE_BROWSE * pop.web_affinity * np.sqrt(pop.engagement) * (1.0 + 1.5 * np.minimum(state.pain, 1.0))
    browse = np.flatnonzero(state.active(day) & with_cookie & (rng.random(pop.n) < p))
    b_start = world.clock.at(day, sample_seconds(rng, len(browse), PROFILE_WEB))
    o_keep = with_cookie[orders.person]
    c_person = clicks["person"]
    c_keep = with_cookie[c_person] & state.active(day)[c_person]
    person = np.r_[browse, orders.person[o_keep], c_person[c_keep]]
    kind = np.r_[
        np.full(len(browse), BROWSE), np.full(int(o_keep.sum()), ORDER), np.full(int(c_keep.sum()), CLICK)
    ]
    anchor = np.r_[b_start, orders.ordered_at[o_keep], clicks["ts"][c_keep]]
    empty = np.full(len(browse), "")
    order_id = np.r_[empty, orders.order_id[o_keep], np.full(int(c_keep.sum()), "")]
    campaign = np.r_[empty, np.full(int(o_keep.sum()), ""), clicks["campaign"][c_keep]]
    order_sku = np.r_[
        np.zeros(len(browse), np.int64), orders.sku[o_keep], np.zeros(int(c_keep.sum()), np.int64)
    ]
    pick = (pop.cookie_count[person] * rng.random(len(person)) ** 1.7).astype(np.int64)
    cookie = pop.cookie_start[person] + pick
    preferred = (kind == ORDER) & (login_cookie[person] >= 0)
    cookie[preferred] = login_cookie[person[preferred]]
    return {
        "person": person,
        "kind": kind,
        "anchor": anchor.astype(np.int64),
        "order_id": order_id,
        "campaign": campaign.astype(str),
        "order_sku": order_sku,
        "cookie": cookie,
    }


def deliver_web(
    world: World, day: int, orders: OrderSessions, clicks: dict[str, np.ndarray], login_cookie: np.ndarray
) -> None:
    """Generate and queue today's web events: browsing, checkouts of ``orders``, visits after ``clicks``."""
    rng, pop, cat = world.rng("web"), world.pop, world.catalog
    s = _sessions(world, day, orders, clicks, login_cookie)
    person, kind, cookie = s["person"], s["kind"], s["cookie"]
    n_s = len(person)
    can = pop.cookies.can_login[cookie]
    remembered = can & (world.usage.first["login"][cookie] < day) & (rng.random(n_s) < 0.6)
    login_now = can & ~remembered & ((kind == ORDER) | (rng.random(n_s) < 0.25))
    n_ev = np.select(
        [kind == ORDER, kind == CLICK],
        [4 + rng.poisson(1.5, n_s), 1 + rng.poisson(2.5, n_s)],
        1 + rng.poisson(3.5, n_s),
    )
    n_ev = np.minimum(n_ev + login_now, 40)
    # one row per event
    sess = np.repeat(np.arange(n_s), n_ev)
    first = np.cumsum(n_ev) - n_ev
    pos = np.arange(len(sess)) - first[sess]
    from_end = n_ev[sess] - 1 - pos
    etype = rng.choice(len(BROWSE_MIX), size=len(sess), p=BROWSE_MIX)
    p_help = 0.03 + 0.3 * np.minimum(world.state.pain[person], 1.0)
    etype[(rng.random(len(sess)) < p_help[sess]) & (pos > 0)] = HELP
    etype[pos == 0] = PAGE_VIEW
    etype[login_now[sess] & (pos == 1)] = LOGIN
    is_order = kind[sess] == ORDER
    etype[is_order & (from_end == 0)] = ORDER_COMPLETE
    etype[is_order & (from_end == 1)] = CHECKOUT
    etype[is_order & (from_end == 2)] = ADD_TO_CART
    logged_from = np.where(remembered, 0, np.where(login_now, 1, 10_000))
    logged_in = pos >= logged_from[sess]
    # times: exponential gaps; an order session ends with the order, others start at their anchor
    gaps = np.where(pos == 0, 0, rng.exponential(50.0, len(sess)) + 3).astype(np.int64)
    offset = np.cumsum(gaps)
    offset -= offset[first][sess]
    start = np.where(kind == ORDER, s["anchor"] - offset[first + n_ev - 1], s["anchor"])
    ts = np.maximum(start[sess] + offset, world.clock.midnight_utc[day])
    # fields
    sku_idx = np.where(
        is_order & (etype == ADD_TO_CART), s["order_sku"][sess], cat.basket_skus(rng, len(sess), day)
    )
    has_sku = (etype == PRODUCT_VIEW) | (etype == ADD_TO_CART)
    sku = np.where(has_sku, cat.sku[sku_idx], "")
    url = _urls(rng, etype, sku, s["order_id"][sess])
    utm_source, utm_campaign = _utm(rng, kind, s["campaign"])
    landing_event = pos == 0
    c = cookie[sess]
    account = np.where(logged_in, pop.account_id[person][sess], "")
    columns = {
        "event_id": json_strings(uuids(rng, len(sess))),
        "anonymous_id": json_strings(pop.cookies.cookie_id[c].tolist()),
        "account_id": json_strings(account.tolist()),
        "event_type": json_strings(TYPES[etype].tolist()),
        "url": json_strings(url.tolist()),
        "sku": json_strings(sku.tolist()),
        "ts": json_strings(format_utc(ts)),
        "user_agent": json_strings(np.array(USER_AGENTS)[pop.cookies.user_agent[c]].tolist()),
        "utm_source": json_strings(np.where(landing_event, utm_source[sess], "").tolist()),
        "utm_campaign": json_strings(np.where(landing_event, utm_campaign[sess], "").tolist()),
    }
    event_day = world.clock.day_of(ts)
    world.delivery.add("web_events", event_day, ts, jsonl_table(EXTRACTS["web_events"], columns))
    world.usage.mark("anonymous_id", c, event_day)
    world.usage.mark("login", np.where(logged_in, c, -1), event_day)
    world.usage.mark("account_id", np.where(logged_in, person[sess], -1), event_day)


def _urls(rng: np.random.Generator, etype: np.ndarray, sku: np.ndarray, order_id: np.ndarray) -> np.ndarray:
    """The page of each event, by event type."""
    n = len(etype)
    landing = np.array(LANDING_PAGES)[rng.integers(0, len(LANDING_PAGES), n)]
    search = np.strings.add("/zoeken?q=", np.array(SEARCH_TERMS)[rng.integers(0, len(SEARCH_TERMS), n)])
    help_ = np.strings.add("/klantenservice/", np.array(HELP_TOPICS)[rng.integers(0, len(HELP_TOPICS), n)])
    pages = {
        PAGE_VIEW: landing,
        PRODUCT_VIEW: np.strings.add("/p/", sku),
        SEARCH: search,
        ADD_TO_CART: np.full(n, "/winkelwagen"),
        CHECKOUT: np.full(n, "/afrekenen"),
        ORDER_COMPLETE: np.strings.add("/afrekenen/bedankt?order=", order_id),
        LOGIN: np.full(n, "/inloggen"),
    }
    return np.select([etype == t for t in pages], list(pages.values()), help_)


def _utm(rng: np.random.Generator, kind: np.ndarray, campaign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per session, the utm source and campaign of its landing event: the e-mail campaign after a click,
    an ad for some browsing sessions, none otherwise."""
    n = len(kind)
    ad = rng.integers(0, len(AD_UTM), n)
    from_ad = (kind == BROWSE) & (rng.random(n) < 0.2)
    source = np.select([kind == CLICK, from_ad], ["email", np.array([a for a, _ in AD_UTM])[ad]], "")
    name = np.select([kind == CLICK, from_ad], [campaign, np.array([c for _, c in AD_UTM])[ad]], "")
    return source, name
