"""The command line: deploy from a git checkout records the commit; export writes current versions back."""

from __future__ import annotations

import shutil
import subprocess

from click.testing import CliRunner

from engine.models import Deployment
from tests.conftest import PROCESSES
from web.cli import main


def test_deploy_records_git_commit_and_export_round_trips(tmp_path, database_url, monkeypatch):
    repo = tmp_path / "flows"
    shutil.copytree(PROCESSES, repo)
    for cmd in (["init", "-q"], ["add", "."], ["-c", "user.email=t@x", "-c", "user.name=t", "commit", "-qm", "flows"]):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True)
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    r = runner.invoke(main, ["deploy", str(repo), "--comment", "from git"])
    assert r.exit_code == 0, r.output
    assert "repair v1 (new)" in r.output
    again = runner.invoke(main, ["deploy", str(repo)])
    assert "repair v1 (unchanged)" in again.output
    import handlers
    from engine.wiring import build

    _e, sessions, db = build(handlers.default_registry(), database_url)
    with sessions() as s:
        (dep,) = s.query(Deployment).all()
        assert dep.git_commit == commit and dep.comment == "from git"
    db.dispose()
    out = tmp_path / "out"
    r = runner.invoke(main, ["export", str(out)])
    assert r.exit_code == 0, r.output
    for f in PROCESSES.iterdir():
        assert (out / f.name).read_bytes() == f.read_bytes()
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<bpmn:definitions")
    r = runner.invoke(main, ["deploy", str(broken)])
    assert r.exit_code == 1 and "not well-formed" in r.output


def test_export_keeps_uploaded_paths_inside_the_folder(tmp_path, database_url, monkeypatch, app):
    from tests.conftest import Api, process_files

    api = Api(app.test_client())
    files = process_files()
    r = api.deploy("admin", {"../../x.bpmn": files["repair.bpmn"], "/etc/cron.d/evil.dmn": files["return_eligibility.dmn"],
                             **{k: v for k, v in files.items() if k not in ("repair.bpmn", "return_eligibility.dmn")}})
    assert r.status_code == 201, r.json
    monkeypatch.setenv("DATABASE_URL", database_url)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    r = CliRunner().invoke(main, ["export", "out"])
    assert r.exit_code == 0, r.output
    assert (work / "out" / "x.bpmn").read_bytes() == files["repair.bpmn"]
    assert (work / "out" / "evil.dmn").read_bytes() == files["return_eligibility.dmn"]
    assert not (tmp_path / "x.bpmn").exists() and not (tmp_path / "a" / "x.bpmn").exists()
    assert sorted(p.name for p in (work / "out").iterdir()) == sorted(
        ["x.bpmn", "evil.dmn", *(k for k in files if k not in ("repair.bpmn", "return_eligibility.dmn"))])
