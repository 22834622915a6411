"""The Golden sets page says how large an upload may be (Streamlit's server.maxUploadSize) and how
to load a larger file: from the workspace's golden_sets/ folder, named by its absolute path."""

import pytest
from streamlit import config

from tests.apptest import open_page, texts


@pytest.fixture
def upload_limit():
    """Set server.maxUploadSize for one test, then put the old value back."""
    old = config.get_option("server.maxUploadSize")
    yield lambda mb: config.set_option("server.maxUploadSize", mb)
    config.set_option("server.maxUploadSize", old)


def test_the_caption_names_the_limit_and_the_folder(workspace, monkeypatch):
    at = open_page("golden_sets", monkeypatch)

    assert not at.exception
    shown = texts(at)
    assert f"Uploads up to {config.get_option('server.maxUploadSize'):g} MB" in shown
    assert f"copy it into the workspace's golden_sets/ folder, {workspace.golden_sets_dir.resolve()}," in shown
    assert "cope-eval run --golden FILE" in shown


def test_the_limit_is_read_from_streamlit_config(workspace, monkeypatch, upload_limit):
    upload_limit(1024)
    at = open_page("golden_sets", monkeypatch)

    assert not at.exception
    assert "Uploads up to 1024 MB" in texts(at)
