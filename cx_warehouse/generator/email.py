"""E-mail service provider events of weekly campaigns: sent -> delivered -> open -> click, bounces,
unsubscribes and complaints, with seasonal engagement (higher in late November and December).

Campaigns keep going to churned customers (they no longer open) and to placeholder addresses that
reached the mailing list through the CRM (they bounce).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from cx_warehouse.generator.clock import DAY_SECONDS, HOUR, format_utc
from cx_warehouse.generator.delivery import csv_table
from cx_warehouse.generator.identifiers import PLACEHOLDERS
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

OPEN_BASE = {"promo": 0.16, "newsletter": 0.22, "service": 0.45, "winback": 0.10}
CLICK_GIVEN_OPEN = {"promo": 0.20, "newsletter": 0.12, "service": 0.10, "winback": 0.18}
BOUNCE = 0.008
UNSUBSCRIBE_GIVEN_OPEN = 0.004
COMPLAINT = 0.0004
SEND_RATE = 200  # e-mails per second
WINBACK_AFTER_DAYS = 60
SITE = "https://www.cxretail.nl"
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


class Campaign(NamedTuple):
    campaign_id: str
    name: str
    type: str
    audience_share: float


def engagement_season(day_of_year: int) -> float:
    """E-mail engagement by time of year: a summer dip, and a peak from late November into December."""
    peak = np.exp(-(((day_of_year - 340) / 18.0) ** 2))
    summer = np.exp(-(((day_of_year - 212) / 15.0) ** 2))
    return float(1.0 + 0.45 * peak - 0.2 * summer)


def campaigns_on(world: World, day: int) -> list[Campaign]:
    """The campaigns sent on ``day``: promo on Mondays, newsletter on Thursdays, a monthly service
    message (first Tuesday), win-back on Wednesdays of even weeks, and Black Friday."""
    d, wd, week = world.clock.dates[day], int(world.clock.weekday[day]), int(world.clock.iso_week[day])
    stamp = world.clock.stamp(day)
    season = d.month == 12 or (d.month == 11 and d.day >= 20)
    out = []
    if wd == 0:
        out.append(Campaign(f"CMP{stamp}PR", f"Weekdeals week {week}", "promo", 1.0 if season else 0.6))
    if wd == 3:
        out.append(Campaign(f"CMP{stamp}NB", f"Nieuwsbrief week {week}", "newsletter", 1.0))
    if wd == 1 and d.day <= 7:
        out.append(Campaign(f"CMP{stamp}SV", f"Servicebericht {MONTHS[d.month - 1]}", "service", 1.0))
    if wd == 2 and week % 2 == 0:
        out.append(Campaign(f"CMP{stamp}WB", "We missen je!", "winback", 1.0))
    if d.month == 11 and wd == 4 and 22 <= d.day <= 28:
        out.append(Campaign(f"CMP{stamp}BF", "Black Friday", "promo", 1.0))
    return out


def apply_unsubscribes(world: World, day: int) -> None:
    """Unsubscribes and complaints take effect today; the CRM records them in tonight's batch."""
    events = world.schedule.take("unsubscribe", day)
    if events is None:
        return
    world.state.opt_in[events["person"]] = False
    world.schedule.add("crm_opt_out", day + 1, person=events["person"])


def deliver_email(world: World, day: int) -> None:
    """Send today's campaigns and queue all their events (opens and clicks may come days later)."""
    for campaign in campaigns_on(world, day):
        _send(world, day, campaign)


