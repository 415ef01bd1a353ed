"""Killing the server mid-stream loses no acknowledged event and counts no retried one twice.

``segmint serve`` runs as a subprocess on a DuckDB file.  Four clients stream
batches of tracked events with messageIds and record which batches were
answered 200.  The server is killed with SIGKILL while they stream, then
started again; the clients send every batch that was not acknowledged, and one
that was (a client that lost the answer retries).  Every acknowledged
messageId must then be stored exactly once, and every message sent at all
too (each was finally acknowledged).
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from segmint.server.auth import create_key
from segmint.store import open_store

pytestmark = pytest.mark.duckdb

CLIENTS = 4
EVENTS_PER_BATCH = 50
KILL_AFTER_ACKS = 24


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(db: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``segmint serve`` on ``db``; yields the process and its URL once /health answers."""
    port = free_port()
    script = Path(sys.executable).with_name("segmint")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from segmint.cli.app import main; main()"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*command, "serve", "--db", str(db), "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


def batch(number: int) -> dict[str, Any]:
    """Batch ``number``: its events' messageIds are ``b<number>-<i>``."""
    return {
        "batch": [
            {
                "type": "track",
                "userId": f"user-{(number * EVENTS_PER_BATCH + i) % 97}",
                "event": "Email Opened",
                "messageId": f"b{number}-{i}",
                "properties": {"campaign_id": f"c{number % 5}"},
            }
            for i in range(EVENTS_PER_BATCH)
        ]
    }


def test_sigkill_while_streaming_loses_no_acknowledged_event_and_counts_none_twice(tmp_path: Path) -> None:
    db, log = tmp_path / "crash.duckdb", tmp_path / "server.log"
    with open_store(str(db)) as store:
        token = create_key(store, "ingest").token
    auth = {"Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()}
    acked: set[int] = set()
    sent: set[int] = set()
    lock = threading.Lock()
    numbers = iter(range(1_000_000))
    stop = threading.Event()

    with server(db, log) as (process, url):

        def stream() -> None:
            with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
                while not stop.is_set():
                    with lock:
                        number = next(numbers)
                        sent.add(number)
                    try:
                        answer = client.post("/v1/batch", json=batch(number))
                    except httpx.HTTPError:
                        return  # the server is gone
                    if answer.status_code == 200:
                        with lock:
                            acked.add(number)

        streams = [threading.Thread(target=stream) for _ in range(CLIENTS)]
        for thread in streams:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acked) < KILL_AFTER_ACKS and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        stop.set()
        for thread in streams:
            thread.join(30)

    assert len(acked) >= KILL_AFTER_ACKS, log.read_text()[-3000:]
    unacked = sorted(sent - acked)
    assert unacked, "the kill should catch requests in flight"
    retried = [*unacked, min(acked)]  # and a retry of an acknowledged batch

    with server(db, log) as (process, url):
        with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
            for number in retried:
                assert client.post("/v1/batch", json=batch(number)).status_code == 200
        process.send_signal(signal.SIGTERM)  # an orderly stop this time
        process.wait(30)

    with open_store(str(db)) as store:
        counts = {
            r["event_id"]: r["n"]
            for r in store.engine.query("SELECT event_id, count(*) AS n FROM events GROUP BY event_id").to_pylist()
        }
    expected = {f"b{n}-{i}" for n in sent for i in range(EVENTS_PER_BATCH)}
    acknowledged = {f"b{n}-{i}" for n in acked for i in range(EVENTS_PER_BATCH)}
    assert acknowledged <= set(counts)  # no acknowledged event lost
    assert set(counts) == expected  # every sent event stored in the end, and nothing else
    assert {n for n in counts.values()} == {1}  # none twice
