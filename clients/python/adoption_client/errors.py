"""Exceptions for gRPC errors, one class per canonical status code.

Every error the server returns becomes an AdoptionError subclass carrying the
status code and the server's message. INVALID_ARGUMENT messages name the
offending field first ("series[3].points[7].value: must be finite"); that
prefix is available as InvalidArgument.field.
"""
from __future__ import annotations

import re
from typing import Optional

import grpc


class AdoptionError(Exception):
    """A call to adoptiond failed.

    Attributes:
      code: the grpc.StatusCode.
      message: the server's (or the gRPC runtime's) message.
      method: the RPC name, e.g. "GetSeries".
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None,
                 method: str = ""):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.method = method

    @property
    def code_name(self) -> str:
        """The code's canonical name, e.g. "NOT_FOUND"."""
        return self.code.name

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.code.name}: {self.message}"


class Cancelled(AdoptionError):
    code = grpc.StatusCode.CANCELLED


class Unknown(AdoptionError):
    code = grpc.StatusCode.UNKNOWN


# A field path at the start of a message: "series[3].points[7].value: ...".
_FIELD_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])*"
                       r"(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])*)*): ")


class InvalidArgument(AdoptionError, ValueError):
    """The request was refused; .field names the offending field if known."""
    code = grpc.StatusCode.INVALID_ARGUMENT

    @property
    def field(self) -> Optional[str]:
        m = _FIELD_RE.match(self.message)
        return m.group(1) if m else None


class DeadlineExceeded(AdoptionError, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(AdoptionError, LookupError):
    code = grpc.StatusCode.NOT_FOUND


class EmptySelection(NotFound):
    """CompareModels answered for no series: the selection (a metadata
    filter nothing matches, or all=True on an empty store) is empty. The
    server answers OK with series_count 0; the client raises this instead of
    returning a report of zeros. The message says what matched nothing and,
    for a filter, suggests near matches."""


class AlreadyExists(AdoptionError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(AdoptionError):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(AdoptionError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(AdoptionError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(AdoptionError):
    code = grpc.StatusCode.ABORTED


class OutOfRange(AdoptionError):
    code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(AdoptionError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(AdoptionError):
    code = grpc.StatusCode.INTERNAL


class Unavailable(AdoptionError, ConnectionError):
    """The server cannot be reached (not running, wrong address, TLS mismatch)."""
    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(AdoptionError):
    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(AdoptionError, PermissionError):
    """Missing or wrong token (the server runs with --token-file)."""
    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE = {cls.code: cls for cls in (
    Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound,
    AlreadyExists, PermissionDenied, ResourceExhausted, FailedPrecondition,
    Aborted, OutOfRange, Unimplemented, Internal, Unavailable, DataLoss,
    Unauthenticated)}


def from_rpc_error(error: grpc.RpcError, method: str = "") -> AdoptionError:
    """The AdoptionError subclass for a grpc.RpcError raised by a stub call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    cls = _BY_CODE.get(code, AdoptionError)
    return cls(message or "", code=code, method=method)
