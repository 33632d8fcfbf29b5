"""A real hartonomousd for the tests: $HARTONOMOUSD (the built daemon) on
127.0.0.1:0 with a fresh data directory, stopped at the end."""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

import hartonomous


class Daemon:
    def __init__(self, path, extra_args=()):
        self.data_dir = tempfile.mkdtemp(prefix="hartonomous-py-")
        self.log = open(os.path.join(self.data_dir, "daemon.log"), "wb")
        self.process = subprocess.Popen(
            [path, "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.data_dir, "data")]
            + list(extra_args),
            stdout=subprocess.PIPE, stderr=self.log)
        # The first line on stdout is always "hartonomousd listening on HOST:PORT".
        line = self.process.stdout.readline().decode()
        if not line.startswith("hartonomousd listening on "):
            self.stop()
            raise RuntimeError("hartonomousd did not start: %r" % line)
        self.address = line.split()[-1]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        self.process.stdout.close()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def daemon():
    path = os.environ.get("HARTONOMOUSD")
    if not path:
        pytest.fail("set HARTONOMOUSD to the hartonomousd binary (ctest does)")
    d = Daemon(path)
    yield d
    d.stop()


@pytest.fixture
def db(daemon):
    client = hartonomous.connect(daemon.address, timeout=60)
    client.wait_until_serving(timeout=30)
    yield client
    client.close()
