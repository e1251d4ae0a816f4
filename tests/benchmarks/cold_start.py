"""Cold-start cost of one module: a fresh Python process importing what a module imports.

Usage: .venv/bin/python tests/benchmarks/cold_start.py [--runs N]
Reports the median wall time of N fresh interpreters for each import set. Never used as a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CASES = {
    "python -c pass (interpreter only)": "pass",
    "ansible.module_utils.basic": "import ansible.module_utils.basic",
    "azure.identity + azure.mgmt.core + basic": (
        "import ansible.module_utils.basic, azure.identity, azure.mgmt.core"
    ),
    "our engine (azure_module, as a module loads it)": (
        "import ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module as m; "
        "m.AzureModule; import azure.identity, azure.mgmt.core"
    ),
    "typed azure.mgmt.network (for comparison)": "import azure.mgmt.network",
}


def measure(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO,
                       env={"PYTHONPATH": f"{REPO / 'collections'}", "PATH": "/usr/bin:/bin"})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"| import set | median of {args.runs} cold starts |")
    print("| --- | --- |")
    for label, code in CASES.items():
        try:
            print(f"| {label} | {measure(code, args.runs):.2f} s |")
        except subprocess.CalledProcessError:
            print(f"| {label} | not installed |")


if __name__ == "__main__":
    main()