def _audience(world: World, day: int, campaign: Campaign) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Address index (-1 for a placeholder), placeholder index and reader person of each recipient."""
    rng, pop, state, crm = world.rng("email"), world.pop, world.state, world.crm
    marketing = campaign.type != "service"
    listed = (state.erased_on < 0) & (pop.created_day <= day) & (pop.esp_email >= 0)
    if marketing:
        listed &= state.opt_in
    if campaign.type == "winback":
        listed &= state.last_purchase <= day - WINBACK_AFTER_DAYS
    listed &= rng.random(pop.n) < campaign.audience_share
    person = np.flatnonzero(listed)
    address, first = np.unique(pop.esp_email[person], return_index=True)  # one e-mail per address
    on_list = (crm.created_day <= day) & (crm.email_placeholder >= 0)
    if marketing:
        on_list &= crm.opt_in == "J"
    placeholder = np.unique(crm.email_placeholder[on_list])
    return (
        np.r_[address, np.full(len(placeholder), -1)],
        np.r_[np.full(len(address), -1), placeholder],
        np.r_[person[first], np.full(len(placeholder), -1)],
    )


def _send(world: World, day: int, campaign: Campaign) -> None:
    rng, pop, state, clock = world.rng("email"), world.pop, world.state, world.clock
    address, placeholder, reader = _audience(world, day, campaign)
    n = len(address)
    order = rng.permutation(n)
    address, placeholder, reader = address[order], placeholder[order], reader[order]
    sent = clock.at(day, np.full(n, 7 * HOUR + int(rng.integers(0, 1800))) + np.arange(n) // SEND_RATE)
    bounce = (placeholder >= 0) | (rng.random(n) < BOUNCE)
    delivered = sent + rng.integers(1, 30, n)
    r = np.maximum(reader, 0)
    alive = (reader >= 0) & state.alive[r]
    p_open = OPEN_BASE[campaign.type] * pop.engagement[r] * engagement_season(int(clock.day_of_year[day]))
    p_open *= 1.0 - 0.3 * np.minimum(state.pain[r], 1.0)
    opened = ~bounce & alive & (rng.random(n) < np.minimum(p_open, 0.95))
    opened_at = delivered + np.minimum(rng.lognormal(np.log(3 * HOUR), 1.2, n), 6 * DAY_SECONDS).astype(
        np.int64
    )
    clicked = opened & (rng.random(n) < CLICK_GIVEN_OPEN[campaign.type] * np.sqrt(pop.engagement[r]))
    clicked_at = opened_at + 5 + rng.exponential(90, n).astype(np.int64)
    marketing = campaign.type != "service"
    unsub_p = UNSUBSCRIBE_GIVEN_OPEN * (1 + 4 * (state.satisfaction[r] < -0.2))
    unsubscribed = marketing & opened & (rng.random(n) < unsub_p)
    unsubscribed_at = opened_at + rng.integers(20, 600, n)
    complained = marketing & ~bounce & alive & (rng.random(n) < COMPLAINT)
    complained_at = delivered + rng.integers(HOUR, 2 * DAY_SECONDS, n)
    parts = (
        ("sent", np.ones(n, bool), sent),
        ("bounce", bounce, sent + rng.integers(2, 60, n)),
        ("delivered", ~bounce, delivered),
        ("open", opened, opened_at),
        ("click", clicked, clicked_at),
        ("unsubscribe", unsubscribed, unsubscribed_at),
        ("complaint", complained, complained_at),
    )
    idx = np.concatenate([np.flatnonzero(mask) for _, mask, _ in parts])
    etype = np.concatenate([np.full(int(mask.sum()), name) for name, mask, _ in parts])
    ts = np.concatenate([t[mask] for _, mask, t in parts])
    esp = np.where(address >= 0, pop.emails.esp_form[np.maximum(address, 0)], "")
    text = np.where(
        placeholder >= 0, np.array([p.value for p in PLACEHOLDERS])[np.maximum(placeholder, 0)], esp
    )
    link = np.select(
        [etype == "click", etype == "unsubscribe"],
        [
            f"{SITE}/acties?utm_source=email&utm_campaign={campaign.campaign_id}",
            f"{SITE}/afmelden?c={campaign.campaign_id}",
        ],
        "",
    )
    m = len(idx)
    columns = {
        "event_id": world.ids("EE", m, 10),
        "campaign_id": [campaign.campaign_id] * m,
        "campaign_name": [campaign.name] * m,
        "campaign_type": [campaign.type] * m,
        "email": text[idx].tolist(),
        "event_type": etype.tolist(),
        "ts": format_utc(ts),
        "link_url": link.tolist(),
    }
    event_day = clock.day_of(ts)
    world.delivery.add("email_events", event_day, ts, csv_table(EXTRACTS["email_events"], columns))
    world.usage.mark("email", address, day)
    leaving = unsubscribed | complained
    leave_at = np.where(unsubscribed, unsubscribed_at, complained_at)
    world.schedule.add("unsubscribe", clock.day_of(leave_at[leaving]), person=reader[leaving])
    world.schedule.add(
        "click",
        clock.day_of(clicked_at[clicked]),
        person=reader[clicked],
        ts=clicked_at[clicked],
        campaign=np.full(int(clicked.sum()), campaign.campaign_id),
    )
