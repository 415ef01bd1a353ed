"""Tracking throughput: Segment batches through ``POST /v1/batch`` on loopback, alone and while a refresh runs.

    python -m benchmarks.tracking [--seconds 20] [--events-per-batch 100] [--clients 8] [--contacts 0]

Starts ``segmint serve`` as a subprocess on a fresh DuckDB store (with
``--contacts`` > 0, first loaded with the demo company at that size: its
contacts, events, the playbook's segments and every trait, so the fresh path
has real segments to refresh for every touched contact).  A load generator in
this process (asyncio + httpx, ``--clients`` concurrent connections) posts
batches of ``--events-per-batch`` messages — in each 100, two identifies, 60
page views (a tenth of them anonymous, with UTM campaigns) and 38 tracked
events (email opens and clicks, products added, orders) — each message with
its own messageId, to users of the demo.

Two phases of ``--seconds`` each, after a warm-up of ``--warmup`` seconds:

- ``alone``: nothing else runs (but the server's own fresh path);
- ``during refresh``: full refreshes run back to back through ``POST
  /api/refresh`` the whole time.

Reported per phase: acknowledged events per second (sustained: acknowledged
events over the phase's seconds), requests per second, request latency p50,
p99 and max (200 answers), 429 answers (the client then waits Retry-After
and sends again), the server's peak RSS.  After the run the server is
stopped and the store is opened to check that every acknowledged event is
stored exactly once.  Prints a Markdown table and writes
``benchmarks/results/tracking.md`` and ``.json``.

The goal (issue 5): at least 20,000 events/s sustained with p99 under 200 ms
on this machine, alone and while a refresh runs.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from segmint.testing.postgres import free_port

RESULTS = Path(__file__).parent / "results"
GOAL_EVENTS, GOAL_P99_MS = 20_000, 200.0


# ---- payloads ------------------------------------------------------------------------------------------


class Payloads:
    """Batch bodies as bytes: a few templates whose messageIds get a batch's unique prefix."""

    MARK = "@@BATCH@@"

    def __init__(self, events_per_batch: int, users: list[str], variants: int = 40, seed: int = 1) -> None:
        rng = random.Random(seed)
        self.events_per_batch = events_per_batch
        self.templates = [self._template(rng, users).encode() for _ in range(variants)]
        self.sent = 0

    def _template(self, rng: random.Random, users: list[str]) -> str:
        messages = []
        for i in range(self.events_per_batch):
            user = rng.choice(users)
            slot = i % 100
            message: dict[str, Any] = {"messageId": f"{self.MARK}-{i}", "userId": user}
            if slot < 2:
                message |= {
                    "type": "identify",
                    "traits": {"firstName": "Bench", "plan": rng.choice(["free", "pro"]), "logins": rng.randint(1, 90)},
                }
            elif slot < 62:
                path = rng.choice(["/", "/pricing", "/products/valves", "/blog/hydraulics", "/contact"])
                message |= {
                    "type": "page",
                    "name": path.strip("/") or "home",
                    "properties": {"url": f"https://shop.example{path}", "title": f"Page {path}", "path": path},
                    "context": {"page": {"referrer": "https://www.google.com/"}, "userAgent": "Mozilla/5.0 (bench)"},
                }
                if slot % 10 == 0:
                    message.pop("userId")
                    message["anonymousId"] = f"anon-{user}"
                    message["context"]["campaign"] = {"source": "newsletter", "medium": "email", "name": "spring"}
            else:
                event, props = rng.choice(
                    [
                        ("Email Opened", {"campaign_id": "c-12", "email_subject": "Spring news"}),
                        ("Email Link Clicked", {"campaign_id": "c-12", "link_url": "https://shop.example/pricing"}),
                        ("Product Added", {"product_id": "p-7", "category": "valves", "price": 129.0}),
                        ("Order Completed", {"order_id": "o-1", "revenue": 258.0, "currency": "EUR"}),
                    ]
                )
                message |= {"type": "track", "event": event, "properties": props}
            messages.append(message)
        return json.dumps({"batch": messages, "context": {"library": {"name": "segmint-bench", "version": "1"}}})

    def body(self, run: str) -> bytes:
        self.sent += 1
        template = self.templates[self.sent % len(self.templates)]
        return template.replace(self.MARK.encode(), f"{run}{self.sent}".encode())


