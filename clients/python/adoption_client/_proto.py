"""The generated protobuf and gRPC modules (see clients/python/build-stubs)."""
try:
    from ._generated import adoption_pb2 as pb  # noqa: F401
    from ._generated import adoption_pb2_grpc as pb_grpc  # noqa: F401
except ImportError as e:  # pragma: no cover - setup problem, not a bug
    raise ImportError(
        "adoption_client: the generated gRPC stubs are missing or broken "
        f"({e}). Run clients/python/build-stubs (needs protobuf-compiler and "
        "protobuf-compiler-grpc) and use /usr/bin/python3, which sees "
        "Debian's python3-grpcio and python3-protobuf.") from e
