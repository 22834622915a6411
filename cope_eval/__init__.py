"""cope-eval: author content policies and evaluate them with policy-steerable classifiers."""

from .errors import ConfigError, CopeEvalError, NotFoundError, RowProblem, ValidationError
from .records import Endpoint, GoldenItem, GoldenSet, PolicyVersion, Prediction

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "CopeEvalError",
    "Endpoint",
    "GoldenItem",
    "GoldenSet",
    "NotFoundError",
    "PolicyVersion",
    "Prediction",
    "RowProblem",
    "ValidationError",
    "__version__",
]
