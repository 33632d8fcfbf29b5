"""A fresh hartonomousd for a benchmark script, and its CLI.

Shared by the Python benchmark drivers in client/bench/ (run by Debian's
/usr/bin/python3): each run starts a daemon on an ephemeral loopback port
with a new data dir under `work` (durable commits, the daemon's defaults),
talks to it with the `hartonomous` CLI, and stops it cleanly.
"""
import json, os, re, subprocess, sys, tempfile


class Daemon:
    def __init__(self, build, work, data=None):
        """data: an existing data dir to restart on (default: a new one)."""
        self.data = data or tempfile.mkdtemp(prefix="data.", dir=work)
        self.proc = subprocess.Popen([os.path.join(build, "server", "hartonomousd"), "--listen",
                                      "127.0.0.1:0", "--data-dir", self.data],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        m = re.search(r"listening on (\S+)", self.proc.stdout.readline())
        if not m:
            self.proc.kill()
            sys.exit("hartonomousd did not report its address")
        self.address = m.group(1)
        # The CLI with --json, against this daemon.
        self.cli = [os.path.join(build, "client", "cli", "hartonomous"), "--server", self.address,
                    "--timeout", "3600", "--json"]

    def run(self, *args):
        """Runs the CLI; its JSON output (a failing command ends the benchmark)."""
        return json.loads(subprocess.run(self.cli + list(args), check=True,
                                         capture_output=True).stdout)

    def stop(self):
        """Clean shutdown; returns data.mdb's size."""
        self.proc.terminate()
        if self.proc.wait() != 0:
            sys.exit("hartonomousd did not stop cleanly")
        return os.path.getsize(os.path.join(self.data, "data.mdb"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
