"""The database side of search and status counts (tables and triggers: migration 0003).

What a search matches, the same on SQLite and PostgreSQL, for a query q
(surrounding spaces removed; empty matches everything):

- the transaction ID equal to q, ignoring case, whatever its length;
- when q has 3 or more characters, all of them possible in an ID: the IDs
  starting with q, as typed or in capitals ("TXN01" finds TXN01 and
  TXN010-TXN019; "txn01" finds them too);
- when q has 3 or more characters: client name, merchant or bank containing q
  as a substring, ignoring case;
- when q has 3 or more digits: the phone containing those digits, in order,
  with everything else in q dropped ("+91 98765" looks for "9198765");
- when q is four digits, after any masking ("4821", "•••• 4821", "xx4821"):
  the card's last four.

Substrings shorter than three characters are not searched: neither a
trigram index (PostgreSQL) nor a trigram FTS table (SQLite) can answer them
without reading every row (SEARCH_TOO_SHORT says so on the dashboard). An ID
prefix is matched case-sensitively, twice, because that is what the
databases' plain indexes on the ID answer (SQLite's GLOB, PostgreSQL's LIKE
on the unique index's varchar_pattern_ops twin); a prefix ignoring case would
read every row on PostgreSQL. The card's last four has no index: that
search reads the table (SQLite, 200,000 rows: see the comment in _card_last4).
"""

import re

from django.db import connections
from django.db.models import BooleanField, F, Func, Q, Subquery
from django.db.models.expressions import RawSQL

MIN_SUBSTRING = 3
# PostgreSQL appends delta rows to the tally; fold them once there are this many.
TALLY_FOLD_AT = 200
# A search matching at most this many rows is turned into a list of ids at once.
EAGER_MAX = 2000


SEARCH_TOO_SHORT = (
    f"Type at least {MIN_SUBSTRING} letters or digits to search names, merchants and phones;"
    " shorter, only an ID typed in full matches."
)
_ID_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")  # PUBLIC_ID_PATTERN's, none special to GLOB
_MASKED_CARD = re.compile(r"[•*xX.\s-]*([0-9]{4})")


def search_terms(q: str) -> tuple[str, str]:
    """(text, digits) to look for as substrings; each empty when too short to search."""
    digits = "".join(ch for ch in q if ch.isdigit())
    return (
        q if len(q) >= MIN_SUBSTRING else "",
        digits if len(digits) >= MIN_SUBSTRING else "",
    )


def too_short(q: str) -> bool:
    """Whether q, not empty, is too short to search anything but an ID typed in full."""
    return bool(q) and search_terms(q) == ("", "")


def _id_prefixes(q: str) -> list[str]:
    """The ID prefixes to look for: q as typed and in capitals."""
    if len(q) < MIN_SUBSTRING or not _ID_CHARACTERS.fullmatch(q):
        return []
    return sorted({q, q.upper()})


def _card_last4(q: str) -> str:
    # No index holds card_last4: this reads the table (SQLite, 200,000 rows: 25 ms),
    # and only for a query of four digits.
    match = _MASKED_CARD.fullmatch(q)
    return match.group(1) if match else ""


def search_filter(q: str, using: str, *, eager_max: int | None = None) -> Q:
    """A filter for the rows matching the non-empty, stripped query q.

    The index is asked once, here: up to `eager_max` matches come back as a
    list of ids, so the page, its count and its status counts that follow
    are lookups by primary key instead of three more index searches. More
    matches than that (a word most rows contain) stay a subquery.
    """
    return search_with_counts(q, using, eager_max=eager_max)[0]


def search_with_counts(
    q: str, using: str, *, eager_max: int | None = None
) -> tuple[Q, dict[str, int] | None]:
    """(search_filter(q), {status: matching rows} when the matches were listed, else None).

    The listing reads each match's status with its id, so the dashboard's
    status counts of a search need no query of their own.
    """
    eager_max = EAGER_MAX if eager_max is None else eager_max
    matches = _listed_matches(q, using, eager_max + 1)
    if len(matches) > eager_max:
        return _matching(q, using), None
    counts = {}
    for status in matches.values():
        counts[status] = counts.get(status, 0) + 1
    return Q(pk__in=list(matches)), counts


def _listed_matches(q: str, using: str, limit: int) -> dict[int, str]:
    """{id: status} of at most `limit` rows matching q."""
    connection = connections[using]
    if connection.vendor == "sqlite":
        # Constant SQL (q is a parameter), run as it is: through the ORM,
        # building the query cost more than the search.
        sql, params = _sqlite_matches(q, *search_terms(q))
        listed = f"SELECT id, status FROM transactions_transaction WHERE id IN ({sql}) LIMIT %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(listed, [*params, limit])
            return dict(cursor.fetchall())
    from .models import Transaction

    return dict(
        Transaction.objects.using(using)
        .filter(_matching(q, using))
        .order_by()
        .values_list("pk", "status")[:limit]
    )


def _matching(q: str, using: str) -> Q:
    text, digits = search_terms(q)
    if connections[using].vendor == "sqlite":
        # Constant SQL; q reaches the database only as bound parameters.
        return Q(pk__in=RawSQL(*_sqlite_matches(q, text, digits)))  # noqa: S611
    # PostgreSQL: the ORM's own lookups, served by the trigram and UPPER() indexes
    # and the unique ID's varchar_pattern_ops index (a prefix), collected first
    # (see _IdInArray) so the matches never depend on the LIMIT.
    match = Q(public_id__iexact=q)
    for prefix in _id_prefixes(q):
        match |= Q(public_id__startswith=prefix)
    if card := _card_last4(q):
        match |= Q(card_last4=card)
    if text:
        match |= (
            Q(client_name__icontains=text)
            | Q(merchant_name__icontains=text)
            | Q(bank_name__icontains=text)
        )
    if digits:
        match |= Q(phone__contains=digits)
    from .models import Transaction

    matching = Transaction.objects.using(using).filter(match).order_by().values("pk")
    return Q(_IdInArray(F("pk"), Subquery(matching)))


