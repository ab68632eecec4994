"""Checkpoints and training determinism.

References: the saved model itself (identical logits after a round trip; fp16-rounded weights for
``half``), a catalogue of corrupted and foreign directories that must all be refused with ValueError,
a live pickle payload that would leave a marker file if anything unpickled it, and a second training
run with the same seed.
"""
from __future__ import annotations

import json
import os
import pickle
import struct

import pytest
import torch
from safetensors.torch import save_file

from engine.models import checkpoint
from engine.models.checkpoint import load, save
from engine.models.model import Denoiser
from engine.text.tokenizer import WordTokenizer
from engine.models.train import TrainConfig, train

TOK = WordTokenizer(["a", "b", "c", "d"])          # 7 tokens, matching the tiny model
TCFG = TrainConfig(steps=5, batch_size=8, warmup=2)


def _ids(n, seed):
    return torch.randint(0, 7, (n, 5), generator=torch.Generator().manual_seed(seed))


def _save(path, model, **kw):
    return save(path, model, TOK, _ids(6, 1), _ids(3, 2), TCFG, "unit-test", loss_history=[(1, 2.5), (5, 1.25)],
                extra={"note": "x"}, **kw)


def _logits(model):
    z = _ids(4, 3)
    with torch.no_grad():
        return model(z, torch.tensor([0.1, 0.4, 0.7, 1.0]))


@pytest.fixture
def ckpt(tmp_path, tiny_model):
    return _save(tmp_path / "ck", tiny_model)


def test_round_trip_fp32(ckpt, tiny_model, tiny_cfg):
    b = load(ckpt)
    assert torch.equal(_logits(b.model), _logits(tiny_model))
    for k, v in tiny_model.state_dict().items():
        assert torch.equal(b.model.state_dict()[k], v), k
    assert torch.equal(b.train_ids, _ids(6, 1)) and torch.equal(b.test_ids, _ids(3, 2))
    assert b.train_ids.dtype == torch.long
    assert b.tokenizer.itos == TOK.itos
    assert b.config == tiny_cfg and b.train_config == TCFG
    assert (b.corpus, b.n, b.seed) == ("unit-test", 6, TCFG.seed)
    assert b.loss_history == [(1, 2.5), (5, 1.25)] and b.extra == {"note": "x"}
    assert not b.model.training
    assert b.noise.V == 7 and b.noise.eps == tiny_cfg.noise_eps
    assert sorted(os.listdir(ckpt)) == [".basin-explorer", "data.safetensors", "meta.json", "model.safetensors"]


def test_round_trip_half(tmp_path, tiny_model):
    path = _save(tmp_path / "ck", tiny_model, half=True)
    full = os.path.getsize(_save(tmp_path / "full", tiny_model) / "model.safetensors")
    assert os.path.getsize(path / "model.safetensors") < 0.6 * full
    b = load(path)
    for k, v in tiny_model.state_dict().items():   # exactly the fp16-rounded weights
        assert torch.equal(b.model.state_dict()[k], v.half().float()), k
    assert torch.allclose(_logits(b.model), _logits(tiny_model), atol=2e-2, rtol=1e-2)


def test_save_replaces_and_leaves_no_temp_files(tmp_path, tiny_model):
    path = _save(tmp_path / "ck", tiny_model)
    torch.manual_seed(5)
    other = Denoiser(tiny_model.cfg)
    save(path, other, TOK, _ids(2, 9), _ids(1, 9), TCFG, "second", overwrite=True)
    b = load(path)
    assert b.corpus == "second" and b.n == 2
    assert torch.equal(_logits(b.model), _logits(other))
    assert not torch.equal(_logits(b.model), _logits(tiny_model))
    assert os.listdir(tmp_path) == ["ck"]
    assert sorted(os.listdir(path)) == [".basin-explorer", "data.safetensors", "meta.json", "model.safetensors"]


