"""Camunda's connectors, as handlers registered under their connector ids.

A service task with ``<camunda:connector>`` runs the handler registered under its ``connectorId``; the
connector's ``inputOutput`` maps variables in and its results out (``engine/camunda_extras.py``), as in
Camunda:

* ``http-connector`` (httpx): inputs ``url``, ``method`` (GET), ``headers`` (a map), ``payload`` (text, or a
  map / list sent as JSON); results ``statusCode``, ``response`` (the body as text), ``headers``. An HTTP
  error status is a result, not a failure (as in Camunda); a network error fails the step.
* ``mail-connector`` (also as ``mail-send``, camunda-platform-7-mail's id): inputs ``to`` (comma-separated addresses), ``subject``, ``text`` (or ``html``); the mail
  goes through the notifications outbox (sent after the step commits, retried); result ``messageQueued``.
"""

from __future__ import annotations

import httpx

from engine import notifications
from engine.service_tasks import HandlerContext, HandlerRegistry


def http_connector(ctx: HandlerContext) -> dict:
    v = ctx.variables
    if not v.get("url"):
        raise ValueError("http-connector: the input parameter 'url' is missing")
    payload = v.get("payload")
    body = {"json": payload} if isinstance(payload, dict | list) else {"content": payload} if payload is not None else {}
    with httpx.Client(transport=ctx.settings.get("http_transport"),
                      timeout=float(ctx.settings.get("http_timeout", 10))) as client:
        response = client.request(str(v.get("method") or "GET").upper(), str(v["url"]),
                                  headers={str(k): str(h) for k, h in (v.get("headers") or {}).items()}, **body)
    return {"statusCode": response.status_code, "response": response.text, "headers": dict(response.headers)}


def mail_connector(ctx: HandlerContext) -> dict:
    v = ctx.variables
    recipients = [a.strip() for a in str(v.get("to") or "").split(",") if a.strip()]
    if not recipients:
        raise ValueError("mail-connector: the input parameter 'to' is missing")
    for address in recipients:
        notifications.queue(ctx.session, kind="mail", recipient=f"email:{address}", subject=str(v.get("subject") or ""),
                            body=str(v.get("text") or v.get("html") or ""), now=ctx.now, instance_id=ctx.instance_id,
                            dedupe_key=f"mail:{ctx.instance_id}:{ctx.element_id}:{address}:{ctx.now.isoformat()}")
    return {"messageQueued": len(recipients)}


def register(registry: HandlerRegistry) -> None:
    registry.register("http-connector", http_connector, writes=False)
    registry.register("mail-connector", mail_connector)
    registry.register("mail-send", mail_connector)  # the id camunda-platform-7-mail's connector goes by
