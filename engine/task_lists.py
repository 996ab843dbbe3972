"""Which open tasks a list shows, read off indexes at any size (issue 17).

A task is for its assignee, the users it names and the groups it names; ``open_tasks`` keeps the
names as ``,a,b,`` text. A list asks for an **audience** — a user and their groups — and reads each way
a task can be for them as its own branch through its own index, each in (created_at, id) order and
cut at the page size, then merges the branches: the assignee (``ix_open_tasks_assignee_created``),
tasks naming exactly one of the groups (``ix_open_tasks_group_created``: ``candidate_groups =
',g,'``, every shipped diagram's case), tasks naming several groups or any user (two partial indexes
holding only those few rows). As one ``OR`` walked along the (created_at, id) index, a group with
few tasks — finance, marketing — read every open task to fill its first page: 114 ms at 100,000 open
tasks on SQLite, against 0.05 ms this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BindParameter, ColumnElement, Select, and_, false, literal_column, or_, select, union

from .models import OpenTask

# The partial indexes' predicates (models.py, revision 0019): a query must name them word for word,
# with the pattern written into the SQL, not bound as a parameter, or neither SQLite nor PostgreSQL
# (in a generic plan) can tell that the index holds every row the query wants.
SEVERAL_GROUPS = OpenTask.candidate_groups.like(literal_column("'%,%,%,%'"))
NAMES_USERS = OpenTask.candidate_users.like(literal_column("',_%'"))


def stored(names: Sequence[str | None]) -> str:
    """Names as ``open_tasks`` keeps them: ``,a,b,``, and nobody as ``,`` (what the policy and the
    partial indexes test for; revision 0019 rewrote the ``,,`` earlier steps wrote for nobody)."""
    kept = [n for n in names if n]
    return "," + ",".join(kept) + "," if kept else ","


@dataclass(frozen=True)
class Audience:
    """Whom a list is for: ``user`` (as assignee or named user; None: nobody in person), ``groups``,
    and whether tasks that name nobody at all are included (``unassigned``)."""

    user: str | None
    groups: tuple[str, ...] = ()
    unassigned: bool = False

    def branches(self) -> list[ColumnElement[bool]]:
        """One clause per index: together exactly the tasks ``clause()`` matches."""
        out: list[ColumnElement[bool]] = []
        if self.user:
            out.append(OpenTask.assignee == self.user)
            out.append(and_(NAMES_USERS, OpenTask.candidate_users.contains(f",{self.user},")))
        out += [OpenTask.candidate_groups == f",{g}," for g in self.groups]
        if self.groups:
            out.append(and_(SEVERAL_GROUPS, or_(*[OpenTask.candidate_groups.contains(f",{g},") for g in self.groups])))
        if self.unassigned:
            out.append(and_(OpenTask.candidate_groups == ",", OpenTask.candidate_users == ",",
                            OpenTask.assignee.is_(None)))
        return out

    def clause(self) -> ColumnElement[bool]:
        """The audience as one WHERE clause (counts, checks of one task)."""
        branches = self.branches()
        return or_(*branches) if branches else false()


# The tasks that name nobody at all — no assignee, candidate group or user (a diagram drawn that way,
# as Camunda's unassigned tasks): the "nobody named" view admins and process owners hand them out from
# (``access.unassigned_audience``). One branch, read through ``ix_open_tasks_group_created`` at ``,``.
NAMES_NOBODY = Audience(None, (), unassigned=True)


def page(query: Select, audience: Audience, order: Sequence, limit: int | BindParameter) -> Select:
    """``query`` (columns, joins, filters, cursor; it must select ``created_at`` and ``id``) for
    ``audience``: the first ``limit`` rows in ``order`` (created_at, id) of the union of its branches."""
    branches = audience.branches()
    if not branches:
        return query.where(false()).limit(limit)
    parts = [select(query.where(b).order_by(*order).limit(limit).subquery()) for b in branches]
    merged = union(*parts).subquery()
    return select(merged).order_by(merged.c.created_at, merged.c.id).limit(limit)
