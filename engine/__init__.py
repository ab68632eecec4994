"""Basin Explorer engine: train, load, denoise and measure small uniform-noise diffusion LMs.

Public API (the app, the CLI and outside users rely on exactly this)::

    import engine
    b = engine.load(path)        # a checkpoint directory written by training
    b.model(xt, t)               # logits (B, L, V) for x0; xt LongTensor (B, L), t FloatTensor (B,)
    b.tokenizer, b.train_ids, b.test_ids, b.config, b.noise

Names are imported on first use (PEP 562), so torch-free modules such as ``engine.zoo`` can be
imported without paying for torch.
"""
import sys
import types
from importlib import import_module

_EXPORTS = {
    "Bundle": "checkpoint", "load": "checkpoint", "save": "checkpoint",
    "Corpus": "corpus", "load_corpus": "corpus",
    "Evaluation": "evaluation", "MeasureConfig": "evaluation", "evaluate": "evaluation",
    "load_evaluation": "evaluation", "save_evaluation": "evaluation",
    "IdealGeneralizer": "ideal", "IdealMemorizer": "ideal", "ideal_generalizer": "ideal",
    "ideal_memorizer": "ideal",
    "Denoiser": "model", "ModelConfig": "model", "UniformNoise": "noise",
    "Trajectory": "sample", "denoise": "sample", "generate": "sample",
    "STEPS": "step", "reverse_probs": "step", "reverse_step": "step",
    "WordTokenizer": "tokenizer", "TrainConfig": "train", "train": "train",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


class _Engine(types.ModuleType):
    def __setattr__(self, name, value):
        # importing the submodule engine.train must not hide the function engine.train
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Engine
