#!/usr/bin/python3
"""Compaction: does the data file come back after deleting half of the documents?

The issue's target: after deleting half of the documents and compacting, the
data directory shrinks to within 10% of a fresh ingest of the remaining half.

For each of RUNS runs, on the license texts (/usr/share/common-licenses/*)
and every /usr/share/doc/*/copyright, in that order, as documents
(`hartonomous ingest-doc`, one CLI run):
  A. a fresh hartonomousd ingests every file; the files at odd positions are
     deleted (`delete-doc`, one per file), then `compact --purge-inactive`;
     clean shutdown; data.mdb's size.
  B. a fresh hartonomousd ingests only the files at even positions; clean
     shutdown; data.mdb's size; then, restarted on the same data dir,
     `compact` and data.mdb's size again (B compacted).
The ratio A / B is compared with 1.10; A / B compacted compares the two
files as compaction leaves them (tables repacked into full pages on both). Every remaining document of A is
checked byte for byte against its file (`get-doc`) before the shutdown.
Prints a Markdown section for docs/benchmarks.md.

  client/bench/compact_bench.py [BUILD_DIR]      (default: build)

Environment: RUNS=3  TMPDIR (data dirs go there; must be a real disk)
"""
import glob, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

from bench_daemon import Daemon

RUNS = int(os.environ.get("RUNS", "3"))
TARGET = 1.10
FILES = (sorted(p for p in glob.glob("/usr/share/common-licenses/*") if os.path.isfile(p)) +
         sorted(p for p in glob.glob("/usr/share/doc/*/copyright") if os.path.isfile(p)))


class Server(Daemon):
    def ingest(self, files):
        return [r["document_id"] for r in self.run("ingest-doc", *files)["results"]]


def run_once(build, work):
    a = Server(build, work)
    ids = a.ingest(FILES)
    full = os.path.getsize(os.path.join(a.data, "data.mdb"))
    t0 = time.monotonic()
    for i in range(1, len(ids), 2):
        a.run("delete-doc", str(ids[i]))
    delete_s = time.monotonic() - t0
    t0 = time.monotonic()
    compacted = a.run("compact", "--purge-inactive")
    compact_s = time.monotonic() - t0
    # Every remaining document, byte for byte.
    out = os.path.join(work, "doc.out")
    deleted = {ids[i] for i in range(1, len(ids), 2)}
    for i in range(0, len(ids), 2):
        if ids[i] in deleted:
            continue  # same content as a deleted file: one reference left, checked below
        subprocess.run(a.cli + ["get-doc", str(ids[i]), "-o", out], check=True,
                       stdout=subprocess.DEVNULL)
        with open(out, "rb") as got, open(FILES[i], "rb") as want:
            if got.read() != want.read():
                sys.exit("document %d (%s) differs after compaction" % (ids[i], FILES[i]))
    a_size = a.stop()
    b = Server(build, work)
    b.ingest(FILES[0::2])
    b_size = b.stop()
    b = Server(build, work, b.data)
    b.run("compact")
    b_compacted = b.stop()
    shutil.rmtree(a.data)
    shutil.rmtree(b.data)
    return {"full": full, "after_delete_file": compacted["file_bytes_before"],
            "compacted": compacted["file_bytes_after"], "a": a_size, "b": b_size,
            "b_compacted": b_compacted,
            "compact_ms": compacted["duration_ms"], "compact_s": compact_s, "delete_s": delete_s,
            "purged": compacted["atoms_purged"], "documents": len(ids)}


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    work = tempfile.mkdtemp(prefix="hcompbench.", dir=os.environ.get("TMPDIR", "/tmp"))
    load_start = os.getloadavg()
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    runs = []
    try:
        for run in range(RUNS):
            r = run_once(build, work)
            runs.append(r)
            print("run %d: full %.1f MB, compacted %.1f MB, fresh half %.1f MB, ratio %.3f, "
                  "compact %d ms" % (run + 1, r["full"] / 1e6, r["a"] / 1e6, r["b"] / 1e6,
                                     r["a"] / r["b"], r["compact_ms"]), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    raw = sum(os.path.getsize(p) for p in FILES)
    half = sum(os.path.getsize(p) for p in FILES[0::2])
    med = lambda k: statistics.median(r[k] for r in runs)
    sizes = lambda k: " / ".join("%.2f" % (v / 1e6) for v in sorted({r[k] for r in runs}))
    ratios = sorted({round(r["a"] / r["b"], 3) for r in runs})
    print("## Compaction: deleting half of the documents")
    print()
    print("- Input: %d files (/usr/share/common-licenses/* then /usr/share/doc/*/copyright, "
          "sorted), %.2f MB raw; the %d at even positions (%.2f MB raw) stay"
          % (len(FILES), raw / 1e6, len(FILES[0::2]), half / 1e6))
    print("- Machine: %s, %d cores, Linux %s; date %s; load average %.2f at start, %.2f at end"
          % (cpu, os.cpu_count(), platform.release(), start, load_start[0], load_end[0]))
    print("- Command: `RUNS=%d client/bench/compact_bench.py %s`; sizes after a clean shutdown; "
          "times are medians of %d runs" % (RUNS, build, RUNS))
    print()
    print("| step | data.mdb MB |")
    print("|---|---|")
    print("| every file ingested | %s |" % sizes("full"))
    print("| odd positions deleted (`delete-doc`), before compaction | %s |" % sizes("after_delete_file"))
    print("| after `compact --purge-inactive` (%d inactive atoms purged) | %s |"
          % (med("purged"), sizes("a")))
    print("| fresh data dir, only the even positions ingested | %s |" % sizes("b"))
    print("| the same fresh data dir after `compact` | %s |" % sizes("b_compacted"))
    print()
    print("- Ratio compacted / fresh: **%s** (target <= %.2f: %s)"
          % (" / ".join("%.3f" % x for x in ratios), TARGET,
             "met" if max(ratios) <= TARGET else "NOT met"))
    print("- Ratio compacted / fresh compacted: **%s**" % " / ".join(
        "%.3f" % x for x in sorted({round(r["a"] / r["b_compacted"], 3) for r in runs})))
    print("- `compact --purge-inactive` took %.0f ms in the server (median; %.2f s end to end "
          "with the CLI); the deletes took %.2f s (%d `delete-doc` runs)"
          % (med("compact_ms"), med("compact_s"), med("delete_s"), len(FILES) // 2))


if __name__ == "__main__":
    main()
