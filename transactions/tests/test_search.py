"""Transaction.objects.search(q): indexed, and the same rows on SQLite and PostgreSQL.

The expected rows below are fixed, so the suite passing on both databases
shows both match the same rows (rules in transactions/indexed.py).
"""

import pytest
from django.db import connection, transaction

from transactions import indexed
from transactions.models import Transaction


@pytest.fixture
def rows(make_transaction):
    make_transaction(
        public_id="TXN-A1",
        card_last4="4821",
        client_name="Asha Rao",
        phone="+919876543210",
        merchant_name="Croma Electronics",
        bank_name="Example Bank",
    )
    make_transaction(
        public_id="TXN-B2",
        card_last4="1234",
        client_name="Ravi Kumar",
        phone="+14155550101",
        merchant_name="Big Bazaar",
        bank_name="State Bank",
    )
    make_transaction(
        public_id="TXN-C3",
        card_last4="0042",
        client_name='Zoë O\'Brien "Zo"',
        phone="+447700900123",
        merchant_name="100% Pure_Juice",
        bank_name="Example Bank",
    )
    make_transaction(
        public_id="ASH",
        card_last4="9876",
        client_name="Meera Iyer",
        phone="+919812345678",
        merchant_name="Flipkart",
        bank_name="HDFC",
    )


def _ids(q):
    return sorted(Transaction.objects.search(q).values_list("public_id", flat=True))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Name, merchant and bank: substrings of three or more characters, any case.
        ("asha", ["TXN-A1"]),
        ("SHA R", ["TXN-A1"]),
        ("kumar", ["TXN-B2"]),
        ("croma", ["TXN-A1"]),
        ("bazaar", ["TXN-B2"]),
        ("example bank", ["TXN-A1", "TXN-C3"]),
        ("  hdfc  ", ["ASH"]),
        # The ID: exact, any case, even when short; from 3 characters also its start,
        # as typed or in capitals; never the middle of it.
        ("txn-b2", ["TXN-B2"]),
        ("TXN-", ["TXN-A1", "TXN-B2", "TXN-C3"]),
        ("txn-", ["TXN-A1", "TXN-B2", "TXN-C3"]),
        ("TXN-B", ["TXN-B2"]),
        ("XN-", []),
        ("-B2", []),
        ("TX", []),
        # "ash" is an ID and a substring of "Asha".
        ("ash", ["ASH", "TXN-A1"]),
        # Phone: the query's digits, three or more, as a substring of the number.
        ("98765", ["TXN-A1"]),
        ("+91 98765 43210", ["TXN-A1"]),
        ("555", ["TXN-B2"]),
        ("+91", []),
        ("919", ["ASH", "TXN-A1"]),
        # The card's last four, as typed or as a masked card shows it.
        ("4821", ["TXN-A1"]),
        ("•••• 4821", ["TXN-A1"]),
        ("xx0042", ["TXN-C3"]),
        ("1234", ["ASH", "TXN-B2"]),  # TXN-B2's card, ASH's phone +919812345678
        ("482", []),
        # Too short for a substring: nothing (not everything).
        ("as", []),
        ("91", []),
        # Characters that mean something to LIKE or FTS5 match literally.
        ("100%", ["TXN-C3"]),
        ("e_j", ["TXN-C3"]),
        ("o'b", ["TXN-C3"]),
        ('"zo"', ["TXN-C3"]),
        ("a* OR b", []),
        ("%%%", []),
        # Unicode letters match themselves and their other case.
        ("zoë", ["TXN-C3"]),
        ("ZOË", ["TXN-C3"]),
        ("nobody", []),
    ],
)
def test_it_matches_the_documented_rows(rows, q, expected):
    assert _ids(q) == expected


def test_an_id_prefix_finds_every_id_it_starts(make_transaction):
    for public_id in ["TXN01", "TXN001", "TXN020", "XTXN01", *(f"TXN01{d}" for d in range(10))]:
        make_transaction(public_id=public_id, client_name="Meera Iyer", phone="+919812345678")
    expected = ["TXN01", *(f"TXN01{d}" for d in range(10))]
    assert _ids("TXN01") == expected
    assert _ids("txn01") == expected
    assert _ids("TXN010") == ["TXN010"]


