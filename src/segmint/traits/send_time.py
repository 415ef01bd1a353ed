"""Send time: each contact's best hour of the week to receive email, from when they click and open.

Seed 001 says modern platforms predict the best time to send.  The signals
are email clicks and the opens that are not machine opens (a privacy proxy
"opens" every mail seconds after delivery, whoever reads it), in the
``lookback_days`` before ``as_of``, each put in its hour of the week in the
list's time zone (``timezone``, else the ``[load] timezone`` of the store, else
UTC): 0 is Monday 00:00-00:59, 33 Tuesday 09:00, 167 Sunday 23:00.

A contact with few events is shrunk toward the pattern of their group (the
``group`` field, persona by default), itself shrunk toward the whole list's
(empirical Bayes, a Dirichlet-multinomial): ``(own counts + m * prior) / (n
+ m)``, with the prior strength ``m`` estimated from everyone's counts unless
``strength`` sets it.  Counts are smoothed over the neighbouring hours first
(``smoothing``), so one click at 09:10 does not make 09:00 the only hour that
matters.  The best hour is the most likely one; ties go to the earliest hour
of the week.  The counts are made in SQL; the shrinkage in numpy, sparse
(see ``segmint.insights.send_time``).  ``segmint report send-time`` shows the
week as a heat map and checks the predictions on held-out engagement.

Segments use the fields like any other: ``{field: send_hour_of_day, op:
between, value: [8, 10]}``.  A full refresh keeps the list's and groups'
patterns and ``m`` in table ``send_time_prior``; the fresh path scores the
contacts whose events just arrived with them, without recounting everyone.
"""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pyarrow as pa

from segmint.insights.send_time import (
    WEEKDAYS,
    Scores,
    SendTimeFit,
    SendTimeSettings,
    counts_query,
    fit_send_time,
    group_query,
    groups_of,
    hour_counts,
    score_contacts,
    zone_of,
)
from segmint.model.tables import Column, Table
from segmint.model.types import FieldType
from segmint.traits.base import TraitContext, TraitField, TraitModel

PRIORS = Table(
    name="send_time_prior",
    entity="meta",
    description="The send-time patterns of the last full refresh, which the fresh path scores with.",
    columns=(
        Column("grp", FieldType.STRING, "The group's value; unset: the whole list."),
        Column("pattern", FieldType.STRING, "168 probabilities, Monday 00:00 first (JSON); unset: no engagement."),
        Column("strength", FieldType.FLOAT, "The prior strength m, in events."),
        Column("settings", FieldType.STRING, "The settings and zone the patterns were made with (JSON)."),
    ),
)


class SendTime(TraitModel):
    name = "send_time"
    summary = "Each contact's best hour of the week to send email, from clicks and human opens, shrunk when thin."
    requires = ("persona",)
    Settings = SendTimeSettings
    settings: SendTimeSettings

    def fields(self) -> list[TraitField]:
        fallback = (
            "contacts without own clicks or human opens get their group's (else the list's) best hour; "
            "unset when the list has no engagement at all"
        )
        return [
            TraitField(
                "send_hour",
                FieldType.INTEGER,
                f"Best hour of the week to send, 0 (Monday 00:00) .. 167 (Sunday 23:00) in the list's zone; {fallback}.",
            ),
            TraitField(
                "send_weekday",
                FieldType.STRING,
                "The day of send_hour: monday, tuesday, wednesday, thursday, friday, saturday or sunday.",
            ),
            TraitField("send_hour_of_day", FieldType.INTEGER, "The hour of the day of send_hour, 0 .. 23."),
            TraitField(
                "send_time_evidence",
                FieldType.INTEGER,
                f"How many of the contact's own clicks and human opens (last {self.settings.lookback_days} days) "
                "informed send_hour; 0: it is the group's or the list's.",
            ),
        ]

    def compute(self, ctx: TraitContext) -> pa.Table:
        s = self.settings
        engine = ctx.store.engine
        zone = zone_of(s, ctx.store)
        start = ctx.as_of - timedelta(days=s.lookback_days)
        groups = groups_of(engine.query(group_query(ctx, s.group)))
        kept = self._stored_fit(ctx, zone) if ctx.contact_keys is not None else None
        if kept is None:  # a full refresh, or a fresh path before any: fit on everyone and keep it
            everyone = (
                groups
                if ctx.contact_keys is None
                else groups_of(engine.query(group_query(ctx, s.group, restrict=False)))
            )
            rows = engine.query(counts_query(ctx, s, zone, start=start, restrict=False))
            counts = hour_counts(rows, s.click_weight)
            fitted = fit_send_time(
                counts,
                everyone.of(counts.contact_key),
                everyone.names,
                smoothing=s.smoothing,
                group_strength=s.group_strength,
                strength=s.strength,
            )
            self._store_fit(ctx, zone, fitted)
        else:
            fitted = kept[0]
            counts = hour_counts(engine.query(counts_query(ctx, s, zone, start=start)), s.click_weight)
        return _rows(score_contacts(fitted, counts, groups))

    # ---- the kept patterns ---------------------------------------------------------------------------------

    def _signature(self, zone: str) -> str:
        return json.dumps({**self.settings.model_dump(), "zone": zone}, sort_keys=True)

    def _store_fit(self, ctx: TraitContext, zone: str, fitted: SendTimeFit | None) -> None:
        engine = ctx.store.engine
        engine.drop_table(PRIORS.name)
        engine.create_table(PRIORS)
        rows: list[tuple[str | None, str | None]] = fitted.to_rows() if fitted is not None else [(None, None)]
        engine.load_arrow(
            PRIORS.name,
            pa.table(
                {
                    "grp": pa.array([r[0] for r in rows], pa.string()),
                    "pattern": pa.array([r[1] for r in rows], pa.string()),
                    "strength": pa.array([fitted.strength if fitted else None] * len(rows), pa.float64()),
                    "settings": pa.array([self._signature(zone)] * len(rows), pa.string()),
                }
            ),
        )

    def _stored_fit(self, ctx: TraitContext, zone: str) -> tuple[SendTimeFit | None] | None:
        """The last full refresh's patterns, if made with these settings (None: none to reuse)."""
        engine = ctx.store.engine
        if not engine.table_exists(PRIORS.name):
            return None
        rows = engine.query(f"SELECT grp, pattern, strength, settings FROM {engine.quote(PRIORS.name)}").to_pylist()
        rows = [r for r in rows if r["settings"] == self._signature(zone)]
        everyone = [r for r in rows if r["grp"] is None]
        if not everyone:
            return None
        if everyone[0]["pattern"] is None:  # fitted on a list without engagement
            return (None,)
        patterns = {r["grp"]: np.asarray(json.loads(r["pattern"]), np.float64) for r in rows if r["grp"] is not None}
        pattern = np.asarray(json.loads(everyone[0]["pattern"]), np.float64)
        return (SendTimeFit(pattern, patterns, float(everyone[0]["strength"]), self.settings.smoothing),)


def _rows(scores: Scores) -> pa.Table:
    """Arrow rows of the contacts with a best hour (the others have no row: every field unset)."""
    has = scores.best_hour >= 0
    best = scores.best_hour[has]
    return pa.table(
        {
            "contact_key": pa.array(scores.contact_key[has], pa.int64()),
            "send_hour": pa.array(best, pa.int64()),
            "send_weekday": pa.array([WEEKDAYS[h // 24] for h in best.tolist()], pa.string()),
            "send_hour_of_day": pa.array(best % 24, pa.int64()),
            "send_time_evidence": pa.array(scores.evidence[has], pa.int64()),
        }
    )


MODEL = SendTime
