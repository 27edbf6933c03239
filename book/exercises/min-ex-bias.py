"""The ⌨ exercise min-ex-bias (book/05-minimisation.md): the bias never drifts.

Not autograded: the exercise's check is a loop that asserts as it goes and keeps no named result (after the
loop, ``r`` holds the last fit only, and the main text defines ``r`` and ``m`` too, so a blank notebook
would pass any test of them). One line in the exercise text makes it gradable: "Keep the four fits in a dict
``fits`` keyed by method name (``gd``, ``nesterov``, ``newton-cg``, ``lbfgs``)." (and the solution's loop
stores ``fits[m] = r``); the test is then ``all(abs(float(f.b.sum())) < 1e-12 for f in fits.values())``
with ``len(fits) == 4``.
"""

UNGRADED = "keeps no named result; see the module docstring for the one-line change that makes it gradable"
