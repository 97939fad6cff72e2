"""make loadtest: the most simultaneous calls the app sustains, on SQLite and on PostgreSQL.

Calls run end to end as in production: an analyst signs in over HTTP and asks
for bulk calls (POST /calls/bulk); the task worker places each call through
the real twilio client against the built-in simulator's REST API (served by
the same gunicorn), and the simulator's call engine (on the task worker) calls
our signed webhooks over HTTP as a scripted customer, one persona per number.

The load ramps: 5, 10, 20, 30, 40, 60, 80, 120, ... simultaneous calls, up to
LOADTEST_MAX_CALLS, after a warm-up of one call per persona (only its errors
count). A level queues its N calls at once; once N are in flight it holds
them there for LOADTEST_HOLD seconds (and until the level has sent 300
webhooks, so that its p99 is not one slow request), each call that ends
replaced by a new bulk request (a few more are queued ahead when calls take
longer to start than to end), then lets its last calls finish. For each level:

- webhook latency, p50 and p99, as Twilio waits for it: from the simulator
  sending the request to reading the whole answer (bench/loadcheck.py worker),
  the wait in front of busy gunicorn workers included. gunicorn's own figure
  (its access log), which starts once a web worker takes the request, is
  shown beside it;
- errors: 5xx answers, webhooks that failed or went unanswered, failed tasks,
  calls not queued, not placed or never ended, simulated calls that stopped on
  an error (the stand-in for Twilio failing, shown apart);
- every row's final status and number of calls against its persona;
- the calls actually in flight over the hold (mean and peak);
- the machine's 1-minute load average before and after (the simulator, the
  task workers and the database share its cores with the web workers).

The ramp stops at the first level with webhook p99 >= 250 ms, an error, a
wrong final status, or fewer than 90% of its N calls in flight on average
(or not N at once within 20 s: calls placed too slowly).
The level before it is the answer: "most simultaneous calls sustained".

Simulated customers speak and wait 1 / LOADTEST_TIME_SCALE times faster than
real ones, so one simulated call sends the webhooks of that many real calls:
the table shows both.

Run 1: SQLite, gunicorn (2 workers) + 1 task worker.
Run 2: PostgreSQL (when a server answers), 2 web processes and 2 task workers.

Environment: LOADTEST_MAX_CALLS (160: the top level), LOADTEST_HOLD (20
seconds per level), LOADTEST_TIME_SCALE (0.05: simulated customers speak and
wait twenty times faster than real), LOADTEST_CPS (the automatic-calling
throttle, CALLS_PER_SECOND; by default LOADTEST_MAX_CALLS, so even the top
level's calls all start within a second), LOADTEST_PG_URL
(postgres://postgres@127.0.0.1:5432/loadtest). LOADTEST_CALLS and
LOADTEST_BATCH, the fixed run the ramp replaced, are no longer read.
Prints a table per database; writes bench/loadtest-results.json.
"""

import http.cookiejar
import json
import math
import os
import platform
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
MAX_CALLS = int(os.environ.get("LOADTEST_MAX_CALLS", "160"))
HOLD = float(os.environ.get("LOADTEST_HOLD", "20"))
TIME_SCALE = os.environ.get("LOADTEST_TIME_SCALE", "0.05")
CPS = os.environ.get("LOADTEST_CPS", str(MAX_CALLS))
PG_URL = os.environ.get("LOADTEST_PG_URL", "postgres://postgres@127.0.0.1:5432/loadtest")
RESULTS = bench.BENCH / "loadtest-results.json"
FIRST_LEVEL = 5
P99_LIMIT_MS = 250
IN_FLIGHT_SHARE = 0.9  # of N, on average over the hold
REACH_TIMEOUT = 20  # seconds for a level's first N calls to be in flight at once
DRAIN_TIMEOUT = 120  # seconds for a level's last calls to end
TICK = 0.2
MAX_SELECTED = 1000  # rows per POST /calls/bulk (voiceflow/views/bulk.py)
WARMUP_CALLS = 11  # one per persona
MIN_WEBHOOKS = 300  # a level's hold lasts until then too: its p99 is no single request's
WEBHOOK = re.compile(r"^/(voice|status)/")
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}


def log(message):
    print(message, file=sys.stderr, flush=True)


