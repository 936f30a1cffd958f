"""Projection tables for the core ledger: the log itself, classes, placements, judgements, term dates.

Each only ever grows, one row per event with its position (see :mod:`projections.flatten`), so
"as the ledger stood at position p" is ``WHERE position <= p``.
"""

from __future__ import annotations

from projections.flatten import Table

LOG = Table(
    "log",
    (("position", "BIGINT"), ("recorded_at", "VARCHAR"), ("actor", "VARCHAR"), ("event_type", "VARCHAR"),
     ("stream_id", "VARCHAR"), ("command_id", "VARCHAR"), ("payload", "VARCHAR")),
    (),
    # Positions are global, so the log keeps every school's events (as-at lookups, the audit).
    "SELECT position, recorded_at, actor, event_type, stream_id, command_id, payload FROM incoming",
    # The store writes one fixed-width UTC form; as-at lookups compare it as text.
    "recorded_at IS NULL OR TRY_STRPTIME(recorded_at, '%Y-%m-%dT%H:%M:%S.%fZ') IS NULL OR length(recorded_at) != 27",
)

CLASSES = Table(
    "classes",
    (("position", "BIGINT"), ("class_id", "VARCHAR"), ("kind", "VARCHAR"), ("phase", "VARCHAR"),
     ("mark", "VARCHAR"), ("term_key", "INTEGER")),
    ("ClassOpened", "ClassClosed"),
    """SELECT position, p->>'class_id', CASE event_type WHEN 'ClassOpened' THEN 'opened' ELSE 'closed' END,
              p->>'phase', p->>'mark', term_key(coalesce(p->>'from_term', p->>'after_term'))
       FROM ev WHERE event_type IN ('ClassOpened', 'ClassClosed')""",
    "class_id IS NULL OR term_key IS NULL OR (kind = 'opened' AND phase IS NULL)",
)

PLACEMENTS = Table(
    "placements",
    (("position", "BIGINT"), ("pupil_id", "VARCHAR"), ("kind", "VARCHAR"), ("class_id", "VARCHAR"),
     ("on_date", "DATE")),
    ("PupilEnrolled", "PupilMoved", "PupilLeft"),
    """SELECT position, p->>'pupil_id',
              CASE event_type WHEN 'PupilEnrolled' THEN 'enrolled' WHEN 'PupilMoved' THEN 'moved' ELSE 'left' END,
              CASE event_type WHEN 'PupilMoved' THEN p->>'to_class' ELSE p->>'class_id' END,
              TRY_CAST(p->>'on' AS DATE)
       FROM ev WHERE event_type IN ('PupilEnrolled', 'PupilMoved', 'PupilLeft')""",
    "pupil_id IS NULL OR class_id IS NULL OR on_date IS NULL",
)

JUDGEMENTS = Table(
    "judgements",
    (("position", "BIGINT"), ("recorded_at", "VARCHAR"), ("actor", "VARCHAR"), ("kind", "VARCHAR"),
     ("pupil_id", "VARCHAR"), ("term", "VARCHAR"), ("year_start", "INTEGER"), ("term_n", "INTEGER"),
     ("class_id", "VARCHAR"), ("status", "VARCHAR"), ("reason", "VARCHAR"), ("supersedes_position", "BIGINT")),
    ("JudgementRecorded", "JudgementRevised"),
    """SELECT position, recorded_at, actor,
              CASE event_type WHEN 'JudgementRecorded' THEN 'recorded' ELSE 'revised' END,
              p->>'pupil_id', p->>'term', term_key(p->>'term') // 10, term_key(p->>'term') % 10,
              p->>'class_id', p->>'status', p->>'reason', TRY_CAST(p->>'supersedes_position' AS BIGINT)
       FROM ev WHERE event_type IN ('JudgementRecorded', 'JudgementRevised')""",
    "pupil_id IS NULL OR year_start IS NULL OR class_id IS NULL OR status IS NULL",
)

TERM_DATES = Table(
    "term_dates",
    (("position", "BIGINT"), ("term_key", "INTEGER"), ("start_date", "DATE"), ("end_date", "DATE")),
    ("TermDatesSet",),
    """SELECT position, term_key(p->>'term'), TRY_CAST(p->>'start' AS DATE), TRY_CAST(p->>'end' AS DATE)
       FROM ev WHERE event_type = 'TermDatesSet'""",
    "term_key IS NULL OR start_date IS NULL OR end_date IS NULL",
)

TABLES = [LOG, CLASSES, PLACEMENTS, JUDGEMENTS, TERM_DATES]
