"""Client: one method per AdoptionService RPC, typed results, mapped errors."""
from __future__ import annotations

import math
import os
from typing import (Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import grpc

from . import errors, vocabulary
from ._proto import pb, pb_grpc
from .types import (AppendResult, CompareEvent, CompareProgress, CompareReport, Criterion,
                    FitResult, Fitters, Forecast, Series, UpsertResult, _iso_date)

# How the TLS root certificate(s) may be given: PEM bytes, a path to a PEM
# file, or True for the system's default roots.
TlsRoots = Union[bytes, str, os.PathLike, bool, None]

_MB = 1024 * 1024


class Client:
    """A connection to adoptiond.

    Args:
      address: "host:port" of the server; default $ADOPTION_SERVER, else
        127.0.0.1:50051 (as adoptctl and the Go client).
      token: bearer token, sent as "authorization: Bearer <token>" on every
        call (for a server started with --token-file). Default none.
      tls: None/False for plaintext (default); PEM root certificate bytes or
        the path of a PEM file to verify the server's certificate with; True
        for the system's default roots.
      tls_server_name: name to check the certificate against when it differs
        from the host in address (e.g. "localhost" for 127.0.0.1).
      timeout: default deadline of every call, seconds (default 120; each
        method also takes timeout=). None means no deadline (the server still
        caps requests at its --request-timeout).
      max_message_mb: largest response accepted (default 256).

    Thread-safe: one Client may be shared by threads. Use it as a context
    manager, or call close(), so the channel does not hold the server's
    graceful shutdown open.

    Every method raises an errors.AdoptionError subclass on failure
    (InvalidArgument with .field, NotFound, Unavailable, ...).
    """

    def __init__(self, address: Optional[str] = None, token: Optional[str] = None,
                 tls: TlsRoots = None, timeout: Optional[float] = 120.0,
                 tls_server_name: Optional[str] = None,
                 max_message_mb: int = 256):
        address = address or vocabulary.default_server()
        self.address = address
        self.timeout = timeout
        options = [("grpc.max_receive_message_length", max_message_mb * _MB),
                   ("grpc.max_send_message_length", max_message_mb * _MB)]
        if tls_server_name:
            options.append(("grpc.ssl_target_name_override", tls_server_name))
        if tls is None or tls is False:
            self._channel = grpc.insecure_channel(address, options=options)
        else:
            if tls is True:
                roots = None
            elif isinstance(tls, (bytes, bytearray)):
                roots = bytes(tls)
            else:
                with open(tls, "rb") as f:
                    roots = f.read()
            creds = grpc.ssl_channel_credentials(root_certificates=roots)
            self._channel = grpc.secure_channel(address, creds, options=options)
        self._metadata: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        self._stub = pb_grpc.AdoptionServiceStub(self._channel)
        self._closed = False

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Closes the channel (idempotent)."""
        if not self._closed:
            self._closed = True
            self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.address!r})"

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel is connected; Unavailable after timeout."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise errors.Unavailable(
                f"no connection to {self.address} within {timeout:g} s",
                method="wait_ready") from None

    def _call(self, method: str, request, timeout=...):
        rpc = getattr(self._stub, method)
        deadline = self.timeout if timeout is ... else timeout
        try:
            return rpc(request, timeout=deadline, metadata=self._metadata)
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e, method) from None

    # ------------------------------------------------------------ series

    def upsert_series(self, series: Union[Series, Iterable[Series]],
                      check_revisions: bool = False, timeout=...) -> UpsertResult:
        """Creates or replaces series, atomically (all or none) and
        idempotently. Accepts one Series or an iterable of them.

        A series is replaced whole: when that removes points or metadata keys
        the stored one had (e.g. sending only the newest month), the result's
        warnings say so and a UserWarning is issued; append_points() adds
        points instead. check_revisions=True: each series' revision must be
        the stored one (the one get_series returned; 0 for a new series),
        else Aborted and nothing is stored (optimistic concurrency)."""
        items = [series] if isinstance(series, Series) else list(series)
        request = pb.UpsertSeriesRequest(series=[s.to_proto() for s in items],
                                         check_revisions=check_revisions)
        result = UpsertResult.from_proto(self._call("UpsertSeries", request, timeout))
        if result.warnings:
            import warnings
            for w in result.warnings:
                warnings.warn(w, UserWarning, stacklevel=2)
        return result

    def upsert_frame(self, df, id_col: str = "id", ds: str = "ds", y: str = "y", *,
                     origin=None, time_unit: str = "month", unit: str = "",
                     metadata_cols: Sequence[str] = (), batch_size: int = 1000,
                     check_revisions: bool = False, timeout=...) -> UpsertResult:
        """Stores many series from one long DataFrame: a row per (series,
        date) with the series id in `id_col`, the date in `ds` and the
        cumulative value in `y`. Each series is Series.from_pandas of its rows
        (points by date; origin: its first date, or a fixed date, or the name
        of a column holding each series' origin); `metadata_cols` become
        metadata (their first value per series). Sent in atomic batches of
        batch_size series; returns the summed counts and warnings."""
        if id_col not in df.columns:
            raise ValueError(f"upsert_frame: no column {id_col!r} in {list(df.columns)}")
        items: List[Series] = []
        for sid, rows in df.groupby(id_col, sort=False):
            first = rows.iloc[0]
            o = origin
            if isinstance(origin, str) and origin in df.columns:
                o = first[origin]
            meta = {c: str(first[c]) for c in metadata_cols}
            items.append(Series.from_pandas(rows, id=str(sid), ds=ds, y=y, origin=o,
                                            time_unit=time_unit, unit=unit, metadata=meta))
        created = updated = unchanged = 0
        warnings: list = []
        revisions: list = []
        for i in range(0, len(items), max(1, batch_size)):
            r = self.upsert_series(items[i:i + batch_size], check_revisions=check_revisions,
                                   timeout=timeout)
            created, updated, unchanged = (created + r.created, updated + r.updated,
                                           unchanged + r.unchanged)
            warnings += r.warnings
            revisions += r.revisions
        return UpsertResult(created, updated, unchanged, tuple(warnings), tuple(revisions))

    def append_points(self, series_id: str, points, expected_revision: Optional[int] = None,
                      timeout=...) -> AppendResult:
        """Adds points after the last point of a stored series (AppendPoints):
        what a monthly job does. points: [(t, value), ...], [(date, value),
        ...] (a "YYYY-MM-DD" string, date or Timestamp, read on the series'
        origin by the server) or Points, in increasing time. Points already stored with the same value are accepted
        unchanged (a retried job is harmless); another value at a stored t, a
        point before the end, or a decrease is InvalidArgument naming
        points[i], and nothing changes. expected_revision: Aborted unless the
        series is at that revision."""
        def point(p):
            if not isinstance(p, (tuple, list)):
                return pb.Point(t=0.0 if math.isnan(p.t) else p.t, value=p.value, date=p.date)
            when, value = p[0], float(p[1])
            if isinstance(when, (int, float)):
                return pb.Point(t=float(when), value=value)
            return pb.Point(date=_iso_date(when, "points"), value=value)
        pts = [point(p) for p in points]
        request = pb.AppendPointsRequest(series_id=series_id, points=pts)
        if expected_revision is not None:
            request.expected_revision = expected_revision
        return AppendResult.from_proto(self._call("AppendPoints", request, timeout))

    def load_csv(self, paths: Union[str, os.PathLike, Sequence], timeout=..., *,
                 kind: str = "finetunes") -> UpsertResult:
        """Reads files in the paper's fine-tune CSV format, or with
        kind="downloads" its daily download files (series
        "download_days:<model>", see read_downloads_csv), as `adoptctl
        load-csv [--kind downloads]`: every file is checked before anything
        is sent, and each file is stored with one atomic UpsertSeries.
        Returns the summed counts."""
        from .finetune_csv import read_downloads_csv, read_finetune_csv
        if kind not in ("finetunes", "downloads"):
            raise ValueError(f"kind: {kind!r} is not one of finetunes, downloads")
        read = read_downloads_csv if kind == "downloads" else read_finetune_csv
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        files = [read(p) for p in paths]
        seen: Dict[str, str] = {}
        for path, series in zip(paths, files):
            for s in series:
                if s.id in seen:
                    raise ValueError(f"{path}: model: id {s.id!r} is also in {seen[s.id]}")
                seen[s.id] = str(path)
        created = updated = unchanged = 0
        warnings: list = []
        for series in files:
            r = self.upsert_series(series, timeout=timeout)
            created, updated, unchanged = (created + r.created, updated + r.updated,
                                           unchanged + r.unchanged)
            warnings += r.warnings
        return UpsertResult(created, updated, unchanged, tuple(warnings))

    def get_series(self, series_id: str, timeout=...) -> Series:
        """One series with its points; NotFound if it does not exist."""
        return Series.from_proto(self._call("GetSeries", pb.GetSeriesRequest(id=series_id), timeout))

    def list_series_page(self, filter: Optional[Mapping[str, str]] = None,
                         page_size: int = 0, page_token: str = "",
                         include_points: bool = False,
                         timeout=...) -> Tuple[List[Series], str, int]:
        """One page: (series, next_page_token or "", total matching)."""
        r = self._call("ListSeries", pb.ListSeriesRequest(
            page_size=page_size, page_token=page_token,
            metadata_filter=dict(filter or {}), include_points=include_points), timeout)
        return [Series.from_proto(s) for s in r.series], r.next_page_token, r.total_size

    def list_series(self, filter: Optional[Mapping[str, str]] = None,
                    include_points: bool = False, page_size: int = 1000,
                    timeout=...) -> Iterator[Series]:
        """Every series (id order) whose metadata matches filter exactly,
        fetching pages as the iteration goes. Points only with
        include_points=True."""
        token = ""
        while True:
            page, token, _ = self.list_series_page(filter, page_size, token,
                                                   include_points, timeout)
            yield from page
            if not token:
                return

    def count_series(self, filter: Optional[Mapping[str, str]] = None, timeout=...) -> int:
        """Number of series matching filter."""
        return self.list_series_page(filter, 1, "", False, timeout)[2]

    def delete_series(self, series_id: str, allow_missing: bool = False,
                      expected_revision: Optional[int] = None, timeout=...) -> bool:
        """Deletes a series; True if one was deleted. NotFound if missing,
        unless allow_missing. expected_revision: Aborted unless the series
        is at that revision."""
        request = pb.DeleteSeriesRequest(id=series_id, allow_missing=allow_missing)
        if expected_revision is not None:
            request.expected_revision = expected_revision
        return self._call("DeleteSeries", request, timeout).deleted

    # ------------------------------------------------------------ models

    def fitters(self, timeout=...) -> Fitters:
        """The loaded fitter plugins (and the refused ones, .rejected)."""
        return Fitters.from_proto(self._call("ListFitters", pb.ListFittersRequest(), timeout))

    def fit(self, series_id: str, fitter: str,
            options: Optional[Mapping[str, object]] = None, timeout=...) -> FitResult:
        """Fits one fitter to one series. options: that fitter's options
        (see fitters()[name].options), e.g. {"m": 100}: str, number or bool
        values (TypeError naming the option otherwise)."""
        request = pb.FitRequest(series_id=series_id, fitter=fitter,
                                options=vocabulary.fit_options(options, "fit"))
        r = self._call("Fit", request, timeout)
        return FitResult.from_proto(r.result)

    def compare(self, series: Union[str, Sequence[str], None] = None, *,
                all: bool = False, filter: Optional[Mapping[str, str]] = None,
                fitters: Optional[Sequence[str]] = None,
                options: Optional[Mapping[str, Mapping[str, object]]] = None,
                criterion: Union[str, Criterion] = Criterion.AICC,
                group_by: Optional[str] = None, summary_only: bool = False,
                cross_validation: bool = True,
                horizons: Optional[Sequence[int]] = None,
                min_train_points: int = 0, max_origins: int = 0,
                loss: Optional[str] = None, progress: Union[bool, Callable] = False,
                cv_details: bool = False, profiles: bool = False,
                profile_fitter: Optional[str] = None, timeout=...) -> CompareReport:
        """Fits fitters to a selection of series and compares them.

        Select exactly one of: series (an id or a list of ids), all=True, or
        filter={"company": "Meta"}. fitters: names (default every loaded
        one but the opt-in ones, e.g. two_wave, which run when named). options: {fitter: {option: value}} or {"fitter.option": value}
        (adoptctl's --option citation.m=100), e.g. {"citation": {"m": 100}};
        values str, number or bool (TypeError naming the option otherwise).
        criterion: "aicc" (default) or "bic". group_by: metadata key for
        per-group summaries (e.g. "company"). cross_validation=False skips
        rolling-origin CV; horizons, min_train_points, max_origins tune it.
        loss: "sse" (default: least squares on the cumulative series) or
        "poisson" (Poisson likelihood on the monthly increments), as adoptctl
        --loss; the server's names "sse_cumulative" and
        "poisson_deviance_increments" work too.

        A selection that matches no series (a filter nothing matches, or
        all=True on an empty store) raises errors.EmptySelection (a
        NotFound), whose message says so and suggests near matches of the
        filter, instead of returning a report of zeros.

        cv_details=True: every fit carries its cross-validation folds
        (FitResult.cv_folds; CompareReport.cv_to_pandas() is the frame).
        profiles=True (with group_by): per group, the distribution of
        profile_fitter's (default citation) parameters and derived
        quantities over the series it fits, and whether the groups differ
        (GroupSummary.profile, CompareReport.profile_tests; frames
        profiles_to_pandas(), profile_tests_to_pandas(),
        profile_pairs_to_pandas(), profile_curves_to_pandas()).
        progress: True shows a progress bar (tqdm) while the server works; a
        callable gets each CompareProgress instead. Either way the call
        streams (compare_stream) and returns the same report.
        """
        request = self._compare_request(
            series, all, filter, fitters, options, criterion, group_by, summary_only,
            cross_validation, horizons, min_train_points, max_origins, loss,
            profiles, profile_fitter)
        request.cv_details = cv_details
        if not progress:
            report = CompareReport.from_proto(self._call("CompareModels", request, timeout))
        else:
            report = self._compare_with_progress(request, progress, timeout)
        if report.series_count == 0:
            raise errors.EmptySelection(self._empty_selection_message(request.selection, timeout),
                                        method="CompareModels")
        return report

    def _compare_with_progress(self, request, progress, timeout) -> CompareReport:
        reports: List = []
        summary = None
        bar = None
        try:
            for event in self._stream_compare(request, timeout):
                if event.HasField("progress"):
                    p = CompareProgress.from_proto(event.progress)
                    if callable(progress):
                        progress(p)
                    else:
                        if bar is None:
                            from tqdm import tqdm
                            bar = tqdm(total=p.fits_total, unit="fit", desc="compare")
                        bar.set_description(p.phase)
                        bar.update(p.fits_done - bar.n)
                elif event.HasField("series"):
                    reports.extend(event.series.reports)
                elif event.HasField("summary"):
                    summary = event.summary
        finally:
            if bar is not None:
                bar.close()
        summary.series.extend(reports)
        return CompareReport.from_proto(summary)

    def compare_stream(self, series: Union[str, Sequence[str], None] = None, *,
                       all: bool = False, filter: Optional[Mapping[str, str]] = None,
                       fitters: Optional[Sequence[str]] = None,
                       options: Optional[Mapping[str, Mapping[str, object]]] = None,
                       criterion: Union[str, Criterion] = Criterion.AICC,
                       group_by: Optional[str] = None, summary_only: bool = False,
                       cross_validation: bool = True,
                       horizons: Optional[Sequence[int]] = None,
                       min_train_points: int = 0, max_origins: int = 0,
                       loss: Optional[str] = None, profiles: bool = False,
                       profile_fitter: Optional[str] = None,
                       timeout=...) -> Iterator[CompareEvent]:
        """compare() as it happens: yields CompareEvent objects, each with one
        of .progress (a CompareProgress), .reports (SeriesReports of finished
        series, in id order) or, last, .summary (the CompareReport without
        series). Arguments as compare(). Leaving the loop early (break, or
        closing the generator) cancels the call: the server stops the work.
        """
        request = self._compare_request(
            series, all, filter, fitters, options, criterion, group_by, summary_only,
            cross_validation, horizons, min_train_points, max_origins, loss,
            profiles, profile_fitter)
        for event in self._stream_compare(request, timeout):
            yield CompareEvent.from_proto(event)

    def _stream_compare(self, request, timeout):
        deadline = self.timeout if timeout is ... else timeout
        call = self._stub.CompareModelsStream(request, timeout=deadline,
                                              metadata=self._metadata)
        try:
            for event in call:
                yield event
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e, "CompareModelsStream") from None
        finally:
            call.cancel()  # a no-op once the stream ended; stops an abandoned one

    @staticmethod
    def _compare_request(series, all, filter, fitters, options, criterion, group_by,
                         summary_only, cross_validation, horizons, min_train_points,
                         max_origins, loss, profiles=False, profile_fitter=None):
        selection = pb.SeriesSelector(all=all, metadata_filter=dict(filter or {}))
        if series is not None:
            selection.ids.extend([series] if isinstance(series, str) else list(series))
        request = pb.CompareModelsRequest(
            selection=selection, fitters=list(fitters or []),
            criterion=Criterion(criterion).to_proto(), group_by=group_by or "",
            summary_only=summary_only, loss=vocabulary.loss_name(loss),
            cross_validation=pb.CrossValidationOptions(
                disabled=not cross_validation, horizons=list(horizons or []),
                min_train_points=min_train_points, max_origins=max_origins),
            profiles=bool(profiles or profile_fitter), profile_fitter=profile_fitter or "")
        for name, opts in vocabulary.compare_options(options).items():
            request.fitter_options[name].options.update(opts)
        return request

    def predict(self, series_id: str, fitter: str, parameters: Sequence[float],
                t: Sequence[float], options: Optional[Mapping[str, object]] = None,
                timeout=...) -> List[float]:
        """The fitter's curve with these parameters (every one, in the
        fitter's order) at times t, on the series' history (Predict)."""
        r = self._call("Predict", pb.PredictRequest(
            series_id=series_id, fitter=fitter,
            options=vocabulary.fit_options(options, "predict"),
            parameters=list(parameters), t=list(t)), timeout)
        return list(r.values)

    def curve(self, fit: FitResult, t: Sequence[float], timeout=...) -> List[float]:
        """A fit's curve at times t, computed by the server's plugin (any
        fitter, third-party ones included): predict() with the fit's
        parameters and options. ValueError for a fit without parameters."""
        if not fit.usable:
            raise ValueError(f"{fit.fitter} on {fit.series_id} has no usable fit ({fit.status.value})")
        return self.predict(fit.series_id, fit.fitter, [p.value for p in fit.parameters], t,
                            fit.options, timeout)

    def _empty_selection_message(self, selection, timeout) -> str:
        """Why a selection matched nothing, with hints for a metadata filter:
        a value that differs only in case or spaces, or the values there are."""
        if selection.all:
            return "the selection matches no series: the store is empty"
        wanted = dict(selection.metadata_filter)
        what = " ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
        try:
            values: Dict[str, set] = {k: set() for k in wanted}
            for s in self.list_series(timeout=timeout):
                for k in wanted:
                    if k in s.metadata:
                        values[k].add(s.metadata[k])
        except errors.AdoptionError:  # the hint is a courtesy
            return f"the selection matches no series: no series has metadata {what}"
        return (f"the selection matches no series: no series has metadata {what}"
                + vocabulary.filter_hint(wanted, values))

    def forecast(self, series_id: str, fitter: str = "combined", horizon: int = 6,
                 options: Optional[Mapping[str, object]] = None,
                 interval_level: Optional[float] = None, timeout=...) -> Forecast:
        """Fits fitter (or "combined", the default) to the series and
        extrapolates it horizon months past the last point, with prediction
        intervals at interval_level, in (0, 1) (None: the server's 0.95;
        ValueError outside, as adoptctl's --level). options: the fitter's
        options, as for fit()."""
        r = self._call("Forecast", pb.ForecastRequest(
            series_id=series_id, fitter=fitter, horizon=horizon,
            options=vocabulary.fit_options(options, "forecast"),
            interval_level=vocabulary.interval_level(interval_level)), timeout)
        return Forecast.from_proto(r)
