"""The certificate run: certificates due today go to each Main School; changed weeks are amended.

Runs at the certificate slot (15:30 by default) on school days. Each pupil on roll during a week
gets one certificate for it, on the school's agreed day (or the last school day before it).
Certificates due before the instance's first run (or `certificates.send_from`) are never sent
automatically, so a new instance does not mail out history.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from worker.app import App
from worker.attendance.calendar import monday_of
from worker.attendance.world import PupilInfo, World
from worker.certificates.content import certificate_content, content_hash, school_hash
from worker.certificates.diff import diff
from worker.certificates.render import RenderContext, legend_for, render_certificate_pdf
from worker.clock import local, local_date
from worker.db.models import CertificateVersion, JobRun, OutboxMessage, RejectedRow, School
from worker.errors import UnsafeRecipient
from worker.outbox.compose import Attachment, Email, render_parts
from worker.outbox.guard import check_recipients
from worker.outbox.message_ids import make_message_id
from worker.outbox.store import enqueue
from worker.people import Staff, load_staff

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    day: date
    sent: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    amended: list[dict[str, Any]] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    rejected_rows: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.sent or self.skipped or self.amended or self.recorded or self.failed)


def filename(pupil_ref: str, week_start: date) -> str:
    return f"certificate-{pupil_ref}-{week_start.isoformat()}.pdf"


def send_from(app: App, session: Session) -> date:
    if app.settings.certificates.send_from:
        return date.fromisoformat(app.settings.certificates.send_from)
    state = session.get(JobRun, "certificates")
    return local_date(state.epoch) if state is not None and state.epoch else date.min


def previous_run_day(session: Session) -> date | None:
    """The day of the last certificate run that finished, so a skip is reported once, not daily."""
    state = session.get(JobRun, "certificates")
    return local_date(state.last_slot) if state is not None and state.last_slot else None


def on_roll_in_week(pupil: PupilInfo, monday: date) -> bool:
    return any(pupil.on_roll(monday + timedelta(days=i)) for i in range(5))


def run(app: App, at: datetime, slot: datetime | None = None) -> bool:
    from worker.db.queries_attendance import load_world

    today = local_date(at)
    with app.sessions.begin() as session:
        world = load_world(session)
        staff = load_staff(session)
        report = RunReport(day=today)
        first = send_from(app, session)
        _send_due(app, session, world, staff, at, today, first, report)
        _amend(app, session, world, staff, at, report)
        _report(app, session, world, staff, at, report)
    return report.anything


def _content(app: App, world: World, pupil_ref: str, monday: date) -> dict[str, Any]:
    pupil = world.pupils[pupil_ref]
    return certificate_content(
        pupil=pupil,
        school=world.schools[pupil.school_urn],
        week_start=monday,
        calendar=world.calendar,
        timetable=world.timetable(pupil_ref),
        marks=world.marks_of(pupil_ref),
        codebook=app.codebook,
        session_rules=app.session_rules,
        code_rules=app.code_rules,
    )


def _pdf(app: App, staff: Staff, pupil: PupilInfo, content: dict, reference: str, at: datetime,
         amended: bool = False, changes: tuple[str, ...] = ()) -> bytes:
    context = RenderContext(
        service_name=app.settings.service.name,
        service_mailbox=app.settings.service.mailbox,
        service_phone=app.settings.service.phone,
        key_tutor_name=staff.name(pupil.key_tutor_email, ""),
        reference=reference,
        content_hash=content_hash(content),
        issued_on=local_date(at),
        amended=amended,
        changes=changes,
        code_legend=legend_for(content, app.codebook),
    )
    return render_certificate_pdf(content, context, app.templates_dir)


def _service(app: App) -> dict[str, str]:
    s = app.settings.service
    return {"name": s.name, "short_name": s.short_name, "mailbox": s.mailbox, "phone": s.phone}


def _weeks(first: date, today: date):
    monday = monday_of(first) if first != date.min else monday_of(today)
    while monday <= today:
        yield monday
        monday += timedelta(days=7)


def _send_due(app, session, world: World, staff: Staff, at, today, first, report: RunReport) -> None:
    sent_keys = {
        (ref, week)
        for ref, week in session.execute(select(CertificateVersion.pupil_ref, CertificateVersion.week_start))
    }
    previous = previous_run_day(session)
    for urn in sorted(world.schools):
        school_info = world.schools[urn]
        school = session.get(School, urn)
        for monday in _weeks(first, today):
            due = world.calendar.certificate_due(monday, school_info.certificate_day)
            if due is None or due > today or (first != date.min and due < first):
                continue
            refs = [
                ref for ref, pupil in sorted(world.pupils.items())
                if pupil.school_urn == urn and on_roll_in_week(pupil, monday) and (ref, monday) not in sent_keys
            ]
            if not refs:
                continue
            if not school.attendance_list:
                # Retried each run (they go once an address is added), reported when newly due.
                if previous is not None and due <= previous:
                    continue
                for ref in refs:
                    report.skipped.append({
                        "what": f"certificate pupil {ref} week {monday:%d/%m/%Y}",
                        "why": f"Main School {urn} {school.name} has no attendance address",
                    })
                continue
            groups = [refs] if school_info.delivery != "per_pupil" else [[ref] for ref in refs]
            for group in groups:
                _send_group(app, session, world, staff, school, monday, group, at, report)


def _send_group(app, session, world, staff, school: School, monday: date, refs: list[str], at, report) -> None:
    per_pupil = len(refs) == 1 and world.schools[school.urn].delivery == "per_pupil"
    contents, attachments = [], []
    for ref in refs:
        content = _content(app, world, ref, monday)
        reference = f"AC-{ref}-{monday.isoformat()}"
        pdf = _pdf(app, staff, world.pupils[ref], content, reference, at)
        contents.append({**content, "filename": filename(ref, monday)})
        attachments.append(Attachment(filename(ref, monday), pdf))
    reference = f"AC-{refs[0]}-{monday.isoformat()}" if per_pupil else f"AC-{school.urn}-{monday.isoformat()}"
    subject, text, html = render_parts(app.templates_dir, "certificate", {
        "service": _service(app), "school": school, "week_start": monday, "reference": reference,
        "certificates": contents,
    })
    to = school.attendance_list
    try:
        check_recipients(session, to, school_urns=[school.urn], mailbox=app.settings.service.mailbox)
    except UnsafeRecipient as exc:
        report.skipped.append({"what": f"certificates {reference}", "why": str(exc)})
        return
    key_part = refs[0] if per_pupil else f"{school.urn}:" + hashlib.sha256(",".join(refs).encode()).hexdigest()[:12]
    email = Email(
        kind="certificate",
        from_addr=app.settings.service.mailbox,
        from_name=app.settings.service.mailbox_name,
        to=to,
        subject=subject,
        text=text,
        html=html,
        message_id=make_message_id("cert", refs[0] if per_pupil else school.urn, at, app.secret,
                                   app.settings.service.domain, nonce=monday.isoformat()),
        date=at,
        reply_to=app.settings.service.mailbox,
        attachments=attachments,
    )
    row, created = enqueue(
        session, email, idem_key=f"certificate:{monday.isoformat()}:{key_part}",
        loop_header=app.settings.service.loop_header, at=at,
        pupil_ref=refs[0] if per_pupil else None, school_urn=school.urn, week_start=monday,
        detail={"pupils": refs},
    )
    if not created:
        return
    for content in contents:
        content = {k: v for k, v in content.items() if k != "filename"}
        session.add(CertificateVersion(
            pupil_ref=content["pupil"]["pupil_ref"], week_start=monday, version=1, content=content,
            content_hash=content_hash(content), school_hash=school_hash(content), sent=True,
            amended=False, changes=None, outbox_id=row.id, reported=True, created_at=at,
        ))
    report.sent.append({"what": f"{len(refs)} certificate(s) {reference}", "to": ", ".join(to)})


def _amend(app, session, world: World, staff: Staff, at, report: RunReport) -> None:
    latest: dict[tuple[str, date], CertificateVersion] = {}
    latest_sent: dict[tuple[str, date], CertificateVersion] = {}
    for version in session.scalars(select(CertificateVersion).order_by(CertificateVersion.version)):
        key = (version.pupil_ref, version.week_start)
        latest[key] = version
        if version.sent:
            latest_sent[key] = version
    for (ref, monday), last in sorted(latest.items()):
        if ref not in world.pupils or (ref, monday) not in latest_sent:
            continue
        content = _content(app, world, ref, monday)
        new_hash = content_hash(content)
        if new_hash == last.content_hash:
            continue
        sent = latest_sent[(ref, monday)]
        changes, school_changed = diff(sent.content, content)
        version = CertificateVersion(
            pupil_ref=ref, week_start=monday, version=last.version + 1, content=content,
            content_hash=new_hash, school_hash=school_hash(content), sent=False,
            amended=school_changed, changes=changes, reported=False, created_at=at,
        )
        session.add(version)
        if school_changed and _send_amended(app, session, world, staff, ref, monday, content, version, changes, at):
            version.sent = True
            version.reported = True
            report.amended.append({"pupil_ref": ref, "week_start": monday, "changes": changes})
        elif school_changed:
            version.reported = True  # not "recorded only": the school's record changed but could not be told
            report.skipped.append({"what": f"amended certificate pupil {ref} week {monday:%d/%m/%Y}",
                                   "why": "the Main School has no registered attendance address"})
        session.flush()
    for version in session.scalars(
        select(CertificateVersion).where(CertificateVersion.sent.is_(False), CertificateVersion.reported.is_(False))
    ):
        report.recorded.append({"pupil_ref": version.pupil_ref, "week_start": version.week_start,
                                "changes": version.changes or []})
        version.reported = True


def _send_amended(app, session, world, staff, ref, monday, content, version, changes, at) -> bool:
    pupil = world.pupils[ref]
    school = session.get(School, pupil.school_urn)
    to = school.attendance_list
    if not to:
        return False
    reference = f"AC-{ref}-{monday.isoformat()}-v{version.version}"
    pdf = _pdf(app, staff, pupil, content, reference, at, amended=True, changes=tuple(changes))
    subject, text, html = render_parts(app.templates_dir, "certificate_amended", {
        "service": _service(app), "school": school, "week_start": monday, "reference": reference,
        "pupil": content["pupil"], "changes": changes, "version": version.version,
    })
    try:
        check_recipients(session, to, school_urns=[school.urn], mailbox=app.settings.service.mailbox)
    except UnsafeRecipient:
        return False
    email = Email(
        kind="certificate_amended", from_addr=app.settings.service.mailbox,
        from_name=app.settings.service.mailbox_name, to=to, subject=subject, text=text, html=html,
        message_id=make_message_id("certamend", ref, at, app.secret, app.settings.service.domain,
                                   nonce=f"{monday.isoformat()}-v{version.version}"),
        date=at, reply_to=app.settings.service.mailbox,
        attachments=[Attachment(filename(ref, monday), pdf)],
    )
    row, _ = enqueue(session, email, idem_key=f"certificate_amended:{monday.isoformat()}:{ref}:v{version.version}",
                     loop_header=app.settings.service.loop_header, at=at, pupil_ref=ref,
                     school_urn=school.urn, week_start=monday, detail={"changes": changes})
    version.outbox_id = row.id
    return True


def _report(app, session, world: World, staff: Staff, at, report: RunReport) -> None:
    from worker.imports.gaps import data_gaps

    report.gaps = [gap.message for gap in data_gaps(session)]
    report.rejected_rows = session.scalar(
        select(func.count()).select_from(RejectedRow).where(RejectedRow.resolved.is_(False))) or 0
    since = at - timedelta(days=7)
    report.failed = [
        f"{row.kind} {row.subject} to {', '.join(row.to_addrs)}: {row.state} ({row.last_error or ''})"
        for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.state.in_(("failed", "bounced", "unknown")), OutboxMessage.created_at >= since))
    ]
    if not report.anything:
        return
    leads = staff.emails("attendance_lead")
    if not leads:
        log.warning("no attendance_lead in staff: run report not sent")
        return
    subject, text, html = render_parts(app.templates_dir, "run_report", {
        "day": report.day, "at_local": local(at).strftime("%H:%M"), "sent": report.sent,
        "skipped": report.skipped, "amended": report.amended, "recorded": report.recorded,
        "failed": report.failed, "gaps": report.gaps, "rejected_rows": report.rejected_rows,
    })
    email = Email(
        kind="run_report", from_addr=app.settings.service.mailbox,
        from_name=app.settings.service.mailbox_name, to=leads, subject=subject, text=text, html=html,
        message_id=make_message_id("report", "run", at, app.secret, app.settings.service.domain,
                                   nonce=local(at).strftime("%Y%m%d%H%M")),
        date=at,
    )
    enqueue(session, email, idem_key=f"run_report:{local(at):%Y-%m-%dT%H:%M}",
            loop_header=app.settings.service.loop_header, at=at)
