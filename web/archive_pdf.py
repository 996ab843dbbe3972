"""The case archive as one PDF (R13): the repair request, work order(s), fee settlement and follow-up
record of a case, an A4 page each, rendered by WeasyPrint from ``templates/archive_pdf.html``.

The documents come from ``handlers/case_archive.py`` (which, in what order, which fields); what the
reader may see is the access policy's (``engine/access.py`` ``document_data``: the case must be
theirs to see, contact data only for groups that see it, every read of it logged) — exactly as the
documents API answers. The archive is a Chinese document whatever the page language: headings and
labels as the zh-CN pages show them (``web/pages/labels.py``), values by their choice names, local
times, people by display name. Text is set in Noto Sans CJK SC (Debian's ``fonts-noto-cjk``);
WeasyPrint subsets it with HarfBuzz (``libharfbuzz-subset0``), without which a page takes seconds.
The HTML never fetches anything: no URL is resolved, so no value in a document can make the
renderer read a file or the network.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from engine import access
from engine.users import Actor
from handlers import case_archive

from .context import db, engine
from .pages import labels

LANGUAGE = "zh_CN"


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"the archive fetches nothing ({url[:40]})")


def _text(name: str, value: Any) -> str:
    if name in case_archive.PEOPLE and isinstance(value, str):
        return labels.person_name(value)
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    return labels.value_for(name, value)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _page_counter() -> str:
    """"Page N of M" in the archive's language as a CSS ``content`` value with the page counters."""
    marked = _("Page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00")
    parts = marked.split("\x00")
    return " ".join(f"counter({p})" if n % 2 else _css_string(p) for n, p in enumerate(parts) if p or n % 2)


def render(instance_id: int, actor: Actor, via: str) -> tuple[bytes, str]:
    """The PDF and its file name; ``NotPermitted`` for a case not the actor's, ``Conflict`` for a
    case with no archive documents yet."""
    e = engine()
    instance = e.get_instance(db(), instance_id)
    access.require_case(db(), actor, instance)
    found = case_archive.collect(db(), instance)
    shown = access.document_data(db(), actor, instance, found, e.clock.now(), via)
    case_no = instance.business_key or str(instance.id)
    with force_locale(LANGUAGE):
        pages = [{"kind": d.kind, "title": str(labels.DOC_TITLES[d.kind]), "number": d.number,
                  "created_at": labels.local(d.created_at), "archived_at": labels.local(d.archived_at),
                  "rows": [(labels.field_label(k), _text(k, v)) for k, v in case_archive.rows(d.kind, data)]}
                 for d, data in zip(found, shown, strict=True)]
        html = render_template("archive_pdf.html", pages=pages, case_no=case_no,
                               process=labels.process_name(instance.key), page_counter=_page_counter())
    from weasyprint import HTML  # imported on first use: loading pango and the fonts costs ~0.5 s

    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(), re.sub(r"[^A-Za-z0-9._-]", "_", case_no) + "-archive.pdf"


def response(instance_id: int, actor: Actor, via: str) -> Response:
    pdf, filename = render(instance_id, actor, via)
    answer = Response(pdf, mimetype="application/pdf")
    answer.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    answer.headers["Cache-Control"] = "no-store"  # contact data: never kept by a browser or proxy
    return answer
