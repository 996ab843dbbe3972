"""The KPI dashboard (R25) for supervisors and admins: charts with the numbers beside them, every
number a link to the cases it counts, CSV and XLSX export. Figures: ``engine/kpis.py``."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask import Blueprint, Response, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from openpyxl import Workbook
from openpyxl.styles import Font

from engine import groups, kpis

from ..api.kpis import asked, require_kpis
from ..context import db, engine
from ..i18n import select_locale
from .login import actor

bp = Blueprint("dashboard", __name__)


def dimension_names() -> dict[str, str]:
    return {"month": _("Month"), "week": _("Week"), "group": _("Team"), "technician": _("Technician"),
            "product": _("Product model"), "region": _("Region")}


def process_names() -> dict[str, str]:
    return {"repair": _("Repair case"), "complaint": _("Complaint case"), "return_exchange": _("Return / exchange"),
            "follow_up": _("Follow-up visits"), "dispatch": _("Dispatch")}


def row_label(by: str, key: str | None) -> str:
    """A row as people read it: 2026年11月, the week of 2026-11-23, 维修工程师, 未知."""
    if key is None:
        return _("Total")
    if key == "":
        return _("Unknown")
    if by in ("month", "week") and key in (kpis.BEFORE, kpis.AFTER):
        return _("Reported before the period") if key == kpis.BEFORE else _("Reported after the period")
    if by == "month":
        year, month = key.split("-")
        return _("%(year)s-%(month)s", year=year, month=int(month))
    if by == "week":
        return _("Week of %(day)s", day=key)
    if by == "group":
        if "group_names" not in g:  # groups are data: their names read once per request
            g.group_names = groups.names(db())
        names = g.group_names.get(key)
        if names:
            return names[0] if select_locale() == "zh_CN" else names[1]
    return key


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


# (metric shown, heading, value of a row, drill-down metric or None)
Column = tuple[str, Callable[[], str], Callable[[dict], object], str | None]


def columns() -> list[Column]:
    """The figures table's columns, in order; also the export's columns."""
    cols: list[Column] = [
        ("service_cases", lambda: _("Service cases"), lambda r: r["service_cases"], "service_cases"),
        ("complaints", lambda: _("Complaints"), lambda r: r["complaints"], "complaints"),
        ("complaint_rate", lambda: _("Complaint rate"), lambda r: r["complaint_rate"], None),
        ("work_orders", lambda: _("Work orders"), lambda r: r["work_orders"], "work_orders"),
        ("work_orders_on_time", lambda: _("On time"), lambda r: r["work_orders_on_time"], "work_orders_on_time"),
        ("on_time_rate", lambda: _("On-time repair rate"), lambda r: r["on_time_rate"], None),
        ("repairs_checked", lambda: _("Repairs checked"), lambda r: r["repairs_checked"], "repairs_checked"),
        ("first_time_fixes", lambda: _("Fixed the first time"), lambda r: r["first_time_fixes"], "first_time_fixes"),
        ("first_time_fix_rate", lambda: _("First-time fix rate"), lambda r: r["first_time_fix_rate"], None),
        ("rated_cases", lambda: _("Follow-ups rated"), lambda r: r["rated_cases"], "rated_cases"),
        ("satisfaction", lambda: _("Mean satisfaction (1-5)"), lambda r: r["satisfaction"], None),
    ]
    for rule in kpis.RULES:
        cols.append((f"breach_{rule}", lambda rule=rule: _("%(rule)s breaches", rule=rule),
                     lambda r, rule=rule: r["breaches"][rule], f"breach_{rule}"))
    for age, _low, _high in kpis.AGES:
        cols.append((f"open_{age}", lambda age=age: _("Open %(age)s days", age=age),
                     lambda r, age=age: r["open"][age], f"open_{age}"))
    return cols


RATES = {"complaint_rate", "on_time_rate", "first_time_fix_rate"}


def _display(name: str, value) -> str:
    if name in RATES:
        return _percent(value)
    return _number(value) if isinstance(value, float) or value is None else str(value)


def _found():
    span, by = asked()
    return span, by, kpis.figures(db(), span, by, engine().clock.now())


def query(span: kpis.Period, by: str, **more) -> dict:
    """The URL arguments of this period and dimension (``from`` is a keyword in Python and Jinja)."""
    return {"from": span.start.isoformat(), "to": span.end.isoformat(), "by": by, **more}


def drill_url(span: kpis.Period, by: str, metric: str, key: str | None) -> str:
    extra = {"metric": metric} | ({} if key is None else {"key": key})
    return url_for("dashboard.drill_down", **query(span, by, **extra))


@bp.get("/dashboard")
@login_required
def show():
    require_kpis(actor())
    span, by, found = _found()
    rows = [*found["rows"], found["total"]]
    chart = {
        "labels": [row_label(by, r["key"]) for r in found["rows"]],
        "rates": [{"label": label, "data": [None if r[k] is None else round(r[k] * 100, 1) for r in found["rows"]]}
                  for k, label in (("complaint_rate", _("Complaint rate")), ("on_time_rate", _("On-time repair rate")),
                                   ("first_time_fix_rate", _("First-time fix rate")))],
        "satisfaction": [r["satisfaction"] for r in found["rows"]],
        "satisfaction_label": _("Mean satisfaction (1-5)"),
        "breaches": [{"label": rule, "data": [r["breaches"][rule] for r in found["rows"]]} for rule in kpis.RULES],
        "open_labels": [_("%(age)s days", age=a[0]) for a in kpis.AGES],
        "open": [found["total"]["open"][a[0]] for a in kpis.AGES],
        "open_label": _("Open cases"),
        "percent": _("Percent"),
    }
    return render_template("dashboard.html", span=span, by=by, rows=rows, columns=columns(), display=_display,
                           row_label=row_label, dimensions=dimension_names(), chart=chart, rules=kpis.RULES,
                           ages=kpis.AGES, drill_url=drill_url, query=query)


@bp.get("/dashboard/cases")
@login_required
def drill_down():
    require_kpis(actor())
    span, by = asked()
    name = kpis.metric(request.args.get("metric"))
    key = request.args.get("key")
    found, count = kpis.drill_down(db(), span, by, engine().clock.now(), name, key)
    heading = next((c[1]() for c in columns() if c[0] == name), name)
    return render_template("dashboard_cases.html", span=span, by=by, key=key, metric=name, heading=heading,
                           row=row_label(by, key), cases=found, count=count, dimensions=dimension_names(), query=query,
                           processes=process_names())


def _table() -> tuple[list[str], list[list], str]:
    span, by, found = _found()
    cols = columns()
    head = [dimension_names()[by], *[c[1]() for c in cols]]
    body = [[row_label(by, r["key"]), *[c[2](r) for c in cols]] for r in [*found["rows"], found["total"]]]
    return head, body, f"kpis-{span.start.isoformat()}-{span.end.isoformat()}-{by}"


@bp.get("/dashboard/export.csv")
@login_required
def export_csv():
    require_kpis(actor())
    head, body, name = _table()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    writer.writerows([["" if v is None else v for v in row] for row in body])
    # a BOM so that Excel opens the Chinese headings as UTF-8
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}.csv"})


@bp.get("/dashboard/export.xlsx")
@login_required
def export_xlsx():
    require_kpis(actor())
    head, body, name = _table()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "KPI"
    sheet.append(head)
    for row in body:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rate_columns = [i + 2 for i, c in enumerate(columns()) if c[0] in RATES]
    for index in rate_columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={name}.xlsx"})
