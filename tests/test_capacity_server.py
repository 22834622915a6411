"""tests/capacity_server.py, the hidden-capacity stub benchmark 9 measures against: requests
beyond its slots wait in line, and its counters and vLLM gauges say so."""

import asyncio
import time
import urllib.error
import urllib.request

import aiohttp
import pytest

from cope_eval.scoring._transport import read_vllm_queue
from tests.capacity_server import CapacityServer, read_stats


async def _send(server: CapacityServer, n: int) -> tuple[list[float], tuple[int, int] | None]:
    """Send ``n`` completions at once; (their latencies, the server's /metrics queue once all are in)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n + 1)) as session:
        async def one() -> float:
            started = time.monotonic()
            async with session.post(f"{server.base_url}/chat/completions", data=b"{}") as reply:
                assert reply.status == 200 and "logprobs" in (await reply.json())["choices"][0]
            return time.monotonic() - started

        tasks = [asyncio.create_task(one()) for _ in range(n)]
        await asyncio.sleep(0.08)  # all sent, none done (a service takes at least 0.15 s)
        async with session.get(f"{server.origin}/metrics") as reply:
            queue = read_vllm_queue(await reply.read()) if reply.status == 200 else None
        return await asyncio.gather(*tasks), queue


def test_requests_beyond_the_slots_wait_in_line_and_the_counters_say_so():
    with CapacityServer(slots=4, service_s=0.2, metrics=True) as server:
        before = read_stats(server.origin)
        latencies, queue = asyncio.run(_send(server, 12))
        after = read_stats(server.origin)
    assert queue == (4, 8)  # vLLM's gauges, as cope-eval's lanes read them
    assert max(latencies) >= 3 * 0.15  # three waves of four, each at least 0.15 s
    assert min(latencies) < 0.3  # the first wave did not wait
    rate, running, waiting = after.since(before)
    assert after.completed - before.completed == 12
    assert running <= 4.01 and waiting > 0.5


def test_without_metrics_the_gauges_are_not_served():
    with CapacityServer(slots=2, service_s=0.05) as server:
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(f"{server.origin}/metrics", timeout=5)
    assert raised.value.code == 404
