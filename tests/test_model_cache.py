"""The one bounded model cache (fer.models.cache): LRU order, capacity, and memory released on eviction."""

from __future__ import annotations

import gc
import weakref

import pytest

from fer.models.cache import ModelCache


@pytest.fixture
def small_models(monkeypatch):
    """A cache whose 'models' are cheap registered architectures, built untrained."""
    import fer.models.cache as cache

    built = []

    def build(source, device):
        from fer.models import create_model

        built.append(source)
        return create_model(source, **({} if source.startswith("alfj") else {"pretrained": False})).eval()

    monkeypatch.setattr(cache, "build_model", build)
    return built


def test_lru_keeps_capacity_and_the_most_recent(small_models):
    c = ModelCache(capacity=2)
    a = c.get("faceapi_expression")
    c.get("mini_xception_fer2013")
    assert c.get("faceapi_expression") is a  # a hit: no rebuild, and now the most recent
    c.get("alfj_resnet18")  # evicts mini_xception, the least recently used
    assert [k[0] for k in c.keys()] == ["faceapi_expression", "alfj_resnet18"]
    assert small_models == ["faceapi_expression", "mini_xception_fer2013", "alfj_resnet18"]
    c.get("mini_xception_fer2013")  # rebuilt after eviction
    assert small_models[-1] == "mini_xception_fer2013" and len(c.keys()) == 2


def test_evicted_model_memory_is_released(small_models):
    c = ModelCache(capacity=1)
    ref = weakref.ref(c.get("alfj_resnet18"))
    gc.collect()
    assert ref() is not None  # the cache holds it
    c.get("mini_xception_fer2013")
    gc.collect()
    assert ref() is None  # evicted and nothing else held it: its tensors are freed


def test_predictors_and_the_demo_bank_hold_no_model(monkeypatch, small_models):
    """The demo's bank keeps Predictors; after eviction from the process cache the model is gone."""
    import fer.models.cache as cache
    from fer.predictor import Predictor
    from fer.ui.models import ModelBank, ModelChoice

    monkeypatch.setattr(cache, "MODELS", ModelCache(capacity=1))
    choices = [ModelChoice(name, name, "reference", True, "test") for name in ("faceapi_expression", "mini_xception_fer2013")]
    bank = ModelBank(choices)
    first = bank.get("faceapi_expression")
    assert isinstance(first, Predictor)
    ref = weakref.ref(first.model)
    bank.get("mini_xception_fer2013")  # the one-slot cache evicts face-api
    gc.collect()
    assert ref() is None
    assert first.model.config.name == "faceapi_expression"  # reloaded on next use
    assert bank.get("faceapi_expression") is first  # the bank maps labels, it does not rebuild Predictors


def test_capacity_from_environment(monkeypatch):
    monkeypatch.setenv("FER_MODEL_CACHE", "5")
    assert ModelCache().capacity == 5
    monkeypatch.setenv("FER_MODEL_CACHE", "lots")
    assert ModelCache().capacity == 3
