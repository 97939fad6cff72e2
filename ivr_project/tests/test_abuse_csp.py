"""Django's Content-Security-Policy on every page, and no inline script for it to allow."""

import re

import pytest

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
PAGES = [
    "/",
    "/?q=asha",
    "/t/TXN001",
    "/admin/",
    "/admin/transactions/transaction/",
    "/admin/transactions/transaction/{pk}/change/",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_policy_without_inline_script(supervisor_client, txn, path):
    response = supervisor_client.get(path.format(pk=txn.pk))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["frame-ancestors"] == "'none'"
    page = response.content.decode()
    assert INLINE_SCRIPT.findall(page) == []
    assert INLINE_HANDLER.findall(page) == []
    assert "javascript:" not in page.lower()


def test_the_login_page_has_it_before_anyone_signs_in(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert INLINE_SCRIPT.findall(response.content.decode()) == []
