#!/usr/bin/env python3
"""Measure the local host's queue trigger against Azurite: messages per second and latency.

Usage: .venv/bin/python scripts/bench_storage_triggers.py [--messages N]

Starts Azurite (from tools/node, see scripts/setup-test-tools) on free loopback ports, enqueues a
backlog of N messages on ``orders``, starts the local host on tests/apps/storage_app and waits until
N results are on ``orders-done`` (queue trigger -> function -> queue output). Prints the throughput
and the latency of single messages sent one at a time (send -> result seen by a polling client).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import statistics
import tempfile
import time
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from durableagent.local.triggers import azurite
from durableagent.testing.host import LocalHost

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "tests" / "apps" / "storage_app"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # Azurite's


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _drain(done: QueueClient, want: int, deadline: float) -> int:
    got = 0
    while got < want and time.monotonic() < deadline:
        batch = list(done.receive_messages(max_messages=32, visibility_timeout=60))
        for message in batch:
            done.delete_message(message)
        got += len(batch)
    return got


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--latency-samples", type=int, default=20)
    args = parser.parse_args()
    ports = {"blob": _free_port(), "queue": _free_port(), "table": _free_port()}
    emulator = asyncio.run(azurite.ensure_running({s: ("127.0.0.1", p) for s, p in ports.items()}))
    conn = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};" + "".join(
        f"{s.capitalize()}Endpoint=http://127.0.0.1:{p}/devstoreaccount1;" for s, p in ports.items()
    )
    work = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    env = {"AzureWebJobsStorage": conn, "ATTEMPTS_LOG": str(work / "attempts.jsonl")}
    encode = TextBase64EncodePolicy()
    orders = QueueClient.from_connection_string(conn, "orders", message_encode_policy=encode)
    done = QueueClient.from_connection_string(conn, "orders-done")
    for queue in (orders, done):
        with contextlib.suppress(ResourceExistsError):
            queue.create_queue()
    for i in range(args.messages):  # a backlog waiting before the host starts
        orders.send_message(f"backlog-{i}")
    host = LocalHost(APP, store=work / "store.sqlite", env=env)
    try:
        t0 = time.monotonic()
        host.start()
        t1 = time.monotonic()
        backlog = _drain(done, args.messages, t1 + 300)
        t2 = time.monotonic()
        latencies = []
        for i in range(args.latency_samples):
            sent = time.monotonic()
            orders.send_message(f"latency-{i}")
            if _drain(done, 1, sent + 30) != 1:
                raise SystemExit("a message did not come back within 30 s")
            latencies.append(time.monotonic() - sent)
    finally:
        host.stop()
        if emulator is not None:
            asyncio.run(emulator.stop())
    rate = backlog / (t2 - t1)
    print(f"queue trigger -> queue output, backlog of {args.messages}: {backlog} done {t2 - t1:.2f} s "
          f"after the host was up ({rate:.0f} msg/s; host startup {t1 - t0:.2f} s)")  # fmt: skip
    ms = sorted(x * 1000 for x in latencies)
    print(f"single-message latency over {len(ms)} samples: median {statistics.median(ms):.0f} ms, "
          f"max {ms[-1]:.0f} ms (includes the client's own polling)")  # fmt: skip
    return 0 if backlog == args.messages else 1


if __name__ == "__main__":
    raise SystemExit(main())
