"""make loadtest: simulated calls end to end through gunicorn, the task worker and the simulator.

An analyst signs in over HTTP and asks for bulk calls (POST /calls/bulk),
LOADTEST_BATCH rows at a time; the task worker places each call through the
real twilio client against the built-in simulator's REST API (served by the
same gunicorn), and the simulator's call engine (on the worker) calls our
signed webhooks over HTTP as a scripted customer, one persona per number.
Every row's final status is checked against its persona.

Run 1: SQLite, gunicorn (2 workers) + 1 task worker.
Run 2: PostgreSQL (when a server answers), 2 web processes and 2 task workers.

Environment: LOADTEST_CALLS (200), LOADTEST_BATCH (50), LOADTEST_TIME_SCALE
(0.05: simulated customers speak and wait twenty times faster than real),
LOADTEST_CPS (25: the automatic-calling throttle, CALLS_PER_SECOND),
BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/loadtest).
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from urllib.parse import urlencode

import run as bench

ROOT = bench.ROOT
VAR = bench.VAR
PY = bench.PY
CALLS = int(os.environ.get("LOADTEST_CALLS", "200"))
BATCH = int(os.environ.get("LOADTEST_BATCH", "50"))
TIME_SCALE = os.environ.get("LOADTEST_TIME_SCALE", "0.05")
CPS = os.environ.get("LOADTEST_CPS", "25")
PG_URL = os.environ.get("LOADTEST_PG_URL", "postgres://postgres@127.0.0.1:5432/loadtest")
BATCH_TIMEOUT = 600
WEBHOOK = re.compile(r"^/(voice|status)/")
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"


def log(message):
    print(message, file=sys.stderr, flush=True)


def env_for(database_url: str, port: int) -> dict:
    env = bench.app_env(database_url, port)
    env.update(
        {
            "SIMULATOR_PICKUP_SECONDS": "0",  # no person on the softphone: personas answer
            "SIMULATOR_TIME_SCALE": TIME_SCALE,
            "CALLS_PER_SECOND": CPS,
            "CALLING_HOURS": "00:00-24:00",
            # No automatic retry inside the test: each row gets exactly one call.
            "CALL_RETRY_DELAYS_MINUTES": "600",
            "AUTOCALL_TICK_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


class Analyst:
    """A signed-in browser session: cookies and the CSRF token, over plain HTTP."""

    def __init__(self, port: int, username: str, password: str):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(self.base + "/login/").read()
        self._post("/login/", {"username": username, "password": password})
        if "sessionid" not in self._cookies():
            raise SystemExit("the load test's analyst could not sign in")

    def _cookies(self) -> dict:
        return {c.name: c.value for c in self.jar}

    def _post(self, path: str, form: dict | list) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 (our own http://127.0.0.1 server)
            self.base + path,
            data=urlencode(form, doseq=True).encode(),
            headers={"X-CSRFToken": self._cookies().get("csrftoken", "")},
        )
        try:
            with self.opener.open(request) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def bulk_call(self, ids: list[str]) -> dict:
        status, body = self._post("/calls/bulk", [("ids", i) for i in ids])
        if status != 200:
            raise SystemExit(f"POST /calls/bulk answered {status}: {body[:300]!r}")
        return json.loads(body)

    def statuses(self) -> dict[str, str]:
        url = self.base + "/transactions?" + urlencode({"q": "Load Customer", "limit": 5000})
        with self.opener.open(url) as response:
            return {row["id"]: row["action"] for row in json.load(response)}


def report(env) -> dict:
    done = bench.run([PY, str(bench.BENCH / "loadcheck.py"), "report"], env)
    return json.loads(done.stdout)


def run_load(name: str, database_url: str, web_processes: int, workers: int) -> dict:
    log(f"== {name}: {web_processes} web processes, {workers} task worker(s)")
    port = bench.free_port()
    env = env_for(database_url, port)
    bench.manage(env, "migrate", "--noinput")
    bench.manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    setup = json.loads(
        bench.run([PY, str(bench.BENCH / "loadcheck.py"), "setup", str(CALLS)], env).stdout
    )
    expected = setup["rows"]
    access_log = VAR / f"loadtest-{name}-access.log"
    access_log.unlink(missing_ok=True)
    web = subprocess.Popen(
        [
            bench.GUNICORN,
            "ivr_project.wsgi:application",
            "-w",
            str(web_processes),
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            ACCESS_FORMAT,
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        env=env,
        cwd=ROOT,
    )
    task_workers = [
        subprocess.Popen(
            [PY, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.1", "--no-reload"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(VAR / f"loadtest-{name}-worker{k}.log", "w"),  # noqa: SIM115
        )
        for k in range(workers)
    ]
    try:
        _wait_for(port)
        analyst = Analyst(port, setup["username"], setup["password"])
        ids = sorted(expected)
        started = time.monotonic()
        batches = []
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            t0 = time.monotonic()
            queued = analyst.bulk_call(chunk)
            _wait_until_called(analyst, chunk)
            batches.append(
                {"rows": len(chunk), "queued": queued.get("queued"), "s": time.monotonic() - t0}
            )
            log(f"  batch {len(batches)}: {len(chunk)} calls in {batches[-1]['s']:.1f} s")
        elapsed = time.monotonic() - started
        time.sleep(1)  # the last status callbacks of the last calls
    finally:
        for process in [web, *task_workers]:
            process.terminate()
        for process in [web, *task_workers]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    final = report(env)
    return _summarise(name, web_processes, workers, expected, final, access_log, elapsed, batches)


def _wait_for(port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if bench.fetch(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _wait_until_called(analyst: Analyst, ids: list[str]):
    """Until every row in `ids` has left Pending and Connecting (its call ended)."""
    deadline = time.monotonic() + BATCH_TIMEOUT
    waiting = set(ids)
    while waiting and time.monotonic() < deadline:
        time.sleep(0.5)
        statuses = analyst.statuses()
        waiting = {i for i in waiting if statuses.get(i) in ("Pending", "Connecting")}
    if waiting:
        log(f"  {len(waiting)} calls did not end within {BATCH_TIMEOUT} s")


def _percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _summarise(name, web_processes, workers, expected, final, access_log, elapsed, batches):
    webhook_ms, server_errors, requests = [], 0, 0
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        _, path, status, micros = parts
        requests += 1
        server_errors += status.startswith("5")
        if WEBHOOK.match(path):
            webhook_ms.append(int(micros) / 1000)
    rows = final["rows"]
    mismatches = []
    by_persona: dict[str, dict] = {}
    for public_id, want in expected.items():
        got = rows.get(public_id, {})
        persona = by_persona.setdefault(want["persona"], {"calls": 0, "matched": 0})
        persona["calls"] += 1
        persona["expected"] = want["status"]
        ok = got.get("status") == want["status"] and got.get("n_calls") == 1
        persona["matched"] += ok
        if not ok:
            mismatches.append({"id": public_id, "expected": want, "got": got})
    completed = final["ended"]
    failed_tasks = final["tasks"].get("FAILED", 0)
    return {
        "name": name,
        "web_processes": web_processes,
        "task_workers": workers,
        "calls": len(expected),
        "calls_completed": completed,
        "placing_errors": final["placing_errors"],
        "server_errors": server_errors,
        "failed_tasks": failed_tasks,
        "errors": server_errors + failed_tasks + len(final["placing_errors"]),
        "statuses_matched": len(expected) - len(mismatches),
        "mismatches": mismatches[:20],
        "by_persona": by_persona,
        "webhook_requests": len(webhook_ms),
        "http_requests": requests,
        "webhook_p50_ms": round(_percentile(webhook_ms, 50), 1),
        "webhook_p99_ms": round(_percentile(webhook_ms, 99), 1),
        "elapsed_s": round(elapsed, 1),
        "calls_per_minute": round(len(expected) / elapsed * 60),
        "batches": batches,
    }


def table(results) -> str:
    lines = [
        f"\n{CALLS} simulated calls, {BATCH} at a time, customers {1 / float(TIME_SCALE):.0f}× "
        f"faster than real, CALLS_PER_SECOND={CPS}",
        "| run | web | workers | completed | errors | statuses as expected | webhook p50 / p99 ms "
        "| calls/min |",
        "|-----|-----|---------|-----------|--------|----------------------|----------------------"
        "|-----------|",
    ]
    for r in results["runs"]:
        lines.append(
            f"| {r['name']} | {r['web_processes']} | {r['task_workers']} | "
            f"{r['calls_completed']}/{r['calls']} | {r['errors']} | "
            f"{r['statuses_matched']}/{r['calls']} | {r['webhook_p50_ms']} / {r['webhook_p99_ms']} "
            f"| {r['calls_per_minute']} |"
        )
    for r in results["runs"]:
        lines.append(f"\n{r['name']}, by persona (expected status: matched/calls):")
        for key, p in sorted(r["by_persona"].items()):
            lines.append(f"  {key:7} {p['expected']:14} {p['matched']}/{p['calls']}")
        for m in r["mismatches"][:5]:
            lines.append(f"  MISMATCH {m}")
        for e in r["placing_errors"][:5]:
            lines.append(f"  PLACING ERROR {e}")
    lines.append("\nChecks")
    for r in results["runs"]:
        for label, ok in (
            ("errors = 0", r["errors"] == 0),
            ("every call completed", r["calls_completed"] == r["calls"]),
            ("every final status matches its persona", r["statuses_matched"] == r["calls"]),
        ):
            lines.append(f"  {'PASS' if ok else 'MISS'}  {r['name']:22} {label}")
    return "\n".join(lines)


def main():
    VAR.mkdir(exist_ok=True)
    results = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "runs": [], "skipped": []}
    sqlite_url = bench.reset_sqlite_at(VAR / "loadtest.sqlite3")
    results["runs"].append(run_load("sqlite", sqlite_url, 2, 1))
    if bench.postgres_available(PG_URL):
        results["runs"].append(run_load("postgresql", bench.reset_postgres_at(PG_URL), 2, 2))
    else:
        results["skipped"].append(f"postgresql: no server answered at {PG_URL}")
    (VAR / "loadtest-results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    for skipped in results["skipped"]:
        print(f"SKIPPED {skipped}")
    failed = any(
        r["errors"] or r["statuses_matched"] != r["calls"] or r["calls_completed"] != r["calls"]
        for r in results["runs"]
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
