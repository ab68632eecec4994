"""Basin Explorer engine: train, load, denoise and measure small uniform-noise diffusion LMs.

Public API (the app, the CLI and outside users rely on exactly this)::

    import engine
    b = engine.load(path)        # a checkpoint directory written by training
    b.model(xt, t)               # logits (B, L, V) for x0; xt LongTensor (B, L), t FloatTensor (B,)
    b.tokenizer, b.train_ids, b.test_ids, b.config, b.noise
"""
from .checkpoint import Bundle, load, save
from .corpus import Corpus, load_corpus
from .evaluation import Evaluation, MeasureConfig, evaluate, load_evaluation, save_evaluation
from .model import Denoiser, ModelConfig
from .noise import UniformNoise
from .sample import Trajectory, denoise, generate
from .tokenizer import WordTokenizer
from .train import TrainConfig, train

__all__ = ["Bundle", "load", "save", "Corpus", "load_corpus", "Evaluation", "MeasureConfig",
           "evaluate", "load_evaluation", "save_evaluation", "Denoiser", "ModelConfig",
           "UniformNoise", "Trajectory", "denoise", "generate", "WordTokenizer", "TrainConfig", "train"]
