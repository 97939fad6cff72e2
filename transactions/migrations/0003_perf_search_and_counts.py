"""Fast status counts and an indexed search, kept exact by the database itself.

Status counts: a tally table that triggers on transactions_transaction keep in
step with every INSERT, UPDATE (including INSERT ... ON CONFLICT DO UPDATE),
DELETE and TRUNCATE, so the dashboard reads six numbers instead of scanning
the table. It is not a Django model on purpose: test flushes must go through
the triggers (SQLite deletes row by row; PostgreSQL truncates, which a
trigger answers by emptying the tally).

- PostgreSQL: statement-level triggers append one (status, delta) row per
  status a statement touched. Appending never waits on another writer, so
  concurrent status changes neither serialise on a hot row nor deadlock;
  readers sum the deltas and fold them together now and then.
- SQLite: one row per status, updated by row-level triggers (SQLite has one
  writer at a time, so a hot row costs nothing).

Search (see TransactionQuerySet.search for what it matches):
- PostgreSQL: pg_trgm GIN indexes on exactly the expressions Django's
  icontains/contains/iexact lookups produce, so the ORM query uses them.
- SQLite: an FTS5 table with the trigram tokenizer (substring matching, case
  folded) over the searched columns, external content, kept by triggers; and a
  NOCASE index for the exact ID match.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE transactions_status_tally (
        id bigserial PRIMARY KEY,
        status varchar(16) NOT NULL,
        n bigint NOT NULL
    )""",
    """CREATE FUNCTION transactions_tally_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO transactions_status_tally (status, n) SELECT status, count(*) FROM new_rows GROUP BY status;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION transactions_tally_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO transactions_status_tally (status, n)
        SELECT status, sum(d) FROM (
            SELECT status, -1 AS d FROM old_rows
            UNION ALL
            SELECT status, 1 AS d FROM new_rows
        ) AS changes
        GROUP BY status
        HAVING sum(d) <> 0;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION transactions_tally_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO transactions_status_tally (status, n) SELECT status, -count(*) FROM old_rows GROUP BY status;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION transactions_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM transactions_status_tally;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER transactions_tally_insert AFTER INSERT ON transactions_transaction
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION transactions_tally_insert()""",
    """CREATE TRIGGER transactions_tally_update AFTER UPDATE ON transactions_transaction
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION transactions_tally_update()""",
    """CREATE TRIGGER transactions_tally_delete AFTER DELETE ON transactions_transaction
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION transactions_tally_delete()""",
    """CREATE TRIGGER transactions_tally_truncate AFTER TRUNCATE ON transactions_transaction
        FOR EACH STATEMENT EXECUTE FUNCTION transactions_tally_truncate()""",
    "INSERT INTO transactions_status_tally (status, n) SELECT status, count(*) FROM transactions_transaction GROUP BY status",
    # The expressions below are the ones Django writes for icontains, contains
    # and iexact on PostgreSQL; the planner uses an index only on an equal one.
    "CREATE INDEX txn_name_trgm ON transactions_transaction USING gin (UPPER(client_name::text) gin_trgm_ops)",
    "CREATE INDEX txn_merchant_trgm ON transactions_transaction USING gin (UPPER(merchant_name::text) gin_trgm_ops)",
    "CREATE INDEX txn_bank_trgm ON transactions_transaction USING gin (UPPER(bank_name::text) gin_trgm_ops)",
    "CREATE INDEX txn_phone_trgm ON transactions_transaction USING gin ((phone::text) gin_trgm_ops)",
    "CREATE INDEX txn_public_id_upper ON transactions_transaction (UPPER(public_id::text))",
    # A finer histogram of the searched expressions: with the default, a rare
    # merchant looks like 1% of the table and the planner walks the date
    # index past most rows instead of asking the trigram index.
    "ALTER INDEX txn_name_trgm ALTER COLUMN 1 SET STATISTICS 1000",
    "ALTER INDEX txn_merchant_trgm ALTER COLUMN 1 SET STATISTICS 1000",
    "ALTER INDEX txn_bank_trgm ALTER COLUMN 1 SET STATISTICS 1000",
    "ALTER INDEX txn_phone_trgm ALTER COLUMN 1 SET STATISTICS 1000",
]

POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS txn_public_id_upper",
    "DROP INDEX IF EXISTS txn_phone_trgm",
    "DROP INDEX IF EXISTS txn_bank_trgm",
    "DROP INDEX IF EXISTS txn_merchant_trgm",
    "DROP INDEX IF EXISTS txn_name_trgm",
    "DROP TRIGGER IF EXISTS transactions_tally_truncate ON transactions_transaction",
    "DROP TRIGGER IF EXISTS transactions_tally_delete ON transactions_transaction",
    "DROP TRIGGER IF EXISTS transactions_tally_update ON transactions_transaction",
    "DROP TRIGGER IF EXISTS transactions_tally_insert ON transactions_transaction",
    "DROP FUNCTION IF EXISTS transactions_tally_truncate()",
    "DROP FUNCTION IF EXISTS transactions_tally_delete()",
    "DROP FUNCTION IF EXISTS transactions_tally_update()",
    "DROP FUNCTION IF EXISTS transactions_tally_insert()",
    "DROP TABLE IF EXISTS transactions_status_tally",
]

SQLITE_FORWARD = [
    "CREATE TABLE transactions_status_tally (status varchar(16) PRIMARY KEY, n integer NOT NULL)",
    """CREATE TRIGGER transactions_tally_insert AFTER INSERT ON transactions_transaction BEGIN
        INSERT INTO transactions_status_tally (status, n) VALUES (NEW.status, 1)
            ON CONFLICT (status) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER transactions_tally_update AFTER UPDATE OF status ON transactions_transaction
        WHEN OLD.status IS NOT NEW.status BEGIN
        UPDATE transactions_status_tally SET n = n - 1 WHERE status = OLD.status;
        INSERT INTO transactions_status_tally (status, n) VALUES (NEW.status, 1)
            ON CONFLICT (status) DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER transactions_tally_delete AFTER DELETE ON transactions_transaction BEGIN
        UPDATE transactions_status_tally SET n = n - 1 WHERE status = OLD.status;
    END""",
    "INSERT INTO transactions_status_tally (status, n) SELECT status, count(*) FROM transactions_transaction GROUP BY status",
    """CREATE VIRTUAL TABLE transactions_search USING fts5(
        client_name, merchant_name, bank_name, phone, content='transactions_transaction', content_rowid='id', tokenize='trigram'
    )""",
    """CREATE TRIGGER transactions_search_insert AFTER INSERT ON transactions_transaction BEGIN
        INSERT INTO transactions_search (rowid, client_name, merchant_name, bank_name, phone) VALUES (NEW.id, NEW.client_name, NEW.merchant_name, NEW.bank_name, NEW.phone);
    END""",
    """CREATE TRIGGER transactions_search_delete AFTER DELETE ON transactions_transaction BEGIN
        INSERT INTO transactions_search (transactions_search, rowid, client_name, merchant_name, bank_name, phone) VALUES ('delete', OLD.id, OLD.client_name, OLD.merchant_name, OLD.bank_name, OLD.phone);
    END""",
    """CREATE TRIGGER transactions_search_update AFTER UPDATE OF client_name, merchant_name, bank_name, phone ON transactions_transaction
        WHEN OLD.client_name IS NOT NEW.client_name OR OLD.merchant_name IS NOT NEW.merchant_name
          OR OLD.bank_name IS NOT NEW.bank_name OR OLD.phone IS NOT NEW.phone BEGIN
        INSERT INTO transactions_search (transactions_search, rowid, client_name, merchant_name, bank_name, phone) VALUES ('delete', OLD.id, OLD.client_name, OLD.merchant_name, OLD.bank_name, OLD.phone);
        INSERT INTO transactions_search (rowid, client_name, merchant_name, bank_name, phone) VALUES (NEW.id, NEW.client_name, NEW.merchant_name, NEW.bank_name, NEW.phone);
    END""",
    "INSERT INTO transactions_search (transactions_search) VALUES ('rebuild')",
    "CREATE INDEX txn_public_id_nocase ON transactions_transaction (public_id COLLATE NOCASE)",
]

SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS txn_public_id_nocase",
    "DROP TRIGGER IF EXISTS transactions_search_update",
    "DROP TRIGGER IF EXISTS transactions_search_delete",
    "DROP TRIGGER IF EXISTS transactions_search_insert",
    "DROP TABLE IF EXISTS transactions_search",
    "DROP TRIGGER IF EXISTS transactions_tally_delete",
    "DROP TRIGGER IF EXISTS transactions_tally_update",
    "DROP TRIGGER IF EXISTS transactions_tally_insert",
    "DROP TABLE IF EXISTS transactions_status_tally",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise NotImplementedError(
                f"No fast search and counts for {schema_editor.connection.vendor}; "
                "only SQLite and PostgreSQL are supported."
            )
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0002_roles"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
