"""``aftersales serve --workers N``: N web processes under gunicorn (Unix; waitress serves N=1 and
platforms without fork). Each process builds its own app after the fork (its own connection pool);
the schema was checked once in the master before forking."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class WebProcesses(BaseApplication):
    def __init__(self, host: str, port: int, workers: int, threads: int = 4, timers: bool = False):
        self.options = {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
                        "timeout": 60, "graceful_timeout": 20, "accesslog": None, "proc_name": "aftersales-web"}
        self.timers = timers
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app({"TIMERS": self.timers})
