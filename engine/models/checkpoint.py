"""Checkpoints: a directory with ``model.safetensors`` (weights), ``data.safetensors`` (the exact
training subset and test set as token ids) and ``meta.json`` (configs, tokenizer, corpus, seed, N,
loss history). Everything needed to rebuild the model is in the directory; nothing is ever unpickled.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from engine.store import atomic, outputs
from engine.models.model import Denoiser, ModelConfig, check_size
from engine.diffusion.noise import UniformNoise
from engine.text.tokenizer import WordTokenizer
from engine.models.train import MAX_SEED, TrainConfig

FORMAT = outputs.CHECKPOINT_FORMAT
VERSION = 1
MAX_META_BYTES = 20 * 1024 * 1024
MAX_WEIGHT_BYTES = 512 * 1024 * 1024


@dataclass
class Bundle:
    """A loaded checkpoint: the model with everything it was trained and tested on."""

    model: Denoiser
    tokenizer: WordTokenizer
    train_ids: torch.Tensor                 # (N, L) the exact training subset
    test_ids: torch.Tensor                  # (M, L) the held-out test set
    config: ModelConfig                     # .noise_eps: alpha_t = 1 - (1 - eps) t
    train_config: TrainConfig
    corpus: str
    n: int
    seed: int
    loss_history: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def noise(self) -> UniformNoise:
        return UniformNoise(self.config.vocab_size, self.config.noise_eps)


def save(path: str | os.PathLike, model: Denoiser, tokenizer: WordTokenizer, train_ids: torch.Tensor,
         test_ids: torch.Tensor, train_config: TrainConfig, corpus: str, *, loss_history=(),
         extra: dict | None = None, half: bool = False, overwrite: bool = False) -> Path:
    """Write a checkpoint directory atomically; ``half`` stores the weights as fp16 (the zoo does).

    ``path`` must be new, an empty folder, or (with ``overwrite``) a checkpoint this engine wrote;
    anything else raises ``outputs.OutputError`` and is left untouched."""
    dtype = torch.float16 if half else torch.float32
    id_dtype = torch.int16 if model.cfg.vocab_size <= 32767 else torch.int32
    meta = {"format": FORMAT, "version": VERSION, "model_config": model.cfg.to_dict(),
            "train_config": train_config.to_dict(), "tokenizer": tokenizer.to_dict(),
            "corpus": corpus, "n": int(len(train_ids)), "seed": train_config.seed,
            "loss_history": [list(h) for h in loss_history], "extra": extra or {}}
    with outputs.claim(path, outputs.CHECKPOINT, overwrite=overwrite), atomic.directory(path) as tmp:
        save_file({k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()},
                  str(tmp / "model.safetensors"))
        save_file({"train_ids": train_ids.to(id_dtype).contiguous(),
                   "test_ids": test_ids.to(id_dtype).contiguous()}, str(tmp / "data.safetensors"))
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return Path(path)


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> Bundle:
    """Load a checkpoint directory written by ``save``; ValueError saying what is wrong otherwise."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a checkpoint directory (expected a folder with meta.json, "
                         "model.safetensors and data.safetensors)")
    meta = _read_meta(path / "meta.json")
    try:
        config = _dataclass_from(ModelConfig, meta["model_config"])
        train_config = _dataclass_from(TrainConfig, meta["train_config"])
        tokenizer = WordTokenizer.from_dict(meta["tokenizer"])
        corpus = meta["corpus"]
        if not isinstance(corpus, str) or not corpus:
            raise TypeError(f"'corpus' must be a non-empty string, got {corpus!r}")
        n, seed = _integer(meta, "n", 1, 10**9), _integer(meta, "seed", 0, MAX_SEED)
        history = _loss_history(meta.get("loss_history", []))
        extra = meta.get("extra", {})
        if not isinstance(extra, dict):
            raise TypeError("'extra' must be an object")
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"{path / 'meta.json'} is not a valid checkpoint description: {e}") from None
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(f"{path}: tokenizer has {tokenizer.vocab_size} tokens but the model "
                         f"expects {config.vocab_size}")
    try:
        check_size(config)
    except ValueError:
        raise ValueError(f"{path}: the model described in meta.json is far larger than any Basin "
                         "Explorer model") from None
    model = Denoiser(config)
    weights = _read_safetensors(path / "model.safetensors")
    expected = model.state_dict()
    if set(weights) != set(expected):
        missing, unknown = set(expected) - set(weights), set(weights) - set(expected)
        raise ValueError(f"{path / 'model.safetensors'} does not match the model: "
                         f"missing {sorted(missing)[:3]}, unexpected {sorted(unknown)[:3]}")
    for k, v in weights.items():
        if v.dtype not in (torch.float16, torch.bfloat16, torch.float32):
            raise ValueError(f"{path / 'model.safetensors'}: tensor {k} is stored as {v.dtype}; Basin "
                             "Explorer writes float32 or float16 weights")
        if v.shape != expected[k].shape:
            raise ValueError(f"{path / 'model.safetensors'}: tensor {k} has shape {tuple(v.shape)}, "
                             f"expected {tuple(expected[k].shape)}")
        if not torch.isfinite(v).all():
            raise ValueError(f"{path / 'model.safetensors'}: tensor {k} contains NaN or inf")
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    model.to(device).eval()
    data = _read_safetensors(path / "data.safetensors")
    ids = {}
    for key in ("train_ids", "test_ids"):
        x = data.get(key)
        if x is None or x.dim() != 2 or x.shape[1] != config.seq_len or x.is_floating_point() \
                or x.is_complex() or x.dtype == torch.bool:
            raise ValueError(f"{path / 'data.safetensors'}: '{key}' must be an integer tensor "
                             f"(M, {config.seq_len})")
        x = x.long()
        if len(x) and (x.min() < 0 or x.max() >= config.vocab_size):
            raise ValueError(f"{path / 'data.safetensors'}: '{key}' has token ids outside the vocabulary")
        ids[key] = x
    if len(ids["train_ids"]) != n:
        raise ValueError(f"{path}: meta.json says N = {n} but data.safetensors holds "
                         f"{len(ids['train_ids'])} training sequences")
    return Bundle(model, tokenizer, ids["train_ids"], ids["test_ids"], config, train_config, corpus, n,
                  seed, history, extra, path)


