"""Task lists read each way a task can be someone's through its own index (engine/task_lists.py):
merged again, every list still holds exactly the tasks the access policy gives, each once, oldest
first, and pages through them with its cursor."""

from __future__ import annotations

from engine import access
from engine.users import Actor
from tests.conftest import DATA

OWNER = Actor("owner", frozenset({"process_owner"}))
BOB = Actor("bob", frozenset({"finance"}))
CAROL = Actor("carol", frozenset({"warehouse"}))
ALICE = Actor("alice", frozenset())


def _two_cases(core, clock):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"five_ways.bpmn": (DATA / "five_ways.bpmn").read_bytes()}, OWNER)
        first = engine.start(s, "five_ways", OWNER).id
        clock.advance(seconds=5)
        second = engine.start(s, "five_ways", OWNER).id
        s.commit()
    return engine, sessions, (first, second)


def _listed(engine, s, actor, **kw) -> list[tuple[int, str]]:
    rows, _more = engine.task_page(s, actor, limit=50, **kw)
    return [(r.instance_id, r.element_id) for r in rows]


def _in_order(cases, *elements) -> list[tuple[int, str]]:
    """What a list shows: the first case's tasks (all opened at one moment) before the second's."""
    return sorted([(c, e) for c in cases for e in elements], key=lambda ce: (cases.index(ce[0]), ce[1]))


def test_every_list_holds_exactly_the_policys_tasks_once(core, clock):
    engine, sessions, cases = _two_cases(core, clock)
    with sessions() as s:
        # bob: finance's tasks (one group, two groups, his own assigned one — once, though it is both
        # his and finance's) and the task naming him; the tasks naming nobody are the process owner's (and an
        # admin's) to hand out, not every colleague's
        bob = _listed(engine, s, BOB)
        assert sorted(bob, key=lambda ce: cases.index(ce[0])) == bob  # oldest case first
        assert sorted(bob) == sorted(_in_order(cases, "one_group", "two_groups", "named_user", "assigned"))
        assert sorted(_listed(engine, s, CAROL)) == sorted(_in_order(cases, "two_groups"))
        assert sorted(_listed(engine, s, ALICE)) == sorted(_in_order(cases, "named_user"))
        assert sorted(_listed(engine, s, OWNER)) == sorted(_in_order(cases, "nobody"))
        # one group: the tasks naming it, however many groups they name
        assert sorted(_listed(engine, s, BOB, group="finance")) == sorted(
            _in_order(cases, "one_group", "two_groups", "assigned"))
        assert sorted(_listed(engine, s, CAROL, group="warehouse")) == sorted(_in_order(cases, "two_groups"))
        # the inbox's group tab: without the tasks naming nobody
        tab = _listed(engine, s, BOB, audience=access.task_audience(BOB, everything=False))
        assert sorted(tab) == sorted(_in_order(cases, "one_group", "two_groups", "named_user", "assigned"))
        # the same lists as before, task by task: may_act agrees with every list
        everyone = _listed(engine, s, Actor("admin", frozenset({"admin"})))
        assert len(everyone) == 10
        for actor in (BOB, CAROL, ALICE, OWNER):
            may = {(t.instance_id, t.element_id) for t in engine.list_tasks(s, Actor("admin", frozenset({"admin"})))
                   if access.may_act(t, actor)}
            assert set(_listed(engine, s, actor)) == may


def test_pages_of_a_merged_list_follow_each_other_without_gaps_or_repeats(core, clock):
    engine, sessions, cases = _two_cases(core, clock)
    with sessions() as s:
        whole = _listed(engine, s, BOB)
        seen: list[tuple[int, str]] = []
        after = None
        while True:
            rows, more = engine.task_page(s, BOB, after=after, limit=3)
            seen += [(r.instance_id, r.element_id) for r in rows]
            if not more:
                break
            after = (rows[-1].created_at, rows[-1].id)
        assert seen == whole and len(seen) == 8


def test_tasks_naming_nobody_are_stored_as_nobody_and_listed_as_incidents(core, clock):
    """Issue 16: a task naming nobody is stored as ``,`` (the policy's "nobody named"; steps used to write
    ``,,``, which no list matched) and shows among the supervisors' "nobody can take this"."""
    from sqlalchemy import select

    from engine.groups import nobody_can_take
    from engine.models import OpenTask

    engine, sessions, cases = _two_cases(core, clock)
    with sessions() as s:
        nobody = s.execute(select(OpenTask.candidate_groups, OpenTask.candidate_users)
                           .where(OpenTask.element_id == "nobody")).all()
        assert [tuple(r) for r in nobody] == [(",", ","), (",", ",")]
        listed = {(t.instance_id, t.element_id) for t in s.scalars(select(OpenTask).where(nobody_can_take()))}
        # finance and warehouse have their demo users; alice and bob are no users here, so the tasks
        # naming only them (or assigned to bob) cannot be taken either
        assert listed == set(_in_order(cases, "nobody", "named_user", "assigned"))


def test_the_nobody_named_list_is_for_admins_and_process_owners_and_pages(core, clock):
    """Issue 16: the tasks naming nobody are a list of their own (``access.unassigned_audience``), read
    through the group index at ``,``: exactly those tasks, oldest first, in pages without gaps; a task
    once claimed leaves it. Anyone else asking for the list is refused, saying who may."""
    import pytest

    from engine.errors import NotPermitted

    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"unassigned_check.bpmn": (DATA / "unassigned_check.bpmn").read_bytes(),
                          "five_ways.bpmn": (DATA / "five_ways.bpmn").read_bytes()}, OWNER)
        cases = []
        for _ in range(5):
            cases.append(engine.start(s, "unassigned_check", OWNER).id)
            clock.advance(minutes=1)
        engine.start(s, "five_ways", OWNER)  # one more task naming nobody, among tasks that name someone
        s.commit()
    admin = Actor("admin", frozenset({"admin"}))
    with sessions() as s:
        audience = access.unassigned_audience(OWNER)
        assert access.unassigned_audience(admin) == audience
        whole = _listed(engine, s, OWNER, audience=audience)
        assert whole == [*[(c, "record_check") for c in cases], (cases[-1] + 1, "nobody")]
        for who in (BOB, CAROL, Actor("technician", frozenset({"technician"})),
                    Actor("supervisor", frozenset({"supervisor"}))):
            with pytest.raises(NotPermitted, match="only admins and process owners see the list of tasks that name nobody"):
                access.unassigned_audience(who)
        pages, after = [], None
        while True:
            rows, more = engine.task_page(s, OWNER, audience=audience, after=after, limit=4)
            pages.append([(r.instance_id, r.element_id) for r in rows])
            if not more:
                break
            after = (rows[-1].created_at, rows[-1].id)
        assert pages == [whole[:4], whole[4:]]
        first = engine.task_page(s, OWNER, audience=audience, limit=1)[0][0]
        engine.claim(s, first.id, admin)
        s.commit()
        assert _listed(engine, s, OWNER, audience=audience) == whole[1:]
        assert [(r.instance_id, r.element_id) for r in engine.task_page(s, admin, mine=True)[0]] == whole[:1]
