"""Benchmark 2, a real server: cope-eval vs a plain openai loop against the local vLLM.

The server (SmolLM2-135M on CPU, ``python -m cope_eval serve-local``) is the bottleneck here:
it answers 10-16 short classifications a second. The claim to check is that cope-eval adds
nothing to that: the same items at the same concurrency finish at least as fast as through a
plain ``openai.AsyncOpenAI`` loop sending the identical request bodies (``build_body``). On a
shared machine the server's speed drifts, so each client scores the items in a few blocks and
the two take turns (A B, B A, ...); the ratio is of the summed times, and the block-by-block
ratios are listed to show the drift. A second figure does not depend on the server's speed: per
request, the latency the client saw minus vLLM's own end-to-end latency
(``vllm:e2e_request_latency_seconds``) over the same window is the time spent outside the
engine (HTTP, vLLM's API front end, and the client).

Prefix cache: vLLM's /metrics counts prompt tokens looked up in its prefix cache and tokens found
(``vllm:prefix_cache_queries_total`` / ``_hits_total``); the difference over one configuration
gives its hit rate. The same items under the same two policies are sent grouped (one policy's
items in a row, which is what cope-eval does: a run is one policy) and shuffled (the policies
interleaved item by item, so consecutive requests never share the policy prefix), both through
the openai loop at the same concurrency.

Every configuration uses a policy text no earlier configuration (or earlier invocation: a random
tag leads each text) has sent, so the server's prefix cache never flatters a later one; cope-eval
runs with ``use_cache=False`` so its own cache skips nothing. ``vllm:request_success_total`` is
read too: finished requests beyond our own mean someone else used the server meanwhile, and the
figures of that configuration are flagged.

    .venv/bin/python bench/bench_vllm.py [--items 300] [--base-url http://127.0.0.1:8765/v1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _harness import BenchResult, Clock

from cope_eval.records import Endpoint
from cope_eval.scoring import build_body, create_run, execute_run, get_template
from cope_eval.store import Store
from tests.factories import make_golden, make_policy

BASE_URL = os.environ.get("COPE_BENCH_VLLM_URL", "http://127.0.0.1:8765/v1")
MODEL = os.environ.get("COPE_BENCH_VLLM_MODEL", "smollm2")
TARGET = 1.0
POLICY_BODY = """## Overview
This policy covers content that threatens, incites or glorifies violence against a person or a
group of people.

## Definition of Terms
- Threat: a statement of intent to inflict physical harm, now or later.
- Incitement: a call on others to commit violence against a target.
- Target: a real person or an identifiable group, including public figures.

