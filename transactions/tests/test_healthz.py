"""/healthz: the load balancer's probe."""

import json
import socket

import pytest

from ivr_project.tests.another_process import in_another_process

# Another process, so that its database and only its database is out of reach.
PROBE = """
r = Client().get("/healthz")
print(r.status_code, "no-cache" in r["Cache-Control"], r.content.decode().replace(" ", ""))
"""


def test_it_answers_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_rejects_post(client, db):
    assert client.post("/healthz").status_code == 405


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_it_answers_503_when_the_database_is_unreachable(tmp_path, engine):
    database_url = {
        "sqlite": f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}",
        "postgres": f"postgres://ivr@127.0.0.1:{_refused_port()}/ivr",
    }[engine]

    status, not_cached, body = in_another_process(PROBE, DATABASE_URL=database_url)

    assert status == "503"
    assert json.loads(body) == {"status": "error", "database": "unreachable"}
    # Never cached: the next probe asks the database again.
    assert not_cached == "True"
