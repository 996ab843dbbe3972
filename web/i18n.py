"""zh-CN first, English second: chosen from the browser's language, remembered in a cookie.

Catalogues are gettext ``.po`` files under ``web/translations``, compiled to ``.mo`` when the app
starts (into a cache folder), so a fresh checkout needs no build step.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import tempfile

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, get_locale

SOURCE = pathlib.Path(__file__).resolve().parent / "translations"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
COOKIE = "lang"
# Babel spells zh_CN as zh_Hans_CN once parsed; gettext looks the catalogue up under that name.
ALIASES = {"zh_CN": ("zh_Hans_CN", "zh_Hans", "zh")}


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return "en" if best == "en" else DEFAULT


def compile_catalogues() -> str:
    """Compile every .po to .mo in a cache folder keyed by the catalogues' content."""
    pos = sorted(SOURCE.glob("*/LC_MESSAGES/messages.po"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in pos)).hexdigest()[:16]
    target = pathlib.Path(tempfile.gettempdir()) / f"aftersales-translations-{digest}"
    for po in pos:
        relative = po.relative_to(SOURCE).with_suffix(".mo")
        for mo in [target / relative, *(target / alias / relative.relative_to(relative.parts[0])
                                         for alias in ALIASES.get(relative.parts[0], ()))]:
            _compile(po, mo)
    return str(target)


def _compile(po: pathlib.Path, mo: pathlib.Path) -> None:
    if mo.exists():
        return
    mo.parent.mkdir(parents=True, exist_ok=True)
    with po.open("rb") as f:
        catalog = read_po(f)
    tmp = mo.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        write_mo(f, catalog)
    tmp.replace(mo)


def init(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compile_catalogues()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["current_language"] = select_locale
