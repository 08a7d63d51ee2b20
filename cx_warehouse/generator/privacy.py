"""Privacy requests: a few erasures, and marketing and profiling opt-outs.

An erasure ends the person's identifiable activity (no more mails, orders or contacts); a marketing
opt-out stops marketing e-mail and reaches the CRM in the next nightly batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.clock import PROFILE_WEB, format_utc, sample_seconds
from cx_warehouse.generator.delivery import csv_table
from cx_warehouse.generator.identifiers import messy_email
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

RATES = {"erasure": 1.5e-5, "marketing_opt_out": 6e-5, "profiling_opt_out": 2e-5}  # per person per day


def deliver_privacy(world: World, day: int) -> None:
    """Queue today's requests and apply them."""
    rng, pop, state, crm = world.rng("privacy"), world.pop, world.state, world.crm
    eligible = (state.erased_on < 0) & (pop.created_day <= day)  # churned customers may still ask
    u = rng.random(pop.n)
    bounds = np.cumsum(list(RATES.values()))
    kind = np.searchsorted(bounds, u, side="right")
    person = np.flatnonzero(eligible & (kind < len(RATES)))
    request_type = np.array(list(RATES))[kind[person]]
    with_crm = (crm.primary_of[person] >= 0) & (rng.random(len(person)) < 0.8)
    with_email = (pop.esp_email[person] >= 0) & (~with_crm | (rng.random(len(person)) < 0.6))
    keep = with_crm | with_email  # a request nobody can be found by is handled outside these systems
    person, request_type, with_crm, with_email = (
        person[keep],
        request_type[keep],
        with_crm[keep],
        with_email[keep],
    )
    n = len(person)
    record = np.where(with_crm, crm.primary_of[person], -1)
    email_ref = np.where(with_email, pop.esp_email[person], -1)
    received = np.sort(world.clock.at(day, sample_seconds(rng, n, PROFILE_WEB)))
    columns = {
        "request_id": world.ids("PR", n, 6),
        "crm_id": np.where(record >= 0, crm.crm_id[np.maximum(record, 0)], "").tolist(),
        "email": [messy_email(pop.emails.address[r], 0) if r >= 0 else "" for r in email_ref.tolist()],
        "request_type": request_type.tolist(),
        "received_at": format_utc(received),
    }
    world.delivery.add("privacy_requests", day, received, csv_table(EXTRACTS["privacy_requests"], columns))
    world.usage.mark("crm_id", record, day)
    world.usage.mark("email", email_ref, day)
    erased = person[request_type == "erasure"]
    state.erased_on[erased] = day
    state.alive[erased] = False
    opted_out = person[request_type == "marketing_opt_out"]
    state.opt_in[opted_out] = False
    world.schedule.add("crm_opt_out", day + 1, person=opted_out)
    state.profiling_opt_out[person[request_type == "profiling_opt_out"]] = True
