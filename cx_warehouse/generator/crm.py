"""CRM customer records: registrations, duplicates, placeholders typed by staff and later changes.

A record stores what was typed when it was created (messy e-mail, phone and postcode formats); later
rows of the same record repeat the stored values unless a change replaced them. Changes entered during a
day are processed by a nightly batch that stamps ``updated_at`` between 02:30 and 03:00 local time, so
the DST change days get wall-clock times inside the ambiguous (autumn) and non-existent (spring) hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.clock import (
    DAY_SECONDS,
    PROFILE_STORE_WEEKDAY,
    PROFILE_WEB,
    Clock,
    epoch_seconds,
    format_date,
    format_local,
    sample_seconds,
)
from cx_warehouse.generator.delivery import csv_table
from cx_warehouse.generator.identifiers import (
    EMAIL_STYLES,
    PHONE_STYLES,
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONES,
    PLACEHOLDERS,
    POSTCODE_STYLES,
    format_phone,
    format_postcode,
    messy_email,
)
from cx_warehouse.generator.population import Population
from cx_warehouse.generator.reference import CITIES
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

SHARE_CRM = 0.90
SHARE_DUPLICATE = 0.03  # of persons with a CRM record
SHARE_OPT_IN = 0.55
RATE_PHONE_CHANGE = 0.0004  # per person per day
RATE_MOVE = 0.0002  # per household per day
RATE_OPT_IN_CHANGE = 0.0005
RATE_CORRECTION = 0.002  # a data steward re-saves the record (normalising e-mail and phone)
BATCH_START = 2 * 3600 + 30 * 60  # the nightly batch starts at 02:30 local time
FIRST_CUSTOMER_DATE = date(2014, 1, 1)
PLACEHOLDER_EMAIL_WEIGHTS = np.array([0.35, 0.25, 0.25, 0.15])
PLACEHOLDER_PHONE_WEIGHTS = np.array([0.35, 0.30, 0.20, 0.15])


@dataclass
class CrmRecords:
    crm_id: np.ndarray
    person: np.ndarray
    is_duplicate: np.ndarray
    created_day: np.ndarray  # business day of creation, -1 before the range
    created_at: np.ndarray  # naive local seconds
    initial_updated_at: np.ndarray  # naive local seconds of the last change before the range
    email_text: np.ndarray  # stored values as typed (object arrays)
    email_ref: np.ndarray  # index into Emails, -1 when empty or a placeholder
    email_placeholder: np.ndarray  # index into PLACEHOLDERS, -1 when not a placeholder
    phone_text: np.ndarray
    phone_ref: np.ndarray  # index into Phones
    phone_placeholder: np.ndarray
    postcode_text: np.ndarray
    house_number: np.ndarray
    city: np.ndarray
    loyalty_text: np.ndarray
    opt_in: np.ndarray  # "J" / "N"
    gender: np.ndarray
    primary_of: np.ndarray  # person -> primary record, -1 when the person has no CRM record
    duplicate_of: np.ndarray  # person -> duplicate record, -1 when none


def _choose_email(pop: Population, person: int, u: float, ph: int, style: int) -> tuple[str, int, int]:
    """Stored e-mail text, e-mail index and placeholder index of a new record."""
    own = pop.email[person]
    shared = pop.households.shared_email[pop.household[person]]
    if own >= 0 and u < 0.90:
        return messy_email(pop.emails.address[own], style), own, -1
    if own < 0 and shared >= 0 and u < 0.80:
        return messy_email(pop.emails.address[shared], style), shared, -1
    if u < 0.95:
        return messy_email(PLACEHOLDERS[ph].value, style % 3), -1, ph
    return "", -1, -1


def _choose_phone(pop: Population, person: int, u: float, ph: int, style: int) -> tuple[str, int, int]:
    """Stored phone text, phone index and placeholder index of a new record."""
    mobile = pop.mobile[person]
    landline = pop.households.landline[pop.household[person]]
    if mobile >= 0 and (u < 0.85 or (u < 0.93 and landline < 0)):
        return format_phone(pop.phones.nsn[mobile], style), mobile, -1
    if landline >= 0 and u < 0.93:
        return format_phone(pop.phones.nsn[landline], style), landline, -1
    if u < 0.97:
        return PLACEHOLDERS[ph].value, -1, ph
    return "", -1, -1


def _created_at(rng: np.random.Generator, clock: Clock, created_day: np.ndarray) -> np.ndarray:
    """Naive local creation time: spread over the years before the range, or on the creation day."""
    n = len(created_day)
    first = epoch_seconds(FIRST_CUSTOMER_DATE) // DAY_SECONDS
    start = epoch_seconds(clock.start) // DAY_SECONDS
    days = np.where(created_day < 0, rng.integers(first, start, size=n), start + np.maximum(created_day, 0))
    store = rng.random(n) < 0.45
    seconds = np.where(
        store, sample_seconds(rng, n, PROFILE_STORE_WEEKDAY), sample_seconds(rng, n, PROFILE_WEB)
    )
    migrated = (created_day < 0) & (rng.random(n) < 0.10)  # loaded by the nightly batch of the old CRM
    seconds = np.where(migrated, BATCH_START - 900 + rng.integers(0, 1800, size=n), seconds)
    return days * DAY_SECONDS + seconds


def build_crm(rng: np.random.Generator, pop: Population, clock: Clock) -> CrmRecords:
    """CRM records of most persons, plus duplicate registrations of a few of them."""
    primaries = np.flatnonzero(rng.random(pop.n) < SHARE_CRM)
    dup_persons = primaries[rng.random(len(primaries)) < SHARE_DUPLICATE]
    p_created = pop.created_day[dup_persons]
    later = np.where(
        (p_created < 0) & (rng.random(len(dup_persons)) < 0.5),
        -1,
        p_created + 1 + (rng.random(len(dup_persons)) * (clock.days - 1 - p_created)).astype(np.int64),
    )
    keep = later < clock.days
    dup_persons, dup_day = dup_persons[keep], later[keep]
    person = np.r_[primaries, dup_persons]
    is_dup = np.r_[np.zeros(len(primaries), bool), np.ones(len(dup_persons), bool)]
    created_day = np.r_[pop.created_day[primaries], dup_day]
    created_at = _created_at(rng, clock, created_day)
    # a duplicate registered before the range is registered after the person's first record
    k = len(primaries)
    primary_pos = np.searchsorted(primaries, dup_persons)
    pre = np.flatnonzero(dup_day < 0)
    begin = created_at[primary_pos[pre]]
    end = epoch_seconds(clock.start) - DAY_SECONDS
    created_at[k + pre] = begin + (rng.random(len(pre)) * np.maximum(end - begin, 0)).astype(np.int64)
    r = len(person)
    u_email, u_phone = rng.random(r), rng.random(r)
    u_email[is_dup] *= 0.85  # a duplicate was registered with the real address
    ph_email = np.array(PLACEHOLDER_EMAILS)[rng.choice(4, r, p=PLACEHOLDER_EMAIL_WEIGHTS)]
    ph_phone = np.array(PLACEHOLDER_PHONES)[rng.choice(4, r, p=PLACEHOLDER_PHONE_WEIGHTS)]
    e_style, p_style = rng.integers(0, EMAIL_STYLES, r), rng.integers(0, PHONE_STYLES, r)
    # a duplicate always uses formats different from its original record
    e_style[k:] = (
        e_style[primary_pos] + 1 + rng.integers(0, EMAIL_STYLES - 1, len(dup_persons))
    ) % EMAIL_STYLES
    p_style[k:] = (
        p_style[primary_pos] + 1 + rng.integers(0, PHONE_STYLES - 1, len(dup_persons))
    ) % PHONE_STYLES
    emails = [
        _choose_email(pop, p, u, ph, s)
        for p, u, ph, s in zip(
            person.tolist(), u_email.tolist(), ph_email.tolist(), e_style.tolist(), strict=True
        )
    ]
    phones = [
        _choose_phone(pop, p, u, ph, s)
        for p, u, ph, s in zip(
            person.tolist(), u_phone.tolist(), ph_phone.tolist(), p_style.tolist(), strict=True
        )
    ]
    hh = pop.household[person]
    card_at_creation = pop.loyalty_day[person] <= np.maximum(created_day, -1)
    loyalty = np.where(card_at_creation & ~(is_dup & (rng.random(r) < 0.5)), pop.loyalty_card[person], "")
    gender = pop.gender[person].copy()
    gender[is_dup & (rng.random(r) < 0.3)] = ""
    crm_rank = np.argsort(np.argsort(created_at, kind="stable"), kind="stable")
    primary_of = np.full(pop.n, -1, dtype=np.int64)
    primary_of[primaries] = np.arange(k)
    duplicate_of = np.full(pop.n, -1, dtype=np.int64)
    duplicate_of[dup_persons] = k + np.arange(len(dup_persons))
    updated = np.where(
        (created_day < 0) & (rng.random(r) < 0.4),
        _batch_time(created_at + (rng.random(r) * np.maximum(end - created_at, 0)).astype(np.int64), rng),
        created_at,
    )
    return CrmRecords(
        crm_id=np.strings.add("C", (1_000_000 + crm_rank).astype("U")),
        person=person,
        is_duplicate=is_dup,
        created_day=created_day,
        created_at=created_at,
        initial_updated_at=np.maximum(updated, created_at),
        email_text=np.array([e[0] for e in emails], dtype=object),
        email_ref=np.array([e[1] for e in emails], dtype=np.int64),
        email_placeholder=np.array([e[2] for e in emails], dtype=np.int64),
        phone_text=np.array([p[0] for p in phones], dtype=object),
        phone_ref=np.array([p[1] for p in phones], dtype=np.int64),
        phone_placeholder=np.array([p[2] for p in phones], dtype=np.int64),
        postcode_text=np.array(
            [
                format_postcode(pc, s)
                for pc, s in zip(
                    pop.households.postcode[hh].tolist(),
                    rng.integers(0, POSTCODE_STYLES, r).tolist(),
                    strict=True,
                )
            ],
            dtype=object,
        ),
        house_number=pop.households.house_number[hh].astype(object),
        city=np.array([CITIES[c].name for c in pop.households.city[hh].tolist()], dtype=object),
        loyalty_text=loyalty.astype(object),
        opt_in=np.where(rng.random(r) < SHARE_OPT_IN, "J", "N"),
        gender=gender,
        primary_of=primary_of,
        duplicate_of=duplicate_of,
    )


def _batch_time(naive: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The nightly batch run (02:30-03:00) on the calendar day of ``naive``."""
    midnight = naive // DAY_SECONDS * DAY_SECONDS
    return midnight + BATCH_START + rng.integers(0, 1800, size=len(naive))


