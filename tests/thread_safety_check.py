#!/usr/bin/env python3
"""Compiles the server's sources with clang's -Wthread-safety analysis as
errors (syntax only, no code generation), using the build's
compile_commands.json. Fails when a GUARDED_BY field is touched without its
lock, a REQUIRES function is called without it, or a lock is leaked.

Usage: thread_safety_check.py BUILD_DIR SOURCE_DIR [JOBS]
"""
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys

# Source folders whose translation units are checked (the server side; the
# client and tests have no annotated locks).
CHECKED = ("base/", "storage/", "index/", "server/")
# GCC-only flags clang does not accept.
DROPPED = ("-fno-fat-lto-objects", "-fconcepts-diagnostics-depth")


def main():
    build, source = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    clang = shutil.which("clang++") or shutil.which("clang++-14")
    if clang is None:
        print("clang++ is not installed (deploy/install-deps.sh installs it)")
        return 1
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    commands = []
    for e in entries:
        path = os.path.relpath(e["file"], source)
        if not path.startswith(CHECKED) or path.endswith(".pb.cc"):
            continue
        args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
        out = [clang]
        skip = False
        for a in args[1:]:
            if skip:
                skip = False
                continue
            if a == "-o":
                skip = True
                continue
            if a.startswith(DROPPED):
                continue
            out.append(a)
        out += ["-fsyntax-only", "-Wno-everything", "-Wthread-safety", "-Werror=thread-safety"]
        commands.append((path, out, e["directory"]))
    if not commands:
        print("no sources found in compile_commands.json")
        return 1

    def run(item):
        path, cmd, cwd = item
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        return path, r.returncode, r.stderr

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for path, rc, err in pool.map(run, commands):
            if rc != 0:
                failed += 1
                print(f"FAILED {path}\n{err}")
    print(f"thread-safety analysis: {len(commands)} files, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
