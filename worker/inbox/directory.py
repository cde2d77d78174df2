"""The case directory a reply is matched against: who we wrote to, about which case, with what id.

Two implementations behind one protocol: `JsonCaseDirectory` reads a case table in the shape of
the replies fixtures' cases.json (the `classify --cases` command and tests; no database), and
`DbCaseDirectory` reads the instance database (read-only). Only pupil initials are held here,
never a name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from worker.errors import CourierError


class CaseTableError(CourierError):
    """The case table file is not valid."""


@dataclass(frozen=True)
class Contact:
    address: str
    role: str


@dataclass(frozen=True)
class CaseInfo:
    case_ref: str
    case_number: int
    pupil_initials: str
    pupil_ref: str | None
    school_urn: str
    school_name: str
    domains: tuple[str, ...]
    contacts: tuple[Contact, ...]
    safeguarding_risk: bool = False
    message_ids: tuple[str, ...] = field(default_factory=tuple)

    def role_of(self, address: str | None) -> str | None:
        """The role a registered address plays for this case, or None."""
        wanted = (address or "").strip().lower()
        return next((c.role for c in self.contacts if c.address == wanted), None)

    def is_registered(self, address: str | None) -> bool:
        return self.role_of(address) is not None

    def at_school_domain(self, address: str | None) -> bool:
        domain = (address or "").rpartition("@")[2].strip().lower()
        return bool(domain) and domain in self.domains

    def verifies(self, address: str | None) -> bool:
        """A sender may speak for the school: a registered contact or an address at its domain."""
        return self.is_registered(address) or self.at_school_domain(address)


class CaseDirectory(Protocol):
    def by_message_id(self, message_id: str) -> CaseInfo | None:
        """The case one of our sent emails (exact Message-ID) was about."""
        ...

    def by_ref(self, case_ref: str) -> CaseInfo | None:
        """The case 'NS-nnnn', if it exists."""
        ...

    def is_known_message_id(self, message_id: str) -> bool:
        """Whether we sent an email with this Message-ID (about a case or not)."""
        ...

    def service_addresses(self) -> frozenset[str]: ...

    def service_domains(self) -> frozenset[str]: ...


def case_number(case_ref: str) -> int | None:
    head, _, tail = (case_ref or "").strip().upper().partition("-")
    return int(tail) if head == "NS" and tail.isdigit() else None


def _norm_id(message_id: str) -> str:
    value = (message_id or "").strip()
    if not value.startswith("<"):
        value = f"<{value}>"
    return value.lower()


# --- JSON ------------------------------------------------------------------------------------------


class JsonCaseDirectory:
    """A case table in the shape of fixtures/replies/cases.json."""

    def __init__(self, data: dict[str, Any], where: str = "cases") -> None:
        self.where = where
        try:
            service = data.get("service", {})
            self._service_addresses = frozenset(
                str(v).lower() for k, v in service.items() if isinstance(v, str) and "@" in v
            )
            self._service_domains = frozenset(
                str(d).lower() for d in ([service["own_domain"]] if service.get("own_domain") else [])
            ) | frozenset(a.rpartition("@")[2] for a in self._service_addresses)
            schools = {str(s.get("urn")): s for s in data.get("schools", [])}
            self._cases: dict[str, CaseInfo] = {}
            self._ids: dict[str, CaseInfo] = {}
            for i, row in enumerate(data.get("cases", [])):
                info = self._case(row, schools, f"{where}: cases[{i}]")
                self._cases[info.case_ref] = info
                for mid in info.message_ids:
                    self._ids[_norm_id(mid)] = info
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CaseTableError(f"{where}: not a case table ({type(exc).__name__}: {exc})") from exc

    @classmethod
    def from_file(cls, path: str | Path) -> JsonCaseDirectory:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CaseTableError(f"{path}: cannot read: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise CaseTableError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from exc
        if not isinstance(data, dict):
            raise CaseTableError(f"{path}: must be a JSON object")
        return cls(data, str(path))

    @staticmethod
    def _case(row: dict[str, Any], schools: dict[str, dict[str, Any]], where: str) -> CaseInfo:
        ref = str(row["case_ref"]).upper()
        number = case_number(ref)
        if number is None:
            raise ValueError(f"{where}: case_ref {ref!r} is not NS-<number>")
        urn = str(row.get("main_school_urn", ""))
        school = schools.get(urn, {})
        school_roles = {
            str(c["address"]).lower(): str(c.get("role", "")) for c in school.get("registered_contacts", [])
        }
        contacts: list[Contact] = []
        for item in row.get("registered_contacts", []):
            address = str(item["address"] if isinstance(item, dict) else item).lower()
            role = item.get("role") if isinstance(item, dict) else None
            contacts.append(Contact(address, role or school_roles.get(address, "registered contact")))
        known = {c.address for c in contacts}
        contacts += [Contact(a, r) for a, r in school_roles.items() if a not in known]
        domains = row.get("school_domains") or school.get("domains") or []
        ids = row.get("message_ids") or ([row["message_id"]] if row.get("message_id") else [])
        return CaseInfo(
            case_ref=ref,
            case_number=number,
            pupil_initials=str(row.get("pupil_initials", "")),
            pupil_ref=row.get("pupil_ref"),
            school_urn=urn,
            school_name=str(row.get("main_school", school.get("name", ""))),
            domains=tuple(str(d).lower() for d in domains),
            contacts=tuple(contacts),
            safeguarding_risk=bool(row.get("safeguarding_risk", False)),
            message_ids=tuple(str(m) for m in ids),
        )

    def by_message_id(self, message_id: str) -> CaseInfo | None:
        return self._ids.get(_norm_id(message_id))

    def by_ref(self, case_ref: str) -> CaseInfo | None:
        return self._cases.get((case_ref or "").strip().upper())

    def is_known_message_id(self, message_id: str) -> bool:
        return _norm_id(message_id) in self._ids

    def service_addresses(self) -> frozenset[str]:
        return self._service_addresses

    def service_domains(self) -> frozenset[str]:
        return self._service_domains


# --- database -----------------------------------------------------------------------------------------


class DbCaseDirectory:
    """Reads Case, Pupil, School, StaffMember and OutboxMessage; never writes."""

    def __init__(self, session: Any, settings: Any) -> None:
        self.session = session
        self.settings = settings
        self._cache: dict[int, CaseInfo | None] = {}

    def _build(self, number: int) -> CaseInfo | None:
        if number in self._cache:
            return self._cache[number]
        from sqlalchemy import select

        from worker.db.models import Case, OutboxMessage, Pupil, School

        info = None
        case = self.session.get(Case, number)
        if case is not None:
            pupil = self.session.get(Pupil, case.pupil_ref)
            school = self.session.get(School, pupil.school_urn) if pupil else None
            contacts: list[Contact] = []
            if school is not None:
                contacts += [Contact(a.lower(), "DSL") for a in school.dsl_list]
                contacts += [Contact(a.lower(), "attendance") for a in school.attendance_list if a.lower() not in {c.address for c in contacts}]
            ids = self.session.scalars(select(OutboxMessage.message_id).where(OutboxMessage.case_id == case.id)).all()
            initials = ""
            if pupil is not None:
                initials = "".join(f"{part[:1].upper()}." for part in (pupil.forename, pupil.surname) if part)
            info = CaseInfo(
                case_ref=f"NS-{case.id}",
                case_number=case.id,
                pupil_initials=initials,
                pupil_ref=case.pupil_ref,
                school_urn=school.urn if school else "",
                school_name=school.name if school else "",
                domains=tuple(school.domain_list) if school else (),
                contacts=tuple(contacts),
                safeguarding_risk=bool(case.safeguarding_risk),
                message_ids=tuple(ids),
            )
        self._cache[number] = info
        return info

    def by_message_id(self, message_id: str) -> CaseInfo | None:
        from sqlalchemy import func, select

        from worker.db.models import OutboxMessage

        wanted = _norm_id(message_id)
        row = self.session.execute(
            select(OutboxMessage.case_id).where(func.lower(OutboxMessage.message_id) == wanted)
        ).first()
        if row is None or row[0] is None:
            return None
        return self._build(int(row[0]))

    def by_ref(self, case_ref: str) -> CaseInfo | None:
        number = case_number(case_ref)
        return self._build(number) if number is not None else None

    def is_known_message_id(self, message_id: str) -> bool:
        from sqlalchemy import func, select

        from worker.db.models import OutboxMessage

        wanted = _norm_id(message_id)
        return (
            self.session.execute(
                select(OutboxMessage.id).where(func.lower(OutboxMessage.message_id) == wanted)
            ).first()
            is not None
        )

    def service_addresses(self) -> frozenset[str]:
        from sqlalchemy import select

        from worker.db.models import StaffMember

        staff = self.session.scalars(select(StaffMember.email)).all()
        return frozenset(a.strip().lower() for a in [self.settings.service.mailbox, *staff] if a and "@" in a)

    def service_domains(self) -> frozenset[str]:
        return frozenset(d.strip().lower() for d in [self.settings.service.domain] if d)
