"""Does a flood of wrong passwords slow down a real user?

Run: ``python benchmarks/login_flood.py [--database URL] [--seconds 20] [--flooders 8]``.
Serves the app with waitress (16 threads, as ``aftersales serve``) in a child process on a free
127.0.0.1 port, against a fresh database (a temporary SQLite file by default; a PostgreSQL URL is
emptied first) with production Argon2 costs. A correct client (Bearer token, ``GET /api/tasks``)
counts its answers for ``--seconds`` alone, then again while ``--flooders`` clients, each from its
own loopback address (127.0.0.2 …), send HTTP Basic requests with wrong passwords as fast as they
are answered. Prints both figures and their ratio; asserts nothing (the target, at most 2× slower,
is in the README and issue 8). Timings on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str) -> None:
    import handlers
    from engine import users
    from engine.clock import SystemClock
    from engine.db import make_engine
    from engine.models import Base
    from engine.users import SYSTEM
    from engine.wiring import build

    if url.startswith("postgres"):
        eng = make_engine(url)
        Base.metadata.drop_all(eng)
        eng.dispose()
    engine, sessions, db = build(handlers.default_registry(), url)
    files = {p.name: p.read_bytes() for p in (ROOT / "processes").iterdir() if p.suffix in (".bpmn", ".dmn")}
    with sessions() as s:
        engine.deploy(s, files, SYSTEM)
        for name in ("customer_service", "supervisor", "admin", "technician"):
            users.add_user(s, name, "correct-horse", [name] if name != "admin" else ["admin"], now=SystemClock().now())
        s.commit()
    db.dispose()


def _serve(url: str, port: int) -> None:
    import logging

    from waitress import serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" under the flood

    from web import create_app

    app = create_app({"DATABASE_URL": url})
    serve(app, host="127.0.0.1", port=port, threads=16, ident="bench", _quiet=True)  # as `aftersales serve`


def _request(conn: http.client.HTTPConnection, path: str, headers: dict, method: str = "GET", body=None) -> int:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def _flooder(port: int, index: int, stop_at: float, counts) -> None:
    """Wrong passwords for existing and made-up users, from loopback address 127.0.0.(index+2)."""
    names = ["supervisor", "admin", "customer_service", f"nobody{index}"]
    sent, n = 0, 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(f"127.0.0.{index + 2}", 0))
    while time.monotonic() < stop_at:
        user = names[n % len(names)]
        n += 1
        creds = base64.b64encode(f"{user}:wrong{n}".encode()).decode()
        try:
            _request(conn, "/api/tasks", {"Authorization": f"Basic {creds}"})
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                              source_address=(f"127.0.0.{index + 2}", 0))
        sent += 1
    counts[index] = sent


def _flood_process(port: int, flooders: int, stop_at: float, counts) -> None:
    threads = [threading.Thread(target=_flooder, args=(port, i, stop_at, counts)) for i in range(flooders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _legit(port: int, token: str, seconds: float) -> tuple[int, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ok = other = 0
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        status = _request(conn, "/api/tasks", {"Authorization": f"Bearer {token}"})
        if status == 200:
            ok += 1
        else:
            other += 1
    conn.close()
    return ok, other


def _wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            if _request(conn, "/health", {}) == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not come up")


def run(url: str, seconds: float, flooders: int) -> None:
    _prepare(url)
    port = _free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port)],
                              env={**os.environ, "LOG_LEVEL": "ERROR"})
    try:
        _wait_up(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        creds = base64.b64encode(b"customer_service:correct-horse").decode()
        conn.request("POST", "/api/tokens", body=json.dumps({"label": "bench"}),
                     headers={"Authorization": f"Basic {creds}", "Content-Type": "application/json"})
        token = json.loads(conn.getresponse().read())["token"]
        conn.close()
        _legit(port, token, 2)  # warm up
        alone, _ = _legit(port, token, seconds)
        counts = multiprocessing.Manager().dict()
        stop_at = time.monotonic() + seconds + 3
        flood = multiprocessing.Process(target=_flood_process, args=(port, flooders, stop_at, counts))
        flood.start()
        time.sleep(2)  # let the flood reach full speed (and any lockout set in)
        flooded, refused = _legit(port, token, seconds)
        flood.join()
        engine_name = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"{engine_name}: correct client alone        {alone:6d} requests / {seconds:.0f} s")
        print(f"{engine_name}: with {flooders} wrong-password clients {flooded:6d} requests / {seconds:.0f} s"
              f"  (non-200: {refused}; flood requests answered: {sum(counts.values())})")
        print(f"{engine_name}: slowdown {alone / max(flooded, 1):.2f}x (target: at most 2x)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=None, help="DATABASE_URL (default: a temporary SQLite file)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--flooders", type=int, default=8)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args.database or f"sqlite:///{tmp}/flood.db", args.seconds, args.flooders)


if __name__ == "__main__":
    main()
