"""Finding cases by case number, customer name, phone and serial number through an index (issue 17).

The four are columns of ``instances`` (copied from the case's variables by each step). A part of one
— the last digits of a phone, a piece of a serial — is found through a trigram index:

- SQLite: the FTS5 table ``case_search`` (``tokenize='trigram'``) over those columns, an external-
  content table kept in step by triggers on ``instances``, so every insert, change (a step, an
  anonymisation) and delete updates it in the same transaction;
- PostgreSQL: ``pg_trgm`` GIN indexes on the columns themselves (``ILIKE '%…%'`` uses them).

Neither is part of the models (``create_all`` cannot make them): ``install`` makes them after the
``instances`` table is created and in revision 0007; ``foreign_to_models`` keeps them out of the
autogenerate comparison. A text of fewer than three characters has no trigram: it matches as a prefix
(through the plain indexes on SQLite, the GIN index's padded first trigram on PostgreSQL).
Who may search by which field is the access policy's (``engine/access.py``): callers pass only the
fields the actor may see.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from sqlalchemy import ColumnElement, and_, column, event, false, literal_column, or_, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .models import Instance

# search field -> column of ``instances``
FIELDS = {"case": "business_key", "name": "customer_name", "phone": "customer_phone", "serial": "serial_no"}
CONTACT = frozenset({"name", "phone"})  # contact data (engine/access.py CONTACT_FIELDS)
MAX_TEXT = 100
PARTIAL_FROM = 3  # trigrams: shorter texts match as a prefix

FTS_TABLE = "case_search"
_COLUMNS = tuple(FIELDS.values())
_PG_INDEX = "ix_instances_trgm_{}"
_FTS = table(FTS_TABLE, column("rowid"))

_SQLITE = [
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({', '.join(_COLUMNS)}, content='instances', content_rowid='id', "
    "tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON instances BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(_COLUMNS)}) VALUES (new.id, {', '.join('new.' + c for c in _COLUMNS)}); "
    "END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON instances BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {', '.join(_COLUMNS)}) "
    f"VALUES ('delete', old.id, {', '.join('old.' + c for c in _COLUMNS)}); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF {', '.join(_COLUMNS)} ON instances BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {', '.join(_COLUMNS)}) "
    f"VALUES ('delete', old.id, {', '.join('old.' + c for c in _COLUMNS)}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {', '.join(_COLUMNS)}) VALUES (new.id, {', '.join('new.' + c for c in _COLUMNS)}); "
    "END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",  # the cases already there (revision 0007)
]
_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{t}" for t in ("insert", "delete", "update")] + [
    f"DROP TABLE IF EXISTS {FTS_TABLE}"]
_PG = ["CREATE EXTENSION IF NOT EXISTS pg_trgm"] + [
    f"CREATE INDEX IF NOT EXISTS {_PG_INDEX.format(c)} ON instances USING gin ({c} gin_trgm_ops)" for c in _COLUMNS]
_PG_DROP = [f"DROP INDEX IF EXISTS {_PG_INDEX.format(c)}" for c in _COLUMNS]


def install(conn: Connection) -> None:
    """The search index for this database, filled from the cases already stored."""
    for ddl in _SQLITE if conn.dialect.name == "sqlite" else _PG if conn.dialect.name == "postgresql" else []:
        conn.exec_driver_sql(ddl)


def uninstall(conn: Connection) -> None:
    for ddl in _SQLITE_DROP if conn.dialect.name == "sqlite" else _PG_DROP if conn.dialect.name == "postgresql" else []:
        conn.exec_driver_sql(ddl)


def installed(conn: Connection) -> bool:
    """Whether every part of the index is there (a table rebuilt by a later revision drops triggers)."""
    if conn.dialect.name == "sqlite":
        names = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name LIKE 'case_search%'").scalars())
        return {FTS_TABLE, f"{FTS_TABLE}_insert", f"{FTS_TABLE}_delete", f"{FTS_TABLE}_update"} <= names
    if conn.dialect.name == "postgresql":
        names = set(conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'instances'").scalars())
        return {_PG_INDEX.format(c) for c in _COLUMNS} <= names
    return True


def foreign_to_models(name: str | None, type_: str, parent_names: MutableMapping) -> bool:
    """Alembic's ``include_name``: False for the index's own tables and indexes (not in the models)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "index":
        return not (name or "").startswith(_PG_INDEX.format(""))
    return True


@event.listens_for(Instance.__table__, "after_create")
def _after_create(target, connection: Connection, **kw) -> None:
    install(connection)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


WHOLE_FROM = 6  # a text this long is looked up as a whole value first (``whole_ids``)


def whole_ids(session: Session, text: str, fields: list[str] | tuple[str, ...], limit: int) -> list[int] | None:
    """The newest ``limit`` cases with a field equal to ``text`` (exactly as typed), newest first; None for a
    text too short to be a whole case number, phone or serial.

    A whole case number, phone or serial shares its trigrams with a million others ("RX-", "202",
    "000" …): a trigram search must merge long posting lists, while a b-tree finds the value in a few
    page reads. So a search asks first who has exactly that value, and who contains it (``matching``)
    only when nobody does. One small statement per field, each read backwards off its ``(column, id)``
    index (revision 0014): joined by ``OR`` under ``ORDER BY id DESC LIMIT``, PostgreSQL guessed
    thousands of matches (a name column has few distinct values) and walked the primary key backwards
    through every case (5.8 s at a million cases). Equality, not a prefix range: it means the same
    under every collation."""
    text = text.strip()[:MAX_TEXT]
    columns = [FIELDS[f] for f in fields]
    if len(text) < WHOLE_FROM or not columns:
        return None
    found: set[int] = set()
    for c in columns:
        found.update(session.scalars(select(Instance.id).where(getattr(Instance, c) == text)
                                     .order_by(Instance.id.desc()).limit(limit)))
    return sorted(found, reverse=True)[:limit]


def matching(dialect: str, text: str, fields: list[str] | tuple[str, ...]) -> ColumnElement[bool]:
    """A WHERE clause on ``Instance``: cases whose ``fields`` (keys of ``FIELDS``) contain ``text``
    (start with it, when shorter than three characters), ignoring case."""
    text = text.strip()[:MAX_TEXT]
    columns = [FIELDS[f] for f in fields]
    if not text or not columns:
        return false()
    if dialect == "sqlite":
        if len(text) >= PARTIAL_FROM:
            query = "{" + " ".join(columns) + "} : " + _fts_phrase(text)
            return Instance.id.in_(select(_FTS.c.rowid).where(literal_column(FTS_TABLE).op("MATCH")(query)))
        # a prefix through the plain b-tree indexes (byte order: everything that starts with ``text``)
        return or_(*[and_(getattr(Instance, c) >= text, getattr(Instance, c) < text + "\U0010ffff") for c in columns])
    pattern = ("%" if len(text) >= PARTIAL_FROM else "") + _like_escape(text) + "%"
    return or_(*[getattr(Instance, c).ilike(pattern, escape="\\") for c in columns])
