"""The wire: XP's messages, compiled from proto/ at start-up, and the statuses that end a stream.

The stubs are not generated into files: grpc.protos_and_services runs grpc_tools' protoc on
xp.proto when this module is imported (the proto folder of the checkout is put on sys.path), so
the pager always speaks the .proto of the checkout it runs from.
"""
import os
import sys

import grpc
from google.rpc import error_details_pb2, status_pb2

PROTO_DIR = os.environ.get("MACHXP_PROTO_DIR") or os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "proto", "src", "main", "proto"))
if not os.path.isfile(os.path.join(PROTO_DIR, "xp.proto")):
    raise SystemExit(f"xp.proto not found in {PROTO_DIR}: run from a machxp checkout or set "
                     "MACHXP_PROTO_DIR to the folder that holds xp.proto")
if PROTO_DIR not in sys.path:
    sys.path.append(PROTO_DIR)

xp, xp_grpc = grpc.protos_and_services("xp.proto")

PROTOCOL_VERSION = 1
READ, WRITE, NONE = xp.VM_PROT_READ, xp.VM_PROT_WRITE, xp.VM_PROT_NONE


class StreamEnd(Exception):
    """Ends a session's stream with a gRPC status carrying ErrorInfo(domain machxp, reason)."""

    def __init__(self, code, reason, description):
        super().__init__(f"{code.name if code else 'OK'} {reason}: {description}")
        self.code, self.reason, self.description = code, reason, description

    def trailing_metadata(self):
        status = status_pb2.Status(code=self.code.value[0], message=self.description)
        status.details.add().Pack(error_details_pb2.ErrorInfo(reason=self.reason, domain="machxp"))
        return (("grpc-status-details-bin", status.SerializeToString()),)


CLEAN_END = StreamEnd(None, None, "the kernel ended its session")


def protocol_breach(reason, description):
    """Section 3.2: a breach of XP itself (EPROTO, EBADMSG)."""
    code = grpc.StatusCode.INVALID_ARGUMENT if reason == "EBADMSG" else grpc.StatusCode.FAILED_PRECONDITION
    return StreamEnd(code, reason, description)


def invalid(description):
    return StreamEnd(grpc.StatusCode.INVALID_ARGUMENT, "EINVAL", description)


def exists(description):
    return StreamEnd(grpc.StatusCode.ALREADY_EXISTS, "EEXIST", description)


def again(description):
    return StreamEnd(grpc.StatusCode.RESOURCE_EXHAUSTED, "EAGAIN", description)


def stale(description):
    return StreamEnd(grpc.StatusCode.FAILED_PRECONDITION, "ESTALE", description)


def lease_expired(description):
    return StreamEnd(grpc.StatusCode.FAILED_PRECONDITION, "ETIMEDOUT", description)


def unsupported_version(version):
    return StreamEnd(grpc.StatusCode.UNIMPLEMENTED, "EPROTONOSUPPORT",
                     f"XP version {version} is not spoken here; this pager speaks version "
                     f"{PROTOCOL_VERSION} only: connect again with protocol_version = {PROTOCOL_VERSION}")
