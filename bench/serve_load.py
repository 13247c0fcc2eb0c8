"""Load test of the web API on loopback: concurrent clients against a large store, bounded in time.

    .venv/bin/python bench/serve_load.py          # quick: 10,000 cases, 50 clients, 10 s
    .venv/bin/python bench/serve_load.py --full   # the issue's size: 100,000 cases, 50 clients, 60 s
    .venv/bin/python bench/serve_load.py --cpu    # CPU ms per request inside the app (no HTTP, no clients)
    .venv/bin/python bench/serve_load.py --full --client httpx   # the same load from httpx clients
    .venv/bin/python bench/serve_load.py --full --pg             # against a throw-away PostgreSQL

Each client loops over the three pages an analyst lives in - the alerts inbox (GET /api/alerts), a
case page (GET /api/cases/{id}, which also appends a justified consultation to the hash-chained
audit log) and the series page (GET /api/series/{id}) - and the p50/p99 latency of each is
reported.  The clients are closed-loop (no think time) on one connection each, after 3 s of untimed
warm-up (connections opened, caches filled); each run starts from a fresh copy of the store.  The
server runs in its own process (uvicorn, one worker unless ``--workers``) on 127.0.0.1 only; the
clients stop after the time limit.  Target (issue 6): p99 <= 300 ms.  Besides latency it reports the
server process's CPU time per request (from /proc), which, unlike latency, does not depend on how
busy a shared machine is.  ``--cpu`` drives the ASGI app directly, one request at a time, and
reports the CPU each page costs the app itself (no HTTP parsing, no client in the same process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import gc
import importlib.util
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import MutableMapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Table

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
PAGES = ("alerts", "case", "series")


def build_store(db_url: str, n_cases: int, seed: int = 7) -> None:
    """A store of ``n_cases`` synthetic deaths across Greater London, 30 open alerts and series."""
    from caselink.io import open_source
    from caselink.linkage.models import AlertRow, SeriesLinkRow, SeriesMemberRow, SeriesRow
    from caselink.store import CaseStore
    from caselink.web import auth

    def sa_table(model: Any) -> Table:
        return cast(Table, model.__table__)

    rng = np.random.default_rng(seed)
    csv_path = OUT / f"serve_load_{n_cases}.csv"
    start = datetime(2010, 1, 1)
    causes = ["drug_toxicity", "natural", "hanging", "fall", "drowning", "undetermined", "blunt_force"]
    places = ["residence", "street", "park_open_space", "hostel_hotel", "waterway", "churchyard_cemetery"]
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "agency", "found_at", "lat", "lon", "place_type", "area", "victim_age",
                         "victim_sex", "cause", "substances", "narrative", "classification"])
        for i in range(n_cases):
            found = start + timedelta(minutes=int(rng.integers(0, 14 * 365 * 24 * 60)))
            writer.writerow([f"C{i:07d}", "Met", found.isoformat(timespec="minutes"),
                             round(51.3 + rng.random() * 0.4, 5), round(-0.5 + rng.random() * 0.7, 5),
                             places[i % len(places)], f"area {i % 32}", int(rng.integers(16, 95)),
                             "M" if rng.random() < 0.6 else "F", causes[i % len(causes)],
                             "ghb;alcohol" if i % 50 == 0 else "", f"synthetic case {i}", "expected"])
    with CaseStore.open(db_url) as store:
        store.ingest([open_source(csv_path)], officer="bench")
        auth.add_user(store.engine, "bench", "analyst", None)
        stamp = datetime(2024, 1, 1)
        with store.engine.begin() as connection:
            for s in range(1, 31):
                members = [f"C{(s * 997 + k * 13) % n_cases:07d}" for k in range(4)]
                sid = f"S-{s:04d}"
                connection.execute(sa_table(SeriesRow).insert().values(
                    series_id=sid, status="active", merged_into=None, created_at=stamp, updated_at=stamp,
                    n_cases=4, score=0.9, first_found_at="2014-01-01", last_found_at="2014-06-01",
                    reasons=["all 4 within 1 km", "ghb in 4 of 4"]))
                connection.execute(sa_table(SeriesMemberRow).insert(), [
                    {"series_id": sid, "case_id": c, "joined_at": stamp} for c in members])
                connection.execute(sa_table(SeriesLinkRow).insert(), [
                    {"case_a": a, "case_b": b, "probability": 0.95, "match_weight": 6.0, "run_id": None}
                    for a, b in zip(members, members[1:], strict=False)])
                connection.execute(sa_table(AlertRow).insert().values(
                    raised_at=stamp, at="2014-06-01", kind="formed", new_case_id=members[-1], series_id=sid,
                    case_ids=members, probability=0.95, reasons=["all 4 within 1 km"], status="open",
                    run_id=None, details="{}"))
    csv_path.unlink()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its living children so far (Linux /proc).

    With ``--workers N`` uvicorn's first process only supervises; the workers are its children.
    """
    def own(one: int) -> float:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    total = own(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        total += sum(own(int(child)) for child in children)
    return total


def app_cpu_per_request(db_url: str, token: str, n_cases: int, n_requests: int = 300) -> dict[str, float]:
    """CPU ms per request of each page through the ASGI app itself, requests one after another."""
    from caselink.web import WebSettings, create_app

    app = create_app(db_url, WebSettings(secure_cookies=False))
    rng = random.Random(3)
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()),
               (b"x-justification", b"load test"), (b"accept", b"application/json")]

    async def call(path: str) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
                 "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        status: list[int] = []

        async def receive() -> MutableMapping[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))

        await app(scope, receive, send)
        if status != [200]:
            raise SystemExit(f"{path}: status {status}")

    paths = {"alerts": lambda: "/api/alerts", "case": lambda: f"/api/cases/C{rng.randrange(n_cases):07d}",
             "series": lambda: f"/api/series/S-{rng.randrange(1, 31):04d}"}

    async def measure() -> dict[str, float]:
        out = {}
        for page, path in paths.items():
            for _ in range(10):
                await call(path())
            began = time.process_time()
            for _ in range(n_requests):
                await call(path())
            out[page] = (time.process_time() - began) * 1000 / n_requests
        return out

    return asyncio.run(measure())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(db_url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """uvicorn in its own process group serving caselink.web.asgi:app on loopback."""
    env = {**os.environ, "CASELINK_DB": db_url, "CASELINK_WEB_INSECURE_COOKIES": "1"}
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "caselink.web.asgi:app", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers), "--log-level", "warning"], env=env)


class RawHttpClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: one connection, one request at a time.

    httpx costs the load generator a few ms of CPU per request, on the same two cores as the server;
    this client writes a fixed request head and reads the answer by its Content-Length (the app always
    sends one), so nearly all the CPU left is the server's.  It measures the server, not a client library.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head_tail = "".join(f"{name}: {value}\r\n" for name, value in
                                 {"Host": f"{host}:{port}", **headers}.items()).encode() + b"\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        """The status code of ``GET path``; the body is read and dropped.  Reconnects if the server closed."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self.head_tail)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise RuntimeError(f"{path}: answer without Content-Length")
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def run_clients(host: str, port: int, token: str, n_clients: int, seconds: float, n_cases: int,
                      client_kind: str = "raw") -> dict[str, list[float]]:
    """``n_clients`` closed-loop clients (no think time), each cycling the three pages until the deadline."""
    latencies: dict[str, list[float]] = {page: [] for page in PAGES}
    errors: dict[str, int] = {page: 0 for page in PAGES}
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}", "X-Justification": "load test", "Accept": "application/json"}

    async def loop(index: int, get: Any) -> None:
        rng = random.Random(index)
        step = index
        while time.monotonic() < deadline:
            page = PAGES[step % len(PAGES)]
            step += 1
            url = {"alerts": "/api/alerts",
                   "case": f"/api/cases/C{rng.randrange(n_cases):07d}",
                   "series": f"/api/series/S-{rng.randrange(1, 31):04d}"}[page]
            began = time.perf_counter()
            status = await get(url)
            elapsed = time.perf_counter() - began
            if status == 200:
                latencies[page].append(elapsed)
            else:
                errors[page] += 1

    async def raw_client(index: int) -> None:
        http = RawHttpClient(host, port, headers)
        try:
            await loop(index, http.get)
        finally:
            await http.close()

    async def httpx_client(index: int) -> None:
        import httpx

        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=f"http://{host}:{port}", headers=headers, timeout=30,
                                     limits=limits) as http:
            async def get(url: str) -> int:
                return int((await http.get(url)).status_code)

            await loop(index, get)

    client = raw_client if client_kind == "raw" else httpx_client
    await asyncio.gather(*(client(i) for i in range(n_clients)))
    latencies["errors"] = [float(errors[p]) for p in PAGES]
    return latencies


