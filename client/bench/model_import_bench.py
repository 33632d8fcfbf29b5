#!/usr/bin/python3
"""Model import benchmark: ImportModel / ExportModel through the CLI
against a fresh hartonomousd per run.

  client/bench/model_import_bench.py BUILD_DIR [WORK_DIR]

Files (written once into WORK_DIR, default hartonomous-model-bench in the
temp dir, by
model_files.py): a ~1.1 GB transformer-like safetensors model (BF16
projections, F32 norms), a fine-tune with the last 20% of its tensors
changed, the same weights as GGUF, and that GGUF with general.name changed.
Per run: import (new data), re-import of the stored model under another
name, export (SHA-256 checked), the fine-tune, both GGUFs, then the daemon's
data file size. For import, re-import and export the CPU seconds per GB
of the server and of the CLI are reported too (work per byte, which other
load on the machine does not change). The daemon's anonymous RSS (RssAnon: heap, not LMDB's
file-backed map) is sampled every 20 ms during the first import.
References measured in the same run: SHA-256 of the file with hashlib (one
core) and writing the file with cp + fsync (the disk's durable write).
RUNS (default 3) runs; medians reported.
"""
import hashlib, json, os, shutil, statistics, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_daemon  # noqa: E402
import model_files  # noqa: E402


def ensure_files(work):
    paths = {k: os.path.join(work, f) for k, f in [("base", "base.safetensors"),
                                                   ("tuned", "tuned.safetensors"),
                                                   ("gguf", "base.gguf"),
                                                   ("gguf2", "renamed.gguf")]}
    if all(os.path.exists(p) for p in paths.values()):
        return paths, json.load(open(os.path.join(work, "files.json")))
    os.makedirs(work, exist_ok=True)
    tensors = model_files.transformer_tensors(1 << 30)
    model_files.write_safetensors(paths["base"], tensors, {"format": "pt"})
    tuned, changed = model_files.fine_tune(tensors, 0.2)
    model_files.write_safetensors(paths["tuned"], tuned, {"format": "pt"})
    model_files.write_gguf(paths["gguf"], tensors, "base")
    model_files.write_gguf(paths["gguf2"], tensors, "base, renamed")
    info = {"tensors": len(tensors), "changed_tensors": len(tensors) - sum(
        1 for a, b in zip(tensors, tuned) if a[1] is b[1]), "changed_bytes": changed}
    json.dump(info, open(os.path.join(work, "files.json"), "w"))
    return paths, info


def rss_anon(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


class RssPeak:
    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, rss_anon(pid), False
        self.base = self.peak
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_anon(self.pid))
            time.sleep(0.02)

    def finish(self):
        self.stop = True
        self.thread.join()
        return self.peak - self.base


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_cpu(pid, fn):
    """fn's result, wall seconds, and the CPU seconds the server (pid) and
    the CLI (a child process) used meanwhile: a measure of work per byte
    that does not depend on how much of the 2 cores other load leaves."""
    server, client = cpu_seconds(pid), os.times()
    out, s = timed(fn)
    after = os.times()
    return out, s, cpu_seconds(pid) - server, (after.children_user + after.children_system -
                                               client.children_user - client.children_system)