## Interpretation of Language
Read slang, coded words and emoji in their usual sense. Hyperbole among friends ("I'll kill
you if you're late") is not a threat unless the context shows intent.

## Definition of Label
#### Includes
- Direct or conditional threats of physical harm against a person or group.
- Calls to attack, hurt or kill a person or group.
- Praise of a recent violent attack that encourages copying it.
#### Excludes
- News reporting or condemnation of violence.
- Fiction, games and sport clearly framed as such.
- Self-defence instructions with no target.
- Hyperbole with no plausible intent.
"""
SUBJECTS = ("my neighbour", "that referee", "the new manager", "this group", "our landlord", "the driver")
ENDINGS = ("after the match tonight", "if they show up again", "when I see them tomorrow", "for what they said online")


def policy_text(tag: str) -> str:
    """A distinct ~250-token policy: the tag leads the text, so no two share a cached prefix."""
    return f"# Criteria ({tag})\n\n{POLICY_BODY}"


def contents(n: int) -> list[str]:
    return [f"Post {i}: honestly {SUBJECTS[i % len(SUBJECTS)]} is going to regret it "
            f"{ENDINGS[(i // len(SUBJECTS)) % len(ENDINGS)]}, just saying." for i in range(n)]


@dataclass(frozen=True)
class Counters:
    queries: float
    hits: float
    finished: float
    engine_s: float
    """Sum of vLLM's own end-to-end request latency (arrival to last token), all requests."""

    @classmethod
    def read(cls, base_url: str) -> "Counters":
        url = base_url.removesuffix("/v1") + "/metrics"
        with urllib.request.urlopen(url, timeout=10) as reply:
            text = reply.read().decode()

        def total(name: str) -> float:
            return sum(float(v) for v in re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? ([0-9.eE+-]+)$", text, re.M))

        return cls(total("vllm:prefix_cache_queries_total"), total("vllm:prefix_cache_hits_total"),
                   total("vllm:request_success_total"), total("vllm:e2e_request_latency_seconds_sum"))


@dataclass(frozen=True)
class Outcome:
    client: str
    concurrency: int
    order: str
    items: int
    wall_s: float
    cpu_s: float
    hit_rate: float
    foreign: int
    """Requests the server finished beyond ours in this window (someone else's traffic)."""
    latency_ms: float
    """Mean request latency the client saw."""
    engine_ms: float
    """Mean of vLLM's own end-to-end latency over the requests it finished in this window."""

    @property
    def outside_ms(self) -> float:
        """Per request, time spent outside the engine: HTTP, vLLM's API front end and the client."""
        return self.latency_ms - self.engine_ms

    @property
    def rate(self) -> float:
        return self.items / self.wall_s


def _measure(base_url, client, concurrency, order, n, action) -> Outcome:
    """Time ``action`` (which returns the client-side latencies in ms) and read vLLM's counters."""
    before = Counters.read(base_url)
    with Clock() as clock:
        latencies = action()
    after = Counters.read(base_url)
    queries = after.queries - before.queries
    hit_rate = (after.hits - before.hits) / queries if queries else 0.0
    finished = after.finished - before.finished
    engine_ms = 1000 * (after.engine_s - before.engine_s) / finished if finished else 0.0
    return Outcome(client, concurrency, order, n, clock.timing.wall_s, clock.timing.cpu_s, hit_rate,
                   max(int(finished) - n, 0), sum(latencies) / len(latencies), engine_ms)


def cope_eval_run(base_url: str, model: str, policy: str, texts: list[str], concurrency: int) -> Outcome:
    golden = make_golden(texts=texts)
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        endpoint = Endpoint(base_url, model)
        run = create_run(store, policy=make_policy(policy), golden=golden, endpoint=endpoint, concurrency=concurrency)

        def go() -> list[float]:
            result = execute_run(store, run.id, endpoint, workspace_root=Path(tmp), use_cache=False)
            assert result.run.status == "completed", result.run
            assert result.progress.errors == 0, f"{result.progress.errors} errors"
            return store.predictions(run.id)["latency_ms"].tolist()  # stored per item, as measured by cope-eval

        return _measure(base_url, "cope-eval", concurrency, "grouped", len(texts), go)


def openai_run(base_url: str, model: str, policies: list[str], texts: list[str], concurrency: int, *,
               grouped: bool = True) -> Outcome:
    """The plain loop. Grouped: the first len/k items with the first policy, and so on;
    shuffled: item i with policy i % k, so no two consecutive requests share the policy."""
    import openai

    template = get_template("cope-b")
    k, per = len(policies), -(-len(texts) // len(policies))
    bodies = [build_body(template, model=model, policy=policies[i // per if grouped else i % k], text=text)
              for i, text in enumerate(texts)]

    async def go() -> list[float]:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=120)
        semaphore = asyncio.Semaphore(concurrency)

        async def one(body: dict) -> float:
            async with semaphore:
                started = time.perf_counter()
                reply = await client.chat.completions.create(**body)
                assert reply.choices[0].logprobs is not None
                return 1000 * (time.perf_counter() - started)

        latencies = await asyncio.gather(*(one(b) for b in bodies))
        await client.close()
        return latencies

    order = "grouped" if grouped else "shuffled"
    if k > 1:
        order += f" ({k} policies)"
    return _measure(base_url, "openai", concurrency, order, len(texts), lambda: asyncio.run(go()))


def server_description(base_url: str = BASE_URL, model: str = MODEL) -> str:
    """One line for the machine table: the vLLM version and model benchmark 2 runs against."""
    try:
        with urllib.request.urlopen(base_url.removesuffix("/v1") + "/version", timeout=3) as reply:
            version = json.loads(reply.read())["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"no vLLM answering at {base_url}"
    return f"vLLM {version} at {base_url}, model {model!r}"


def healthy(base_url: str) -> str | None:
    """None when the server answers /health and lists the model, else why not."""
    try:
        with urllib.request.urlopen(base_url.removesuffix("/v1") + "/health", timeout=5) as reply:
            if reply.status != 200:
                return f"/health answered {reply.status}"
        Counters.read(base_url)
    except OSError as exc:
        return f"no vLLM at {base_url} ({exc})"
    return None


def run(quick: bool = False, *, items: int | None = None, base_url: str = BASE_URL, model: str = MODEL,
        concurrencies: tuple[int, ...] = (8, 16), segments: int | None = None, shuffled_policies: int = 2,
        echo=print) -> BenchResult:
    name = "2. Real server (local vLLM, SmolLM2 on CPU)"
    n = (100 if quick else 300) if items is None else items
    segments = (2 if quick else 4) if segments is None else segments
    problem = healthy(base_url)
    if problem:
        return BenchResult(name, target=">= 1.0x the openai loop", met=None,
                           note=f"skipped: {problem}; start it with `python -m cope_eval serve-local`")
    tag = secrets.token_hex(4)
    texts = contents(n)
    warm = openai_run(base_url, model, [policy_text(f"bench {tag} warm-up")], texts[:4], 4)  # first-request cost
    echo(f"    warm-up: {warm.items} requests in {warm.wall_s:.1f} s")
    # Throughput: per concurrency, each client scores the n items in `segments` blocks (a fresh
    # policy each), taking turns A B, B A, ... so drifts in the machine's load hit both alike.
    totals: dict[tuple[str, int], list[Outcome]] = {}
    block = n // segments
    for c in concurrencies:
        for s in range(segments):
            part = texts[s * block:(s + 1) * block]
            label = f"bench {tag} c{c} s{s}"
            pair = [("openai", lambda: openai_run(base_url, model, [policy_text(f"{label} openai")], part, c)),
                    ("cope-eval", lambda: cope_eval_run(base_url, model, policy_text(f"{label} cope-eval"), part, c))]
            for client, measure in pair if s % 2 == 0 else pair[::-1]:
                outcome = measure()
                totals.setdefault((client, c), []).append(outcome)
                _echo(echo, outcome)
    # Prefix cache: the same items under the same policies, grouped (all of one policy, then the
    # next) vs shuffled (policies interleaved item by item), through the same client.
    c = concurrencies[-1]
    order = {}
    for kind in ("grouped", "shuffled"):
        policies = [policy_text(f"bench {tag} {kind} p{p}") for p in range(shuffled_policies)]
        order[kind] = openai_run(base_url, model, policies, texts, c, grouped=kind == "grouped")
        _echo(echo, order[kind])

    sums = {key: _sum(outcomes) for key, outcomes in totals.items()}
    ratios = {c: sums["cope-eval", c].rate / sums["openai", c].rate for c in concurrencies}
    paired = {c: [a.rate / b.rate for a, b in zip(totals["cope-eval", c], totals["openai", c])] for c in concurrencies}
    everything = [o for outcomes in totals.values() for o in outcomes] + list(order.values())
    disturbed = sum(o.foreign for o in everything)
    figures = [("items per client and concurrency", f"{block * segments:,} in {segments} blocks of {block} "
                                                     f"(a fresh policy each, turns alternating; tag {tag})")]
    for (client, conc), o in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        figures.append((f"{client}, concurrency {conc}",
                        f"{o.rate:.1f} items/s ({o.wall_s:.1f} s), client CPU {1000 * o.cpu_s / o.items:.1f} ms/item, "
                        f"latency {o.latency_ms:,.0f} ms of which {o.outside_ms:,.0f} ms outside the engine, "
                        f"prefix-cache hits {o.hit_rate:.0%}"))
    for conc, values in paired.items():
        figures.append((f"cope-eval / openai, block by block, concurrency {conc}",
                        " · ".join(f"{v:.2f}" for v in values) + f" (median {statistics.median(values):.2f})"))
    for kind, o in order.items():
        figures.append((f"{kind} order: {n} items over {shuffled_policies} policies, openai loop, concurrency {c}",
                        f"prefix-cache hits {o.hit_rate:.0%}, {o.rate:.1f} items/s"))
    if disturbed:
        figures.append(("requests from other clients while measuring", f"{disturbed}"))
    met = all(r >= TARGET for r in ratios.values())
    notes = ["wall items/s, summed over the blocks; the server is the bottleneck"]
    if not met:
        for c in (c for c, r in ratios.items() if r < TARGET):
            spread = f"{min(paired[c]):.2f}-{max(paired[c]):.2f}"
            drift = (f"its blocks span {spread}, on both sides of 1.0: the server's speed drifts more than the gap"
                     if max(paired[c]) >= TARGET else f"every block was below 1.0 ({spread})")
            notes.append(f"below 1.0x at c{c}: {drift}; per request cope-eval spent "
                         f"{sums['cope-eval', c].outside_ms:,.0f} ms outside the engine, openai "
                         f"{sums['openai', c].outside_ms:,.0f} ms")
    if disturbed:
        notes.append(f"{disturbed} requests from other clients reached the server while measuring")
    if abs(order["grouped"].hit_rate - order["shuffled"].hit_rate) < 0.05:
        notes.append("grouped and shuffled hit rates are alike because vLLM keeps cached prefix blocks until "
                     "its KV cache needs the room, so two interleaved policies both stay cached; grouping pays "
                     "when the policies in flight outgrow the KV cache")
    return BenchResult(
        name=name, figures=figures,
        ratio=", ".join(f"c{c}: {r:.2f}x" for c, r in ratios.items()) + " openai's items/s; prefix hits grouped "
              f"{order['grouped'].hit_rate:.0%} vs shuffled {order['shuffled'].hit_rate:.0%}",
        target=">= 1.0x the openai loop; prefix-cache hit rate grouped vs shuffled reported",
        met=met, note="; ".join(notes),
    )


def _sum(outcomes: list[Outcome]) -> Outcome:
    first = outcomes[0]
    items = sum(o.items for o in outcomes)

    def mean(field: str) -> float:
        return sum(getattr(o, field) * o.items for o in outcomes) / items

    return Outcome(first.client, first.concurrency, first.order, items, sum(o.wall_s for o in outcomes),
                   sum(o.cpu_s for o in outcomes), mean("hit_rate"), sum(o.foreign for o in outcomes),
                   mean("latency_ms"), mean("engine_ms"))


def _echo(echo, o: Outcome) -> None:
    echo(f"    {o.client:<9} c{o.concurrency:<3} {o.order:<22} {o.rate:6.1f} items/s  {o.wall_s:6.1f} s  "
         f"CPU {o.cpu_s:5.2f} s  latency {o.latency_ms:6,.0f} ms (outside engine {o.outside_ms:4,.0f})  "
         f"prefix hits {o.hit_rate:4.0%}" + (f"  foreign {o.foreign}" if o.foreign else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--base-url", default=BASE_URL)
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--shuffled-policies", type=int, default=2)
    args = parser.parse_args()
    result = run(items=args.items, base_url=args.base_url, model=args.model, segments=args.segments,
                 shuffled_policies=args.shuffled_policies)
    for what, value in result.figures:
        print(f"{what:<62} {value}")
    print(f"{result.ratio}; target {result.target}: {result.verdict} {result.note}")


if __name__ == "__main__":
    main()