class _IdInArray(Func):
    """`id = ANY(ARRAY(SELECT id ... matching))`: the matching ids first, then the rows.

    With a plain WHERE, a small LIMIT (the paginator asks for exactly as many
    rows as it counted) tempts PostgreSQL's planner into walking the date
    index until it has found them, reading most of the table when the
    matches are old. An ARRAY() subquery cannot be pulled up into a join, so
    the trigram indexes always answer first, and the page is the matches
    sorted.
    """

    output_field = BooleanField()
    conditional = True

    def as_sql(self, compiler, connection, **extra_context):
        pk, ids = self.get_source_expressions()
        pk_sql, pk_params = compiler.compile(pk)
        ids_sql, ids_params = compiler.compile(ids)
        return f"{pk_sql} = ANY(ARRAY{ids_sql})", (*pk_params, *ids_params)


def _fts_phrase(s: str) -> str:
    # An FTS5 string: double quotes doubled, nothing else is special inside it.
    return '"' + s.replace('"', '""') + '"'


def _sqlite_matches(q: str, text: str, digits: str) -> tuple[str, list]:
    sql = "SELECT id FROM transactions_transaction WHERE public_id = %s COLLATE NOCASE"
    params = [q]
    for prefix in _id_prefixes(q):
        # GLOB is case-sensitive, like PostgreSQL's LIKE, and reads the unique index.
        sql += " UNION SELECT id FROM transactions_transaction WHERE public_id GLOB %s"
        params.append(prefix + "*")
    if card := _card_last4(q):
        sql += " UNION SELECT id FROM transactions_transaction WHERE card_last4 = %s"
        params.append(card)
    terms = []
    if text:
        terms.append("{client_name merchant_name bank_name} : " + _fts_phrase(text))
    if digits:
        terms.append("phone : " + _fts_phrase(digits))
    if terms:
        sql += " UNION SELECT rowid FROM transactions_search WHERE transactions_search MATCH %s"
        params.append(" OR ".join(terms))
    return sql, params


def status_tally(using: str) -> dict[str, int]:
    """{status: rows} for the whole table, from the trigger-kept tally."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, SUM(n), COUNT(*) FROM transactions_status_tally GROUP BY status"
        )
        rows = cursor.fetchall()
        if connection.vendor == "postgresql" and sum(r[2] for r in rows) > TALLY_FOLD_AT:
            _fold_tally(cursor)
    return {status: int(n) for status, n, _ in rows}


def _fold_tally(cursor):
    # One statement: it sums exactly the rows it deleted, so two readers
    # folding at once cannot count anything twice (the second one finds
    # the first one's rows gone and deletes nothing it did not sum).
    cursor.execute(
        "WITH gone AS (DELETE FROM transactions_status_tally RETURNING status, n) "
        "INSERT INTO transactions_status_tally (status, n) "
        "SELECT status, SUM(n) FROM gone GROUP BY status HAVING SUM(n) <> 0"
    )


def tallied_count(queryset) -> int | None:
    """count() of a Transaction queryset from the tally, or None when it cannot answer.

    It answers for the whole table and for a single `status=` filter; anything
    that could change which or how many rows there are (other filters,
    slicing, DISTINCT, grouping, unions) goes to COUNT(*).
    """
    query = queryset.query
    if (
        len(query.alias_map) > 1
        or query.is_sliced
        or query.distinct
        or query.combinator
        or query.group_by is not None
        or any(getattr(a, "contains_aggregate", False) for a in query.annotations.values())
    ):
        return None
    if not query.where:
        return sum(status_tally(queryset.db).values())
    status = _only_status_filter(query.where)
    if status is None:
        return None
    return status_tally(queryset.db).get(status, 0)


def _only_status_filter(where):
    if where.negated or len(where.children) != 1:
        return None
    (lookup,) = where.children
    if (
        getattr(lookup, "lookup_name", None) == "exact"
        and getattr(getattr(lookup.lhs, "target", None), "name", None) == "status"
        and getattr(lookup.lhs, "alias", None) == lookup.lhs.target.model._meta.db_table
        and isinstance(lookup.rhs, str)
    ):
        return lookup.rhs
    return None


def allow_bulk_load(using: str) -> None:
    """For the rest of the current transaction, let the search indexes take a bulk load.

    PostgreSQL: the pending-list limit goes from the sessions' 128 kB (settings.py)
    to its default 4 MB, merged in large pieces: a 100,000-row import ran 40%
    slower merging every 128 kB. compact_search_index merges what is left.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL gin_pending_list_limit = '4MB'")


def compact_search_index(using: str) -> None:
    """Merge what a bulk import left pending in the search indexes, so searches read one index.

    PostgreSQL's GIN indexes keep new entries in a pending list that every
    search scans in full until VACUUM merges it (autovacuum may be off, or not
    due for hours); SQLite's FTS5 table keeps a bulk import in many small
    segments. After importing 100,000 rows, either made a search several
    times slower (PostgreSQL: 13 ms instead of 2 for one merchant name).
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid::regclass) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
                " WHERE i.indrelid = 'transactions_transaction'::regclass AND am.amname = 'gin'"
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "INSERT INTO transactions_search (transactions_search) VALUES ('optimize')"
            )
