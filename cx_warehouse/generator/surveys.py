"""Survey responses, correlated with the experience that was surveyed.

Each response starts from a latent experience score (the touchpoint's experience mixed with the person's
satisfaction). The three E's (effectiveness, ease, emotion, 1-5) load on it per survey type; NPS and CSAT
follow from the E's with channel-specific weights (ease weighs most for the contact center, effectiveness
for deliveries, emotion for store visits); CES follows ease. Answers in turn move satisfaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.clock import PROFILE_WEB, format_utc, sample_seconds
from cx_warehouse.generator.delivery import csv_table
from cx_warehouse.generator.identifiers import messy_email
from cx_warehouse.generator.reference import (
    SURVEY_COMMENTS_NEGATIVE,
    SURVEY_COMMENTS_NEUTRAL,
    SURVEY_COMMENTS_POSITIVE,
)
from cx_warehouse.ingest.spec import EXTRACTS

if TYPE_CHECKING:
    from cx_warehouse.generator.world import World

# weights of (effectiveness, ease, emotion) in NPS and CSAT, and how strongly each E reflects the experience
E_WEIGHTS = {
    "post_contact": np.array([0.30, 0.50, 0.20]),
    "post_delivery": np.array([0.50, 0.20, 0.30]),
    "post_store_visit": np.array([0.25, 0.25, 0.50]),
    "relationship_nps": np.array([0.34, 0.33, 0.33]),
}
E_LOADINGS = {
    "post_contact": np.array([1.3, 1.1, 0.6]),
    "post_delivery": np.array([1.3, 0.5, 0.9]),
    "post_store_visit": np.array([0.7, 0.7, 1.0]),
    "relationship_nps": np.array([0.9, 0.8, 0.9]),
}
RELATIONSHIP_SAMPLE = 0.015  # weekly share of customers answering the relationship survey (Mondays)
EMPTY_ITEM = 0.08
EMPTY_NPS = 0.03
COMMENT = 0.35
CRM_LINKED = 0.6


def _due(world: World, day: int) -> dict[str, np.ndarray]:
    """Responses due today: scheduled touchpoint surveys and, on Mondays, relationship surveys."""
    rng, pop, state = world.rng("survey"), world.pop, world.state
    parts = []
    scheduled = world.schedule.take("survey", day)
    if scheduled is not None:
        parts.append(scheduled)
    if world.clock.weekday[day] == 0:
        sample = np.flatnonzero(
            state.active(day)
            & (world.crm.primary_of >= 0)
            & (pop.esp_email >= 0)
            & (rng.random(pop.n) < RELATIONSHIP_SAMPLE)
        )
        parts.append(
            {
                "person": sample,
                "survey_type": np.full(len(sample), "relationship_nps"),
                "ref": np.full(len(sample), ""),
                "experience": state.satisfaction[sample] + rng.normal(0, 0.3, len(sample)),
                "ts": world.clock.at(day, sample_seconds(rng, len(sample), PROFILE_WEB)),
            }
        )
    if not parts:
        return {}
    due = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = state.active(day)[due["person"]]
    order = np.argsort(due["ts"][keep], kind="stable")
    return {k: v[keep][order] for k, v in due.items()}


def scores(rng: np.random.Generator, survey_type: np.ndarray, latent: np.ndarray) -> dict[str, np.ndarray]:
    """Effectiveness, ease, emotion, NPS, CSAT and CES from the latent experience (before blanks)."""
    n = len(latent)
    loadings = np.stack([E_LOADINGS[t] for t in survey_type.tolist()]) if n else np.zeros((0, 3))
    weights = np.stack([E_WEIGHTS[t] for t in survey_type.tolist()]) if n else np.zeros((0, 3))
    es = np.clip(np.rint(3.6 + 1.3 * loadings * latent[:, None] + rng.normal(0, 0.6, (n, 3))), 1, 5)
    weighted = (es * weights).sum(axis=1)
    return {
        "effectiveness": es[:, 0].astype(np.int64),
        "ease": es[:, 1].astype(np.int64),
        "emotion": es[:, 2].astype(np.int64),
        "nps": np.clip(np.rint(-1.3 + 2.2 * weighted + rng.normal(0, 0.9, n)), 0, 10).astype(np.int64),
        "csat": np.clip(np.rint(0.3 + 0.93 * weighted + rng.normal(0, 0.45, n)), 1, 5).astype(np.int64),
        "ces": np.clip(np.rint(1.55 * es[:, 1] - 0.6 + rng.normal(0, 0.6, n)), 1, 7).astype(np.int64),
    }


def _blank(rng: np.random.Generator, values: np.ndarray, share: float) -> list[str]:
    """Values as text, with a share left empty (the respondent skipped the question)."""
    text = values.astype("U")
    text[rng.random(len(values)) < share] = ""
    return text.tolist()


def _comment(rng: np.random.Generator, nps: int) -> str:
    if rng.random() >= COMMENT:
        return ""
    pool = (
        SURVEY_COMMENTS_POSITIVE
        if nps >= 9
        else SURVEY_COMMENTS_NEUTRAL
        if nps >= 7
        else SURVEY_COMMENTS_NEGATIVE
    )
    return pool[int(rng.integers(len(pool)))]


def deliver_surveys(world: World, day: int) -> None:
    """Queue today's responses and let the scores move satisfaction."""
    rng, pop, state, crm = world.rng("survey"), world.pop, world.state, world.crm
    due = _due(world, day)
    if not due:
        return
    person, survey_type = due["person"], due["survey_type"]
    n = len(person)
    latent = 0.6 * due["experience"] + 0.4 * state.satisfaction[person] + 0.3 * np.log(pop.engagement[person])
    s = scores(rng, survey_type, latent)
    email_ref = pop.esp_email[person]
    styles = rng.choice([0, 0, 0, 1, 2, 4], n)
    record = np.where(rng.random(n) < CRM_LINKED, crm.primary_of[person], -1)
    columns = {
        "response_id": world.ids("SR", n, 9),
        "survey_type": survey_type.tolist(),
        "touchpoint_ref": due["ref"].tolist(),
        "respondent_email": [
            messy_email(pop.emails.address[r], st) if r >= 0 else ""
            for r, st in zip(email_ref.tolist(), styles.tolist(), strict=True)
        ],
        "crm_id": np.where(record >= 0, crm.crm_id[np.maximum(record, 0)], "").tolist(),
        "responded_at": format_utc(due["ts"], "+00:00"),
        "nps": _blank(rng, s["nps"], EMPTY_NPS),
        "csat": _blank(rng, s["csat"], EMPTY_ITEM),
        "ces": _blank(rng, s["ces"], EMPTY_ITEM),
        "effectiveness": _blank(rng, s["effectiveness"], EMPTY_ITEM),
        "ease": _blank(rng, s["ease"], EMPTY_ITEM),
        "emotion": _blank(rng, s["emotion"], EMPTY_ITEM),
        "comment": [_comment(rng, v) for v in s["nps"].tolist()],
    }
    world.delivery.add("survey_responses", day, due["ts"], csv_table(EXTRACTS["survey_responses"], columns))
    world.usage.mark("email", email_ref, day)
    world.usage.mark("crm_id", record, day)
    low = s["nps"] <= 4
    state.experience(person, np.where(low, 0.4, 0.0), 0.12 * (s["nps"] - 7) / 3)
    state.count("surveys", person)
    state.count("low_scores", person[low])
