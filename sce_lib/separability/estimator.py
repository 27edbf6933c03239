"""P(inter-class distance > intra-class distance) of a set of features: exact over all pairs, and sampled.

The quantity (paper-digest §5.2, the measurement the book's reconstruction is compared with): draw an
intra-class pair and, independently, an inter-class pair, and ask whether the inter-class distance
is **strictly** larger (ties count as failures). Two weightings of the pairs:

* ``"balanced"``: intra = a class uniformly, then two distinct samples of it; inter = two distinct
  classes uniformly, then one sample of each. An intra pair of class c weighs 1/(K C(n_c, 2)) and an
  inter pair of classes {a, b} weighs 1/(K(K-1)/2 · n_a n_b), K the number of classes present;
* ``"pairs"``: every unordered intra pair and every unordered inter pair equally likely.

**The distances.** The quantity is defined on one fixed set of computed numbers: the Euclidean
distances ``torch.cdist(z_i, z_j, compute_mode="donot_use_mm_for_euclid_dist")`` in the features'
dtype (float16/bfloat16 features are first cast to float32), z = features @ matrixᵀ. That mode sums
(z_ik - z_jk)² pair by pair, so every distance is the same number whatever block it is computed in
(the matrix-product mode is faster but its rounding depends on the block, and it cancels
catastrophically for close points). The probability is the same for squared distances in exact
arithmetic; in floating point it is the probability of these computed numbers.

**The exact count.** For float32 the distances are compared as the int32 bit patterns of the floats
(monotone for non-negative floats). For each weight group of intra pairs a look-up table over the
bit patterns is built by one histogram and a cumulative sum: ``lut[k - k0]`` = number of intra
distances with key < k, for a window of consecutive keys ending just above the largest intra key:
up to 2^25 keys (4 binades of distance: in practice every intra distance), fewer for small groups
(at most max(2^22, 16 n) for n intra keys, so a small group does not pay for a large table). Every
inter distance is then counted by one gather into the table; the inter keys at or below the largest
intra key under the window (rare) by a binary search among the intra keys below it. No sort of the
10^8 inter distances, memory bounded (tiles of 2^20 distances), all counts exact integers. On the
CPU the tiles (and the intra row blocks, and two halves of the histogram) run on as many Python
threads as torch has intra-op threads, each with one intra-op thread: torch's 1-D gather is
single-threaded, and whole tiles need no barrier per op. The random gathers are the largest cost;
partitioning a tile's keys by their high bits first (a stable sort of 8-bit buckets, then the
permutation), or sorting the tile, was measured to cost more than the cache misses it saves.
For float64 the table is built over the distances rounded to float32 (rounding keeps the order of
values that round apart), and only the inter distances whose rounded value some intra distance
shares are searched among the sorted float64 intra distances. For fewer than 2^12 intra keys and
when fewer than half the intra keys fit in a window, the intra keys are sorted and searched
(``torch.searchsorted``), exact and slower. The result is assembled from the integer counts with
exact rational weights (:class:`fractions.Fraction`) and rounded once to float.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from functools import partial
from typing import Any, NamedTuple, TypeVar

import torch

from .._validate.scalars import check_int
from .._validate.separability import check_features_labels, check_weighting

__all__ = ["SeparationEstimate", "separation_probability", "sampled_separation_probability", "pair_distances"]

_TILE = 1 << 20  # distances per tile (4 MB in float32: its passes stay in cache; 16 MB tiles measured slower)
_WINDOW = 1 << 25  # entries of a look-up table (128 MB of int32)
_WINDOW_MIN = 1 << 22  # ... but at least this many when the keys span them
_INTRA_ROWS = 256  # rows per block of the intra distances (the block's own square is computed whole)
_LUT_MIN_KEYS = 1 << 12  # below this many intra keys a sorted search (torch.searchsorted: slow, ~2 µs a query here)


class SeparationEstimate(NamedTuple):
    """A Monte Carlo estimate of P(inter > intra) and its standard error sqrt(p(1-p)/n_pairs)."""

    estimate: float
    stderr: float


def pair_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The distances the estimators compare: ``torch.cdist`` summing (a_k - b_k)² pair by pair.

    Every entry is computed by the same per-pair code, so a distance does not depend on the block
    it is computed in (unlike the matrix-product mode of ``torch.cdist``).

    Args:
        a: (n, m) floating tensor. b: (p, m) tensor of the same dtype and device.

    Returns:
        (n, p) distances, dtype and device of ``a``.

    Example:
        >>> pair_distances(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0], [0.0, 1.0]]))
        tensor([[5., 1.]])

    Derived in: book/06-separability.md, §Measuring the separation probability.
    """
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def _key_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.int32 if dtype == torch.float32 else torch.int64


