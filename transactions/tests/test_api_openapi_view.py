"""GET /api/v1/openapi.json (the API's OpenAPI 3.1 description) and /api/v1/docs (Swagger UI)."""

import re

from transactions.tests.openapi import document

SCHEMA = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"


def test_the_description_requires_a_key_or_a_sign_in(client, db):
    response = client.get(SCHEMA)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_a_key_reads_the_description(client, api_key):
    response = client.get(SCHEMA, headers={"Authorization": f"Bearer {api_key[1]}"})
    assert response.status_code == 200
    body = response.json()
    assert body["openapi"].startswith("3.1")
    assert set(body["paths"]) == {"/api/v1/alerts", "/api/v1/alerts/{public_id}"}
    assert body["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_it_is_the_description_the_tests_check_responses_against(client, api_key):
    served = client.get(SCHEMA, headers={"Authorization": f"Bearer {api_key[1]}"}).json()
    assert served == document()


def test_staff_who_see_transactions_read_it_signed_in(client, alice, eve):
    client.force_login(alice)
    assert client.get(SCHEMA).status_code == 200
    client.force_login(eve)
    assert client.get(SCHEMA).status_code == 403


def test_it_rejects_post(client, api_key):
    response = client.post(SCHEMA, headers={"Authorization": f"Bearer {api_key[1]}"})
    assert response.status_code == 405


def test_every_error_is_documented_as_problem_json():
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == ["application/problem+json"], (
                        f"{method} {path} {status}"
                    )


def test_the_docs_page_sends_anonymous_users_to_sign_in(client, db):
    response = client.get(DOCS)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_docs_page_runs_only_our_own_static_scripts(analyst_client):
    response = analyst_client.get(DOCS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<style" not in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert len(scripts) == 3
    assert all(body.strip() == "" for _, body in scripts), "inline script"
    sources = [re.search(r'src="([^"]+)"', attributes)[1] for attributes, _ in scripts]
    for source in sources:
        assert source.startswith("/"), f"{source} is not ours"
        assert analyst_client.get(source).status_code == 200, source
    init = analyst_client.get(sources[-1]).content.decode()
    assert SCHEMA in init


def test_the_docs_page_needs_a_role(client, eve):
    client.force_login(eve)
    assert client.get(DOCS).status_code == 403


def test_a_web_worker_loads_django_rest_framework_only_to_serve_the_api():
    # 20 MB in every web worker (DRF imports psycopg, requests, pyyaml... when installed):
    # only a worker that serves the API pays it.
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup();"
        "from django.urls import resolve; resolve('/api/v1/alerts'); resolve('/healthz');"
        "from django.template.loader import get_template; get_template('base.html');"
        "print('rest_framework.views' in sys.modules, 'drf_spectacular.views' in sys.modules)"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "False"]
