"""The per-file table and the tallies of a driven corpus (``tests/corpus_driver.py``): what
``tests/engine/test_corpus.py`` writes to ``test-artifacts/corpus-report.md`` and
``benchmarks/corpus_report.py`` prints."""

from __future__ import annotations

from tests.corpus_driver import Outcome


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    return {"files": len(outcomes), "deployed": sum(o.deployed for o in outcomes),
            "refused": sum(not o.deployed for o in outcomes),
            "refused_rightly": sum(o.refused_rightly for o in outcomes),
            "unlocated_refusals": sum(len(o.unlocated) for o in outcomes),
            "started": sum(o.started for o in outcomes), "ran_to_end": sum(o.ran_to_end for o in outcomes),
            "server_errors": sum(len(o.server_errors) for o in outcomes),
            "calling_java": sum(bool(o.java) for o in outcomes),
            "calling_java_deployed": sum(bool(o.java) and o.deployed for o in outcomes)}


def reasons(outcomes: list[Outcome]) -> list[tuple[str, int]]:
    """Why files did not run to the end, most frequent first: a deploy refusal's code, or the run's stop."""
    tally: dict[str, int] = {}
    for o in outcomes:
        if not o.deployed:
            for kind in o.refusal_kinds:
                tally[f"deploy refused: {kind}"] = tally.get(f"deploy refused: {kind}", 0) + 1
        elif not o.ran_to_end:
            tally[f"run: {_stop_kind(o)}"] = tally.get(f"run: {_stop_kind(o)}", 0) + 1
    return sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))


def _stop_kind(o: Outcome) -> str:
    why = o.why.lower()
    for needle, kind in (("conflict", "409 conflict"), ("no handler registered", "no handler for a topic"),
                         ("error evaluating expression", "expression could not be evaluated"),
                         ("is required", "form refused the values"), ("unknown field", "form refused the values"),
                         ("could not be set", "data object could not be set"), ("actions", "loop"),
                         ("waits with no task", "waits for something nobody can give")):
        if needle in why:
            return kind
    return o.state if o.state not in ("error", "stuck") else f"{o.state}: {_cell(o.why, 60)}"


def markdown(title: str, outcomes: list[Outcome]) -> str:
    n = counts(outcomes)
    lines = [f"## {title}", "",
             f"{n['files']} files: **{n['deployed']} deploy**, {n['refused']} refused "
             f"({n['refused_rightly']} only for Java or scripts neither Python nor JavaScript), **{n['ran_to_end']} run to the end**, "
             f"{n['server_errors']} server errors; {n['calling_java']} call Java "
             f"(class, delegateExpression, expression, listeners), {n['calling_java_deployed']} of them deploy.", "",
             "| file | deployed | ran to end | where it stopped | why | Java |", "|---|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| {o.file} | {'yes' if o.deployed else 'no'} | {'yes' if o.ran_to_end else 'no'} | "
                     f"{_cell(o.stopped_at or ('—' if o.ran_to_end else o.state), 60)} | "
                     f"{_cell('' if o.ran_to_end else o.why)} | {len(o.java) or ''} |")
    lines += ["", "Why files do not run to the end (a file refused for two reasons counts in both):", ""]
    lines += [f"- {count} × {reason}" for reason, count in reasons(outcomes)]
    notes = [(o.file, n) for o in outcomes for n in o.notes]
    if notes:
        lines += ["", "Ignored on the way (the run went on):", ""] + [f"- {f}: {_cell(n, 200)}" for f, n in notes]
    errors = [(o.file, e) for o in outcomes for e in o.server_errors]
    if errors:
        lines += ["", "Server errors:", ""] + [f"- {f}: `{_cell(e, 400)}`" for f, e in errors]
    return "\n".join(lines) + "\n"