def _read_meta(p: Path) -> dict:
    if not p.exists() and not p.is_symlink():
        raise ValueError(f"{p} is missing: not a checkpoint written by this project")
    if not p.is_file():
        raise ValueError(f"{p} is not a regular file (a folder, a pipe, a device or a broken link): "
                         "not a checkpoint written by this project")
    if p.stat().st_size > MAX_META_BYTES:
        raise ValueError(f"{p} is too large to be a checkpoint description")
    try:
        meta = json.loads(p.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{p} is not valid JSON ({e}); the checkpoint is corrupted or foreign") from None
    except ValueError as e:  # NaN or Infinity anywhere
        raise ValueError(f"{p} is not a valid checkpoint description: {e}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format"), str) or meta["format"] != FORMAT:
        raise ValueError(f"{p} was not written by Basin Explorer (no format '{FORMAT}')")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version != VERSION:
        raise ValueError(f"{p} has checkpoint version {version!r}; this build reads {VERSION} (an integer)")
    return meta


def _no_constant(name: str):
    """json's hook for NaN, Infinity and -Infinity, which no field of meta.json may hold."""
    raise ValueError(f"it holds {name}, and every number in it must be finite")


def _read_safetensors(p: Path) -> dict[str, torch.Tensor]:
    if not p.exists() and not p.is_symlink():
        raise ValueError(f"{p} is missing: the checkpoint is incomplete")
    if not p.is_file():
        raise ValueError(f"{p} is not a regular file (a folder, a pipe, a device or a broken link); "
                         "the checkpoint is corrupted or foreign")
    if p.stat().st_size > MAX_WEIGHT_BYTES:
        raise ValueError(f"{p} is larger than {MAX_WEIGHT_BYTES >> 20} MiB; not a Basin Explorer model")
    try:
        return load_file(str(p))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ValueError(f"{p} is not a readable safetensors file ({e}); "
                         "the checkpoint is truncated, corrupted or foreign") from None


def _integer(meta: dict, key: str, low: int, high: int) -> int:
    """meta[key] as an int in [low, high]: a JSON integer, not a float, string or boolean."""
    value = meta[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"'{key}' must be an integer in [{low}, {high}], got {value!r}")
    return value


def _loss_history(raw) -> list[tuple[int, float]]:
    """[[step, loss], ...] with integer steps and finite losses."""
    if not isinstance(raw, list):
        raise TypeError("'loss_history' must be a list of [step, loss] pairs")
    out = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 2:
            raise TypeError(f"'loss_history' entries must be [step, loss] pairs, got {item!r}")
        step, loss = item
        if not isinstance(step, int) or isinstance(step, bool) or step < 0 \
                or not isinstance(loss, (int, float)) or isinstance(loss, bool) or not math.isfinite(loss):
            raise ValueError(f"'loss_history' entry {item!r} needs an integer step and a finite loss")
        out.append((step, float(loss)))
    return out


def _dataclass_from(cls, d: dict):
    """``cls(**d)`` after checking each value's JSON type against the field's annotation: an ``int``
    field takes an integer (not a boolean or a float), a ``float`` field a finite non-negative number,
    a ``str`` field a string; the dataclass then checks ranges."""
    if not isinstance(d, dict):
        raise TypeError(f"{cls.__name__} entry must be an object")
    types = {f.name: f.type for f in fields(cls)}
    unknown = set(d) - set(types)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}")
    values = {}
    for name, value in d.items():
        kind = types[name] if isinstance(types[name], str) else types[name].__name__
        where = f"{cls.__name__}.{name}"
        if kind == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{where} must be an integer, got {value!r}")
        elif kind == "float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"{where} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{where} must be a finite number >= 0, got {value!r}")
            value = float(value)
        elif kind == "str":
            if not isinstance(value, str):
                raise TypeError(f"{where} must be a string, got {value!r}")
        else:
            raise TypeError(f"{where} has a type this loader does not check ({kind})")
        values[name] = value
    return cls(**values)
