"""Timetable change notices: the procedure says Main Schools are told of any change.

Each tick compares every pupil's timetable (all its dated periods) with the one the school was
last told about. The first timetable seen for a pupil is a silent baseline (schools receive it with
the referral); any later change is emailed to the Main School's attendance contact.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from worker.app import App
from worker.attendance.calendar import SHORT_WEEKDAYS
from worker.clock import local_date
from worker.db.models import Pupil, School, TimetableNotice, TimetableSlot
from worker.outbox.compose import Email, render_parts
from worker.outbox.guard import check_recipients
from worker.outbox.message_ids import make_message_id
from worker.outbox.store import enqueue

PLACES = {"service": "Service", "main_school": "Main School", "none": "none (C2)"}


def _slots(rows: list[TimetableSlot]) -> list[dict[str, Any]]:
    return sorted(
        ({"weekday": r.weekday, "session": r.session, "place": r.place, "valid_from": r.valid_from.isoformat(),
          "valid_to": r.valid_to.isoformat() if r.valid_to else None} for r in rows),
        key=lambda s: (s["valid_from"], s["weekday"], s["session"]),
    )


def _hash(slots: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(slots, sort_keys=True).encode()).hexdigest()


def week_table(slots: list[dict[str, Any]], on: date) -> list[dict[str, str]]:
    """Mon-Fri rows of AM/PM places for the period in force on `on` (or the next one)."""
    rows = []
    for weekday in range(5):
        row = {"day": SHORT_WEEKDAYS[weekday]}
        for session in ("AM", "PM"):
            candidates = [s for s in slots if s["weekday"] == weekday and s["session"] == session
                          and (s["valid_to"] is None or s["valid_to"] >= on.isoformat())]
            current = [s for s in candidates if s["valid_from"] <= on.isoformat()] or candidates
            chosen = max(current, key=lambda s: s["valid_from"]) if current else None
            row[session] = PLACES.get(chosen["place"], chosen["place"]) if chosen else "-"
        rows.append(row)
    return rows


def notify_changes(app: App, at: datetime) -> bool:
    today = local_date(at)
    did = False
    with app.sessions.begin() as session:
        by_pupil: dict[str, list[TimetableSlot]] = {}
        for row in session.scalars(select(TimetableSlot)):
            by_pupil.setdefault(row.pupil_ref, []).append(row)
        last: dict[str, TimetableNotice] = {}
        for notice in session.scalars(select(TimetableNotice).order_by(TimetableNotice.id)):
            last[notice.pupil_ref] = notice
        for ref, rows in sorted(by_pupil.items()):
            slots = _slots(rows)
            digest = _hash(slots)
            previous = last.get(ref)
            if previous is not None and previous.timetable_hash == digest:
                continue
            notice = TimetableNotice(pupil_ref=ref, timetable_hash=digest, slots=slots, recorded_at=at,
                                     baseline=previous is None)
            session.add(notice)
            pupil = session.get(Pupil, ref)
            if previous is None or pupil is None or (pupil.end_date and pupil.end_date < today):
                continue
            old = {json.dumps(s, sort_keys=True) for s in previous.slots}
            added = [s for s in slots if json.dumps(s, sort_keys=True) not in old]
            starts = [date.fromisoformat(s["valid_from"]) for s in added]
            effective = max(min(starts), today) if starts else today
            school = session.get(School, pupil.school_urn)
            if school is None or not school.attendance_list:
                continue
            subject, text, html = render_parts(app.templates_dir, "timetable_change", {
                "service": app.settings.service, "school": school, "pupil": pupil, "effective": effective,
                "new": week_table(slots, effective), "old": week_table(previous.slots, effective),
            })
            check_recipients(session, school.attendance_list, school_urns=[school.urn],
                             mailbox=app.settings.service.mailbox)
            email = Email(
                kind="timetable_change", from_addr=app.settings.service.mailbox,
                from_name=app.settings.service.mailbox_name, to=school.attendance_list, subject=subject,
                text=text, html=html, date=at, reply_to=app.settings.service.mailbox,
                message_id=make_message_id("timetable", ref, at, app.secret, app.settings.service.domain,
                                           nonce=digest[:8]),
            )
            row, _ = enqueue(session, email, idem_key=f"timetable_change:{ref}:{digest[:16]}",
                             loop_header=app.settings.service.loop_header, at=at, pupil_ref=ref,
                             school_urn=school.urn)
            session.flush()
            notice.outbox_id = row.id
            did = True
    return did
