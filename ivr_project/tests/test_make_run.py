"""`make run`, as a newcomer types it: a private .env on the first run, a quiet Ctrl-C.

The Makefile runs in a temporary folder with a stand-in for .venv/bin/python:
manage.py commands are only noted (web and worker wait for a signal, as
servers do), anything else goes to the real interpreter.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

STAND_IN = """#!{python}
import os, signal, sys

args = sys.argv[1:]
if args[:1] != ["manage.py"]:
    os.execv({python!r}, [{python!r}, *args])
command = args[1]
log = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "commands.log")


def note(line):
    with open(log, "a") as f:
        f.write(line + "\\n")


note(f"started {{command}} {{os.getpid()}}")
note("args " + " ".join(args[1:]))
if command in ("runserver", "db_worker"):

    def stop(signum, frame):
        note(f"stopped {{command}}")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        signal.pause()
"""


@pytest.fixture
def checkout(tmp_path):
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(STAND_IN.format(python=sys.executable))
    python.chmod(0o755)
    (tmp_path / ".venv" / ".installed").touch()  # newer than requirements.txt: nothing to install
    # The Python >= 3.12 that the Makefile looks for on PATH: the one running the tests.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(sys.executable)
    return tmp_path


def _environment(checkout) -> dict:
    environment = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG")}
    environment["PATH"] = f"{checkout / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return environment


def _log(checkout) -> list[str]:
    path = checkout / "commands.log"
    return path.read_text().splitlines() if path.exists() else []


def make_run_then_ctrl_c(checkout) -> subprocess.CompletedProcess:
    """`make run` until web and both workers are up, then Ctrl-C (SIGINT to its process group)."""
    process = subprocess.Popen(
        ["make", "run", "PORT=8765"],  # noqa: S607
        cwd=checkout,
        env=_environment(checkout),
        start_new_session=True,
        # As from a terminal, whatever ran the tests: a job started in the background
        # ignores Ctrl-C, and a shell cannot trap a signal it was started ignoring.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 15
    while sorted(
        line.split()[1]
        for line in _log(checkout)
        if line.split()[:2] in (["started", "runserver"], ["started", "db_worker"])
    ) != ["db_worker", "db_worker", "db_worker", "runserver"]:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"web and workers never started:\n{out}\n{err}")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=10)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_the_first_run_writes_a_private_env_file_with_a_new_secret_key(checkout):
    make_run_then_ctrl_c(checkout)

    env_file = checkout / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert values["DEBUG"] == "true"
    assert len(values["SECRET_KEY"]) >= 50


def test_a_later_run_keeps_the_env_file(checkout):
    (checkout / ".env").write_text("SECRET_KEY=mine\n")

    make_run_then_ctrl_c(checkout)

    assert (checkout / ".env").read_text() == "SECRET_KEY=mine\n"


def test_terminal_commands_work_with_the_env_file_alone(checkout):
    make_run_then_ctrl_c(checkout)
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    environment["ENV_FILE"] = str(checkout / ".env")

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_ctrl_c_stops_web_and_every_worker_quietly(checkout):
    result = make_run_then_ctrl_c(checkout)

    log = _log(checkout)
    assert "stopped runserver" in log
    assert log.count("stopped db_worker") == 3
    for line in log:
        if line.startswith("started"):
            with pytest.raises(ProcessLookupError):
                os.kill(int(line.split()[2]), 0)
    assert "***" not in result.stderr
    assert "Segmentation fault" not in result.stderr
    assert "Terminated" not in result.stderr


def test_outcome_events_and_reports_have_a_worker_of_their_own(checkout):
    make_run_then_ctrl_c(checkout)

    workers = sorted(line for line in _log(checkout) if line.startswith("args db_worker"))
    assert workers == [
        "args db_worker --queue-name * --exclude-queues events,reports --interval 0.2 --no-reload",
        "args db_worker --queue-name events --interval 0.2 --no-reload",
        "args db_worker --queue-name reports --no-reload",
    ]
    assert "args register_event_receiver" in " ".join(_log(checkout))
