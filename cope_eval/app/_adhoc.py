"""One-off requests the pages make outside any run: check one item, count a policy's tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..golden import encode_data_url, load_video_bytes, uploaded_image_data_url
from ..records import Endpoint
from ..scoring import CheckResult, Tokenizer, check_one, get_template, probe


CHECK_UPLOAD_TYPES = ("png", "jpg", "jpeg", "gif", "webp", "mp4", "webm")
"""The file types "Check one item" takes: images, and videos (mp4, webm)."""


def check_item(endpoint: Endpoint, *, policy: str, text: str = "", upload: bytes | None = None,
               upload_name: str = "", template: str = "cope-b", answer_mode: str = "logprobs",
               workspace_root: Path) -> CheckResult:
    """Score one ad-hoc item (text and/or an uploaded image or video, told apart by ``upload_name``'s
    extension; the bytes are checked as a golden item's are, whatever the name claims) now."""
    if not text.strip() and not upload:
        raise ConfigError("Give some text, an image or a video to check.")
    image_ref = video_ref = None
    if upload and upload_name.lower().endswith((".mp4", ".webm")):
        mime, data = load_video_bytes(encode_data_url("application/octet-stream", upload), workspace_root)
        video_ref = encode_data_url(mime, data)
    elif upload:
        image_ref = uploaded_image_data_url(upload, workspace_root)
    return check_one(endpoint, policy=policy, text=text, image_ref=image_ref, video_ref=video_ref, template=template,
                     answer_mode=answer_mode, workspace_root=workspace_root)


@dataclass(frozen=True)
class TokenCount:
    """How much of the model's context a policy takes."""

    tokens: int | None
    """Tokens of the prompt with empty content (policy, template, chat markup); None when the
    server cannot count."""
    max_model_len: int | None
    """The model's context in tokens, when the server says."""

    @property
    def share(self) -> float | None:
        """tokens / max_model_len, when both are known."""
        if self.tokens is None or not self.max_model_len:
            return None
        return self.tokens / self.max_model_len


def policy_tokens(endpoint: Endpoint, text: str, *, template: str = "cope-b") -> TokenCount:
    """Count the policy's prompt with vLLM's ``/tokenize`` (the same count a run's budget check
    makes); ``tokens`` is None when the server has no such endpoint or is unreachable."""
    info = probe(endpoint.base_url, endpoint.api_key).model(endpoint.model)
    # Tokenizer is the one place the tokenize request is built; reused, not copied.
    counter = Tokenizer(endpoint, get_template(template), text)
    return TokenCount(counter.count(""), info.max_model_len if info else None)