def deliver_crm(world: World, day: int) -> None:
    """Today's CRM rows: the full base on day 0, new registrations, and records changed today."""
    crm, rng = world.crm, world.rng("crm")
    created = np.flatnonzero(crm.created_day == day)
    records = [created]
    updated = [crm.created_at[created]]
    if day == 0:
        before = np.flatnonzero(crm.created_day < 0)
        records.append(before)
        updated.append(crm.initial_updated_at[before])
    batch, realtime = _changes(world, day, rng)
    batch_times = world.clock.naive_midnight[day] + BATCH_START + np.sort(rng.integers(0, 1800, len(batch)))
    realtime_times = world.clock.to_local(
        world.clock.at(day, sample_seconds(rng, len(realtime), PROFILE_WEB))
    )
    records += [batch, realtime]
    updated += [batch_times, realtime_times]
    rec, upd = np.concatenate(records), np.concatenate(updated)
    # one row per record and day: the latest change wins
    order = np.lexsort((-upd, rec))
    # (np.r_[True, ...] on an empty day would give a mask of length 1)
    first = np.r_[True, rec[order][1:] != rec[order][:-1]][: len(rec)]
    rec, upd = rec[order][first], upd[order][first]
    _emit(world, day, rec, upd)


def _changes(world: World, day: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Apply today's changes to primary records; returns (batch-processed, real-time) record indices."""
    crm, pop, state = world.crm, world.pop, world.state
    n = pop.n
    existing = state.active(day) & (crm.primary_of >= 0) & (pop.created_day < day)
    # a new mobile number
    movers_phone = np.flatnonzero(existing & (rng.random(n) < RATE_PHONE_CHANGE))
    new_phone = pop.phones.add_mobiles(movers_phone)
    pop.mobile[movers_phone] = new_phone
    rec_phone = crm.primary_of[movers_phone]
    styles = rng.integers(0, PHONE_STYLES, len(rec_phone))
    crm.phone_text[rec_phone] = [
        format_phone(pop.phones.nsn[i], s) for i, s in zip(new_phone, styles, strict=True)
    ]
    crm.phone_ref[rec_phone] = new_phone
    crm.phone_placeholder[rec_phone] = -1
    # a household moves within its city
    hh = pop.households
    moving = np.flatnonzero(rng.random(len(hh.city)) < RATE_MOVE)
    for h in moving.tolist():
        city = CITIES[hh.city[h]]
        hh.postcode[h] = f"{rng.integers(city.postcode_from, city.postcode_to + 1)}{hh.postcode[h][4:]}"
        hh.house_number[h] = str(rng.integers(1, 250))
    moved = np.flatnonzero(existing & np.isin(pop.household, moving))
    rec_moved = crm.primary_of[moved]
    crm.postcode_text[rec_moved] = [
        format_postcode(hh.postcode[pop.household[p]], s)
        for p, s in zip(moved.tolist(), rng.integers(0, POSTCODE_STYLES, len(moved)).tolist(), strict=True)
    ]
    crm.house_number[rec_moved] = hh.house_number[pop.household[moved]]
    # a loyalty card registered during the range
    card = np.flatnonzero(existing & (pop.loyalty_day == day))
    crm.loyalty_text[crm.primary_of[card]] = pop.loyalty_card[card]
    # marketing opt-outs from e-mail unsubscribes and privacy requests of yesterday
    opt_outs = world.schedule.take("crm_opt_out", day)
    out = np.zeros(0, np.int64) if opt_outs is None else opt_outs["person"]
    out = out[existing[out] & (crm.opt_in[crm.primary_of[out]] == "J")]
    crm.opt_in[crm.primary_of[out]] = "N"
    # a data steward tidies the record: e-mail lower-case and trimmed, phone written as 06...
    tidy = np.flatnonzero(existing & (rng.random(n) < RATE_CORRECTION))
    rec_tidy = crm.primary_of[tidy]
    crm.email_text[rec_tidy] = [e.strip().lower() for e in crm.email_text[rec_tidy]]
    real = rec_tidy[crm.phone_ref[rec_tidy] >= 0]
    crm.phone_text[real] = [format_phone(pop.phones.nsn[i], 0) for i in crm.phone_ref[real]]
    # the customer changes the marketing consent in the web shop (processed in real time)
    toggle = np.flatnonzero(existing & (rng.random(n) < RATE_OPT_IN_CHANGE))
    rec_toggle = crm.primary_of[toggle]
    crm.opt_in[rec_toggle] = np.where(crm.opt_in[rec_toggle] == "J", "N", "J")
    changed = np.r_[out, toggle]
    state.opt_in[changed] = crm.opt_in[crm.primary_of[changed]] == "J"
    batch = np.unique(np.r_[rec_phone, rec_moved, crm.primary_of[card], crm.primary_of[out], rec_tidy])
    return batch, rec_toggle


def _emit(world: World, day: int, rec: np.ndarray, updated: np.ndarray) -> None:
    """Render CRM rows of records ``rec`` with ``updated_at`` and mark the identifiers they carry."""
    crm, pop, usage = world.crm, world.pop, world.usage
    person = crm.person[rec]
    columns = {
        "crm_id": crm.crm_id[rec].tolist(),
        "first_name": pop.first_name[person].tolist(),
        "last_name": pop.last_name[person].tolist(),
        "email": crm.email_text[rec].tolist(),
        "phone": crm.phone_text[rec].tolist(),
        "birth_date": format_date(pop.birth_day[person], day_first=True),
        "postcode": crm.postcode_text[rec].tolist(),
        "house_number": crm.house_number[rec].tolist(),
        "city": crm.city[rec].tolist(),
        "gender": crm.gender[rec].tolist(),
        "loyalty_card_no": crm.loyalty_text[rec].tolist(),
        "marketing_opt_in": crm.opt_in[rec].tolist(),
        "created_at": format_local(crm.created_at[rec]),
        "updated_at": format_local(updated),
    }
    world.delivery.add("crm_customers", day, updated, csv_table(EXTRACTS["crm_customers"], columns))
    usage.mark("crm_id", rec, day)
    usage.mark("email", crm.email_ref[rec], day)
    usage.mark("phone", crm.phone_ref[rec], day)
    usage.mark("loyalty_card_no", np.where(crm.loyalty_text[rec] != "", person, -1), day)
    usage.mark_placeholders(crm.email_placeholder[rec], person, day)
    usage.mark_placeholders(crm.phone_placeholder[rec], person, day)


def initial_opt_in(crm: CrmRecords, pop: Population, rng: np.random.Generator) -> np.ndarray:
    """Person-level marketing consent: the primary CRM record's, else the web shop's (40 %)."""
    has = crm.primary_of >= 0
    return np.where(
        has,
        crm.opt_in[np.maximum(crm.primary_of, 0)] == "J",
        (pop.account_id != "") & (rng.random(pop.n) < 0.4),
    )
