"""Contact-center contacts (telephone, e-mail, 24/7 chat), triggered by pain points or spontaneous.

Unresolved contacts come back as repeat contacts of the same case; the customer is recognised by the
phone number or e-mail address the agent recorded (sometimes a placeholder), and sometimes by crm_id.
Times are local wall-clock times converted from UTC, so night chats on the autumn DST day fall inside
the hour that occurs twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.clock import (
    PROFILE_CHAT,
    PROFILE_PHONE,
    PROFILE_WEB,
    format_local,
    sample_seconds,
)
from cx_warehouse.generator.delivery import csv_table
from cx_warehouse.generator.identifiers import (
    EMAIL_STYLES,
    PHONE_STYLES,
    PLACEHOLDER_PHONES,
    PLACEHOLDERS,
    format_phone,
    messy_email,
)
from cx_warehouse.generator.reference import CONTACT_CENTER_AGENTS
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

BASE_CONTACT = 0.0006  # spontaneous daily contact probability
SPONTANEOUS_REASONS = (
    ("product", 0.30),
    ("betaling", 0.15),
    ("account", 0.15),
    ("klacht", 0.12),
    ("overig", 0.28),
)
CHANNELS = np.array(["telefoon", "chat", "email"])
CHANNEL_P = np.array([0.55, 0.25, 0.20])
NOT_RESOLVED = np.array(["doorverwezen", "terugbellen", "onopgelost"])
FOLLOW_UP = 0.6  # an unresolved contact comes back within 1-4 days
MAX_ATTEMPTS = 4
SURVEY_RESPONSE = 0.2
CRM_IDENTIFIED = 0.55


def _contacts_today(world: World, day: int) -> dict[str, np.ndarray]:
    """Triggered and spontaneous contacts of today's active customers, one per person and reason."""
    rng, state = world.rng("contact"), world.state
    active = state.active(day)
    spontaneous = np.flatnonzero(
        active & (rng.random(world.pop.n) < BASE_CONTACT * (1 + 2 * np.maximum(-state.satisfaction, 0)))
    )
    reasons = np.array([r for r, _ in SPONTANEOUS_REASONS])
    spont = {
        "person": spontaneous,
        "reason": reasons[rng.choice(len(reasons), len(spontaneous), p=[w for _, w in SPONTANEOUS_REASONS])],
        "case": np.full(len(spontaneous), ""),
        "attempt": np.ones(len(spontaneous), np.int64),
    }
    triggered = world.schedule.take("contact", day)
    both = spont if triggered is None else {k: np.r_[triggered[k], spont[k]] for k in spont}
    keep = active[both["person"]]
    key = np.strings.add(both["person"].astype("U"), both["reason"])
    _, first = np.unique(key, return_index=True)
    first = np.sort(first[keep[first]])
    return {k: v[first] for k, v in both.items()}


def deliver_contacts(world: World, day: int) -> None:
    """Queue today's contacts and their consequences (repeat contacts, pain, surveys)."""
    rng, clock = world.rng("contact"), world.clock
    c = _contacts_today(world, day)
    person, attempt = c["person"], c["attempt"]
    n = len(person)
    channel = CHANNELS[rng.choice(3, n, p=CHANNEL_P)]
    if clock.weekday[day] == 6:
        channel[channel == "telefoon"] = "chat"  # phone lines are closed on Sunday
    seconds = np.select(
        [channel == "telefoon", channel == "chat"],
        [sample_seconds(rng, n, PROFILE_PHONE), sample_seconds(rng, n, PROFILE_CHAT)],
        sample_seconds(rng, n, PROFILE_WEB),
    )
    started = clock.at(day, seconds)
    order = np.argsort(started, kind="stable")
    person, attempt, channel, started = person[order], attempt[order], channel[order], started[order]
    reason, case = c["reason"][order], c["case"][order].astype(object)
    new_case = case == ""
    case[new_case] = world.ids("CASE", int(new_case.sum()), 8)
    monday = 1.5 if clock.weekday[day] == 0 else 1.0
    wait = np.select(
        [channel == "telefoon", channel == "chat"],
        [rng.gamma(2, 60 * monday, n), rng.gamma(2, 20, n)],
        np.minimum(rng.gamma(2, 3 * 3600, n), 2 * 86400),
    ).astype(np.int64)
    handle = (
        rng.gamma(3, 1, n) * np.select([channel == "telefoon", channel == "chat"], [120, 200], 240)
    ).astype(np.int64)
    handle = np.where(reason == "klacht", (handle * 1.6).astype(np.int64), handle)
    ended = started + wait + handle
    transfers = rng.choice([0, 1, 2], n, p=[0.8, 0.15, 0.05])
    resolved = rng.random(n) < 0.62 + 0.08 * (attempt - 1) - 0.12 * transfers
    outcome = np.where(resolved, "opgelost", NOT_RESOLVED[rng.choice(3, n, p=[0.3, 0.25, 0.45])])
    outcome[~resolved & (transfers > 0) & (rng.random(n) < 0.5)] = "doorverwezen"
    contact_id = np.array(world.ids("CC", n, 9))
    phone, email, crm_id = _identification(world, day, person, channel)
    columns = {
        "contact_id": contact_id.tolist(),
        "case_id": case.tolist(),
        "channel": channel.tolist(),
        "customer_phone": phone,
        "customer_email": email,
        "crm_id": crm_id,
        "started_at": format_local(clock.to_local(started)),
        "ended_at": format_local(clock.to_local(ended)),
        "wait_seconds": wait.astype("U").tolist(),
        "handle_seconds": handle.astype("U").tolist(),
        "reason": reason.tolist(),
        "outcome": outcome.tolist(),
        "agent_id": np.array(CONTACT_CENTER_AGENTS)[rng.integers(0, len(CONTACT_CENTER_AGENTS), n)].tolist(),
        "transfer_count": transfers.astype("U").tolist(),
    }
    world.delivery.add("contact_center", day, started, csv_table(EXTRACTS["contact_center"], columns))
    _consequences(world, day, person, reason, case, attempt, resolved, transfers, wait, ended, contact_id)