def levels() -> list[int]:
    """5, 10, 20, 30, 40, 60, 80, 120, ...: doubling, with a step half-way from 20 on."""
    out, n = [FIRST_LEVEL, 2 * FIRST_LEVEL], 4 * FIRST_LEVEL
    while n < MAX_CALLS:
        out += [n, n * 3 // 2]
        n *= 2
    return [x for x in out if x < MAX_CALLS] + [MAX_CALLS]


def env_for(database_url: str, port: int, webhook_log) -> dict:
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
            "LOADTEST_WEBHOOK_LOG": str(webhook_log),
        }
    )
    return env


class Analyst:
    """A signed-in browser session: cookies and the CSRF token, over plain HTTP."""

    def __init__(self, port: int, username: str, password: str):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(self.base + "/login/", timeout=30).read()
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
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def bulk_call(self, ids: list[str]) -> int:
        """Queue automatic calls for `ids`; how many were queued."""
        queued = 0
        for start in range(0, len(ids), MAX_SELECTED):
            chunk = ids[start : start + MAX_SELECTED]
            status, body = self._post("/calls/bulk", [("ids", i) for i in chunk])
            if status != 200:
                raise SystemExit(f"POST /calls/bulk answered {status}: {body[:300]!r}")
            queued += json.loads(body)["queued"]
        return queued


class Tail:
    """The lines a growing file gained since the last read."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.rest = b""

    def lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *lines, self.rest = (self.rest + data).split(b"\n")
        return [line.decode() for line in lines if line]


class Calls:
    """The simulated calls of one level, as their webhooks (the worker's timing log) show them."""

    def __init__(self, webhooks: Tail):
        self.webhooks = webhooks
        self.records: list[dict] = []
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}

    def read(self):
        for line in self.webhooks.lines():
            r = json.loads(line)
            self.records.append(r)
            if r["sid"]:
                self.started.setdefault(r["sid"], r["t"])
                if r["call_status"] in FINAL_CALL_STATUSES:
                    self.ended[r["sid"]] = r["t"] + r["ms"] / 1000

    def in_flight(self) -> int:
        return len(self.started) - len(self.ended)


def report(env) -> dict:
    done = bench.run([PY, str(bench.BENCH / "loadcheck.py"), "report"], env)
    return json.loads(done.stdout)


def setup_rows(env, count: int, first: int) -> dict:
    args = [PY, str(bench.BENCH / "loadcheck.py"), "setup", str(count), str(first)]
    return json.loads(bench.run(args, env).stdout)


