"""The alerts API under load: alerts ingested per second, POSTed in batches of 1,000.

    .venv/bin/python bench/alerts_bench.py [--batches 5]

bench/run.py calls `measure()` against the server of its big database (so the
alerts land among BENCH_ROWS others). Alone, this migrates a fresh SQLite
file (or DATABASE_URL when set), creates a key, serves it with gunicorn as
bench/run.py does, and prints one JSON object.

Each batch is 1,000 new alerts in the seed's shape, sent one batch a request
over HTTP, one request at a time, with the key: authentication, the key's
rate limit, the importer's checks, the insert and the answer (every alert
as stored) are all timed. The same batches are then sent again: the
idempotent path, where nothing is written.
"""

import argparse
import http.client
import json
import secrets
import sys
import time
from pathlib import Path

import data

BATCH = 1000
BATCHES = 10
WARM_UP = 2


def _batches(batches: int) -> list[bytes]:
    tag = secrets.token_hex(2)  # a run's own ids, whatever the database holds already
    rows = list(data.rows(batches * BATCH, seed=11))
    bodies = []
    for b in range(batches):
        alerts = []
        for i, row in enumerate(rows[b * BATCH : (b + 1) * BATCH]):
            row = {k: v for k, v in row.items() if k != "action"}  # the status is ours
            row["id"] = f"AL{tag}{b * BATCH + i:07d}"
            row["external_ref"] = f"CASE-{row['id']}"
            alerts.append(row)
        bodies.append(json.dumps(alerts).encode())
    return bodies


def _post(port: int, key: str, body: bytes) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        started = time.perf_counter()
        conn.request("POST", "/api/v1/alerts", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started
    finally:
        conn.close()


def _send(port, key, bodies, expect: str) -> list[float]:
    times = []
    for body in bodies:
        status, payload, seconds = _post(port, key, body)
        if status != 200:
            raise SystemExit(f"POST /api/v1/alerts answered {status}: {payload[:500]!r}")
        if json.loads(payload)[expect] != BATCH:
            raise SystemExit(f"expected {BATCH} {expect}: {payload[:300]!r}")
        times.append(seconds)
    return times


def measure(port: int, key: str, batches: int = BATCHES) -> dict:
    bodies = _batches(batches + WARM_UP)
    # Warm-up, not timed: each gunicorn worker's first requests of this kind.
    _send(port, key, bodies[:WARM_UP], "created")
    new = _send(port, key, bodies[WARM_UP:], "created")
    again = _send(port, key, bodies[WARM_UP:], "unchanged")
    return {
        "batch": BATCH,
        "batches": batches,
        "seconds": round(sum(new), 3),
        "alerts_per_s": round(batches * BATCH / sum(new)),
        "batch_ms": [round(t * 1000) for t in new],
        "resent_alerts_per_s": round(batches * BATCH / sum(again)),
        "request_bytes": len(bodies[-1]),
    }


def create_key(manage, env) -> str:
    name = f"bench-{secrets.token_hex(3)}"
    # Far above what the run sends: the rate limit is counted, never reached.
    done = manage(env, "create_api_key", name, "--rate-limit", "100000/1m")
    return done.stdout.strip().splitlines()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=BATCHES)
    args = parser.parse_args()
    import os

    import run  # bench/run.py's servers and environment

    run.VAR.mkdir(exist_ok=True)
    url = os.environ.get("DATABASE_URL") or run.reset_sqlite_at(run.VAR / "bench-alerts.sqlite3")
    port = run.free_port()
    env = run.app_env(url, port)
    run.manage(env, "migrate", "--noinput")
    key = create_key(run.manage, env)
    with run.gunicorn(env, port):
        result = measure(port, key, args.batches)
    result["database"] = url.split(":", 1)[0]
    print(json.dumps(result))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
