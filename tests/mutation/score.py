"""Print the mutation score of the last `mutmut run` (``make mutation``) and list the survivors.

score = detected / judged. A mutant is detected when a test failed on it ("killed"), or when it made
the tests hang ("timeout", stopped by mutmut's time limit) or crash ("segfault"). Survivors, mutants
that no test executes ("no tests"), "suspicious" ones and any left "not checked" all count against
the score. Exits with status 1
if a survivor is not explained in tests/mutation/survivors.md (each is listed there by name).
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def results() -> dict[str, str]:
    out = subprocess.run([str(Path(sys.executable).with_name("mutmut")), "results", "--all", "true"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    status = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\w.]+__mutmut_\d+):\s*(.+?)\s*$", line)
        if m:
            status[m.group(1)] = m.group(2)
    return status


def main() -> int:
    status = results()
    counts = collections.Counter(status.values())
    detected = ("killed", "timeout", "segfault", "caught by type check")
    killed = sum(counts.get(s, 0) for s in detected)
    failing = {name for name, s in status.items() if s not in detected}
    judged = killed + len(failing)
    if judged == 0:
        print("mutation: no mutant was judged; run `make mutation` first")
        return 1
    print("mutation: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    print(f"mutation score: {killed}/{judged} = {100 * killed / judged:.1f} % detected (goal >= 90 %)")
    explained = set(re.findall(r"`([\w.]+__mutmut_\d+)`", (HERE / "survivors.md").read_text(encoding="utf-8")))
    missing = sorted(failing - explained)
    for name in missing:
        print(f"  not explained in tests/mutation/survivors.md: {name} ({status[name]})")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