LOOP_NAME = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def run_loop(coroutine: Any) -> Any:
    """Run the clients on uvloop when installed (as uvicorn does): less CPU per request for the client."""
    if LOOP_NAME == "uvloop":
        import uvloop

        return uvloop.run(coroutine)
    return asyncio.run(coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="100,000 cases for 60 s (the issue's size)")
    parser.add_argument("--cases", type=int, help="store size (default 10,000; 100,000 with --full)")
    parser.add_argument("--seconds", type=float, help="duration (default 10; 60 with --full)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of untimed load first")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--cpu", action="store_true", help="only CPU ms per request inside the app")
    parser.add_argument("--pg", action="store_true",
                        help="a throw-away PostgreSQL server (tests/pg_server.py) instead of SQLite")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load generator: a minimal asyncio HTTP/1.1 client (default) or httpx")
    args = parser.parse_args()
    n_cases = args.cases or (100_000 if args.full else 10_000)
    seconds = args.seconds or (60.0 if args.full else 10.0)
    OUT.mkdir(parents=True, exist_ok=True)
    pg = None
    if args.pg:
        # A throw-away PostgreSQL as the tests start it (tests/pg_server.py; fsync off), built afresh.
        sys.path.insert(0, str(REPO / "tests"))
        from pg_server import PgServer

        pg = PgServer()
        pg.start()
        db_url = pg.create_database("serve_load")
        began = time.perf_counter()
        build_store(db_url, n_cases)
        print(f"built {n_cases:,}-case PostgreSQL store in {time.perf_counter() - began:.1f} s")
    else:
        pristine = OUT / f"serve_load_{n_cases}.db"
        if not pristine.exists():
            began = time.perf_counter()
            build_store(f"sqlite:///{pristine}", n_cases)
            print(f"built {n_cases:,}-case store in {time.perf_counter() - began:.1f} s: {pristine}")
        # Every run starts from the same store: the audit log each run appends to would otherwise grow
        # from run to run, and runs would not compare.
        db_path = OUT / f"serve_load_{n_cases}.run.db"
        for leftover in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(pristine, db_path)
        db_url = f"sqlite:///{db_path}"
    try:
        run(args, db_url, n_cases, seconds, pg)
    finally:
        if pg is not None:
            pg.stop()


def run(args: argparse.Namespace, db_url: str, n_cases: int, seconds: float, pg: Any) -> None:
    """Issue a token, then either the in-app CPU figures or the load run against uvicorn."""
    from caselink.store import CaseStore
    from caselink.web import auth

    with CaseStore.open(db_url) as store:
        token = auth.issue_token(store.engine, "bench", "serve_load")[1]
    if args.cpu:
        for page, cpu_ms in app_cpu_per_request(db_url, token, n_cases).items():
            print(f"{page:<8} {cpu_ms:6.2f} ms CPU per request (in the app, sequential)")
        return
    port = free_port()
    server = start_server(db_url, port, args.workers)
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0]) if pg is not None else None
    try:
        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        # The clients' own garbage collector must not pause them mid-request: what this process
        # imported (SQLAlchemy, numpy, the store) is frozen out of its sight, as the server does.
        gc.collect()
        gc.freeze()
        if args.warmup:
            # Pools, compiled-statement caches and the first pages of every index are filled before
            # anything is timed (the same load, results discarded).
            run_loop(run_clients("127.0.0.1", port, token, args.clients, args.warmup, n_cases, args.client))
        cpu_before = process_cpu_seconds(server.pid)
        db_cpu_before = process_cpu_seconds(postmaster) if postmaster else 0.0
        client_cpu_before = time.process_time()
        result = run_loop(run_clients("127.0.0.1", port, token, args.clients, seconds, n_cases, args.client))
        client_cpu = time.process_time() - client_cpu_before
        server_cpu = process_cpu_seconds(server.pid) - cpu_before
        db_cpu = process_cpu_seconds(postmaster) - db_cpu_before if postmaster else 0.0
        load_average = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=20)
    errors = dict(zip(PAGES, result.pop("errors"), strict=True))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores; python {platform.python_version()}; "
          f"{datetime.now().date()}")
    engine_name = "PostgreSQL" if pg else "SQLite"
    print(f"store: {n_cases:,} cases ({engine_name}); {args.clients} clients for {seconds:.0f} s on loopback "
          f"after {args.warmup:.0f} s of warm-up; {args.workers} uvicorn worker(s)")
    n_ok = sum(len(result[page]) for page in PAGES)
    print(f"server CPU: {server_cpu:.1f} s for {n_ok:,} requests = {server_cpu * 1000 / max(n_ok, 1):.2f} ms per "
          f"request (uvicorn's processes); load average {load_average:.1f} "
          "(1 min, at the end of the run)")
    print(f"client CPU ({args.client}, {LOOP_NAME}): {client_cpu * 1000 / max(n_ok, 1):.2f} ms per request")
    if pg is not None:
        print(f"PostgreSQL CPU (postmaster and backends): {db_cpu * 1000 / max(n_ok, 1):.2f} ms per request")
    print(f"{'page':<8} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for page in PAGES:
        values = np.array(result[page]) * 1000
        if len(values) == 0:
            print(f"{page:<8} {0:>9} {'-':>7} {'-':>8} {'-':>8} {'-':>8} {int(errors[page]):>7}")
            continue
        print(f"{page:<8} {len(values):>9} {len(values) / seconds:>7.1f} {np.percentile(values, 50):>8.1f} "
              f"{np.percentile(values, 99):>8.1f} {values.max():>8.1f} {int(errors[page]):>7}")


if __name__ == "__main__":
    main()
