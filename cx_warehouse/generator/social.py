"""Social customer-care conversations: inbound from the customer's handle, outbound from the company's
own handle; first replies are sometimes slow (a pain point), agents sometimes link the customer's e-mail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.clock import DAY_SECONDS, HOUR, PROFILE_CHAT, format_utc, sample_seconds
from cx_warehouse.generator.delivery import json_strings, jsonl_table
from cx_warehouse.generator.identifiers import messy_email
from cx_warehouse.generator.reference import (
    CITIES,
    COMPANY_HANDLE,
    SOCIAL_INBOUND,
    SOCIAL_INBOUND_FOLLOW_UP,
    SOCIAL_OUTBOUND_FIRST,
    SOCIAL_OUTBOUND_NEXT,
)
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

BASE_SOCIAL = 0.0015  # spontaneous daily question probability of a person with a social account
SLOW_REPLY_SECONDS = 30 * 60
LINKED = 0.35  # conversations in which the agent links the customer's e-mail address
TOPIC_SENTIMENT = {"bezorging": -0.6, "retour": -0.3, "klacht": -0.8, "vraag": 0.05}


def _conversations_today(world: World, day: int) -> dict[str, np.ndarray]:
    """Triggered and spontaneous conversations of active persons with a social account, one per person."""
    rng, pop = world.rng("social"), world.pop
    active = world.state.active(day) & (pop.social_platform != "")
    spontaneous = np.flatnonzero(active & (rng.random(pop.n) < BASE_SOCIAL))
    spont = {
        "person": spontaneous,
        "topic": np.full(len(spontaneous), "vraag"),
        "order": np.full(len(spontaneous), ""),
    }
    triggered = world.schedule.take("social", day)
    both = spont if triggered is None else {k: np.r_[triggered[k], spont[k]] for k in spont}
    _, first = np.unique(both["person"], return_index=True)
    first = np.sort(first[active[both["person"][first]]])
    return {k: v[first] for k, v in both.items()}


def _reply_delay(rng: np.random.Generator, local_hour: int) -> int:
    """Seconds until the first reply: minutes in office hours, next morning at night."""
    delay = rng.lognormal(np.log(10 * 60), 1.0)
    if local_hour >= 22 or local_hour < 8:
        delay += ((8 - local_hour) % 24) * HOUR
    return int(delay)


def deliver_social(world: World, day: int) -> None:
    """Queue today's conversations (later messages may fall on the next days)."""
    rng, pop, clock = world.rng("social"), world.pop, world.clock
    c = _conversations_today(world, day)
    k = len(c["person"])
    starts = np.sort(clock.at(day, sample_seconds(rng, k, PROFILE_CHAT)))
    local_hours = ((clock.to_local(starts) % DAY_SECONDS) // HOUR).tolist()
    conversation_ids = world.ids("SC", k, 7)
    rows: dict[str, list] = {
        name: [] for name in ("conv", "person", "inbound", "ts", "text", "sentiment", "linked")
    }
    slow = np.zeros(k, bool)
    for i, p in enumerate(c["person"].tolist()):
        slow[i] = _conversation(
            world, rng, rows, i, p, str(c["topic"][i]), str(c["order"][i]), int(starts[i]), local_hours[i]
        )
    m = len(rows["ts"])
    ts = np.array(rows["ts"], dtype=np.int64)
    person = np.array(rows["person"], dtype=np.int64)
    inbound = np.array(rows["inbound"], dtype=bool)
    platform = pop.social_platform[person]
    handle = [
        _as_shown(rng, pl, h) if inb else _company_handle(rng, pl)
        for pl, h, inb in zip(
            platform.tolist(), pop.social_handle[person].tolist(), inbound.tolist(), strict=True
        )
    ]
    columns = {
        "message_id": json_strings(world.ids("SM", m, 9)),
        "conversation_id": json_strings([conversation_ids[i] for i in rows["conv"]]),
        "platform": json_strings(platform.tolist()),
        "author_handle": json_strings(handle, ascii_safe=False),
        "direction": json_strings(np.where(inbound, "inbound", "outbound").tolist()),
        "sent_at": json_strings(format_utc(ts)),
        "text": json_strings(rows["text"], ascii_safe=False),
        "sentiment": ["null" if s is None else f"{s:.2f}" for s in rows["sentiment"]],
        "linked_email": json_strings(rows["linked"], ascii_safe=False),
    }
    message_day = clock.day_of(ts)
    world.delivery.add("social_messages", message_day, ts, jsonl_table(EXTRACTS["social_messages"], columns))
    world.usage.mark("social_handle", np.where(inbound, person, -1), message_day)
    linked = np.array([e != "" for e in rows["linked"]], dtype=bool)
    world.usage.mark("email", np.where(linked, pop.esp_email[person], -1), message_day)
    conv_person = c["person"]
    world.state.count("social_conversations", conv_person)
    world.state.count("slow_social_replies", conv_person[slow])
    world.state.experience(conv_person, np.where(slow, 0.4, 0.0), np.where(slow, -0.15, 0.03))


def _conversation(
    world: World,
    rng: np.random.Generator,
    rows: dict[str, list],
    conv: int,
    person: int,
    topic: str,
    order: str,
    start: int,
    local_hour: int,
) -> bool:
    """Append one conversation's messages to ``rows``; returns whether the first reply was slow."""
    pop = world.pop
    n_messages = min(2 + int(rng.poisson(1.5)), 7)
    first_reply = _reply_delay(rng, local_hour)
    link = pop.esp_email[person] >= 0 and rng.random() < LINKED
    linked_email = (
        messy_email(pop.emails.address[pop.esp_email[person]], int(rng.integers(0, 3))) if link else ""
    )
    city = CITIES[pop.households.city[pop.household[person]]].name
    ts = start
    for j in range(n_messages):
        inbound = j % 2 == 0
        if j == 0:
            text = str(rng.choice(SOCIAL_INBOUND[topic])).format(order=order or "mijn bestelling", city=city)
            sentiment: float | None = TOPIC_SENTIMENT[topic] + rng.normal(0, 0.15)
        elif inbound:
            follow_up, base = SOCIAL_INBOUND_FOLLOW_UP[int(rng.integers(len(SOCIAL_INBOUND_FOLLOW_UP)))]
            text, sentiment = follow_up, base + rng.normal(0, 0.1)
        else:
            template = SOCIAL_OUTBOUND_FIRST if j == 1 else SOCIAL_OUTBOUND_NEXT
            text = str(rng.choice(template)).format(first=pop.first_name[person])
            sentiment = rng.uniform(0.1, 0.6) if rng.random() < 0.5 else None
        if j == 1:
            ts += first_reply
        elif j > 1:
            ts += int(rng.lognormal(np.log(20 * 60 if inbound else 10 * 60), 0.9))
        if inbound and rng.random() < 0.1:
            sentiment = None  # the listening tool could not score it
        rows["conv"].append(conv)
        rows["person"].append(person)
        rows["inbound"].append(inbound)
        rows["ts"].append(ts)
        rows["text"].append(text)
        rows["sentiment"].append(None if sentiment is None else float(np.clip(sentiment, -1, 1)))
        rows["linked"].append(linked_email if j >= 1 else "")
    return first_reply > SLOW_REPLY_SECONDS


def _as_shown(rng: np.random.Generator, platform: str, handle: str) -> str:
    """The customer's handle as the listening tool delivers it: the @ and the case vary on X."""
    if platform == "x" and rng.random() < 0.3:
        return handle.lstrip("@")
    if platform in ("x", "instagram") and rng.random() < 0.2:
        return handle.lower()
    return handle


def _company_handle(rng: np.random.Generator, platform: str) -> str:
    return "@" + COMPANY_HANDLE if platform == "x" and rng.random() < 0.5 else COMPANY_HANDLE
