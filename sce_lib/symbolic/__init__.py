"""SymPy derivations of the softmax Jacobian, the cross-entropy Hessian and the PSD certificate.

This package is *not* imported by ``import sce_lib`` (SymPy is slow to import); use
``from sce_lib.symbolic import ...``.

Every result is returned together with SymPy's verdict (a ``bool``) that the derived object equals
the closed form the book states. The verdicts are proofs, not numerical checks: an identity is
accepted only when the difference of both sides reduces *symbolically* to ``0``
(:func:`is_zero`, in :mod:`.engine`).

* :mod:`.engine`: deciding identities in exponentials of logits (``is_zero``), evaluation to 30 digits;
* :mod:`.softmax`: softmax and its Jacobian;
* :mod:`.cross_entropy`: the loss identity, gradient and Hessian of cross-entropy;
* :mod:`.certificate`: the sum-of-squares certificate of positive semidefiniteness;
* :mod:`.linear`: the Kronecker Hessian of the linear classifier.

Notation (as in the book): ``z`` logits, ``p = softmax(z)``, ``y`` target, ``K`` classes, ``N``
samples, ``d`` features, ``W`` (K, d), ``b`` (K,), ``x~ = [x; 1]``.
"""

from __future__ import annotations

from .certificate import PSDCertificate, psd_certificate
from .cross_entropy import SymbolicCEHessian, ce_hessian_symbolic
from .engine import is_zero
from .linear import SymbolicLinearHessian, linear_ce_hessian_symbolic
from .softmax import (
    SoftmaxSymbolic,
    SymbolicJacobian,
    _softmax_jacobian,  # noqa: F401  (chapter 01 prints its source)
    softmax_jacobian_symbolic,
    softmax_symbolic,
    verify_jacobian_pattern,
)

__all__ = [
    "SoftmaxSymbolic",
    "SymbolicJacobian",
    "SymbolicCEHessian",
    "PSDCertificate",
    "SymbolicLinearHessian",
    "softmax_symbolic",
    "softmax_jacobian_symbolic",
    "ce_hessian_symbolic",
    "psd_certificate",
    "verify_jacobian_pattern",
    "linear_ce_hessian_symbolic",
    "is_zero",
]
