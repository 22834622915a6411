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


@pytest.mark.parametrize("given, normalised", [
    ("HTTP://gpu:8000", "http://gpu:8000/v1"),
    ("hTTps://api.example.org/openai/v1/", "https://api.example.org/openai/v1"),
    ("http://[::1]:8000", "http://[::1]:8000/v1"),
])
def test_the_scheme_is_read_in_any_case(given, normalised):
    assert normalise_base_url(given) == normalised


KEY = "sk-SENTINEL-url"


@pytest.mark.parametrize("given", [
    f"HTTP://analyst:{KEY}@gpu:8000/v1",
    f"hTTps://{KEY}@api.example.org/v1",
    f" Https://analyst:{KEY}@gpu:8000 ",
    f"http://analyst:{KEY}@[bad",
    f"http://analyst:{KEY}@gpu:notaport",
    f"http ://analyst:{KEY}@gpu:8000",
    f"http://analyst:{KEY} @gpu:8000",
    f"ftp://analyst:{KEY}@gpu/v1",
    f"analyst:{KEY}@gpu:8000",
    f"http:/analyst:{KEY}@gpu",
    f"HTTP://gpu:8000/v1?api_key={KEY}",
    KEY,  # the key pasted into the URL field
    f"htps://{KEY}.example.org",
    f"http://[{KEY}",
    f"http://gpu:{KEY}",
    f"http://gpu:8000/v1\t{KEY}",
    f"http://gpu:8000/v1 {KEY}",
    f"http://gpu:8000/\n{KEY}",
])
def test_no_error_about_a_server_url_repeats_the_key_in_it(given):
    with pytest.raises(ConfigError) as refused:
        normalise_base_url(given)
    assert "SENTINEL" not in str(refused.value)


@pytest.mark.parametrize("given, problem", [
    ("http://gpu:99999", "not a valid URL"),
    ("http://[::1", "not a valid URL"),
    ("http:///v1", "has no host"),
    ("http://gpu 1:8000", "spaces"),
])
def test_a_malformed_server_url_is_one_clear_error(given, problem):
    with pytest.raises(ConfigError, match=problem):
        normalise_base_url(given)