# ---- the server -----------------------------------------------------------------------------------------


def segmint_command() -> list[str]:
    script = Path(sys.executable).with_name("segmint")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from segmint.cli.app import main; main()"]


def prepare(db: Path, contacts: int) -> None:
    """A fresh store at ``db``: empty, or the demo at ``contacts`` contacts (playbook segments and traits)."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    if contacts:
        started = time.perf_counter()
        subprocess.run(
            [*segmint_command(), "demo", "--contacts", str(contacts), "--db", str(db)], check=True, capture_output=True
        )
        print(f"loaded the demo at {contacts:,} contacts in {time.perf_counter() - started:.1f} s", flush=True)


def keys_and_users(db: Path) -> tuple[str, str, list[str]]:
    """An ingest key and an admin key for the store, and (a sample of) its contacts to track as."""
    from segmint.server.auth import create_key
    from segmint.store import open_store

    with open_store(str(db)) as store:
        ingest = create_key(store, "ingest", name="bench").token
        admin = create_key(store, "admin", name="bench").token
        users = [
            str(u)
            for u in store.engine.query("SELECT contact_id FROM contacts USING SAMPLE 10000 ROWS").column(0).to_pylist()
        ]
    return ingest, admin, users or [f"user-{i}" for i in range(10_000)]


class Server:
    """``segmint serve`` in a subprocess (its ``[server]`` settings in a segmint.toml of its own), and its peak RSS."""

    def __init__(self, db: Path, log: Path, settings: dict[str, Any]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.home = home = Path(tempfile.mkdtemp(prefix="segmint-bench-serve-"))
        (home / "segmint.toml").write_text("[server]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*segmint_command(), "serve", "--db", str(db.resolve()), "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=home,
            )
        self.peak_rss_mb = 0.0
        self._watching = True
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        threading.Thread(target=self._watch, daemon=True).start()

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _watch(self) -> None:
        while self._watching:
            self.peak_rss_mb = max(self.peak_rss_mb, self.rss_mb())
            time.sleep(0.25)

    def reset_peak(self) -> None:
        self.peak_rss_mb = self.rss_mb()

    def stop(self) -> None:
        self._watching = False
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


# ---- load ---------------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    requests: int = 0
    events: int = 0
    overloaded: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    refreshes: list[float] = field(default_factory=list)  # seconds of each full refresh that finished
    peak_rss_mb: float = 0.0
    first_error: str = ""  # the first answer that was neither 200 nor 429, to say why a phase failed

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms) or [0.0]

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

        return {
            "phase": self.name,
            "seconds": round(self.seconds, 2),
            "events_per_s": round(self.events / self.seconds) if self.seconds else 0,
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(pct(0.99), 1),
            "max_ms": round(ordered[-1], 1),
            "acked_events": self.events,
            "overloaded_429": self.overloaded,
            "errors": self.errors,
            "refreshes": len(self.refreshes),
            "refresh_seconds": [round(s, 2) for s in self.refreshes],
            "peak_rss_mb": round(self.peak_rss_mb),
        }


async def generate(
    url: str, token: str, payloads: Payloads, clients: int, seconds: float, warmup: float, run: str, phase: Phase
) -> None:
    """``clients`` connections posting batches for ``warmup + seconds``; only the last ``seconds`` count."""
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode(),
        "Content-Type": "application/json",
    }
    start = time.perf_counter()
    measure_from, until = start + warmup, start + warmup + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as client:

        async def one() -> None:
            while (now := time.perf_counter()) < until:
                body = payloads.body(run)
                sent = time.perf_counter()
                try:
                    answer = await client.post("/v1/batch", content=body)
                except httpx.HTTPError as exc:
                    phase.errors += 1 if now >= measure_from else 0
                    phase.first_error = phase.first_error or f"{type(exc).__name__}: {exc}"
                    continue
                took = time.perf_counter() - sent
                counted = sent >= measure_from and time.perf_counter() <= until
                if answer.status_code == 200:
                    if counted:
                        phase.requests += 1
                        phase.events += payloads.events_per_batch
                        phase.latencies_ms.append(took * 1000)
                elif answer.status_code == 429:
                    phase.overloaded += 1 if counted else 0
                    await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
                else:
                    phase.errors += 1 if counted else 0
                    phase.first_error = phase.first_error or f"{answer.status_code} {answer.text[:300]}"

        await asyncio.gather(*(one() for _ in range(clients)))
    phase.seconds = seconds
    if phase.errors and not phase.events:
        raise SystemExit(f"tracking ({phase.name}): every batch failed, the first with {phase.first_error}")


async def refresh_loop(url: str, token: str, stop: asyncio.Event, phase: Phase) -> bool:
    """Full refreshes back to back through the API until ``stop``; False when the API has none."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        while not stop.is_set():
            started = await client.post("/api/refresh")
            if started.status_code in (404, 405):
                return False
            if started.status_code == 409:  # one is running already
                await asyncio.sleep(0.2)
                continue
            started.raise_for_status()
            run_id = started.json()["refresh"]["id"]
            while True:
                await asyncio.sleep(0.2)
                status = (await client.get(f"/api/refresh/{run_id}")).json()["refresh"]
                if status["status"] != "running":
                    if status["status"] == "done":
                        phase.refreshes.append(float(status["seconds"]))
                    else:
                        print(f"refresh {run_id} {status['status']}: {status.get('error')}", flush=True)
                    break
    return True


