"""Rebuild web/translations from the strings in web/ and tools/zh_CN.tsv.

Run ``python tools/catalogues.py`` after adding a string; the test suite fails while any string
on the pages lacks a Chinese translation.
"""

from __future__ import annotations

import pathlib
import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

ROOT = pathlib.Path(__file__).resolve().parents[1]
METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted() -> list[str]:
    found: dict[str, None] = {}
    for _file, _line, message, _comments, _ctx in extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS):
        found[message if isinstance(message, str) else message[0]] = None
    return list(found)


def chinese() -> dict[str, str]:
    rows = (line.split("\t") for line in (ROOT / "tools" / "zh_CN.tsv").read_text().splitlines() if line.strip())
    return {src: dst for src, dst in rows}


def build() -> list[str]:
    messages, zh = extracted(), chinese()
    missing = [m for m in messages if m not in zh]
    for locale, table in (("zh_CN", zh), ("en", {m: m for m in messages})):
        catalog = Catalog(locale=locale, project="aftersales")
        for m in messages:
            catalog.add(m, table.get(m, ""))
        out = ROOT / "web" / "translations" / locale / "LC_MESSAGES" / "messages.po"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as f:
            write_po(f, catalog, omit_header=False, sort_output=True, width=0)
    return missing


if __name__ == "__main__":
    missing = build()
    if missing:
        print("no Chinese for:", *missing, sep="\n  ")
        sys.exit(1)
    print("catalogues written")
