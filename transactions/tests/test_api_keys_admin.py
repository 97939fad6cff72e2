"""Admin → API keys: supervisors issue a key (shown once) and revoke it; the hash never shows."""

import re

import pytest

from transactions.models import ApiKey

CHANGELIST = "/admin/transactions/apikey/"
ADD = f"{CHANGELIST}add/"


def _create(client, name="core-banking", rate_limit="600/1m"):
    return client.post(ADD, {"name": name, "rate_limit": rate_limit})


def test_a_supervisor_creates_a_key_and_sees_it_once(supervisor_client, sam, client):
    page = _create(supervisor_client)
    assert page.status_code == 200
    assert "no-cache" in page["Cache-Control"]
    key = re.search(r'<code id="api-key">([^<]+)</code>', page.content.decode())[1]
    api_key = ApiKey.objects.get()
    assert (api_key.name, api_key.created_by) == ("core-banking", sam)
    assert ApiKey.find(key) == api_key
    for url in (CHANGELIST, f"{CHANGELIST}{api_key.pk}/change/"):
        shown = supervisor_client.get(url).content.decode()
        assert key not in shown
        assert api_key.key_hash not in shown
        assert api_key.prefix in shown


def test_the_key_opens_the_api(supervisor_client, client):
    page = _create(supervisor_client).content.decode()
    key = re.search(r'<code id="api-key">([^<]+)</code>', page)[1]
    client.logout()
    response = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_a_bad_rate_limit_is_refused(supervisor_client):
    page = _create(supervisor_client, rate_limit="many")
    assert page.status_code == 200
    assert "A rate limit looks like" in page.content.decode()
    assert not ApiKey.objects.exists()


def test_revoking_a_key_shuts_it_out(supervisor_client, client, api_key):
    row, key = api_key
    response = supervisor_client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [str(row.pk)]}, follow=True
    )
    assert "1 key(s) revoked." in response.content.decode()
    row.refresh_from_db()
    assert row.revoked_at is not None
    client.logout()
    response = client.get("/api/v1/alerts", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401


def test_keys_cannot_be_deleted(supervisor_client, api_key):
    row, _ = api_key
    assert supervisor_client.get(f"{CHANGELIST}{row.pk}/delete/").status_code == 403
    assert ApiKey.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("who", ["alice", "eve"])
def test_only_supervisors_manage_keys(client, request, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(CHANGELIST).status_code == 302
    assert _create(client).status_code == 302
    assert not ApiKey.objects.exists()