def run_database(name: str, database_url: str, web_processes: int, workers: int) -> dict:
    log(f"== {name}: {web_processes} web processes, {workers} task worker(s)")
    port = bench.free_port()
    webhook_log = VAR / f"loadtest-{name}-webhooks.log"
    access_log = VAR / f"loadtest-{name}-access.log"
    worker_logs = [VAR / f"loadtest-{name}-worker{k}.log" for k in range(workers)]
    for path in (webhook_log, access_log, *worker_logs):
        path.unlink(missing_ok=True)
    env = env_for(database_url, port, webhook_log)
    bench.manage(env, "migrate", "--noinput")
    bench.manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    warmup_rows = setup_rows(env, WARMUP_CALLS, 0)
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
    worker = [PY, str(bench.BENCH / "loadcheck.py"), "worker"]
    task_workers = [
        subprocess.Popen(
            [*worker, "--queue-name", "*", "--interval", "0.1", "--no-reload"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(path, "w"),  # noqa: SIM115
        )
        for path in worker_logs
    ]
    result = {
        "name": name,
        "web_processes": web_processes,
        "task_workers": workers,
        "levels": [],
    }
    try:
        _wait_for(port)
        ramp = Ramp(env, port, warmup_rows, webhook_log, access_log, worker_logs)
        result["warmup"] = ramp.level(WARMUP_CALLS, warmup_rows["rows"], hold=0)
        log(f"  warm-up: {_line(result['warmup'])}")
        if result["warmup"]["pass"]:
            for n in levels():
                measured = ramp.level(n, ramp.new_rows(n), hold=HOLD)
                result["levels"].append(measured)
                log(f"  {n:4} calls: {_line(measured)}")
                if not measured["pass"]:
                    break
    finally:
        for process in [web, *task_workers]:
            process.terminate()
        for process in [web, *task_workers]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    passed = [m["level"] for m in result["levels"] if m["pass"]]
    result["sustained"] = max(passed, default=0)
    last = result["levels"][-1] if result["levels"] else result["warmup"]
    result["stopped_by"] = None if last["pass"] else f"{last['level']} calls: {last['failed']}"
    return result


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


class Ramp:
    """One database's servers under load, a level at a time."""

    def __init__(self, env, port, warmup_rows, webhook_log, access_log, worker_logs):
        self.env = env
        self.analyst = Analyst(port, warmup_rows["username"], warmup_rows["password"])
        self.next_row = WARMUP_CALLS
        self.webhooks = Tail(webhook_log)
        self.access = Tail(access_log)
        self.worker_logs = [Tail(path) for path in worker_logs]
        self.failed_tasks = 0
        self.call_seconds = 3.0  # a call's length, until the warm-up has measured one

    def new_rows(self, n: int) -> dict:
        # N calls kept going over the hold at the warm-up's mean length (no load), twice
        # over, and enough for MIN_WEBHOOKS (a call sends at least two: initiated, completed).
        count = math.ceil(2 * n + 2 * n * (HOLD + 5) / self.call_seconds + MIN_WEBHOOKS / 2)
        rows = setup_rows(self.env, count, self.next_row)["rows"]
        self.next_row += count
        return rows

    def level(self, n: int, rows: dict, hold: float) -> dict:
        """Keep `n` calls in flight for `hold` seconds (0: queue `n` calls once), then measure."""
        for tail in (self.access, *self.worker_logs):
            tail.lines()  # skip what came before this level
        calls = Calls(self.webhooks)
        ids = sorted(rows)
        load_before = os.getloadavg()[0]
        queued, requested = 0, 0
        began = time.time()
        queued += self.analyst.bulk_call(ids[:n])
        requested = n
        reached = hold_end = None
        goal = float(n)  # calls queued and not yet ended, raised while fewer than n are in flight
        samples: list[int] = []
        ran_out = False
        while hold:
            time.sleep(TICK)
            calls.read()
            now = time.time()
            if reached is None:
                if calls.in_flight() >= n:
                    reached, hold_end = now, now + hold
                elif now - began > REACH_TIMEOUT:
                    break
            elif now >= hold_end and len(calls.records) >= MIN_WEBHOOKS:
                hold_end = now
                break
            samples.append(calls.in_flight())
            # Not while the first N calls are still starting: the goal would overshoot.
            if len(samples) * TICK >= 1 and (reached or now - began > 3):
                goal = min(2 * n, max(n, goal + 0.5 * (n - sum(samples) / len(samples))))
                samples.clear()
            more = round(goal) - (queued - len(calls.ended))
            if more > 0:
                if requested + more > len(ids):
                    ran_out = True
                    break
                queued += self.analyst.bulk_call(ids[requested : requested + more])
                requested += more
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while len(calls.ended) < requested and time.monotonic() < deadline:
            time.sleep(TICK)
            calls.read()
        time.sleep(0.5)  # the access log's last lines
        calls.read()
        state = report(self.env)
        asked = set(ids[:requested])
        measured = self._measure(n, calls, asked, rows, state, (began, reached, hold_end))
        measured["calls_not_queued"] = requested - queued
        # The machine is shared: what else ran beside the level (1-minute load, 2 cores here).
        measured["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        if requested > queued:
            measured["errors"] += requested - queued
            measured["error_kinds"]["calls_not_queued"] = requested - queued
        if hold:
            measured["failed"] = _why_failed(measured, n, ran_out, held=bool(hold_end))
        else:  # the warm-up: new processes' first requests are slow, only errors count
            measured["failed"] = _why_failed({**measured, "webhook_p99_ms": 0}, n, False, held=True)
        measured["pass"] = not measured["failed"]
        return measured

    def _measure(self, n, calls, asked, rows, state, times) -> dict:
        began, reached, hold_end = times
        ms = [r["ms"] for r in calls.records]
        webhook_errors = [r for r in calls.records if not 200 <= r["status"] < 300]
        server_ms, server_errors = [], 0
        for line in self.access.lines():
            parts = line.split()
            if len(parts) != 4:
                continue
            _, path, status, micros = parts
            server_errors += status.startswith("5")
            if WEBHOOK.match(path):
                server_ms.append(int(micros) / 1000)
        simulator_errors = sum(
            "stopped on an error" in line for tail in self.worker_logs for line in tail.lines()
        )
        failed_tasks = state["tasks"].get("FAILED", 0)
        new_failed_tasks, self.failed_tasks = failed_tasks - self.failed_tasks, failed_tasks
        placing_errors = [
            e for e in state["placing_errors"] if e["transaction__public_id"] in asked
        ]
        mismatches, by_persona = [], {}
        for public_id in sorted(asked):
            want, got = rows[public_id], state["rows"].get(public_id, {})
            persona = by_persona.setdefault(
                want["persona"], {"expected": want["status"], "calls": 0, "matched": 0}
            )
            persona["calls"] += 1
            ok = got.get("status") == want["status"] and got.get("n_calls") == 1
            persona["matched"] += ok
            if not ok:
                mismatches.append({"id": public_id, "expected": want, "got": got})
        not_ended = len(asked) - len(calls.ended)
        errors = {
            "server_5xx": server_errors,
            "webhooks_failed": len(webhook_errors),
            "failed_tasks": new_failed_tasks,
            "placing_errors": len(placing_errors),
            "calls_never_ended": not_ended,
            "simulator_errors": simulator_errors,
        }
        measured = {
            "level": n,
            "calls": len(asked),
            "calls_ended": len(calls.ended),
            "errors": sum(errors.values()),
            "error_kinds": {k: v for k, v in errors.items() if v},
            "statuses_matched": len(asked) - len(mismatches),
            "mismatches": mismatches[:10],
            "webhook_errors": webhook_errors[:10],
            "placing_error_samples": placing_errors[:10],
            "by_persona": by_persona,
            "webhook_requests": len(ms),
            "webhook_p50_ms": round(_percentile(ms, 50), 1),
            "webhook_p99_ms": round(_percentile(ms, 99), 1),
            "server_webhook_p50_ms": round(_percentile(server_ms, 50), 1),
            "server_webhook_p99_ms": round(_percentile(server_ms, 99), 1),
            "seconds": round(time.time() - began, 1),
        }
        if hold_end is not None:
            window = (reached, hold_end)
            mean, peak = _in_flight(calls, window)
            ended = sum(reached <= t < hold_end for t in calls.ended.values())
            hooks = sum(reached <= r["t"] < hold_end for r in calls.records)
            measured.update(
                {
                    "reached_after_s": round(reached - began, 1),
                    "held_s": round(hold_end - reached, 1),
                    "in_flight_mean": round(mean, 1),
                    "in_flight_peak": peak,
                    "calls_per_minute": round(ended / (hold_end - reached) * 60),
                    "webhooks_per_s": round(hooks / (hold_end - reached)),
                }
            )
        lengths = [calls.ended[s] - calls.started[s] for s in calls.ended]
        measured["call_seconds_mean"] = round(sum(lengths) / max(1, len(lengths)), 2)
        if hold_end is None and lengths:
            self.call_seconds = max(0.2, measured["call_seconds_mean"])
        return measured


def _why_failed(m: dict, n: int, ran_out: bool, *, held: bool) -> str:
    reasons = []
    if m["webhook_p99_ms"] >= P99_LIMIT_MS:
        reasons.append(f"webhook p99 {m['webhook_p99_ms']} ms ≥ {P99_LIMIT_MS} ms")
    if m["errors"]:
        kinds = ", ".join(f"{k} {v}" for k, v in m["error_kinds"].items())
        reasons.append(f"{m['errors']} errors ({kinds})")
    if m["statuses_matched"] != m["calls"]:
        reasons.append(f"{m['calls'] - m['statuses_matched']} wrong final statuses")
    if not held:
        reasons.append(f"never {n} calls in flight at once within {REACH_TIMEOUT} s")
    elif m.get("in_flight_mean", n) < IN_FLIGHT_SHARE * n:
        reasons.append(f"only {m['in_flight_mean']} calls in flight on average")
    if ran_out:
        reasons.append("the load test ran out of rows (raise its estimate)")
    return "; ".join(reasons)


def _in_flight(calls: Calls, window: tuple[float, float]) -> tuple[float, int]:
    """Calls in flight over `window`: the time-weighted mean and the peak."""
    a, b = window
    events, total = [], 0.0
    for sid, start in calls.started.items():
        end = calls.ended.get(sid, math.inf)
        lo, hi = max(start, a), min(end, b)
        if lo < hi:
            total += hi - lo
            events += [(lo, 1), (hi, -1)]
    peak = current = 0
    for _, step in sorted(events):
        current += step
        peak = max(peak, current)
    return total / (b - a), peak


def _percentile(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _line(m: dict) -> str:
    flight = (
        f", in flight {m['in_flight_mean']} (peak {m['in_flight_peak']})" if "held_s" in m else ""
    )
    return (
        f"{m['calls']} calls{flight}, webhook p50/p99 {m['webhook_p50_ms']}/{m['webhook_p99_ms']}"
        f" ms, {m['errors']} errors, {m['statuses_matched']}/{m['calls']} statuses"
        f" {'PASS' if m['pass'] else 'STOP: ' + m['failed']}"
    )


def table(results) -> str:
    scale = float(TIME_SCALE)
    lines = [
        f"\nLevels of simultaneous simulated calls held {HOLD:.0f} s each; customers "
        f"{1 / scale:.0f}× faster than real, so one call sends the webhooks of {1 / scale:.0f} "
        f"real ones. Webhook ms as the simulator waits for them (gunicorn's own in brackets).",
    ]
    for r in results["runs"]:
        lines += [
            f"\n{r['name']}: {r['web_processes']} web processes, {r['task_workers']} task "
            "worker(s)",
            "| simultaneous | as real calls | in flight mean / peak | calls | calls/min "
            "| webhooks/s | webhook p50 / p99 ms | errors | statuses as expected | load | |",
            "|-------------:|--------------:|----------------------:|------:|----------:"
            "|-----------:|---------------------:|-------:|---------------------:|-----:|-|",
        ]
        for m in r["levels"]:
            lines.append(
                f"| {m['level']} | {m['level'] / scale:.0f} "
                f"| {m.get('in_flight_mean', '-')} / {m.get('in_flight_peak', '-')} "
                f"| {m['calls']} | {m.get('calls_per_minute', '-')} "
                f"| {m.get('webhooks_per_s', '-')} "
                f"| {m['webhook_p50_ms']} / {m['webhook_p99_ms']} "
                f"({m['server_webhook_p50_ms']} / {m['server_webhook_p99_ms']}) "
                f"| {m['errors']} | {m['statuses_matched']}/{m['calls']} "
                f"| {m['load_average'][1]} | {'ok' if m['pass'] else 'STOP'} |"
            )
        for m in r["levels"][-1:] if r["levels"] else [r["warmup"]]:
            if not m["pass"]:
                lines.append(f"stopped at {m['level']}: {m['failed']}")
            for x in m["mismatches"][:3]:
                lines.append(f"  MISMATCH {x}")
            for x in m["webhook_errors"][:3]:
                lines.append(f"  WEBHOOK ERROR {x}")
            for x in m["placing_error_samples"][:3]:
                lines.append(f"  PLACING ERROR {x}")
    lines.append("")
    for r in results["runs"]:
        best = next((m for m in r["levels"] if m["level"] == r["sustained"]), None)
        detail = (
            f" (webhook p50/p99 {best['webhook_p50_ms']}/{best['webhook_p99_ms']} ms, "
            f"{best['calls_per_minute']} calls/min, {best['errors']} errors)"
            if best
            else ""
        )
        lines.append(
            f"{r['name']}: most simultaneous calls sustained with p99 < {P99_LIMIT_MS} ms and "
            f"no errors: {r['sustained']}{detail}"
        )
    return "\n".join(lines)


def main():
    VAR.mkdir(exist_ok=True)
    started = time.monotonic()
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "levels": levels(),
        "hold_s": HOLD,
        "time_scale": float(TIME_SCALE),
        "calls_per_second": float(CPS),
        "p99_limit_ms": P99_LIMIT_MS,
        "runs": [],
        "skipped": [],
    }
    sqlite_url = bench.reset_sqlite_at(VAR / "loadtest.sqlite3")
    results["runs"].append(run_database("sqlite", sqlite_url, 2, 1))
    if bench.postgres_available(PG_URL):
        results["runs"].append(run_database("postgresql", bench.reset_postgres_at(PG_URL), 2, 2))
    else:
        results["skipped"].append(f"postgresql: no server answered at {PG_URL}")
    results["elapsed_s"] = round(time.monotonic() - started)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    for skipped in results["skipped"]:
        print(f"SKIPPED {skipped}")
    print(f"\n({results['elapsed_s']} s; written to bench/loadtest-results.json)")
    # A ramp always ends at a level that fails; the run fails when not even the first held.
    sys.exit(0 if all(r["sustained"] for r in results["runs"]) else 1)


if __name__ == "__main__":
    main()
