"""Turn golden items into request jobs: exact request bytes, cache keys, image and video encoding.

Jobs are produced lazily, a chunk at a time, so a million-item run never holds a million
request bodies. Each chunk is looked up in the cache first; hits never become requests. A video
item's body is made only when it is sent (``Job.build``): its file is read then, so a run holds
no more videos than requests in flight, and a cached re-run reads none. Its cache key stands the
video's digest (``video_digest``, taken when the set was loaded) for its bytes, and the bytes
read at send time must match that digest, or the item is refused: the key is exact either way.

A cached answer is reused only for the same request to the same server identity
(``AnswerSource``): the run's endpoint, the model name and the checkpoint the server reports.
Two servers serving other weights under one name never share answers; an unchanged re-run on
the same server sends nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from ..errors import ConfigError, RowProblem, ValidationError
from ..golden import encode_data_url, load_image_bytes, video_data_url
from ._answers import Answer
from ._templates import Template, build_body, check_attachments
from ._transport import Job, Outcome

CHUNK = 1000
SENT_AS_IS = ("image/png", "image/jpeg")


@dataclass(frozen=True)
class AnswerSource:
    """Who answers a run's requests, as far as the cache is concerned."""

    base_url: str
    """The run's endpoint; replicas of the run count as it (they must serve its checkpoint)."""
    model: str
    """The model name sent."""
    checkpoint: str | None
    """The weights behind the name as the server reports them (vLLM's ``root``); None when it
    does not say: such a server is then known by endpoint and model only."""


class JobBuilder:
    """Builds the request for one item exactly as the live client, single checks and batch
    export all send it. ``source`` is needed for cache keys only."""

    def __init__(self, template: Template, *, model: str, policy: str, answer_mode: str,
                 workspace_root: Path, allow_urls: bool = False, source: AnswerSource | None = None):
        self.template, self.model, self.policy, self.answer_mode = template, model, policy, answer_mode
        self.workspace_root, self.allow_urls, self.source = Path(workspace_root), allow_urls, source
        self._identity: tuple[tuple, bytes] = ((), b"")  # (who answers, its bytes in a key): see cache_key

    def body(self, text: str, image_ref: str | None, video_ref: str | None = None,
             digest: str | None = None) -> bytes:
        """Request body bytes for one item; a video is read now and must match ``digest`` (its
        ``video_digest``) when one is given. Raises ValidationError for an unusable image or video."""
        check_attachments(self.template, image=bool(image_ref), video=bool(video_ref))  # before reading either
        image_url = self.image_data_url(image_ref) if image_ref else None
        video_url = (video_data_url(video_ref, self.workspace_root, allow_urls=self.allow_urls, digest=digest)
                     if video_ref else None)
        return self._encode(text, image_url, video_url)

    def key_body(self, text: str, video_ref: str, digest: str | None) -> bytes:
        """What a video item's cache key hashes: its body with the video's digest in place of its
        bytes. Raises ConfigError when the template takes no video, ValidationError without a digest."""
        if digest is None:
            problem = ("the video's bytes were not read when the golden set was loaded (an http(s) URL while "
                       "URL fetching was off), so they are not part of the set's version; load the set again "
                       "with URL fetching on")
            raise ValidationError([RowProblem(_short(video_ref), None, "video", video_ref, problem)],
                                  headline=f"Video {_short(video_ref)!r}: {problem}")
        return self._encode(text, None, digest)

    def _encode(self, text: str, image_url: str | None, video_url: str | None) -> bytes:
        body = build_body(self.template, model=self.model, policy=self.policy, text=text, image_url=image_url,
                          video_url=video_url, answer_mode=self.answer_mode)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def cache_key(self, body: bytes) -> str:
        """Same server identity, template and request bytes (prompt, image or video, answer mode): same answer."""
        if self.source is None:
            raise ValueError("a cache key needs the AnswerSource that answers")
        source = self.source
        who = (source.base_url, source.model, source.checkpoint, self.template.name)
        if self._identity[0] != who:  # the same for every item of a run: encoded once, not per item
            self._identity = (who, json.dumps(list(who), ensure_ascii=False, separators=(",", ":")).encode())
        digest = hashlib.sha256(self._identity[1] + b"\0" + body).hexdigest()
        return f"sha256:{digest}"

    def image_data_url(self, ref: str) -> str:
        mime, data = load_image_bytes(ref, self.workspace_root, allow_urls=self.allow_urls)
        if mime not in SENT_AS_IS:  # servers reliably take PNG and JPEG; convert the rest
            from PIL import Image  # here, not at the top: only images need Pillow (a fast CLI)

            with Image.open(io.BytesIO(data)) as image:
                buffer = io.BytesIO()
                image.convert("RGBA").save(buffer, format="PNG")
            mime, data = "image/png", buffer.getvalue()
        return encode_data_url(mime, data)

    def jobs(
        self, items: pd.DataFrame, *, store=None, on_cached: Callable[[Outcome], None],
        on_refused: Callable[[str, str], None],
    ) -> Iterator[Job]:
        """Yield a Job per item that needs a request; report cache hits and bad items."""
        for start in range(0, len(items), CHUNK):
            chunk = items.iloc[start:start + CHUNK]
            ready: list[Job] = []
            # Whole columns to lists and one isna per column: iterating a pandas string column item
            # by item costs more than building the requests (a cached re-run is mostly this loop).
            texts, images, videos = chunk["text"], chunk["image"], chunk["video"]
            rows = zip(chunk["id"].tolist(), texts.tolist(), texts.isna().tolist(), images.tolist(),
                       images.isna().tolist(), videos.tolist(), videos.isna().tolist(), chunk["video_digest"].tolist())
            for item_id, text, no_text, image, no_image, video, no_video, digest in rows:
                text = "" if no_text else text
                try:
                    if no_video:
                        body = self.body(text, None if no_image else image)
                        ready.append(Job(item_id, self.cache_key(body), body))
                    else:
                        digest = None if pd.isna(digest) else digest
                        key = self.cache_key(self.key_body(text, video, digest))
                        ready.append(Job(item_id, key, b"", build=partial(self.body, text, None, video, digest)))
                except (ValidationError, ConfigError) as exc:
                    on_refused(item_id, str(exc))
            hits = store.cached([job.cache_key for job in ready]) if store is not None else {}
            for job in ready:
                hit = hits.get(job.cache_key)
                if hit is None:
                    yield job
                else:
                    score, hard_label, raw = hit
                    on_cached(Outcome(job.item_id, job.cache_key, Answer(score, hard_label, raw or ""), None, 0.0))


def _short(ref: str, limit: int = 60) -> str:
    return ref if len(ref) <= limit else ref[: limit - 1] + "…"
