"""Basin Explorer engine: train, load, denoise and measure small uniform-noise diffusion LMs.

Public API (the app, the CLI and outside users rely on exactly this)::

    import engine
    b = engine.load(path)        # a checkpoint directory written by training
    b.model(xt, t)               # logits (B, L, V) for x0; xt LongTensor (B, L), t FloatTensor (B,)
    b.tokenizer, b.train_ids, b.test_ids, b.config, b.noise

Names are imported on first use (PEP 562), so torch-free modules such as ``engine.runs.zoo`` can be
imported without paying for torch.
"""
from importlib import import_module

_EXPORTS = {
    "Bundle": "models.checkpoint", "load": "models.checkpoint", "save": "models.checkpoint",
    "Corpus": "text.corpus", "load_corpus": "text.corpus",
    "Evaluation": "measures.evaluation", "MeasureConfig": "measures.evaluation", "evaluate": "measures.evaluation",
    "load_evaluation": "measures.evaluation", "save_evaluation": "measures.evaluation",
    "IdealGeneralizer": "models.ideal", "IdealMemorizer": "models.ideal", "ideal_generalizer": "models.ideal",
    "ideal_memorizer": "models.ideal",
    "Denoiser": "models.model", "ModelConfig": "models.model", "UniformNoise": "diffusion.noise",
    "Trajectory": "diffusion.sample", "denoise": "diffusion.sample", "generate": "diffusion.sample",
    "STEPS": "diffusion.step", "reverse_probs": "diffusion.step", "reverse_step": "diffusion.step",
    "WordTokenizer": "text.tokenizer", "TrainConfig": "models.train", "train": "models.train",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'engine' has no attribute {name!r}")

