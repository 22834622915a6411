"""cope-eval: author content policies and evaluate them with policy-steerable classifiers.

The subpackages are the architecture, lowest layer first; each imports only layers below it
(``tests/test_layers.py`` keeps it so), and each exposes its public names in ``__all__`` from
private ``_x.py`` modules:

- ``errors``, ``records``, ``config``: the vocabulary every layer shares.
- ``store``: the SQLite workspace store (runs, predictions, cache, golden snapshots).
- ``policies``: policy versions on disk, their diffs, clauses and hunks.
- ``golden``: golden sets: load, file formats, validation, images, the registry of stored sets.
- ``metrics``: scores to numbers: threshold metrics, curves, calibration, intervals, comparison.
- ``scoring``: asking a model: templates, the HTTP client, runs, budgets, batch files.
- ``insight``: studies of a policy (probes, ablation, attribution), triage, agreement.
- ``local``: the bundled local vLLM.
- ``charts``: every plotly figure.
- ``export``: the exported bundle, its card and the Zentropi formats.
- ``app``: what the Streamlit pages call (never imports streamlit).
- ``cli``: ``python -m cope_eval`` / ``cope-eval``.

Importing this package imports nothing else, so the CLI starts fast.
"""

__version__ = "0.1.0"
