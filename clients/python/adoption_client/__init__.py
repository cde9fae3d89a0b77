"""Python client for adoptiond (adoption-engine's gRPC service).

    from adoption_client import Client
    with Client("127.0.0.1:50051") as c:
        report = c.compare(filter={"company": "Meta"}, group_by="company")
        df = report.to_pandas()

Stubs are generated from proto/ by clients/python/build-stubs. Plotting
(adoption_client.plot) and the HTML report (adoption_client.report) import
matplotlib only when used.
"""
from .client import Client
from .errors import (Aborted, AdoptionError, AlreadyExists, Cancelled,
                     DataLoss, EmptySelection, DeadlineExceeded, FailedPrecondition, Internal,
                     InvalidArgument, NotFound, OutOfRange, PermissionDenied,
                     ResourceExhausted, Unauthenticated, Unavailable,
                     Unimplemented, Unknown)
from .finetune_csv import read_downloads_csv, read_finetune_csv
from .vocabulary import LOSSES, NEAR_TIE, default_server
from .types import (AppendResult, CompareEvent, CvFold, CompareProgress, CompareReport, Criterion, FitResult,
                    FitStatus, FitterInfo,
                    Fitters, FitterSummary, FitterWeight, Forecast,
                    ForecastPoint, GroupSummary, HorizonError, OptionInfo,
                    Parameter, ParameterInfo, Point, PooledOption, RejectedPlugin, Series,
                    SeriesReport, UpsertResult, Verdict)

__version__ = "0.1.0"


def plot_series(*args, **kwargs):
    """See adoption_client.plot.plot_series (imports matplotlib on use)."""
    from .plot import plot_series as impl
    return impl(*args, **kwargs)


def plot_from_server(*args, **kwargs):
    """See adoption_client.plot.plot_from_server (imports matplotlib on use)."""
    from .plot import plot_from_server as impl
    return impl(*args, **kwargs)


__all__ = [name for name in dir() if not name.startswith("_")]
