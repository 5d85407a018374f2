"""The local host streams any app's streamed HTTP response (Starlette's ``StreamingResponse`` shape).

Not durableagent's routes: a plain ``func.FunctionApp`` whose function returns a
``StreamingResponse`` (what apps of the Azure Functions HTTP streams extension return). The body
goes out chunked, piece by piece, with the function's status and headers; a client that leaves
stops the app's generator.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

APP = Path(__file__).resolve().parents[2] / "apps" / "streaming_plain"


def test_a_streamed_body_goes_out_in_pieces_and_stops_when_the_client_leaves(tmp_path: Path) -> None:
    probe = tmp_path / "probe.txt"
    host = LocalHost(APP, store=tmp_path / "store.sqlite", env={"STREAM_PROBE": str(probe)})
    with host, httpx.Client(base_url=host.url("/api"), timeout=30) as http:
        with http.stream("GET", "/count?n=5") as response:
            assert response.status_code == 200
            assert response.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in response.headers
            assert response.headers["x-streamed"] == "yes"
            assert response.headers["content-type"].startswith("text/plain")
            pieces = list(response.iter_raw())
        assert b"".join(pieces) == b"0\n1\n2\n3\n4\n"
        wait_for(probe.exists)
        assert probe.read_text() == "closed after 5"
        probe.unlink()
        with http.stream("GET", "/count") as response:  # endless: the client leaves
            lines = response.iter_lines()
            assert [next(lines) for _ in range(3)] == ["0", "1", "2"]
        wait_for(probe.exists)  # the generator was closed by the host
        assert probe.read_text().startswith("closed after ")
