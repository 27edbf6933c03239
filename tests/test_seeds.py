"""Tests of sce_lib.seeds: the book's seed switch SCE_SEED (and SCE_FULL)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sce_lib.seeds import STRIDE, full_run, numpy_rng, seed, seed_offset, torch_generator


def test_offset_zero_keeps_the_base_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCE_SEED", raising=False)
    assert seed_offset() == 0
    assert [seed(b) for b in (0, 1, 2019)] == [0, 1, 2019]
    monkeypatch.setenv("SCE_SEED", "0")
    assert seed(7) == 7
    # the generator is seeded exactly as manual_seed(base) was: the chapters' default numbers are unchanged
    assert torch.equal(torch.randn(4, generator=torch_generator(7)),
                       torch.randn(4, generator=torch.Generator().manual_seed(7)))


def test_an_offset_moves_every_seed_and_no_two_draws_share_one(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    for offset in range(4):
        monkeypatch.setenv("SCE_SEED", str(offset))
        for base in (0, 1, 2, 999, 2019, STRIDE - 1):
            s = seed(base)
            assert s not in seen, f"seed {s} used by {seen.get(s)} and {(base, offset)}"
            seen[s] = (base, offset)
    monkeypatch.setenv("SCE_SEED", "3")
    a = numpy_rng(11).random(3)
    monkeypatch.setenv("SCE_SEED", "4")
    b = numpy_rng(11).random(3)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("raw", ["-1", "1.5", "abc", "0x3"])
def test_a_bad_offset_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("SCE_SEED", raw)
    with pytest.raises(ValueError, match=r"SCE_SEED: expected a non-negative integer.*got"):
        seed(0)


@pytest.mark.parametrize("base,error", [(-1, ValueError), (STRIDE, ValueError), (1.0, TypeError), (True, TypeError)])
def test_a_bad_base_is_refused(base, error) -> None:
    with pytest.raises(error, match="base: expected an int"):
        seed(base)


def test_full_run_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCE_FULL", raising=False)
    assert full_run() is False
    monkeypatch.setenv("SCE_FULL", "1")
    assert full_run() is True
    monkeypatch.setenv("SCE_FULL", "yes")
    with pytest.raises(ValueError, match="SCE_FULL: expected 0 or 1"):
        full_run()
