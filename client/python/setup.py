"""Builds the hartonomous package: the gRPC stubs are generated from the
repository's proto/ files at build time, with protoc and grpc_python_plugin
(Debian: protobuf-compiler, protobuf-compiler-grpc). Nothing generated is
kept in the source tree.

HARTONOMOUS_PROTO_DIR overrides where the .proto files are read from
(default: ../../proto beside this file)."""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def proto_dir():
    path = os.environ.get("HARTONOMOUS_PROTO_DIR") or os.path.join(HERE, "..", "..", "proto")
    path = os.path.abspath(path)
    if not os.path.isfile(os.path.join(path, "hartonomous", "v1", "atom_service.proto")):
        sys.exit("hartonomous: no hartonomous/v1/*.proto under %s; build from the repository "
                 "(pip install ./client/python) or set HARTONOMOUS_PROTO_DIR" % path)
    return path


def tool(name, package):
    found = shutil.which(name)
    if not found:
        sys.exit("hartonomous: %s not found; install it: apt-get install %s" % (name, package))
    return found


def generate(out_dir):
    """Writes hartonomous/v1/*_pb2.py and *_pb2_grpc.py under out_dir."""
    src = proto_dir()
    v1 = os.path.join(src, "hartonomous", "v1")
    protos = sorted(os.path.join("hartonomous", "v1", f) for f in os.listdir(v1)
                    if f.endswith(".proto"))
    protoc = tool("protoc", "protobuf-compiler")
    plugin = tool("grpc_python_plugin", "protobuf-compiler-grpc")
    os.makedirs(os.path.join(out_dir, "hartonomous", "v1"), exist_ok=True)
    subprocess.check_call([protoc, "-I", src, "--python_out=" + out_dir, "--grpc_out=" + out_dir,
                           "--plugin=protoc-gen-grpc=" + plugin] + protos)
    init = os.path.join(out_dir, "hartonomous", "v1", "__init__.py")
    with open(init, "w") as f:
        f.write('"""Generated from proto/hartonomous/v1 at build time."""\n')


class BuildWithStubs(build_py):
    """build_py, then the stubs beside the package in the build tree (the
    wheel takes the whole tree)."""

    def run(self):
        super().run()
        generate(self.build_lib)


setup(cmdclass={"build_py": BuildWithStubs})
