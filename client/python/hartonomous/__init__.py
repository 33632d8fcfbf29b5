"""Python client of hartonomousd.

    import hartonomous
    with hartonomous.connect("127.0.0.1:50051") as db:
        atom = db.ingest("hello", modality="text")
        print(atom.atom_id, atom.created)

Errors are raised as hartonomous.HartonomousError (code, code_name, field,
message). The generated stubs are hartonomous.v1.*_pb2 / *_pb2_grpc.
"""

from .client import Client, connect
from .errors import HartonomousError

__all__ = ["Client", "HartonomousError", "connect"]
