"""Server URLs: normalised, and never a carrier for a key (they are stored and shown everywhere)."""

import pytest

from cope_eval.config import normalise_base_url
from cope_eval.errors import ConfigError


@pytest.mark.parametrize("given, normalised", [
    ("http://127.0.0.1:8765", "http://127.0.0.1:8765/v1"),
    (" http://gpu:8000/v1/ ", "http://gpu:8000/v1"),
    ("https://api.example.org/openai/v1", "https://api.example.org/openai/v1"),
])
def test_base_urls_are_normalised(given, normalised):
    assert normalise_base_url(given) == normalised


@pytest.mark.parametrize("given", [
    "http://analyst:sk-SENTINEL-url@gpu:8000/v1",
    "https://sk-SENTINEL-url@api.example.org/v1",
    "http://gpu:8000/v1?api_key=sk-SENTINEL-url",
    "http://gpu:8000/v1#sk-SENTINEL-url",
])
def test_a_url_carrying_a_key_is_refused_without_repeating_it(given):
    with pytest.raises(ConfigError) as refused:
        normalise_base_url(given)
    assert "credentials" in str(refused.value) and "SENTINEL" not in str(refused.value)


def test_other_schemes_are_refused():
    with pytest.raises(ConfigError, match="must start with http"):
        normalise_base_url("ftp://gpu/v1")
