"""Asking a model: prompt templates and what each backend can do, the HTTP client, retries,
reading P("1") from an answer, runs (create, execute, resume), token budgets, batch files."""

from ._batch import export_batch, import_batch
from ._budget import Tokenizer
from ._check import CheckResult, check_one
from ._http_client import ServerSession, TransportError, check_concurrency, fetch
from ._runner import AUTO, RunProgress, RunResult, create_run, effective_status, execute_run
from ._server_info import probe
from ._templates import (
    ANSWER_MODES, DEFAULT_TEMPLATE, TEMPLATES, Template, build_body, cope_prompt, get_template
)
from ._transport import RetryPolicy

__all__ = [
    "ANSWER_MODES",
    "AUTO",
    "CheckResult",
    "DEFAULT_TEMPLATE",
    "RetryPolicy",
    "RunProgress",
    "RunResult",
    "ServerSession",
    "TEMPLATES",
    "Template",
    "Tokenizer",
    "TransportError",
    "build_body",
    "check_concurrency",
    "check_one",
    "cope_prompt",
    "create_run",
    "effective_status",
    "execute_run",
    "export_batch",
    "fetch",
    "get_template",
    "import_batch",
    "probe",
]