@dataclass
class Load:
    """What the load generator does in each phase."""

    seconds: float = 20
    warmup: float = 3
    clients: int = 8
    events_per_batch: int = 100


async def during_refresh(server: Server, ingest: str, admin: str, payloads: Payloads, load: Load, phase: Phase) -> bool:
    stop = asyncio.Event()
    refreshing = asyncio.create_task(refresh_loop(server.url, admin, stop, phase))
    await asyncio.sleep(0.5)  # the first refresh is under way
    if refreshing.done():
        return refreshing.result()
    await generate(server.url, ingest, payloads, load.clients, load.seconds, load.warmup, "r", phase)
    stop.set()
    return await refreshing


# ---- report ---------------------------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    a = report["load"] | {"contacts": report["contacts"]}
    lines = [
        "# Tracking throughput: Segment batches through POST /v1/batch (DuckDB, loopback)",
        "",
        f"- {a['clients']} concurrent clients (asyncio + httpx in one process on the same machine), batches of "
        f"{a['events_per_batch']} messages (2 % identify, 60 % page, 38 % track), {a['seconds']} s per phase after "
        f"{a['warmup']} s of warm-up",
        f"- store: {'the demo at ' + format(a['contacts'], ',') + ' contacts (playbook segments and traits), ' if a['contacts'] else 'empty, '}"
        f"events before: {report['events_before']:,}; server: commit_interval_ms "
        f"{report['server_settings']['commit_interval_ms']}, fresh_interval_seconds "
        f"{report['server_settings']['fresh_interval_seconds']} (how often touched contacts' traits and segments "
        "are refreshed)",
        f"- machine: {report['machine']['cpus']} CPUs, {report['machine']['platform']}, Python "
        f"{report['machine']['python']}; load generator and server share it",
        f"- check after the run: {report['check']}",
        "",
        "| phase | events/s | requests/s | p50 ms | p99 ms | max ms | 429s | errors | full refreshes | server peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in report["phases"]:
        refreshes = (
            f"{p['refreshes']} ({', '.join(f'{s:.1f} s' for s in p['refresh_seconds'])})" if p["refreshes"] else "0"
        )
        lines.append(
            f"| {p['phase']} | {p['events_per_s']:,} | {p['requests_per_s']:,} | {p['p50_ms']} | {p['p99_ms']} | "
            f"{p['max_ms']} | {p['overloaded_429']} | {p['errors']} | {refreshes} | {p['peak_rss_mb']} |"
        )
    lines.append("")
    for p in report["phases"]:
        met = p["events_per_s"] >= GOAL_EVENTS and p["p99_ms"] < GOAL_P99_MS
        lines.append(
            f"- goal {GOAL_EVENTS:,} events/s with p99 < {GOAL_P99_MS:.0f} ms, {p['phase']}: {'met' if met else 'NOT met'}"
        )
    for note in report["notes"]:
        lines.append(f"- {note}")
    return "\n".join(lines) + "\n"


def run_tracking(
    db: Path, load: Load, *, refresh: bool = True, server_settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Serve the store at ``db``, run the phases against it, stop, and check every acknowledged event is stored once."""
    from segmint.config import ServerSettings
    from segmint.store import open_store

    log = db.with_name(db.name + ".server.log")
    log.unlink(missing_ok=True)
    ingest, admin, users = keys_and_users(db)
    with open_store(str(db)) as store:
        events_before = store.count("events")
        contacts = store.count("contacts")
    payloads = Payloads(load.events_per_batch, users)
    notes: list[str] = []
    phases: list[Phase] = []
    defaults = ServerSettings()
    settings = {
        "fresh_interval_seconds": defaults.fresh_interval_seconds,
        "commit_interval_ms": defaults.commit_interval_ms,
    } | (server_settings or {})
    server = Server(db, log, settings)
    try:
        alone = Phase("alone")
        server.reset_peak()
        asyncio.run(generate(server.url, ingest, payloads, load.clients, load.seconds, load.warmup, "a", alone))
        alone.peak_rss_mb = server.peak_rss_mb
        phases.append(alone)
        print(json.dumps(alone.summary()), flush=True)
        if refresh:
            busy = Phase("during refresh")
            server.reset_peak()
            if asyncio.run(during_refresh(server, ingest, admin, payloads, load, busy)):
                busy.peak_rss_mb = server.peak_rss_mb
                phases.append(busy)
                print(json.dumps(busy.summary()), flush=True)
            else:
                notes.append("the server has no POST /api/refresh: the phase during a refresh was skipped")
    finally:
        server.stop()

    acked = sum(p.events for p in phases)
    with open_store(str(db)) as store:
        stored = store.count("events") - events_before
        twice = store.engine.scalar(
            "SELECT COUNT(*) FROM (SELECT event_id FROM events GROUP BY event_id HAVING COUNT(*) > 1)"
        )
    check = (
        f"{stored:,} events stored, at least the {acked:,} acknowledged in the measured windows "
        f"(warm-up and unmeasured ones too), {twice} stored twice"
    )
    ok = stored >= acked and not twice
    return {
        "load": asdict(load),
        "contacts": contacts,
        "events_before": events_before,
        "server_settings": settings,
        "phases": [p.summary() for p in phases],
        "check": check if ok else check + " — FAILED",
        "ok": ok,
        "notes": notes,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "ran_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--events-per-batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--contacts", type=int, default=0, help="demo contacts to preload (default 0: an empty store)")
    parser.add_argument("--db", type=Path, help="DuckDB file (recreated; default: in the temp directory)")
    parser.add_argument("--no-refresh", action="store_true", help="skip the phase during a full refresh")
    parser.add_argument(
        "--fresh-interval", type=float, help="the server's fresh_interval_seconds (default: its default, 1)"
    )
    parser.add_argument("--commit-interval-ms", type=int, help="the server's commit_interval_ms (default: its default)")
    parser.add_argument("--label", default="", help="suffix of the result files")
    args = parser.parse_args()

    db: Path = args.db or Path(tempfile.gettempdir()) / "segmint-bench-tracking.duckdb"
    prepare(db, args.contacts)
    overrides: dict[str, Any] = {}
    if args.fresh_interval is not None:
        overrides["fresh_interval_seconds"] = args.fresh_interval
    if args.commit_interval_ms is not None:
        overrides["commit_interval_ms"] = args.commit_interval_ms
    load = Load(args.seconds, args.warmup, args.clients, args.events_per_batch)
    report = run_tracking(db, load, refresh=not args.no_refresh, server_settings=overrides)
    text = markdown(report)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = "tracking" + (f"-{args.label}" if args.label else "")
    (RESULTS / f"{stem}.md").write_text(text)
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