def _prepare(features: Any, labels: Any, matrix: Any) -> tuple[torch.Tensor, list[int], list[int]]:
    """Validated features (mapped by the matrix, rows sorted by class), class starts and sizes."""
    X, y, M = check_features_labels(features, labels, matrix)
    Z = X if M is None else X @ M.T
    if Z.dtype not in (torch.float32, torch.float64):
        Z = Z.to(torch.float32)
    order = torch.argsort(y, stable=True)
    _, sizes = torch.unique_consecutive(y[order], return_counts=True)
    sizes = [int(s) for s in sizes.tolist()]
    starts = [0]
    for s in sizes[:-1]:
        starts.append(starts[-1] + s)
    return Z[order].contiguous(), starts, sizes


def _intra_keys(Zc: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Keys (bit patterns) of the distances of all pairs i < j of one class, as a 1-D tensor.

    Zc: (n, m) features of one class. Returns (n(n-1)/2,) keys, written into ``out`` when given, so
    that the keys of several classes share one buffer without a concatenated copy.
    """
    n = Zc.shape[0]
    if out is None:
        out = torch.empty(n * (n - 1) // 2, dtype=_key_dtype(Zc.dtype), device=Zc.device)
    _map(lambda job: job(), _intra_jobs(Zc, out), Zc.device)
    return out


def _intra_jobs(Zc: torch.Tensor, out: torch.Tensor) -> list[Callable[[], None]]:
    """The row blocks of :func:`_intra_keys`, each writing its own slice of ``out`` ((n(n-1)/2,) keys).

    A block of at most ``_INTRA_ROWS`` rows: its own (m, m) square gives the strict upper triangle
    (a masked select), the block against the rows after it is copied whole; so about n²/2 distances
    are computed, not n².
    """
    n = Zc.shape[0]
    kd = _key_dtype(Zc.dtype)
    step = max(1, min(_INTRA_ROWS, _TILE // max(n, 1)))
    cols = torch.arange(min(n, step), device=Zc.device)
    upper = cols[None, :] > cols[:, None]

    def block(r0: int, r1: int, dst: torch.Tensor) -> None:
        m = r1 - r0
        torch.masked_select(pair_distances(Zc[r0:r1], Zc[r0:r1]).view(kd), upper[:m, :m], out=dst[:m * (m - 1) // 2])
        if r1 < n:
            dst[m * (m - 1) // 2:].view(m, n - r1).copy_(pair_distances(Zc[r0:r1], Zc[r1:]).view(kd))

    jobs, at = [], 0
    for r0 in range(0, n - 1, step):
        r1 = min(n, r0 + step)
        count = (r1 - r0) * (r1 - r0 - 1) // 2 + (r1 - r0) * (n - r1)
        jobs.append(partial(block, r0, r1, out[at:at + count]))
        at += count
    assert at == out.numel(), (at, out.numel())
    return jobs


_POOLS: dict[int, ThreadPoolExecutor] = {}
T = TypeVar("T")
R = TypeVar("R")


def _map(fn: Callable[[T], R], items: list[T], device: torch.device) -> list[R]:
    """[fn(x) for x in items]; on the CPU over as many Python threads as torch has intra-op threads.

    Whole tiles per thread, each op single-threaded (the intra-op count is 1 meanwhile, restored
    after; torch's ops release the GIL): no barrier per op, and a thread the OS pauses stalls no
    other. On other devices, and with one thread, a plain loop.
    """
    nt = torch.get_num_threads()
    if nt < 2 or len(items) < 2 or device.type != "cpu":
        return [fn(x) for x in items]
    if nt not in _POOLS:
        _POOLS[nt] = ThreadPoolExecutor(max_workers=nt, thread_name_prefix="sce-separability")
    torch.set_num_threads(1)
    try:
        return list(_POOLS[nt].map(fn, items))
    finally:
        torch.set_num_threads(nt)


def _histogram(bins: torch.Tensor, width: int, out: torch.Tensor) -> None:
    """out[j] = #{i: bins_i = j} for j < width. bins: (n,) integers in [0, width); out: (width,).

    torch.bincount runs on one thread: on the CPU the bins are split in two halves counted
    concurrently (two int64 histograms at most, to bound the memory), then added.
    """
    parts = min(2, torch.get_num_threads()) if bins.numel() >= _LUT_MIN_KEYS else 1
    hists = _map(partial(torch.bincount, minlength=width), list(bins.tensor_split(parts)), bins.device)
    if len(hists) == 2:
        torch.add(hists[0], hists[1], out=out)
    else:
        out.copy_(hists[0])


def _f32_keys(keys64: torch.Tensor) -> torch.Tensor:
    """int32 keys of the float64 distances rounded to float32 (rounding is monotone: order kept, ties made)."""
    return keys64.view(torch.float64).to(torch.float32).view(torch.int32)


class _IntraCounter:
    """Counts, for a tile of inter keys, how many intra keys of one group are strictly smaller.

    float32 keys: a table over the keys (see the module docstring) plus a sorted prefix for keys below
    its window. float64 keys: the same table over the keys rounded to float32, whose answer is exact
    for every query whose rounded key no intra key shares (rounding keeps the order of unequal rounded
    values); the rest (rounded collisions, keys below the window) are counted by a search among the
    sorted float64 keys. Few intra keys (< 2^12): a sorted search only. With ``consume=True`` the float32
    ``keys`` are overwritten by the table's construction (their bins), to spare a copy of them.
    """

    def __init__(self, keys: torch.Tensor, consume: bool = False) -> None:
        self.n = keys.numel()
        self.lut = None
        self.exact64 = keys.dtype == torch.int64
        if self.n >= _LUT_MIN_KEYS:
            k32 = _f32_keys(keys) if self.exact64 else keys
            kmin, kmax = (int(v) for v in torch.aminmax(k32))
            # a table of at most 16 entries per key (small groups) and at most _WINDOW entries
            width = min(kmax - kmin + 2, _WINDOW, max(_WINDOW_MIN, 16 * self.n))
            k0 = kmax + 2 - width
            below = k32[k32 < k0] if k0 > kmin else k32[:0]  # the intra keys below the window
            n_prefix = below.numel()
            if 2 * n_prefix <= self.n:
                self.k0, self.width = k0, width
                self.prefix = k32[:0] if self.exact64 else torch.sort(below).values
                del below
                # keys below the window fall into bin 0 too: bins 0..j-1 then hold #{keys < k0 + j}
                bins = (k32.sub_(k0) if consume or self.exact64 else torch.sub(k32, k0)).clamp_(min=0)
                del k32
                lut_dtype = torch.int32 if self.n < 2**31 else torch.int64
                if 4 * self.n < width:  # few keys: scatter-add into the table itself (no int64 histogram)
                    self.lut = torch.zeros(width + 1, dtype=lut_dtype, device=keys.device)
                    self.lut.index_add_(0, bins.long().add_(1), torch.ones_like(bins, dtype=lut_dtype))
                else:
                    self.lut = torch.empty(width + 1, dtype=lut_dtype, device=keys.device)
                    self.lut[0] = 0
                    _histogram(bins, width, self.lut[1:])
                del bins
                self.lut.cumsum_(0)  # in place, in the table's dtype: no second table-sized buffer
                self.lut[0] = n_prefix  # lut[j] = #{intra keys < k0 + j}, j = 0..width
                # queries below the window read lut[0] = n_prefix: right unless q <= the largest key below it
                self.pmax = int(self.prefix[-1]) if self.prefix.numel() else None
        if self.lut is None or self.exact64:
            self.sorted = torch.sort(keys).values

    def count_less(self, q: torch.Tensor) -> int:
        """Σ over the keys q of #{intra keys < q} (an exact int)."""
        if self.lut is None:
            return int(torch.searchsorted(self.sorted, q).sum())
        if self.exact64:
            q32 = _f32_keys(q)
            idx = torch.sub(q32, self.k0).clamp_(0, self.width - 1)
            lo, hi = self.lut.index_select(0, idx), self.lut.index_select(0, idx.add_(1))
            exact = (hi != lo) | (q32 < self.k0)
            return int(lo.sum()) - int(lo[exact].sum()) + int(torch.searchsorted(self.sorted, q[exact]).sum())
        idx = torch.clamp(q, self.k0, self.k0 + self.width - 1).sub_(self.k0)
        total = int(self.lut.index_select(0, idx).sum())
        if self.pmax is not None and int(q.amin()) <= self.pmax:  # lut[0] = n_prefix: a search in the prefix
            low = q[q <= self.pmax]
            total -= low.numel() * self.prefix.numel() - int(torch.searchsorted(self.prefix, low).sum())
        return total


def _exact_counts(Z: torch.Tensor, starts: list[int], sizes: list[int], weighting: str) -> Fraction:
    """The exact probability as a Fraction, from integer counts per (intra group, inter group)."""
    K = len(sizes)
    kd = _key_dtype(Z.dtype)
    n_intra = sum(n * (n - 1) // 2 for n in sizes)
    n_inter = (sum(sizes) ** 2 - sum(n * n for n in sizes)) // 2
    # Weight groups: pairs with equal weight share one table / one running count.
    if weighting == "balanced":
        intra_w = {c: Fraction(2, K * sizes[c] * (sizes[c] - 1)) for c in range(K)}
        inter_w = {(a, b): Fraction(2, K * (K - 1) * sizes[a] * sizes[b]) for a in range(K) for b in range(a + 1, K)}
    else:
        intra_w = {c: Fraction(1, n_intra) for c in range(K)}
        inter_w = {(a, b): Fraction(1, n_inter) for a in range(K) for b in range(a + 1, K)}
    counters: dict[Fraction, _IntraCounter] = {}
    for w in sorted(set(intra_w.values())):
        group = [c for c in range(K) if intra_w[c] == w]
        keys = torch.empty(sum(sizes[c] * (sizes[c] - 1) // 2 for c in group), dtype=kd, device=Z.device)
        jobs, at = [], 0
        for c in group:
            count = sizes[c] * (sizes[c] - 1) // 2
            jobs += _intra_jobs(Z[starts[c]:starts[c] + sizes[c]], keys[at:at + count])
            at += count
        _map(lambda job: job(), jobs, Z.device)
        counters[w] = _IntraCounter(keys, consume=True)
        del keys

    def tile(job: tuple[int, int, int]) -> list[int]:  # one tile of inter pairs (a, b): its count per intra group
        a, b, r0 = job
        Za, Zb = Z[starts[a]:starts[a] + sizes[a]], Z[starts[b]:starts[b] + sizes[b]]
        q = pair_distances(Za[r0:r0 + max(1, _TILE // sizes[b])], Zb).view(kd).reshape(-1)
        return [counter.count_less(q) for counter in counters.values()]

    tiles = [(a, b, r0) for a, b in inter_w for r0 in range(0, sizes[a], max(1, _TILE // sizes[b]))]
    total = Fraction(0)
    for (a, b, _), counts in zip(tiles, _map(tile, tiles, Z.device)):
        total += inter_w[a, b] * sum(w * c for w, c in zip(counters, counts))
    return total


def separation_probability(features: Any, labels: Any, *, matrix: Any = None, weighting: str = "balanced") -> float:
    r"""P(an inter-class distance > an intra-class distance), exactly, over all pairs of pairs.

    .. math:: P = \sum_{p\ \mathrm{intra}}\ \sum_{q\ \mathrm{inter}} w_p\, w_q\,
              \mathbf 1\{\|z_{q_1} - z_{q_2}\| > \|z_{p_1} - z_{p_2}\|\},\qquad z = M h,

    with the class-balanced weights (``"balanced"``, paper-digest §5.2 step 4) or uniform weights
    over unordered pairs (``"pairs"``); ties are failures. With ``matrix`` = the centred last-layer
    weights C W (or features = centred logits) this is the probability the book's reconstructed
    bound is about (O1, O2, A1, A3 are *not* assumed here: this is the measurement).

    Exact: every intra pair is compared with every inter pair through integer counts (see the
    module docstring: a gather into a look-up table over the float bit patterns for float32, a
    sorted search otherwise), and the weighted sum is formed in exact rationals and rounded once.
    Time: at N = 20 000, K = 10, d = 10, float32, measured by ``benchmarks/bench_separability.py``
    against one ``torch.cdist(X, X)`` pass (2 threads, a shared 2-core machine: see its output for
    the ratio and its spread); most of it is the random gathers into the table and the distances.
    Memory: the intra distances' keys (4 bytes each in float32), a table of up to 128 MB, two int64
    histograms of the table's size while it is built, and 2^20-distance tiles per thread.
    On the CPU the intra-op thread count is set to 1 during the call (the work runs on that many
    Python threads instead) and restored after it.
    Runs on the features' device.

    Args:
        features: (N, d) finite floating features (or logits), tensor/array/list.
        labels: (N,) integer class labels; at least two classes, each with at least two samples.
        matrix: optional (m, d) matrix M applied first (z = features @ Mᵀ).
        weighting: ``"balanced"`` (default) or ``"pairs"``.

    Returns:
        The probability, a float in [0, 1].

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [5.0], [5.5]]); y = torch.tensor([0, 0, 1, 1])
        >>> separation_probability(x, y)   # intra {1, 0.5}, inter {5, 5.5, 4, 4.5}: all larger
        1.0

    Derived in: book/06-separability.md, §Measuring the separation probability.
    """
    weighting = check_weighting(weighting)
    Z, starts, sizes = _prepare(features, labels, matrix)
    return float(_exact_counts(Z, starts, sizes, weighting))


def _uniform_below(high: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One uniform integer in [0, high_i) per entry of ``high`` (float64 tensor of positive integers)."""
    u = torch.rand(high.shape, generator=gen, dtype=torch.float64)
    return torch.minimum((u * high).long(), high.long() - 1)  # u * high may round up to high


def sampled_separation_probability(features: Any, labels: Any, *, matrix: Any = None, n_pairs: int = 100_000,
                                   seed: int = 0, weighting: str = "balanced") -> SeparationEstimate:
    r"""Monte Carlo estimate of :func:`separation_probability`, with its standard error.

    Draws ``n_pairs`` independent (intra pair, inter pair) couples with the weighting's sampling
    scheme (``"balanced"``: a class uniformly then two distinct samples; two distinct classes
    uniformly then one sample of each. ``"pairs"``: a class with probability ∝ C(n_c, 2), a class
    pair with probability ∝ n_a n_b), compares the two distances (strictly; the same distances as
    the exact estimator) and returns the mean and its standard error sqrt(p(1-p)/n_pairs). The
    indices are drawn on the CPU by a ``torch.Generator`` seeded with ``seed``, so the estimate is
    the same on every device.

    Args:
        features: (N, d) finite floating features. labels: (N,) integer labels (as for the exact one).
        matrix: optional (m, d) matrix applied first.
        n_pairs: number of couples, an int >= 1.
        seed: an int >= 0.
        weighting: ``"balanced"`` or ``"pairs"``.

    Returns:
        :class:`SeparationEstimate` (estimate, stderr).

    Example:
        >>> x = torch.tensor([[0.0], [1.0], [5.0], [5.5]]); y = torch.tensor([0, 0, 1, 1])
        >>> sampled_separation_probability(x, y, n_pairs=1000)
        SeparationEstimate(estimate=1.0, stderr=0.0)

    Derived in: book/06-separability.md, §Measuring the separation probability.
    """
    weighting = check_weighting(weighting)
    n_pairs = check_int(n_pairs, "n_pairs", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    Z, starts, sizes = _prepare(features, labels, matrix)
    gen = torch.Generator().manual_seed(seed)
    K = len(sizes)
    n = torch.tensor(sizes, dtype=torch.float64)
    st = torch.tensor(starts, dtype=torch.int64)
    if weighting == "balanced":
        c = torch.randint(0, K, (n_pairs,), generator=gen)
        a = torch.randint(0, K, (n_pairs,), generator=gen)
        b = (a + torch.randint(1, K, (n_pairs,), generator=gen)) % K  # a distinct class, uniformly
    else:
        c = torch.multinomial(n * (n - 1) / 2, n_pairs, replacement=True, generator=gen)
        pair_w = torch.outer(n, n).triu(1).reshape(-1)
        ab = torch.multinomial(pair_w, n_pairs, replacement=True, generator=gen)
        a, b = ab // K, ab % K
    nc = n[c]
    # two distinct samples of class c: i uniform, j uniform among the other n_c - 1
    i = _uniform_below(nc, gen)
    j = (i + 1 + _uniform_below(nc - 1, gen)) % nc.long()
    k, m = _uniform_below(n[a], gen), _uniform_below(n[b], gen)
    dev = Z.device
    rows = [(st[c] + i).to(dev), (st[c] + j).to(dev), (st[a] + k).to(dev), (st[b] + m).to(dev)]
    P = [Z[r][:, None, :] for r in rows]
    intra = pair_distances(P[0], P[1]).reshape(-1)
    inter = pair_distances(P[2], P[3]).reshape(-1)
    p = float((inter > intra).double().mean())
    return SeparationEstimate(p, math.sqrt(p * (1 - p) / n_pairs))
