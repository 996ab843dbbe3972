"""Prints the per-file table of real diagrams from other tools, deployed and driven to their end
(issues 13 and 16; the same driver as ``tests/engine/test_corpus.py``).

    python benchmarks/corpus_report.py                 # both sets
    python benchmarks/corpus_report.py --set others    # only tests/corpus
    python benchmarks/corpus_report.py --no-java-bridge --corpus /path/to/camunda7

Each file runs in an empty SQLite database of its own (``--database-url`` for PostgreSQL, emptied
before each file). External topics are served by a generic in-process worker; with the Java bridge
(default) so are the Java class, bean and expression names a file calls, where the engine accepts them.
"""

from __future__ import annotations

import argparse
import logging
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("camunda7", "others", "both"), default="both")
    parser.add_argument("--corpus", type=pathlib.Path, default=ROOT.parent / "shared" / "corpus" / "camunda7",
                        help="the Camunda 7 set (default: ../shared/corpus/camunda7)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-java-bridge", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the cases' own errors are in the table

    from engine import users

    users.configure_hashing(time_cost=1, memory_cost=1024, parallelism=1)
    from tests.corpus_driver import CorpusSet, drive_set
    from tests.corpus_report import markdown

    sets = {"camunda7": (CorpusSet.at("camunda7", args.corpus), "Camunda 7 diagrams"),
            "others": (CorpusSet.at("others", ROOT / "tests" / "corpus"),
                       "Operaton, Camunda 7 examples, Flowable, BPMN MIWG (tests/corpus)")}
    for name, (corpus, title) in sets.items():
        if args.set in (name, "both"):
            if not corpus.files:
                print(f"## {title}\n\nno files at {args.corpus}\n")
                continue
            print(markdown(title, drive_set(corpus, bridge_java=not args.no_java_bridge,
                                            database_url=args.database_url)))


if __name__ == "__main__":
    main()
