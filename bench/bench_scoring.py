"""Benchmark 1, the client ceiling: bulk scoring against an instant local server.

cope-eval goes end to end through the real run path: ``execute_run`` reads the stored golden set,
builds each prompt and request body, sends it, parses the reply, computes P("1") and stores the
prediction in SQLite. The client runs on ONE core; the instant server (tests/stub_server.py, a
fixed chat completion with logprobs) runs in another process on the other core.

Baselines, in the same run and at the same concurrency:
- ``openai.AsyncOpenAI``: just the requests (prompts built before the clock starts, replies
  not parsed, nothing stored) -- the path a naive implementation would take;
- an aiohttp keep-alive loop: ``cope_eval.scoring ServerSession`` (the session cope-eval
  scores with) POSTing one fixed, real request body and checking the status -- no prompt build,
  parse or store. It is the practical limit of this design: nothing cheaper is left to remove.

Each client is timed in wall seconds and in its own CPU seconds. The clients take turns over
``rounds`` rounds (the second in reverse order) and the best round of each is kept: on a shared
machine other work only slows a client down. The verdict is cope-eval's end-to-end items per
CPU second (what one dedicated core sustains) as a ratio to the openai loop measured in the same
run: at least TARGET_VS_OPENAI. Issue 14 put the bar at 2,500 items per CPU second, "about 6x
today's openai loop", on a day the openai loop did about 400 requests per CPU second; machines of
this kind differ by 1.5-2x from day to day, so the ratio is the verdict and the absolute figure
is reported beside it against TARGET_RATE, with the ratio to the aiohttp loop and wall rates.

    .venv/bin/python bench/bench_scoring.py [--items 20000] [--concurrency 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from _harness import BenchResult, Clock, InstantServer, Timing, pinned

from cope_eval.records import Endpoint
from cope_eval.scoring import ServerSession, build_body, cope_prompt, create_run, execute_run, get_template
from cope_eval.store import Store
from tests.factories import make_golden, make_policy

POLICY = make_policy("# Criteria\n\n" + "Content that threatens violence against a person or group. " * 12)
TARGET_VS_OPENAI = 6.0
"""End-to-end items per client CPU second, as a multiple of the openai loop's (the verdict)."""
TARGET_RATE = 2500.0
"""End-to-end items per client CPU second (issue 14), reported beside the verdict: far above what
one GPU server answers, and what 6x the openai loop was on the day the issue was measured."""


def texts(n: int, prefix: str = "post") -> list[str]:
    return [f"{prefix} {i}: " + "some user text that may or may not be a threat " * 3 for i in range(n)]


def time_cope_eval(base_url: str, n: int, concurrency: int) -> Timing:
    golden = make_golden(texts=texts(n))
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        endpoint = Endpoint(base_url, "stub")
        run = create_run(store, policy=POLICY, golden=golden, endpoint=endpoint, concurrency=concurrency)
        with Clock() as clock:
            result = execute_run(store, run.id, endpoint, workspace_root=Path(tmp), use_cache=False)
        assert result.run.status == "completed" and result.progress.errors == 0, result
        assert result.requests == n and store.prediction_counts(run.id)[0] == n
    return clock.timing


def time_openai(base_url: str, n: int, concurrency: int) -> Timing:
    import openai

    prompts = [cope_prompt(POLICY.text, text) for text in texts(n)]

    async def go() -> None:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
        semaphore = asyncio.Semaphore(concurrency)

        async def one(prompt: str) -> None:
            async with semaphore:
                await client.chat.completions.create(
                    model="stub", messages=[{"role": "user", "content": prompt}],
                    max_tokens=1, temperature=0, logprobs=True, top_logprobs=20)

        await asyncio.gather(*(one(p) for p in prompts))
        await client.close()

    with Clock() as clock:
        asyncio.run(go())
    return clock.timing


def time_aiohttp(base_url: str, n: int, concurrency: int) -> Timing:
    body = json.dumps(build_body(get_template("cope-b"), model="stub", policy=POLICY.text, text=texts(1)[0]),
                      separators=(",", ":")).encode()

    async def go() -> None:
        left = n

        async def worker(session: ServerSession) -> None:
            nonlocal left
            while left > 0:
                left -= 1
                reply = await session.post("/chat/completions", body)
                assert reply.status == 200
        async with ServerSession(base_url, None, connections=concurrency, deadline_s=60) as session:
            await asyncio.gather(*(worker(session) for _ in range(concurrency)))

    with Clock() as clock:
        asyncio.run(go())
    return clock.timing


