"""docs/python.md's example, run as written against the test daemon."""

import os
import re
import subprocess
import sys

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "python.md")


def test_docs_example_runs(daemon):
    text = open(DOC).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "docs/python.md has no python block"
    env = dict(os.environ, HARTONOMOUS_SERVER=daemon.address)
    for block in blocks:
        run = subprocess.run([sys.executable, "-c", block], env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
