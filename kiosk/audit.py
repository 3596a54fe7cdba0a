"""The audit log is append-only: nothing in the app may change or remove an event.

Three locks, from the ORM down to the database:
- changing or deleting an Event object and flushing raises AuditLogIsAppendOnly;
- an `update(Event)` or `delete(Event)` statement run through a session raises the same;
- on SQLite, triggers refuse UPDATE and DELETE on the table, whatever SQL reaches it.

The one lawful removal is the retention purge of a campaign whose export the regional centre
confirmed; it runs inside `purging_audit_log(session)`, which lifts the locks for that one
transaction only and puts the triggers back before the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, object_session

from kiosk.models import Event

_PURGING = "kiosk_purging_audit_log"
_TRIGGERS = {
    "event_append_only_update": "UPDATE",
    "event_append_only_delete": "DELETE",
}


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or delete an audit event."""


def _purging(session: Session | None) -> bool:
    return bool(session is not None and session.info.get(_PURGING))


@event.listens_for(Event, "before_update")
def _refuse_update(mapper, connection, target: Event) -> None:
    session = object_session(target)
    if _purging(session):
        return
    if session is None or session.is_modified(target, include_collections=False):
        raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed")


@event.listens_for(Event, "before_delete")
def _refuse_delete(mapper, connection, target: Event) -> None:
    if not _purging(object_session(target)):
        raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or _purging(state.session):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == Event.__table__.name:
        raise AuditLogIsAppendOnly("the audit log cannot be updated or deleted")


def _trigger_statements() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON event "
        f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        for name, operation in _TRIGGERS.items()
    ]


def install_triggers(engine: Engine) -> None:
    """The database's own refusal (SQLite); other databases rely on the ORM locks."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        for statement in _trigger_statements():
            connection.exec_driver_sql(statement)


@contextmanager
def purging_audit_log(session: Session) -> Iterator[Session]:
    """For the retention purge only, inside its write transaction: events may be deleted until
    the block ends. SQLite DDL is transactional: the triggers are never gone for anyone else."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    session.info[_PURGING] = True
    try:
        if sqlite:
            for name in _TRIGGERS:
                session.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        yield session
        session.flush()
        if sqlite:
            for statement in _trigger_statements():
                session.execute(text(statement))
    finally:
        session.info.pop(_PURGING, None)