def test_failed_save_keeps_the_old_checkpoint(tmp_path, tiny_model, monkeypatch):
    path = _save(tmp_path / "ck", tiny_model)
    calls = []

    def broken(tensors, filename, *a, **kw):
        calls.append(filename)
        if len(calls) == 2:
            raise OSError("disk full")
        return save_file(tensors, filename, *a, **kw)

    monkeypatch.setattr(checkpoint, "save_file", broken)
    torch.manual_seed(5)
    with pytest.raises(OSError):
        save(path, Denoiser(tiny_model.cfg), TOK, _ids(2, 9), _ids(1, 9), TCFG, "second", overwrite=True)
    assert len(calls) == 2
    assert os.listdir(tmp_path) == ["ck"]
    assert load(path).corpus == "unit-test"


# ---------------------------------------------------------------- refusing bad input

class _Payload:
    """Unpickling this object calls open(marker, 'w'), which creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _expect_value_error(path, fragment: str) -> str:
    """load(path) raises ValueError whose message contains ``fragment``."""
    with pytest.raises(ValueError) as info:
        load(path)
    assert fragment in str(info.value)
    return str(info.value)


def test_load_refuses_missing_and_non_directories(tmp_path):
    _expect_value_error(tmp_path / "nope", "is not a checkpoint directory")
    (tmp_path / "file").write_text("hello")
    _expect_value_error(tmp_path / "file", "is not a checkpoint directory")
    (tmp_path / "empty").mkdir()
    _expect_value_error(tmp_path / "empty", "meta.json is missing")


def _edit_meta(path, edit):
    meta = json.loads((path / "meta.json").read_text())
    edit(meta)
    (path / "meta.json").write_text(json.dumps(meta))


META_FRAGMENTS = {"not-json": "is not valid JSON", "binary": "is not valid JSON",
                  "list": "was not written by Basin Explorer", "other-format": "was not written by Basin Explorer",
                  "other-version": "has checkpoint version 99", "no-model-config": "'model_config'",
                  "unknown-field": "unknown ModelConfig fields ['flux_capacitor']",
                  "bad-vocab": "vocab_size must be an integer in [4, 1000000], got 2",
                  "tokenizer-size": "tokenizer has 8 tokens but the model expects 7",
                  "tokenizer-junk": "is not a word tokenizer", "n-string": "'n' must be an integer",
                  "n-mismatch": "meta.json says N = 5 but data.safetensors holds 6",
                  "history-junk": "'loss_history' entries must be [step, loss] pairs",
                  "train-config-bad": "objective must be one of"}


@pytest.mark.parametrize("case", sorted(META_FRAGMENTS))
def test_load_refuses_bad_meta(ckpt, case):
    meta_path = ckpt / "meta.json"
    if case == "not-json":
        meta_path.write_text("{this is not json")
    elif case == "binary":
        meta_path.write_bytes(os.urandom(256) + b"\xff\xfe")
    elif case == "list":
        meta_path.write_text("[1, 2, 3]")
    elif case == "other-format":
        _edit_meta(ckpt, lambda m: m.update(format="some-other-tool"))
    elif case == "other-version":
        _edit_meta(ckpt, lambda m: m.update(version=99))
    elif case == "no-model-config":
        _edit_meta(ckpt, lambda m: m.pop("model_config"))
    elif case == "unknown-field":
        _edit_meta(ckpt, lambda m: m["model_config"].update(flux_capacitor=1))
    elif case == "bad-vocab":
        _edit_meta(ckpt, lambda m: m["model_config"].update(vocab_size=2))
    elif case == "tokenizer-size":
        _edit_meta(ckpt, lambda m: m["tokenizer"]["words"].append("e"))
    elif case == "tokenizer-junk":
        _edit_meta(ckpt, lambda m: m.update(tokenizer="word"))
    elif case == "n-string":
        _edit_meta(ckpt, lambda m: m.update(n="six"))
    elif case == "n-mismatch":
        _edit_meta(ckpt, lambda m: m.update(n=5))
    elif case == "history-junk":
        _edit_meta(ckpt, lambda m: m.update(loss_history=[[1]]))
    elif case == "train-config-bad":
        _edit_meta(ckpt, lambda m: m["train_config"].update(objective="mse"))
    _expect_value_error(ckpt, META_FRAGMENTS[case])


def test_load_refuses_bad_weights(ckpt, tiny_model, tmp_path):
    w = ckpt / "model.safetensors"
    good = w.read_bytes()

    def refused(data: bytes, fragment="is not a readable safetensors file"):
        w.write_bytes(data)
        msg = _expect_value_error(ckpt, fragment)
        w.write_bytes(good)
        load(ckpt)        # the restored file loads again: the failure was the corruption
        return msg

    refused(good[: len(good) // 2])                                        # truncated
    refused(good[:8])
    refused(b"")
    refused(os.urandom(len(good)))                                         # random bytes
    header = b'{"x":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}'
    refused(struct.pack("<Q", len(header)) + header + bytes(16))           # claims far more data than it has
    sd = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    for bad, fragment in ((torch.zeros(8, 16), "has shape (8, 16), expected (7, 16)"),
                          (torch.zeros(7, 16, dtype=torch.int32), "is stored as torch.int32"),
                          (torch.zeros(7, 16, dtype=torch.float64), "is stored as torch.float64"),
                          (torch.full((7, 16), float("nan")), "contains NaN or inf")):
        save_file({**sd, "head.weight": bad}, str(tmp_path / "w.safetensors"))
        assert "head.weight" in refused((tmp_path / "w.safetensors").read_bytes(), fragment)
    save_file({k: v for k, v in sd.items() if k != "head.bias"}, str(tmp_path / "w.safetensors"))
    refused((tmp_path / "w.safetensors").read_bytes(), "missing ['head.bias']")
    save_file({**sd, "extra": torch.zeros(1)}, str(tmp_path / "w.safetensors"))
    refused((tmp_path / "w.safetensors").read_bytes(), "unexpected ['extra']")
    import io
    buf = io.BytesIO()
    torch.save(sd, buf)
    refused(buf.getvalue())                                                # a torch pickle archive (zip)


def test_load_refuses_bad_data(ckpt, tmp_path):
    d = ckpt / "data.safetensors"
    good = d.read_bytes()
    outside, shape = "has token ids outside the vocabulary", "must be an integer tensor (M, 5)"
    cases = [
        ({"train_ids": torch.full((6, 5), 7, dtype=torch.int16), "test_ids": torch.zeros(3, 5, dtype=torch.int16)}, outside),
        ({"train_ids": torch.full((6, 5), -1, dtype=torch.int16), "test_ids": torch.zeros(3, 5, dtype=torch.int16)}, outside),
        ({"train_ids": torch.zeros(6, 5, dtype=torch.int16), "test_ids": torch.full((3, 5), 100, dtype=torch.int32)}, outside),
        ({"train_ids": torch.zeros(6, 4, dtype=torch.int16), "test_ids": torch.zeros(3, 5, dtype=torch.int16)}, shape),
        ({"train_ids": torch.zeros(6, 5), "test_ids": torch.zeros(3, 5, dtype=torch.int16)}, shape),
        ({"train_ids": torch.zeros(6, 5, dtype=torch.bool), "test_ids": torch.zeros(3, 5, dtype=torch.int16)}, shape),
        ({"train_ids": torch.zeros(6, 5, dtype=torch.int16)}, "'test_ids' must be"),
        ({"train_ids": torch.zeros(5, 5, dtype=torch.int16), "test_ids": torch.zeros(3, 5, dtype=torch.int16)},
         "meta.json says N = 6 but data.safetensors holds 5"),
    ]
    for tensors, fragment in cases:
        save_file(tensors, str(tmp_path / "d.safetensors"))
        d.write_bytes((tmp_path / "d.safetensors").read_bytes())
        _expect_value_error(ckpt, fragment)
    d.write_bytes(good[:-10])
    _expect_value_error(ckpt, "is not a readable safetensors file")
    d.unlink()
    _expect_value_error(ckpt, "data.safetensors is missing")


def test_load_never_unpickles(ckpt, tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    for name in ("model.safetensors", "data.safetensors"):
        original = (ckpt / name).read_bytes()
        (ckpt / name).write_bytes(pickle.dumps({"weights": _Payload(marker)}))
        _expect_value_error(ckpt, "is not a readable safetensors file")
        assert not marker.exists()
        (ckpt / name).write_bytes(original)
    # the payload is live: unpickling an identical one does create its marker
    live = tmp_path / "live"
    pickle.loads(pickle.dumps(_Payload(live))).close()
    assert live.exists()

    # and a valid load goes nowhere near pickle or torch.load
    def forbidden(*a, **kw):
        raise AssertionError("unpickling during load")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    assert load(ckpt).n == 6


# ---------------------------------------------------------------- engine bugs found by these tests

@pytest.mark.parametrize("field,value", [("vocab_size", 7.0), ("seq_len", 5.5), ("n_heads", 0), ("d_model", -16)])
def test_load_bad_model_sizes_raise_value_error(ckpt, field, value):
    _edit_meta(ckpt, lambda m: m["model_config"].update({field: value}))
    _expect_value_error(ckpt, f"{field} must be an integer")


@pytest.mark.parametrize("field", ["n", "seed"])
def test_load_infinite_counts_raise_value_error(ckpt, field):
    text = (ckpt / "meta.json").read_text()
    meta = json.loads(text)
    (ckpt / "meta.json").write_text(text.replace(f'"{field}": {meta[field]}', f'"{field}": 1e999'))
    assert json.loads((ckpt / "meta.json").read_text())[field] == float("inf")
    assert field in _expect_value_error(ckpt, "must be a")


def test_load_deeply_nested_meta_raises_value_error(ckpt):
    (ckpt / "meta.json").write_text("[" * 100_000 + "]" * 100_000)
    _expect_value_error(ckpt, "is not valid JSON")


def test_load_float8_weights_raise_value_error(ckpt, tiny_model, tmp_path):
    sd = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    sd["head.weight"] = sd["head.weight"].to(torch.float8_e4m3fn)
    save_file(sd, str(ckpt / "model.safetensors"))
    _expect_value_error(ckpt, "is stored as torch.float8_e4m3fn")


# ---------------------------------------------------------------- training determinism

@pytest.mark.parametrize("objective", ["ce", "nelbo"])
def test_train_is_deterministic_in_its_seed(tiny_cfg, objective):
    data = _ids(10, 4)

    def run(seed):
        cfg = TrainConfig(objective=objective, steps=5, batch_size=8, warmup=2, seed=seed)
        return train(data, tiny_cfg, cfg, device=torch.device("cpu"), log_every=2)

    (m1, h1), (m2, h2), (m3, h3) = run(0), run(0), run(1)
    assert [s for s, _ in h1] == [2, 4, 5] and h1 == h2
    assert all(torch.equal(v, m2.state_dict()[k]) for k, v in m1.state_dict().items())
    assert h1 != h3
    assert not all(torch.equal(v, m3.state_dict()[k]) for k, v in m1.state_dict().items())


def test_trained_model_round_trip(tmp_path, tiny_cfg):
    data = _ids(10, 4)
    model, history = train(data, tiny_cfg, TCFG, device=torch.device("cpu"))
    path = save(tmp_path / "ck", model, TOK, data, _ids(3, 2), TCFG, "unit-test", loss_history=history)
    b = load(path)
    assert torch.equal(_logits(b.model), _logits(model))
    assert b.loss_history == [(s, pytest.approx(v)) for s, v in history]
    assert torch.equal(b.train_ids, data)