def _identification(world: World, day: int, person: np.ndarray, channel: np.ndarray) -> tuple[list[str], ...]:
    """What the agent recorded: phone, e-mail (messy, sometimes a placeholder) and sometimes crm_id."""
    rng, pop, crm, usage = world.rng("contact"), world.pop, world.crm, world.usage
    n = len(person)
    u = rng.random(n)
    mobile, landline = pop.mobile[person], pop.households.landline[pop.household[person]]
    on_phone = channel == "telefoon"
    preferred = np.where(u < 0.75, mobile, landline)
    phone_ref = np.where(preferred >= 0, preferred, np.where(u < 0.75, landline, mobile))
    phone_ref[~on_phone | (u >= 0.95)] = -1  # not a phone contact, or the number was withheld
    placeholder_phone = np.where(
        on_phone & (rng.random(n) < 0.04), np.array(PLACEHOLDER_PHONES)[rng.integers(0, 4, n)], -1
    )
    phone_ref[placeholder_phone >= 0] = -1
    email_ref = np.where(on_phone, -1, pop.esp_email[person])
    noted = on_phone & (rng.random(n) < 0.15)  # the agent also noted the e-mail address
    email_ref[noted] = pop.esp_email[person[noted]]
    p_styles, e_styles = rng.integers(0, PHONE_STYLES, n), rng.integers(0, EMAIL_STYLES, n)
    phone = [
        PLACEHOLDERS[ph].value if ph >= 0 else (format_phone(pop.phones.nsn[r], s) if r >= 0 else "")
        for r, ph, s in zip(phone_ref.tolist(), placeholder_phone.tolist(), p_styles.tolist(), strict=True)
    ]
    email = [
        messy_email(pop.emails.address[r], s) if r >= 0 else ""
        for r, s in zip(email_ref.tolist(), e_styles.tolist(), strict=True)
    ]
    identified = (crm.primary_of[person] >= 0) & (rng.random(n) < CRM_IDENTIFIED)
    dup = crm.duplicate_of[person]
    record = np.where(
        (dup >= 0) & (crm.created_day[np.maximum(dup, 0)] <= day) & (rng.random(n) < 0.25),
        dup,
        crm.primary_of[person],
    )
    record = np.where(identified, record, -1)
    usage.mark("phone", phone_ref, day)
    usage.mark("email", email_ref, day)
    usage.mark("crm_id", record, day)
    usage.mark_placeholders(placeholder_phone, person, day)
    return phone, email, np.where(record >= 0, crm.crm_id[np.maximum(record, 0)], "").tolist()


def _consequences(
    world: World,
    day: int,
    person: np.ndarray,
    reason: np.ndarray,
    case: np.ndarray,
    attempt: np.ndarray,
    resolved: np.ndarray,
    transfers: np.ndarray,
    wait: np.ndarray,
    ended: np.ndarray,
    contact_id: np.ndarray,
) -> None:
    """Pain and satisfaction, repeat contacts of unresolved cases, social escalation and surveys."""
    rng, state = world.rng("contact"), world.state
    n = len(person)
    repeat = attempt > 1
    state.count("contacts", person)
    state.count("unresolved_contacts", person[~resolved])
    state.count("repeat_contacts", person[repeat])
    pain = np.where(resolved, 0.0, 0.6) + 0.4 * repeat
    satisfaction = (
        np.where(resolved, np.where(repeat, 0.02, 0.08), -0.15) - 0.05 * transfers - 0.05 * (wait > 600)
    )
    state.experience(person, pain, satisfaction)
    again = ~resolved & (attempt < MAX_ATTEMPTS) & (rng.random(n) < FOLLOW_UP)
    world.schedule.add(
        "contact",
        day + rng.integers(1, 5, int(again.sum())),
        person=person[again],
        reason=reason[again],
        case=case[again],
        attempt=attempt[again] + 1,
    )
    escalate = ~resolved & (world.pop.social_platform[person] != "") & (rng.random(n) < 0.15)
    world.schedule.add(
        "social",
        day + rng.integers(0, 2, int(escalate.sum())),
        person=person[escalate],
        topic=np.full(int(escalate.sum()), "klacht"),
        order=np.full(int(escalate.sum()), ""),
    )
    answer = rng.random(n) < SURVEY_RESPONSE
    experience = np.where(resolved, 0.5, -0.5) - 0.3 * repeat - 0.15 * transfers - 0.2 * (wait > 300)
    ts = ended[answer] + rng.integers(3600, 2 * 86400, int(answer.sum()))
    world.schedule.add(
        "survey",
        world.clock.day_of(ts),
        person=person[answer],
        survey_type=np.full(len(ts), "post_contact"),
        ref=contact_id[answer],
        experience=experience[answer] + rng.normal(0, 0.3, len(ts)),
        ts=ts,
    )