def references(path, work):
    data = open(path, "rb").read()
    _, sha_s = timed(lambda: hashlib.sha256(data).digest())
    copy = os.path.join(work, "copy.tmp")

    def cp():
        shutil.copyfile(path, copy)
        fd = os.open(copy, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    _, cp_s = timed(cp)
    os.remove(copy)
    return len(data) / sha_s / 1e6, len(data) / cp_s / 1e6


def run_once(build, work, paths):
    size = os.path.getsize(paths["base"])
    out = {}
    with bench_daemon.Daemon(build, work) as d:
        rss = RssPeak(d.proc.pid)
        pid = d.proc.pid
        gb = size / 1e9
        r, s, server, client = timed_cpu(
            pid, lambda: d.run("model", "import", "--name", "base", paths["base"]))
        out["rss_growth_mb"] = rss.finish() / 1e6
        out["import_mb_s"] = size / s / 1e6
        out["import_server_cpu_s_per_gb"], out["import_cli_cpu_s_per_gb"] = server / gb, client / gb
        out["import_new_mb"] = r["new_bytes_stored"] / 1e6
        r, s, server, client = timed_cpu(
            pid, lambda: d.run("model", "import", "--name", "again", paths["base"]))
        out["reimport_mb_s"] = size / s / 1e6
        out["reimport_server_cpu_s_per_gb"] = server / gb
        out["reimport_cli_cpu_s_per_gb"] = client / gb
        out["reimport_new_bytes"] = r["new_bytes_stored"]
        exported = os.path.join(work, "export.tmp")
        r, s, server, client = timed_cpu(
            pid, lambda: d.run("model", "export", "base", "-o", exported))
        out["export_mb_s"] = size / s / 1e6
        out["export_server_cpu_s_per_gb"], out["export_cli_cpu_s_per_gb"] = server / gb, client / gb
        with open(exported, "rb") as f:
            same = hashlib.sha256(f.read()).hexdigest() == r["file_sha256"]
        os.remove(exported)
        out["export_identical"] = same and r["bytes"] == size
        r = d.run("model", "import", "--name", "tuned", paths["tuned"])
        out["finetune_new_fraction"] = r["new_bytes_stored"] / os.path.getsize(paths["tuned"])
        r = d.run("model", "import", "--name", "gguf", paths["gguf"])
        out["gguf_new_mb"] = r["new_bytes_stored"] / 1e6
        r = d.run("model", "import", "--name", "gguf-renamed", paths["gguf2"])
        out["gguf_renamed_new_tensor_bytes"] = sum(l["new_bytes"] for l in r["layers"])
        out["gguf_renamed_new_bytes"] = r["new_bytes_stored"]
        received = 4 * size + os.path.getsize(paths["tuned"]) + os.path.getsize(
            paths["gguf"]) + os.path.getsize(paths["gguf2"])
        out["data_file_mb"] = d.stop() / 1e6
        out["received_mb"] = received / 1e6
        shutil.rmtree(d.data, ignore_errors=True)
    return out


def onnx_testdata(build, work):
    """Imports every ONNX model under libonnx-testdata (one model each;
    files without initializers too) and reports bytes received and new."""
    root = "/usr/share/libonnx-testdata/data"
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
                   if f.endswith(".onnx"))
    out = {"onnx_files": 0, "onnx_bytes": 0, "onnx_new_bytes": 0, "onnx_layers": 0,
           "onnx_with_initializers": 0, "onnx_exported_identical": 0}
    with bench_daemon.Daemon(build, work) as d:
        for i, path in enumerate(files):
            r = d.run("model", "import", "--name", f"onnx-{i}", path)
            out["onnx_files"] += 1
            out["onnx_bytes"] += r["bytes_received"]
            out["onnx_new_bytes"] += r["new_bytes_stored"]
            out["onnx_layers"] += len(r["layers"])
            out["onnx_with_initializers"] += 1 if r["layers"] else 0
            exported = os.path.join(work, "onnx.tmp")
            d.run("model", "export", f"onnx-{i}", "-o", exported)
            with open(exported, "rb") as a, open(path, "rb") as b:
                out["onnx_exported_identical"] += a.read() == b.read()
        out["onnx_data_file_mb"] = d.stop() / 1e6
        shutil.rmtree(d.data, ignore_errors=True)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tempfile.gettempdir(),
                                                              "hartonomous-model-bench")
    runs = int(os.environ.get("RUNS", "3"))
    paths, info = ensure_files(work)
    results = []
    for i in range(runs):
        sha, cp = references(paths["base"], work)
        r = run_once(build, work, paths)
        r["ref_sha256_mb_s"], r["ref_cp_fsync_mb_s"] = sha, cp
        results.append(r)
        print(json.dumps(r), file=sys.stderr)
    med = {k: (statistics.median(r[k] for r in results)
               if not isinstance(results[0][k], bool) else all(r[k] for r in results))
           for k in results[0]}
    med["file_mb"] = os.path.getsize(paths["base"]) / 1e6
    med.update(info)
    med["runs"] = runs
    med.update(onnx_testdata(build, work))
    print(json.dumps(med, indent=1))


if __name__ == "__main__":
    main()
