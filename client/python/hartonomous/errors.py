"""The one exception type of the hartonomous package."""

import re

import grpc

_FIELD = re.compile(r"^([A-Za-z0-9_.\[\]]+): ")


class HartonomousError(Exception):
    """A call failed: the server answered with an error, or could not be reached.

    code     grpc.StatusCode, e.g. grpc.StatusCode.NOT_FOUND
    code_name   "NOT_FOUND"
    field    the request field the server's message names ("embeddings[2].vector"),
             or None
    message  the server's message ("<field>: <rule>"), or why the server could
             not be reached
    """

    def __init__(self, code, message, field=None):
        self.code = code
        self.code_name = code.name if code is not None else "UNKNOWN"
        self.message = message
        self.field = field
        super().__init__("%s: %s" % (self.code_name, message))

    @classmethod
    def from_rpc_error(cls, error, target=None):
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        details = (error.details() if hasattr(error, "details") else None) or str(error)
        if code == grpc.StatusCode.UNAVAILABLE and _unreachable(details):
            return cls(code, "cannot reach hartonomousd at %s: is it running? (%s)"
                       % (target or "the server", details))
        match = _FIELD.match(details)
        return cls(code, details, match.group(1) if match else None)


def _unreachable(details):
    return any(sign in details for sign in (
        "failed to connect", "Connection refused", "DNS resolution failed",
        "Failed to pick subchannel", "connections to all backends failing"))
