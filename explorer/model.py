"""One loaded checkpoint, handed down a page: a page loads it once at the top (``load``) and passes the
object to its views and helpers, which read the network, the tokenizer, the sentences of each split,
the grammar's oracle and the ideal denoisers from it instead of looking the checkpoint up again by path.

``load`` is behind ``st.cache_resource`` keyed by the path and the modification times of the
checkpoint's files (``data.by_mtime``): a retrained what-if run is a new object on the next run. A
computation on a model is cached with ``cached``, keyed by plain values — the model's ``key`` (path and
those times) and the call's own arguments — never by the object itself (STYLE §10).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from explorer import data


@dataclass(frozen=True, eq=False)
class Model:
    """A checkpoint as a page hands it down: ``bundle`` is ``engine.Bundle`` (network on CPU, eval
    mode); ``stamps`` the modification times of its files (``data.stamp(data.model_files(path))``)."""

    path: str
    stamps: tuple
    bundle: object
    _memo: dict = field(default_factory=dict, repr=False)

    @property
    def key(self) -> tuple:
        """(path, stamps): what a cached computation on this model is keyed by."""
        return self.path, self.stamps

    # what the pages read of the bundle
    network = property(lambda self: self.bundle.model)
    tokenizer = property(lambda self: self.bundle.tokenizer)
    noise = property(lambda self: self.bundle.noise)
    config = property(lambda self: self.bundle.config)
    corpus = property(lambda self: self.bundle.corpus)
    n = property(lambda self: self.bundle.n)
    train_ids = property(lambda self: self.bundle.train_ids)   # (N, L)
    test_ids = property(lambda self: self.bundle.test_ids)     # (M, L)

    def _once(self, name, make: Callable):
        if name not in self._memo:   # a race between two sessions computes it twice, harmlessly
            self._memo[name] = make()
        return self._memo[name]

    def _generated(self) -> tuple[list[list[int]], list[str]]:
        """(ids, texts) of the stored generations, read again when the measure/ folder changes (a re-measure)."""
        def read():
            gens = data.tables(self.path).get("generations")
            if gens is None:
                return [], []
            return [[int(i) for i in r] for r in gens["ids"]], [str(s) for s in gens["text"]]

        return self._once(("generated", data.stamp(measure_folder(self))), read)

    def ids(self, split: str) -> list[list[int]]:
        """Token ids (L per sequence) of ``split``: train / test from the checkpoint, generated from the
        stored generations (index = the ``example`` of the measurement tables)."""
        if split == "generated":
            return self._generated()[0]
        return self._once(("ids", split), lambda: {"train": self.train_ids, "test": self.test_ids}[split].tolist())

    def sentences(self, split: str) -> list[str]:
        """Decoded sentences of ``split`` (train, test or generated), in the order of ``ids``."""
        if split == "generated":
            return self._generated()[1]
        return self._once(("sentences", split), lambda: [self.tokenizer.decode(r) for r in self.ids(split)])

    def tokens(self, split: str) -> list[list[str]]:
        """One token string per position (specials included) of every sequence of ``split`` (heatmap hover)."""
        if split == "generated":
            return [self.tokenizer.tokens(r) for r in self.ids(split)]
        return self._once(("tokens", split), lambda: [self.tokenizer.tokens(r) for r in self.ids(split)])

    @property
    def oracle(self):
        """The membership oracle of the checkpoint's corpus (the grammar's), or None where it has none."""
        from engine.text.corpus import oracle_for

        return self._once("oracle", lambda: oracle_for(self.corpus, self.tokenizer))

    def denoiser(self, reference: str | None = None):
        """The network, or the ideal ``reference`` ('memorizer': of the checkpoint's own training set;
        'generalizer': of the grammar), an nn.Module with the network's interface."""
        if reference is None:
            return self.network
        from engine.measures.references import reference_model

        def build():
            with st.spinner("Building the ideal denoiser..."):
                return reference_model(reference, self.bundle)

        return self._once(("ideal", reference), build)


@data.by_mtime(data.model_files, st.cache_resource(show_spinner=False, max_entries=16))
def load(path: str) -> Model:
    """The checkpoint at ``path``, loaded once per version of its files."""
    return Model(str(path), data.stamp(data.model_files(path)), data.bundle(path))


def cached(cache, files: Callable[[Model], list] = lambda m: []):
    """Cache ``fn(m, *args)`` with ``cache`` (a configured ``st.cache_data``) keyed by ``m.key``, the
    modification times of ``files(m)`` (e.g. its measure/ folder) and the plain ``args``; the model
    itself, and keyword arguments named with a leading '_', are handed through unhashed."""
    def wrap(fn):
        @functools.wraps(fn)
        def keyed(key, stamps, *args, _m, **unhashed):
            return fn(_m, *args, **unhashed)

        inner = cache(keyed)

        @functools.wraps(fn)
        def call(m: Model, *args, **unhashed):
            return inner(m.key, data.stamp(files(m)), *args, _m=m, **unhashed)

        return call
    return wrap


def measure_folder(m: Model) -> list:
    """The measure/ folder of a model (for ``cached``: a computation that reads its tables)."""
    return [Path(m.path) / "measure"]
