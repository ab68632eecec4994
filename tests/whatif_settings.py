"""The What-if form filled for a run that takes seconds (tests only): the tiny model, a few steps,
the light measurement."""
from __future__ import annotations


def tiny_settings(at, n: int = 16, steps: int = 20):
    """Set What-if's form (an AppTest on the What-if page) to N = ``n``, the tiny model, ``steps``
    steps and the light measurement; returns the AppTest after a run."""
    at.number_input(key="wi_n").set_value(n)
    at.selectbox(key="wi_size").set_value("tiny")
    at.number_input(key="wi_steps").set_value(steps)
    at.selectbox(key="wi_measure").set_value("light")
    return at.run()