def test_a_short_query_is_said_to_be_too_short():
    assert indexed.too_short("as")
    assert indexed.too_short("+9")
    assert not indexed.too_short("")
    assert not indexed.too_short("ash")
    assert not indexed.too_short("919")


def test_an_empty_query_matches_everything(rows):
    assert len(_ids("")) == 4
    assert len(_ids("   ")) == 4


def test_it_finds_a_renamed_customer_by_the_new_name_only(rows):
    Transaction.objects.filter(public_id="TXN-B2").update(client_name="Priya Nair")
    assert _ids("ravi") == []
    assert _ids("priya") == ["TXN-B2"]


def test_it_finds_a_changed_phone_by_the_new_number_only(rows, sam):
    t = Transaction.objects.get(public_id="TXN-B2")
    t.set_phone_by(sam, "+14155559999")
    assert _ids("5550101") == []
    assert _ids("5559999") == ["TXN-B2"]


def test_it_forgets_deleted_rows(rows):
    Transaction.objects.filter(public_id="TXN-A1").delete()
    assert _ids("asha") == []


def test_it_sees_rows_upserted_in_bulk(rows):
    t = Transaction.objects.get(public_id="TXN-A1")
    t.pk = None
    t.public_id = "TXN-NEW"
    t.client_name = "Kavya Menon"
    existing = Transaction.objects.get(public_id="TXN-B2")
    existing.merchant_name = "Reliance Digital"
    Transaction.objects.bulk_create(
        [t, existing],
        update_conflicts=True,
        unique_fields=["public_id"],
        update_fields=["merchant_name"],
    )
    assert _ids("kavya") == ["TXN-NEW"]
    assert _ids("reliance") == ["TXN-B2"]
    assert _ids("bazaar") == []


def test_it_combines_with_other_filters_and_ordering(rows):
    found = Transaction.objects.filter(bank_name="Example Bank").search("bank").order_by("-id")
    assert [t.public_id for t in found] == ["TXN-C3", "TXN-A1"]


@pytest.mark.parametrize(
    "q", ["asha", "example bank", "919", "txn-b2", "TXN-", "4821", "as", "100%", "nobody"]
)
def test_a_search_matching_more_rows_than_are_listed_finds_the_same_rows(rows, q):
    # Past indexed.EAGER_MAX matches the search stays a subquery: same rows.
    listed = set(Transaction.objects.filter(indexed.search_filter(q, "default")))
    subquery = set(Transaction.objects.filter(indexed.search_filter(q, "default", eager_max=0)))
    assert listed == subquery
    assert {t.public_id for t in listed} == set(_ids(q))


def test_the_page_count_and_status_counts_reuse_one_index_search(rows, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = Transaction.objects.search("example bank")
    with django_assert_num_queries(3):
        assert len(found.order_by("-id")[:50]) == 2
        assert found.count() == 2
        assert sum(found.status_counts().values()) == 2


def test_the_search_lists_each_matchs_status_for_the_counts(rows):
    match, counts = indexed.search_with_counts("example bank", "default")
    assert sorted(Transaction.objects.filter(match).values_list("public_id", flat=True)) == [
        "TXN-A1",
        "TXN-C3",
    ]
    assert counts == {"Pending": 2}
    # Past eager_max the matches are not listed, so not counted either.
    assert indexed.search_with_counts("example bank", "default", eager_max=1)[1] is None


def test_compacting_the_index_after_a_bulk_load_keeps_every_match(rows):
    before = {q: _ids(q) for q in ("asha", "example bank", "919", "txn-b2", "zo")}
    indexed.compact_search_index("default")
    assert {q: _ids(q) for q in before} == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN pending lists are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_search_indexes_merge_their_pending_entries_early_except_in_an_import():
    """Searches read a GIN index's pending list in full: a session keeps it to 128 kB,
    an import to 4 MB while it loads, and no index overrides either."""

    def limit():
        with connection.cursor() as cursor:
            cursor.execute("SHOW gin_pending_list_limit")
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'txn\\_%\\_trgm'"
        )
        options = dict(cursor.fetchall())
    assert set(options) == {"txn_name_trgm", "txn_merchant_trgm", "txn_bank_trgm", "txn_phone_trgm"}
    assert all(o is None for o in options.values()), options
    assert limit() == "128kB"
    with transaction.atomic():
        indexed.allow_bulk_load("default")
        assert limit() == "4MB"
    assert limit() == "128kB"
