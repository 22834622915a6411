"""A Streamlit session without a browser: the app's own websocket protocol, spoken from Python.

Benchmark 14's ``--clients protocol`` uses it for an analyst whose browser runs on their own machine
(benchmark 16 for one session's tour of the pages):
the app does all the work a browser tab causes (each page's script run, its widgets' callbacks,
the messages sent back), and nothing draws the page on this machine. A settle is then the app's
side of one: from sending the rerun to the ``script_finished`` message of the full run it caused.

What a browser does that this does not: draw; send the state of every widget on the page with
each rerun (only the widget changed is sent; the app keeps the others' last values); rerun a
fragment on its own timer (``run_every``: Evaluate's progress, while the page is open).
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
FAILED = ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR


class ProtocolTab:
    """One session (a browser tab's worth) of a running app: visit its pages by title, choose in
    a select box and click a button by their ``key=``; each returns seconds to the run's end."""

    def __init__(self, http: aiohttp.ClientSession, socket: aiohttp.ClientWebSocketResponse, query: str = ""):
        self._http, self._socket = http, socket
        self._query = query
        """The address's query string (``runs=a,b``), sent with every run as a browser tab's is."""
        self._pages: dict[str, str] = {}
        """Page title -> its script hash (the app's ``navigation`` message)."""
        self._page = ""
        self._widgets: dict[str, str] = {}
        """A widget's ``key=`` -> its id, from the elements of the latest run."""
        self._finished: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
        self._exceptions: list[str] = []
        self._reader = asyncio.create_task(self._read())
        self.unseen = 0  # the browser tab's count of settles timed by the heading alone: never here

    @classmethod
    async def open(cls, url: str, *, query: str = "", timeout_s: float = 180.0) -> "ProtocolTab":
        """A new session on ``url``'s default page (its address's query string ``query``), once its
        first run has finished."""
        http = aiohttp.ClientSession()
        socket = await http.ws_connect(url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream",
                                       protocols=("streamlit",), max_msg_size=0)
        tab = cls(http, socket, query)
        await tab._rerun(timeout_s=timeout_s)
        return tab

    async def close(self) -> None:
        self._reader.cancel()
        await self._socket.close()
        await self._http.close()

    async def visit(self, title: str, *, timeout_s: float = 180.0) -> float:
        """Open the page titled ``title`` (as its sidebar link does); seconds to the run's end."""
        self._page = self._pages[title]
        return await self._rerun(timeout_s=timeout_s)

    async def choose(self, key: str, label: str, *, timeout_s: float = 180.0) -> float:
        """Choose the option shown as ``label`` in the select box ``key``."""
        return await self._rerun(key, string_value=label, timeout_s=timeout_s)

    async def click(self, key: str, *, timeout_s: float = 180.0) -> float:
        """Click the button ``key``."""
        return await self._rerun(key, trigger_value=True, timeout_s=timeout_s)

    async def _rerun(self, key: str | None = None, *, timeout_s: float, **value) -> float:
        message = BackMsg()
        message.rerun_script.page_script_hash = self._page
        message.rerun_script.query_string = self._query
        if key is not None:
            state = message.rerun_script.widget_states.widgets.add()
            state.id = self._widgets[key]
            for field, given in value.items():
                setattr(state, field, given)
        while not self._finished.empty():  # an earlier fragment run's end: not this rerun's
            self._finished.get_nowait()
        began = time.perf_counter()
        await self._socket.send_bytes(message.SerializeToString())
        deadline = began + timeout_s
        while True:
            ended, status = await asyncio.wait_for(self._finished.get(), max(0.0, deadline - time.perf_counter()))
            if self._exceptions:
                raise RuntimeError(f"the app raised on this page: {self._exceptions[0]}")
            if status == FAILED:
                raise RuntimeError("the page's script did not compile")
            if status == FINISHED:
                return ended - began

    async def _read(self) -> None:
        async for frame in self._socket:
            if frame.type != aiohttp.WSMsgType.BINARY:
                break
            message = ForwardMsg()
            message.ParseFromString(frame.data)
            kind = message.WhichOneof("type")
            if kind == "navigation":
                self._pages = {page.page_name: page.page_script_hash for page in message.navigation.app_pages}
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                self._note_element(message.delta.new_element)
            elif kind == "script_finished":
                self._finished.put_nowait((time.perf_counter(), message.script_finished))

    def _note_element(self, element) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            self._exceptions.append(f"{element.exception.type}: {element.exception.message}")
            return
        widget_id = getattr(getattr(element, kind), "id", "") if kind else ""
        if isinstance(widget_id, str) and widget_id.startswith("$$ID-") and widget_id.count("-") >= 2:
            self._widgets[widget_id.split("-", 2)[2]] = widget_id
