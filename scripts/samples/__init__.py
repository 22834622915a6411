"""The sample data's builders, one module per kind: policies, the OpenAI moderation sets, the
image set and the video set (``scripts/build_samples.py`` runs them all)."""
