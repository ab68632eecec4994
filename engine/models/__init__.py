"""Denoisers: the transformer, its losses and training, checkpoints, and the exact ideal denoisers."""
