#!/usr/bin/python3
"""GetDocument throughput and server CPU on a large real document.

Starts a fresh hartonomousd, stores Fashion-MNIST's compressed training
images (/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz, 26 MB)
as a binary document with `hartonomous ingest-doc`, then reads it back with
`hartonomous get-doc ID -o FILE` READS times (one CLI run each), checking
the SHA-256 of every copy against the file's. Reports per read: MB/s
(wall time of the CLI run) and the daemon's CPU seconds per GB (the
on-CPU time of its threads, /proc/PID/task/*/schedstat, across the read),
and the medians.

  client/bench/get_document_bench.py [BUILD_DIR]     (default: build)
  READS=9 (default) sets the number of reads.
"""
import hashlib, os, re, shutil, statistics, subprocess, sys, tempfile, time

build = sys.argv[1] if len(sys.argv) > 1 else "build"
server_bin = os.path.join(build, "server", "hartonomousd")
cli_bin = os.path.join(build, "client", "cli", "hartonomous")
source = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
reads = int(os.environ.get("READS", "9"))
work = tempfile.mkdtemp(prefix="hgetdoc.", dir=os.environ.get("TMPDIR", "/tmp"))


def cpu_seconds(pid):
    """On-CPU time of the process's live threads (/proc/PID/task/*/schedstat, ns)."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    return total / 1e9


def main():
    data = os.path.join(work, "data")
    proc = subprocess.Popen([server_bin, "--listen", "127.0.0.1:0", "--data-dir", data],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        m = re.search(r"listening on (\S+)", proc.stdout.readline())
        if not m:
            sys.exit("hartonomousd did not report its address")
        addr = m.group(1)
        cli = [cli_bin, "--server", addr, "--timeout", "600"]
        out = subprocess.run(cli + ["ingest-doc", source], capture_output=True, text=True,
                             check=True).stdout
        doc_id = out.split()[0]
        expected = hashlib.sha256(open(source, "rb").read()).hexdigest()
        size = os.path.getsize(source)
        copy = os.path.join(work, "copy")
        rates, cpus = [], []
        for i in range(reads):
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            subprocess.run(cli + ["get-doc", doc_id, "-o", copy], check=True,
                           stdout=subprocess.DEVNULL)
            elapsed, cpu = time.monotonic() - t0, cpu_seconds(proc.pid) - cpu0
            got = hashlib.sha256(open(copy, "rb").read()).hexdigest()
            if got != expected:
                sys.exit("read %d: SHA-256 %s, expected %s" % (i + 1, got, expected))
            rates.append(size / elapsed / 1e6)
            cpus.append(cpu / (size / 1e9))
            print("read %d: %.0f MB/s, server %.2f CPU s per GB" % (i + 1, rates[-1], cpus[-1]))
        print("median of %d reads of %.1f MB: %.0f MB/s, server %.2f CPU s per GB; SHA-256 equal"
              % (reads, size / 1e6, statistics.median(rates), statistics.median(cpus)))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


main()
