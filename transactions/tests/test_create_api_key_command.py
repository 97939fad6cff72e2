"""manage.py create_api_key NAME: a working key, printed once as the last line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from transactions.models import ApiKey


def _run(*args) -> list[str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_it_prints_a_key_that_opens_the_api(client, db):
    key = _run("core-banking")[-1]
    response = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert ApiKey.find(key).name == "core-banking"


def test_it_keeps_only_the_keys_hash(db):
    key = _run("core-banking")[-1]
    row = ApiKey.objects.get()
    assert key not in {row.key_hash, row.prefix, row.name}
    assert row.key_hash == ApiKey.digest(key)


def test_it_sets_the_rate_limit_asked_for(db):
    _run("cards", "--rate-limit", "10/1s")
    assert ApiKey.objects.get().rate_limit == "10/1s"


def test_it_refuses_a_name_already_used(db):
    _run("core-banking")
    with pytest.raises(CommandError, match="name"):
        _run("core-banking")
    assert ApiKey.objects.count() == 1


def test_it_refuses_a_malformed_rate_limit(db):
    with pytest.raises(CommandError, match="rate_limit"):
        _run("cards", "--rate-limit", "lots")
    assert not ApiKey.objects.exists()
