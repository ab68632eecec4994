"""Measurements (PROTOCOL §5): the registry, one module per measurement family, the summary and the
torch-free readers the app uses (transition, profiles, basin growth, underfit verdicts)."""