def measure(base_url: str, *, items: int, openai_items: int, concurrency: int, rounds: int,
            echo=print) -> dict[str, list[tuple[float, float]]]:
    """Client name -> [(items/s wall, items per CPU second)] for each round."""
    clients = [("aiohttp", time_aiohttp, items), ("openai", time_openai, openai_items),
               ("cope-eval", time_cope_eval, items)]
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in clients}
    with pinned():
        for round_no in range(rounds):
            for name, timer, n in clients if round_no % 2 == 0 else clients[::-1]:
                wall, cpu = timer(base_url, n, concurrency).rate(n)
                echo(f"    round {round_no + 1} {name:<9} {n:>7,} items  {wall:8,.0f}/s wall  {cpu:8,.0f}/s per CPU s")
                rates[name].append((wall, cpu))
    return rates


def run(quick: bool = False, *, items: int | None = None, concurrency: int = 16, rounds: int | None = None,
        echo=print) -> BenchResult:
    items = (5000 if quick else 20000) if items is None else items
    openai_items = max(200, items // 10)
    rounds = (1 if quick else 2) if rounds is None else rounds
    with InstantServer() as server:
        rates = measure(server.base_url, items=items, openai_items=openai_items, concurrency=concurrency,
                        rounds=rounds, echo=echo)
    best = {name: (max(w for w, _ in r), max(c for _, c in r)) for name, r in rates.items()}
    ours, openai_, loop = best["cope-eval"], best["openai"], best["aiohttp"]
    vs_openai, vs_loop = ours[1] / openai_[1], ours[1] / loop[1]
    met = vs_openai >= TARGET_VS_OPENAI
    absolute = "reached" if ours[1] >= TARGET_RATE else "not reached"
    return BenchResult(
        name="1. Client ceiling (instant server)",
        figures=[
            ("items (openai loop)",
             f"{items:,} ({openai_items:,}), concurrency {concurrency}, best of {rounds} round(s)"),
            ("cope-eval, end to end (prompt, request, parse, store)",
             f"{ours[1]:,.0f} items/CPU s ({ours[0]:,.0f}/s wall)"),
            ("openai.AsyncOpenAI loop, requests only", f"{openai_[1]:,.0f} req/CPU s ({openai_[0]:,.0f}/s wall)"),
            ("aiohttp keep-alive loop (cope_eval.scoring ServerSession, fixed body)",
             f"{loop[1]:,.0f} req/CPU s ({loop[0]:,.0f}/s wall)"),
            ("client CPU per item: cope-eval / openai / aiohttp loop",
             f"{1e6 / ours[1]:,.0f} / {1e6 / openai_[1]:,.0f} / {1e6 / loop[1]:,.0f} µs"),
            ("wall-clock ratios (best wall rates): vs openai / vs aiohttp loop",
             f"{ours[0] / openai_[0]:.1f}x / {ours[0] / loop[0]:.2f}x"),
        ] + [(f"each round, {name}: wall / per CPU s",
              " · ".join(f"{w:,.0f} / {c:,.0f}" for w, c in rates[name])) for name in ("cope-eval", "openai", "aiohttp")],
        ratio=f"{vs_openai:.1f}x the openai loop, {vs_loop:.2f}x the aiohttp loop (per CPU s)",
        target=f">= {TARGET_VS_OPENAI:g}x the openai loop, end to end per client CPU second "
               f"(issue 14: {TARGET_RATE:,.0f} items/CPU s)",
        met=met,
        note=(f"{'PASS' if met else 'FAIL'}: {vs_openai:.1f}x the openai loop; {ours[1]:,.0f} items/CPU s, "
              f"{TARGET_RATE:,.0f} {absolute} on this machine today (the openai loop did {openai_[1]:,.0f} req/CPU s); "
              "verdict on rates "
              "per CPU second of the client process (what one dedicated core sustains); wall rates swing with "
              "whatever else runs on the stub server's core, see each round"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    result = run(items=args.items, concurrency=args.concurrency, rounds=args.rounds)
    for what, value in result.figures:
        print(f"{what:<74} {value}")
    print(f"ratio: {result.ratio}; target {result.target}: {'PASS' if result.met else 'FAIL'}")


if __name__ == "__main__":
    main()
