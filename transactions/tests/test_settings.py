"""Settings read from the environment: checked in fresh processes, as a deployment starts them."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# A fresh process gets only these from the test run: nothing the suite or a
# test set (DEBUG, DJANGO_ALLOW_ASYNC_UNSAFE, ...) leaks into "production".
_KEPT = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV"}


def run_django(code_or_args, **env):
    """Run manage.py (a list of arguments) or Python code (a string) in a fresh process.

    A developer's .env (written by `make run`) is not read: ENV_FILE names no file.
    """
    environment = {k: v for k, v in os.environ.items() if k in _KEPT}
    environment["ENV_FILE"] = str(ROOT / "var" / "no-such.env")
    environment.update(env, DJANGO_SETTINGS_MODULE="ivr_project.settings")
    if isinstance(code_or_args, str):
        command = [sys.executable, "-c", code_or_args]
    else:
        command = [sys.executable, "manage.py", *code_or_args]
    return subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#Kq9!vR2@pL5$wN8^tY3&zB6*hJ4(mC1)dF0-gS_aE+uQ,iO.nW;rT:yU<eI>oP",
    "ALLOWED_HOSTS": "fraud.bank.example",
    "PUBLIC_URL": "https://fraud.bank.example",
    "TWILIO_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "f" * 32,
    "TWILIO_NUMBER": "+15005550006",
    "STATIC_MANIFEST": "true",
}


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    # An empty value, not a missing one: a developer's .env must not fill it in.
    result = run_django("import django; django.setup()", DEBUG="false", SECRET_KEY="")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def settings_in_a_fresh_process(*names, **env) -> list[str]:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        f"print(*[getattr(settings, name) for name in {list(names)!r}])"
    )
    result = run_django(code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_debug_needs_a_secret_key_too():
    # No key known to anyone who has read the repo: it signs sessions and the simulator's
    # credentials (webhook signatures, its REST API), even on a laptop.
    result = run_django("import django; django.setup()", DEBUG="true", SECRET_KEY="")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "make run" in result.stderr


def test_it_reads_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "SECRET_KEY=from-the-env-file-0123456789abcdefghijklmnopqrstuvwxyz\nDEBUG=true\n"
    )
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY)"
    )
    environment = {k: v for k, v in os.environ.items() if k in _KEPT}
    environment.update(DJANGO_SETTINGS_MODULE="ivr_project.settings", ENV_FILE=str(env_file))

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["from-the-env-file-0123456789abcdefghijklmnopqrstuvwxyz"]


def test_the_simulators_credentials_follow_the_secret_key():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.TWILIO_SID, settings.TWILIO_AUTH_TOKEN)"
    )
    first = run_django(code, DEBUG="true", SECRET_KEY="a" * 50, TWILIO_SID="")
    second = run_django(code, DEBUG="true", SECRET_KEY="b" * 50, TWILIO_SID="")

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert set(first.stdout.split()).isdisjoint(second.stdout.split())


# A secret written in a file: a quoted literal given to SECRET_KEY, or SECRET_KEY=word (shell, env).
_LITERAL_KEY = re.compile(
    r"""SECRET_KEY["']?\s*[:=]\s*["'](?P<quoted>[^"']+)["']"""
    r"""|["']SECRET_KEY["']\s*,\s*["'](?P<default>[^"']+)["']"""
    r"""|(?:^|\s)SECRET_KEY=(?P<bare>[A-Za-z0-9][^\s(]*)(?:\s|$)""",
    re.M,
)


def test_no_secret_key_is_written_in_the_repo():
    # Tests' throwaway keys aside, every key comes from the environment or a generated .env.
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = []
    for name in listed:
        path = ROOT / name
        if "/tests/" in f"/{name}" or not path.is_file() or path.stat().st_size > 1_000_000:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {m.group(0).strip()}" for m in _LITERAL_KEY.finditer(text)]

    assert found == []


def test_the_deployment_checklist_is_clean_with_production_settings():
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_are_secure_by_default():
    values = settings_in_a_fresh_process(
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SIMULATION",
        **PRODUCTION,
    )

    assert values == ["True", "True", "True", "31536000", "False"]


def test_a_proxy_that_terminates_tls_can_switch_the_redirect_off():
    values = settings_in_a_fresh_process(
        "SECURE_SSL_REDIRECT", **PRODUCTION, SECURE_SSL_REDIRECT="false"
    )

    assert values == ["False"]


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_immediate_transactions(tmp_path):
    # In a fresh process on its own SQLite file, so it runs whichever database the suite uses.
    code = (
        "import django; django.setup(); from django.db import connection; "
        "c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA busy_timeout').fetchone()[0], "
        "connection.settings_dict['OPTIONS']['transaction_mode'])"
    )
    result = run_django(
        code,
        DATABASE_URL=f"sqlite:///{tmp_path / 'wal.sqlite3'}",
        DEBUG="true",
        SECRET_KEY=PRODUCTION["SECRET_KEY"],
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000", "IMMEDIATE"]


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "ivr_project" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def test_env_example_documents_every_variable():
    documented = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M)
    )
    read = _variables_read_by_settings()

    assert len(read) > 20
    assert read - documented == set()


def test_the_readme_configuration_table_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", table, re.M))

    assert _variables_read_by_settings() | {"DEMO_PASSWORD"} <= listed
