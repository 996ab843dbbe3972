"""zh-CN and English are both complete: every string on the pages has a translation."""

from __future__ import annotations

import importlib.util

from babel.messages.pofile import read_po

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("catalogues", ROOT / "tools" / "catalogues.py")
catalogues = importlib.util.module_from_spec(spec)
spec.loader.exec_module(catalogues)


def test_every_page_string_is_translated_in_both_languages():
    strings = set(catalogues.extracted())
    assert len(strings) > 100
    for locale in ("zh_CN", "en"):
        with (ROOT / "web" / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
            catalog = read_po(f)
        translated = {m.id: m.string for m in catalog if m.id}
        missing = sorted(s for s in strings if not translated.get(s))
        assert missing == [], f"{locale}: run tools/catalogues.py; untranslated: {missing[:10]}"
    zh = catalogues.chinese()
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in zh[s]) for s in strings if s.strip("%()s.—… ")), \
        "a Chinese translation without Chinese characters"
