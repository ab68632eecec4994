"""Sweeps over N (PROTOCOL §6): the sweep, where its tasks run (local or Ray), and the zoo's index."""
