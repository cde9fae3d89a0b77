"""Typed results: plain dataclasses built from the protos.

Every class has from_proto(); the input classes (Series, Point) also have
to_proto(). Optional proto fields that are absent become None. Enums become
str-valued Python enums whose values are adoptctl's names ("converged",
"does_not_fit", ...), so they compare equal to those strings.
"""
from __future__ import annotations

import enum
import math
import os
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ._proto import pb
from .vocabulary import NEAR_TIE


def _opt(msg, name: str) -> Optional[float]:
    return getattr(msg, name) if msg.HasField(name) else None


class FitStatus(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    CONVERGED = "converged"           # optimiser met its tolerance
    MAX_ITERATIONS = "max_iterations" # usable, iteration cap hit
    NOT_FITTED = "not_fitted"         # the data cannot support the model
    FAILED = "failed"                 # numerical failure or plugin fault
    CANCELLED = "cancelled"           # deadline or cancellation

    @classmethod
    def from_proto(cls, value: int) -> "FitStatus":
        name = pb.FitStatus.Name(value)[len("FIT_STATUS_"):] if value in pb.FitStatus.values() else "UNSPECIFIED"
        return cls[name] if name in cls.__members__ else cls.UNSPECIFIED

    @property
    def usable(self) -> bool:
        """True when the fit has parameters and statistics."""
        return self in (FitStatus.CONVERGED, FitStatus.MAX_ITERATIONS)

    def __str__(self) -> str:
        return self.value


class Verdict(str, enum.Enum):
    UNSPECIFIED = "unspecified"
    FITS = "fits"                       # the winner reaches R^2 >= 0.95
    DOES_NOT_FIT = "does_not_fit"       # none does, or an abrupt surge
    NOT_ENOUGH_DATA = "not_enough_data" # all zero or nothing ranked

    @classmethod
    def from_proto(cls, value: int) -> "Verdict":
        name = pb.SeriesVerdict.Name(value)[len("SERIES_VERDICT_"):] if value in pb.SeriesVerdict.values() else "UNSPECIFIED"
        return cls[name] if name in cls.__members__ else cls.UNSPECIFIED

    def __str__(self) -> str:
        return self.value


class Criterion(str, enum.Enum):
    AICC = "aicc"
    BIC = "bic"

    def to_proto(self) -> int:
        return pb.CRITERION_AICC if self is Criterion.AICC else pb.CRITERION_BIC

    @classmethod
    def from_proto(cls, value: int) -> "Criterion":
        return cls.BIC if value == pb.CRITERION_BIC else cls.AICC

    def __str__(self) -> str:
        return self.value


# ---------------------------------------------------------------- series

@dataclass(frozen=True)
class Point:
    """Cumulative value at t (months since the base model's creation, or the
    series' time unit since its origin). date: "YYYY-MM-DD" when the series
    has an origin: the server sets it on every point it returns; a point
    written by date alone has t = NaN until the server resolves it (read the
    series back with get_series)."""
    t: float
    value: float
    date: str = ""


TIME_UNITS = ("month", "day")


def _time_unit_to_proto(unit: str) -> int:
    if unit not in TIME_UNITS:
        raise ValueError(f"time_unit: {unit!r} is not one of {', '.join(TIME_UNITS)}")
    return pb.TIME_UNIT_DAY if unit == "day" else pb.TIME_UNIT_MONTH


def _iso_date(value, field_name: str) -> str:
    """YYYY-MM-DD of a date, datetime, pandas Timestamp or such a string."""
    import datetime
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            raise ValueError(f"{field_name}: {value!r} is not a date YYYY-MM-DD") from None
    if hasattr(value, "date") and callable(value.date):  # datetime, pandas Timestamp
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:  # numpy.datetime64
        import pandas as pd
        return pd.Timestamp(value).date().isoformat()
    except Exception:  # noqa: BLE001 - anything else is not a date
        raise ValueError(f"{field_name}: {value!r} is not a date") from None


@dataclass
class Series:
    """A cumulative adoption series for one base model.

    points may be given as Point objects or (t, value) pairs. revision and
    update_time_unix are set by the server (ignored on upsert). Calendar
    time: origin is the date of t = 0 ("YYYY-MM-DD", "" = no dates) and
    time_unit "month" (calendar months) or "day"; with an origin every point
    the server returns has its date, and points may be written by date
    (from_pandas). The server's rule: month k is the origin's day k months
    later, clamped to the month's end.
    """
    id: str
    points: List[Point] = field(default_factory=list)
    metadata: Dict[str, str] = field(default_factory=dict)
    unit: str = ""
    revision: int = 0
    update_time_unix: int = 0
    origin: str = ""
    time_unit: str = "month"

    def __post_init__(self):
        self.points = [p if isinstance(p, Point) else Point(float(p[0]), float(p[1]))
                       for p in self.points]
        if self.origin:
            self.origin = _iso_date(self.origin, "origin")
        _time_unit_to_proto(self.time_unit)

    @property
    def t(self) -> List[float]:
        return [p.t for p in self.points]

    @property
    def values(self) -> List[float]:
        return [p.value for p in self.points]

    @property
    def dates(self) -> List[str]:
        """Each point's date ("" without an origin)."""
        return [p.date for p in self.points]

    @property
    def last_value(self) -> float:
        return self.points[-1].value if self.points else 0.0

    @classmethod
    def from_values(cls, id: str, values: Sequence[float], **kwargs) -> "Series":
        """A series with t = 0, 1, 2, ... (one value per month)."""
        return cls(id=id, points=[Point(float(i), float(v)) for i, v in enumerate(values)], **kwargs)

    @classmethod
    def from_pandas(cls, df, id: str, ds: str = "ds", y: str = "y", *,
                    origin=None, time_unit: str = "month", unit: str = "",
                    metadata: Optional[Dict[str, str]] = None) -> "Series":
        """A series from a DataFrame with a date column `ds` and cumulative
        values `y` (Prophet's names by default), rows in any order. The
        points are written by date: the server turns each into t on the
        series' calendar (origin: the first date unless given; time_unit
        "month" or "day"), so t is NaN here until read back."""
        if ds not in df.columns or y not in df.columns:
            raise ValueError(f"from_pandas: the frame needs columns {ds!r} and {y!r}, "
                             f"has {list(df.columns)}")
        rows = df[[ds, y]].dropna(subset=[ds])
        dates = [_iso_date(v, ds) for v in rows[ds]]
        pairs = sorted(zip(dates, (float(v) for v in rows[y])))
        if len({d for d, _ in pairs}) != len(pairs):
            raise ValueError(f"from_pandas: series {id!r} has two rows on one date")
        if origin is None:
            origin = pairs[0][0] if pairs else ""
        return cls(id=id, points=[Point(math.nan, v, d) for d, v in pairs],
                   metadata=dict(metadata or {}), unit=unit, origin=origin,
                   time_unit=time_unit)

    @classmethod
    def from_proto(cls, m) -> "Series":
        return cls(id=m.id, points=[Point(p.t, p.value, p.date) for p in m.points],
                   metadata=dict(m.metadata), unit=m.unit, revision=m.revision,
                   update_time_unix=m.update_time_unix, origin=m.origin,
                   time_unit="day" if m.time_unit == pb.TIME_UNIT_DAY else "month")

    def to_proto(self):
        # A point given by date alone (t NaN) is sent by date: the server
        # computes its t.
        return pb.Series(id=self.id, metadata=dict(self.metadata), unit=self.unit,
                         points=[pb.Point(t=0.0 if math.isnan(p.t) else p.t, value=p.value,
                                          date=p.date) for p in self.points],
                         revision=self.revision, origin=self.origin,
                         time_unit=_time_unit_to_proto(self.time_unit))

    def to_pandas(self):
        """DataFrame with columns t, ds (the point's date as a pandas
        Timestamp, NaT without an origin) and value."""
        import pandas as pd
        return pd.DataFrame({"t": self.t, "ds": pd.to_datetime(
            [p.date or None for p in self.points]), "value": self.values})


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int
    # What the write may not have meant (a replacement that removed points
    # or metadata keys); Client.upsert_series also issues them as warnings.
    warnings: Tuple[str, ...] = ()
    # Per series sent, its revision after the write.
    revisions: Tuple[int, ...] = ()

    @classmethod
    def from_proto(cls, m) -> "UpsertResult":
        return cls(m.created, m.updated, m.unchanged, tuple(m.warnings), tuple(m.revisions))


@dataclass(frozen=True)
class AppendResult:
    appended: int         # new points after the last stored one
    already_present: int  # points stored before with the same value (a retry)
    revision: int         # the series' revision afterwards

    @classmethod
    def from_proto(cls, m) -> "AppendResult":
        return cls(m.appended, m.already_present, m.revision)


# ---------------------------------------------------------------- fitters

@dataclass(frozen=True)
class ParameterInfo:
    name: str
    description: str


@dataclass(frozen=True)
class OptionInfo:
    name: str
    default_value: str
    description: str


@dataclass(frozen=True)
class FitterInfo:
    """A loaded fitter plugin as ListFitters describes it."""
    name: str
    description: str
    version: str
    abi_version: str
    parameters: Tuple[ParameterInfo, ...]
    options: Tuple[OptionInfo, ...]
    forecast_baseline: bool
    path: str
    # Runs only when a request names it (not in "every loaded fitter").
    opt_in: bool = False

    @classmethod
    def from_proto(cls, m) -> "FitterInfo":
        return cls(m.name, m.description, m.version, m.abi_version,
                   tuple(ParameterInfo(p.name, p.description) for p in m.parameters),
                   tuple(OptionInfo(o.name, o.default_value, o.description) for o in m.options),
                   m.forecast_baseline, m.path, m.opt_in)


@dataclass(frozen=True)
class RejectedPlugin:
    path: str
    reason: str


@dataclass(frozen=True)
class Fitters:
    """ListFitters: the loaded fitters (iterable, indexable by name) and the
    plugin files the server refused."""
    fitters: Tuple[FitterInfo, ...]
    rejected: Tuple[RejectedPlugin, ...]

    @classmethod
    def from_proto(cls, m) -> "Fitters":
        return cls(tuple(FitterInfo.from_proto(f) for f in m.fitters),
                   tuple(RejectedPlugin(r.path, r.reason) for r in m.rejected))

    @property
    def names(self) -> List[str]:
        return [f.name for f in self.fitters]

    def __iter__(self):
        return iter(self.fitters)

    def __len__(self) -> int:
        return len(self.fitters)

    def __contains__(self, name) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> FitterInfo:
        for f in self.fitters:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_pandas(self):
        import pandas as pd
        return pd.DataFrame([{
            "fitter": f.name, "version": f.version, "abi_version": f.abi_version,
            "forecast_baseline": f.forecast_baseline, "opt_in": f.opt_in,
            "parameters": " ".join(p.name for p in f.parameters),
            "options": " ".join(f"{o.name}={o.default_value}" for o in f.options),
            "description": f.description} for f in self.fitters])


# ---------------------------------------------------------------- fits

@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    std_error: Optional[float] = None
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None
    fixed: bool = False
    # The estimate ended on a bound of the fitter's box: the data do not
    # determine it (the fit's message names it too).
    at_bound: bool = False

    @classmethod
    def from_proto(cls, m) -> "Parameter":
        return cls(m.name, m.value, _opt(m, "std_error"), _opt(m, "ci_low"),
                   _opt(m, "ci_high"), m.fixed, m.at_bound)


@dataclass(frozen=True)
class HorizonError:
    """Rolling-origin forecast error at one horizon (months ahead)."""
    horizon: int
    folds: int
    mae: float
    mape: Optional[float] = None
    mase: Optional[float] = None

    @classmethod
    def from_proto(cls, m) -> "HorizonError":
        return cls(m.horizon, m.folds, m.mae, _opt(m, "mape"), _opt(m, "mase"))


@dataclass(frozen=True)
class CvFold:
    """One cross-validation forecast: made at origin_t (the last point the
    forecaster saw) for horizon months ahead (t), beside the actual."""
    origin_t: float
    horizon: int
    t: float
    actual: float
    forecast: float
    # The dates of origin_t and t when the series has an origin, else "".
    origin_date: str = ""
    date: str = ""

    @classmethod
    def from_proto(cls, m) -> "CvFold":
        return cls(m.origin_t, m.horizon, m.t, m.actual, m.forecast, m.origin_date, m.date)


@dataclass(frozen=True)
class FitResult:
    """One fitter on one series, with the host's statistics.

    parameters is in the fitter's order; params gives {name: value}.
    aicc/bic/akaike_weight/cv_score are None when undefined.
    """
    series_id: str
    fitter: str
    status: FitStatus
    message: str
    parameters: Tuple[Parameter, ...]
    covariance_note: str
    loss: str
    n: int
    k: int
    sse: float
    rmse: float
    r2: float
    aicc: Optional[float]
    bic: Optional[float]
    akaike_weight: Optional[float]
    rank: int
    winner: bool
    derived: Dict[str, float]
    iterations: int
    starts: int
    fit_seconds: float
    forecast_baseline: bool
    cv_errors: Tuple[HorizonError, ...]
    cv_score: Optional[float]
    cv_rank: int
    # The options the fit ran with: with the parameters, what Client.curve()
    # needs to redraw it.
    options: Dict[str, str] = field(default_factory=dict)
    # Every cross-validation fold (compare(cv_details=True)).
    cv_folds: Tuple[CvFold, ...] = ()

    @classmethod
    def from_proto(cls, m) -> "FitResult":
        return cls(
            series_id=m.series_id, fitter=m.fitter,
            status=FitStatus.from_proto(m.status), message=m.message,
            parameters=tuple(Parameter.from_proto(p) for p in m.parameters),
            covariance_note=m.covariance_note, loss=m.loss, n=m.n, k=m.k,
            sse=m.sse, rmse=m.rmse, r2=m.r2, aicc=_opt(m, "aicc"),
            bic=_opt(m, "bic"), akaike_weight=_opt(m, "akaike_weight"),
            rank=m.rank, winner=m.winner,
            derived={d.name: d.value for d in m.derived},
            iterations=m.iterations, starts=m.starts,
            fit_seconds=m.fit_seconds, forecast_baseline=m.forecast_baseline,
            cv_errors=tuple(HorizonError.from_proto(e) for e in m.cv_errors),
            cv_score=_opt(m, "cv_score"), cv_rank=m.cv_rank, options=dict(m.options),
            cv_folds=tuple(CvFold.from_proto(c) for c in m.cv_folds))

    @property
    def usable(self) -> bool:
        """True when the fit has parameters and statistics (converged or
        stopped at the iteration cap)."""
        return self.status.usable

    @property
    def params(self) -> Dict[str, float]:
        return {p.name: p.value for p in self.parameters}

    def param(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(f"{self.fitter} has no parameter {name!r}")

    def cv_error(self, horizon: int) -> Optional[HorizonError]:
        for e in self.cv_errors:
            if e.horizon == horizon:
                return e
        return None

    def to_pandas(self):
        """One row, in CompareReport.to_pandas() columns."""
        return _frame(_fit_rows([(None, self)]))


# ---------------------------------------------------------------- compare

@dataclass(frozen=True)
class SeriesReport:
    """The comparison for one series."""
    series_id: str
    metadata: Dict[str, str]
    n: int
    last_value: float
    fits: Tuple[FitResult, ...]
    winner: str
    verdict: Verdict
    verdict_reason: str
    cv_winner: str
    surge_months: Tuple[float, ...]
    # The criterion the fits were ranked by (the request's).
    criterion: "Criterion" = None  # type: ignore[assignment]
    # The series' calendar (Series.origin, Series.time_unit).
    origin: str = ""
    time_unit: str = "month"

    @classmethod
    def from_proto(cls, m, criterion: "Criterion" = None) -> "SeriesReport":
        return cls(m.series_id, dict(m.metadata), m.n, m.last_value,
                   tuple(FitResult.from_proto(f) for f in m.fits), m.winner,
                   Verdict.from_proto(m.verdict), m.verdict_reason,
                   m.cv_winner, tuple(m.surge_months), criterion or Criterion.AICC,
                   m.origin, "day" if m.time_unit == pb.TIME_UNIT_DAY else "month")

    def _score(self, f: "FitResult") -> Optional[float]:
        return f.bic if self.criterion is Criterion.BIC else f.aicc

    @property
    def runner_up(self) -> Optional["FitResult"]:
        """The ranked fit with the best criterion value after the winner's
        (None without a winner or a second ranked fit)."""
        w = self.winner_fit
        if w is None:
            return None
        others = [f for f in self.fits
                  if f is not w and f.rank > 0 and self._score(f) is not None]
        return min(others, key=lambda f: (self._score(f), f.rank), default=None)

    @property
    def winner_margin(self) -> Optional[float]:
        """The runner-up's criterion value (AICc, or BIC if the comparison
        ranked by BIC) minus the winner's; None without both."""
        w, r = self.winner_fit, self.runner_up
        if w is None or r is None or self._score(w) is None:
            return None
        return self._score(r) - self._score(w)

    @property
    def near_tie(self) -> bool:
        """True when there is a winner but no clear one: the runner-up is
        within NEAR_TIE (2) of it on the criterion, so the data support both
        (reports say "no clear winner")."""
        margin = self.winner_margin
        return margin is not None and margin <= NEAR_TIE

    @property
    def near_tie_fits(self) -> List["FitResult"]:
        """The ranked fits within NEAR_TIE of the winner, winner first
        (just the winner when it is clear; empty without one)."""
        w = self.winner_fit
        if w is None or self._score(w) is None:
            return []
        best = self._score(w)
        close = [f for f in self.fits if f is not w and f.rank > 0 and self._score(f) is not None
                 and self._score(f) - best <= NEAR_TIE]
        return [w] + sorted(close, key=lambda f: self._score(f))

    def fit(self, fitter: str) -> FitResult:
        for f in self.fits:
            if f.fitter == fitter:
                return f
        raise KeyError(f"no {fitter!r} fit for {self.series_id}")

    @property
    def winner_fit(self) -> Optional[FitResult]:
        for f in self.fits:
            if f.winner:
                return f
        return None

    def to_pandas(self):
        """One row per fitter, in CompareReport.to_pandas() columns."""
        return _frame(_fit_rows([(self, f) for f in self.fits]))


@dataclass(frozen=True)
class FitterSummary:
    """How one fitter did over the batch or a group."""
    fitter: str
    wins: int
    converged: int
    max_iterations: int
    not_fitted: int
    failed: int
    cancelled: int
    median_r2: float
    mean_akaike_weight: float
    cv_wins: int
    cv_median: Tuple[HorizonError, ...]

    @classmethod
    def from_proto(cls, m) -> "FitterSummary":
        return cls(m.fitter, m.wins, m.converged, m.max_iterations,
                   m.not_fitted, m.failed, m.cancelled, m.median_r2,
                   m.mean_akaike_weight, m.cv_wins,
                   tuple(HorizonError.from_proto(e) for e in m.cv_median))

    def row(self) -> dict:
        r = {"fitter": self.fitter, "wins": self.wins, "cv_wins": self.cv_wins,
             "converged": self.converged, "max_iterations": self.max_iterations,
             "not_fitted": self.not_fitted, "failed": self.failed,
             "cancelled": self.cancelled, "median_r2": self.median_r2,
             "mean_weight": self.mean_akaike_weight}
        for e in self.cv_median:
            r[f"median_mase_h{e.horizon}"] = e.mase if e.mase is not None else math.nan
        return r


@dataclass(frozen=True)
class QuantityProfile:
    """One quantity (parameter or derived) over a group's profiled series:
    median with its 95% bootstrap interval, quartiles."""
    quantity: str
    n: int
    median: float
    median_lower: float
    median_upper: float
    q1: float
    q3: float

    @classmethod
    def from_proto(cls, m) -> "QuantityProfile":
        return cls(m.quantity, m.n, m.median, m.median_lower, m.median_upper, m.q1, m.q3)


@dataclass(frozen=True)
class GroupProfile:
    """A group's profile (compare(profiles=True)): of its series, those the
    profile fitter fits (R^2 >= 0.95, no abrupt surge), those left out (a
    parameter at a bound, or unidentified: no standard error), the used
    ones' quantities, and their median fitted curve with its quartile band
    at t = 1..24 (rows (t, median, q1, q3))."""
    series: int
    fitted: int
    at_bound: int
    unidentified: int
    used: int
    quantities: Tuple[QuantityProfile, ...]
    curve: Tuple[Tuple[float, float, float, float], ...]

    @classmethod
    def from_proto(cls, m) -> "GroupProfile":
        return cls(m.series, m.fitted, m.at_bound, m.unidentified, m.used,
                   tuple(QuantityProfile.from_proto(q) for q in m.quantities),
                   tuple((c.t, c.median, c.q1, c.q3) for c in m.curve))

    def quantity(self, name: str) -> Optional[QuantityProfile]:
        return next((q for q in self.quantities if q.quantity == name), None)


@dataclass(frozen=True)
class PairwiseDifference:
    """Dunn's test between two groups on one quantity (Holm-adjusted over
    the pairs); cliffs_delta = P(a > b) - P(a < b)."""
    group_a: str
    group_b: str
    median_difference: float
    cliffs_delta: float
    z: float
    p_value: float
    p_adjusted: float
    significant: bool

    @classmethod
    def from_proto(cls, m) -> "PairwiseDifference":
        return cls(m.group_a, m.group_b, m.median_difference, m.cliffs_delta, m.z, m.p_value,
                   m.p_adjusted, m.significant)


@dataclass(frozen=True)
class QuantityTest:
    """Kruskal-Wallis over the tested groups for one quantity (H, p, Holm
    over the quantities, epsilon^2 effect size) and the largest groups'
    pairwise differences."""
    quantity: str
    groups: int
    n: int
    h: float
    p_value: float
    p_adjusted: float
    epsilon_squared: float
    significant: bool
    pairs: Tuple[PairwiseDifference, ...]

    @classmethod
    def from_proto(cls, m) -> "QuantityTest":
        return cls(m.quantity, m.groups, m.n, m.h, m.p_value, m.p_adjusted, m.epsilon_squared,
                   m.significant, tuple(PairwiseDifference.from_proto(p) for p in m.pairs))


@dataclass(frozen=True)
class ProfileTests:
    """Whether the groups differ: groups with at least min_group_size
    profiled series are tested; note says why there are no tests."""
    fitter: str
    min_group_size: int
    tested: Tuple[str, ...]
    too_small: Tuple[str, ...]
    tests: Tuple[QuantityTest, ...]
    note: str

    @classmethod
    def from_proto(cls, m) -> "ProfileTests":
        return cls(m.fitter, m.min_group_size, tuple(m.tested), tuple(m.too_small),
                   tuple(QuantityTest.from_proto(t) for t in m.tests), m.note)


@dataclass(frozen=True)
class GroupSummary:
    """Aggregates for the series sharing one value of the group_by key;
    profile with compare(profiles=True)."""
    value: str
    series: int
    does_not_fit: int
    not_enough_data: int
    fitters: Tuple[FitterSummary, ...]
    profile: Optional[GroupProfile] = None

    @classmethod
    def from_proto(cls, m) -> "GroupSummary":
        return cls(m.value, m.series, m.does_not_fit, m.not_enough_data,
                   tuple(FitterSummary.from_proto(f) for f in m.fitters),
                   GroupProfile.from_proto(m.profile) if m.HasField("profile") else None)

    def wins(self) -> Dict[str, int]:
        return {f.fitter: f.wins for f in self.fitters}

    @property
    def top_fitter(self) -> str:
        """The fitter with the most wins in the group ("" if none won)."""
        best = max(self.fitters, key=lambda f: f.wins, default=None)
        return best.fitter if best is not None and best.wins > 0 else ""


@dataclass(frozen=True)
class PooledOption:
    """A fitter option chosen for the whole batch by cross-validation (the
    request set it to "pooled", e.g. options={"citation": {"m": "pooled"}}):
    every series' fit of that fitter used `chosen`. scores[i] is the batch
    score of candidates[i] (median over the scored series of their mean MASE
    over the horizons; lower is better)."""
    fitter: str
    option: str
    chosen: str
    candidates: Tuple[str, ...]
    scores: Tuple[float, ...]
    series_scored: int
    fits: int
    elapsed_seconds: float

    @classmethod
    def from_proto(cls, m) -> "PooledOption":
        return cls(m.fitter, m.option, m.chosen, tuple(m.candidates), tuple(m.scores),
                   m.series_scored, m.fits, m.elapsed_seconds)

    def score_of(self, candidate) -> float:
        """The batch score of one candidate, e.g. score_of("1")."""
        return self.scores[self.candidates.index(str(candidate))]


@dataclass(frozen=True)
class CompareReport:
    """CompareModels: per-series reports, per-fitter and per-group summaries."""
    series: Tuple[SeriesReport, ...]
    fitters: Tuple[FitterSummary, ...]
    group_by: str
    groups: Tuple[GroupSummary, ...]
    criterion: Criterion
    series_count: int
    does_not_fit: int
    not_enough_data: int
    elapsed_seconds: float
    loss: str
    # One per option the request set to "pooled" (empty otherwise).
    pooled: Tuple[PooledOption, ...] = ()
    # compare(profiles=True): the tests between groups (each group's
    # profile is GroupSummary.profile).
    profile_tests: Optional[ProfileTests] = None

    @classmethod
    def from_proto(cls, m) -> "CompareReport":
        criterion = Criterion.from_proto(m.criterion)
        return cls(tuple(SeriesReport.from_proto(s, criterion) for s in m.series),
                   tuple(FitterSummary.from_proto(f) for f in m.fitters),
                   m.group_by, tuple(GroupSummary.from_proto(g) for g in m.groups),
                   criterion, m.series_count,
                   m.does_not_fit, m.not_enough_data, m.elapsed_seconds, m.loss,
                   tuple(PooledOption.from_proto(p) for p in m.pooled),
                   ProfileTests.from_proto(m.profile_tests)
                   if m.HasField("profile_tests") else None)

    @property
    def with_winner(self) -> int:
        return sum(1 for s in self.series if s.winner)

    def __getitem__(self, series_id: str) -> SeriesReport:
        for s in self.series:
            if s.series_id == series_id:
                return s
        raise KeyError(series_id)

    def winners(self) -> Dict[str, str]:
        """{series_id: winning fitter} for the series with a winner."""
        return {s.series_id: s.winner for s in self.series if s.winner}

    def not_fitting(self) -> List[SeriesReport]:
        """Series whose verdict is does_not_fit (verdict_reason says why)."""
        return [s for s in self.series if s.verdict is Verdict.DOES_NOT_FIT]

    def near_ties(self) -> List[SeriesReport]:
        """Series with a winner but no clear one (SeriesReport.near_tie: the
        runner-up within 2 of it on the criterion)."""
        return [s for s in self.series if s.near_tie]

    def to_pandas(self):
        """One row per series x fitter, the columns of `adoptctl compare
        --format csv`: series_id, fitter, status, n, k, sse, rmse, r2, aicc,
        bic, akaike_weight, winner, param_<name>..., [cv_score, cv_rank,
        mae_h<h>, mape_h<h>, mase_h<h>...], verdict, message, paper_lambda,
        paper_mu, paper_sigma, paper_label; then rank, loss and company.
        Missing numbers are NaN (statistics of unusable fits included)."""
        return _frame(_fit_rows([(s, f) for s in self.series for f in s.fits]))

    def cv_to_pandas(self):
        """The cross-validation frame (compare(cv_details=True)), one row per
        fold of every fit, as statsforecast's cross_validation: series_id,
        fitter, origin_t (the cutoff), cutoff (its date), horizon, t, ds (its
        date), actual, forecast, error (forecast - actual); the dates are NaT
        for series without an origin. Empty without cv_details."""
        import pandas as pd
        rows = [{"series_id": s.series_id, "fitter": f.fitter, "origin_t": c.origin_t,
                 "cutoff": c.origin_date or None, "horizon": c.horizon, "t": c.t,
                 "ds": c.date or None, "actual": c.actual, "forecast": c.forecast,
                 "error": c.forecast - c.actual}
                for s in self.series for f in s.fits for c in f.cv_folds]
        df = pd.DataFrame(rows, columns=["series_id", "fitter", "origin_t", "cutoff", "horizon",
                                         "t", "ds", "actual", "forecast", "error"])
        df["cutoff"] = pd.to_datetime(df["cutoff"])
        df["ds"] = pd.to_datetime(df["ds"])
        return df

    def series_to_pandas(self):
        """One row per series: id, company, n, last_value, winner, its R^2 and
        weight, verdict, reason, cv_winner, surge months, runner_up,
        winner_margin (the runner-up's criterion value minus the winner's)
        and near_tie (margin <= 2: no clear winner)."""
        import pandas as pd
        rows = []
        for s in self.series:
            w = s.winner_fit
            rows.append({
                "series_id": s.series_id, "company": s.metadata.get("company", ""),
                "n": s.n, "last_value": s.last_value, "winner": s.winner,
                "winner_r2": w.r2 if w else math.nan,
                "winner_weight": (w.akaike_weight if w and w.akaike_weight is not None else math.nan),
                "verdict": s.verdict.value, "verdict_reason": s.verdict_reason,
                "cv_winner": s.cv_winner,
                "surge_months": " ".join(f"{m:g}" for m in s.surge_months),
                "runner_up": s.runner_up.fitter if s.runner_up else "",
                "winner_margin": s.winner_margin if s.winner_margin is not None else math.nan,
                "near_tie": s.near_tie})
        return pd.DataFrame(rows, columns=[
            "series_id", "company", "n", "last_value", "winner", "winner_r2",
            "winner_weight", "verdict", "verdict_reason", "cv_winner", "surge_months",
            "runner_up", "winner_margin", "near_tie"])

    def fitters_to_pandas(self):
        """One row per fitter over the batch (wins, statuses, medians)."""
        import pandas as pd
        return pd.DataFrame([f.row() for f in self.fitters])

    def profiles_to_pandas(self):
        """compare(profiles=True): one row per group x quantity: the group
        (column named after group_by), series, fitted, at_bound,
        unidentified, used, quantity, n, median, median_lower, median_upper
        (the 95% bootstrap interval), q1, q3."""
        import pandas as pd
        key = self.group_by or "group"
        rows = []
        for g in self.groups:
            p = g.profile
            if p is None:
                continue
            for q in p.quantities:
                rows.append({key: g.value, "series": p.series, "fitted": p.fitted,
                             "at_bound": p.at_bound, "unidentified": p.unidentified,
                             "used": p.used, "quantity": q.quantity, "n": q.n,
                             "median": q.median, "median_lower": q.median_lower,
                             "median_upper": q.median_upper, "q1": q.q1, "q3": q.q3})
        return pd.DataFrame(rows, columns=[key, "series", "fitted", "at_bound", "unidentified",
                                           "used", "quantity", "n", "median", "median_lower",
                                           "median_upper", "q1", "q3"])

    def profile_tests_to_pandas(self):
        """One row per quantity: groups, n, h (Kruskal-Wallis), p_value,
        p_adjusted (Holm over the quantities), epsilon_squared, significant."""
        import pandas as pd
        cols = ["quantity", "groups", "n", "h", "p_value", "p_adjusted", "epsilon_squared",
                "significant"]
        tests = self.profile_tests.tests if self.profile_tests else ()
        return pd.DataFrame([{c: getattr(t, c) for c in cols} for t in tests], columns=cols)

    def profile_pairs_to_pandas(self):
        """One row per quantity x pair of the largest groups: group_a,
        group_b, median_difference, cliffs_delta, z, p_value, p_adjusted
        (Holm over the pairs of the quantity), significant."""
        import pandas as pd
        cols = ["group_a", "group_b", "median_difference", "cliffs_delta", "z", "p_value",
                "p_adjusted", "significant"]
        tests = self.profile_tests.tests if self.profile_tests else ()
        return pd.DataFrame([dict(quantity=t.quantity, **{c: getattr(d, c) for c in cols})
                             for t in tests for d in t.pairs], columns=["quantity"] + cols)

    def profile_curves_to_pandas(self):
        """One row per group x t (1..24): the median fitted curve of the
        group's profiled series and its quartiles (q1, q3)."""
        import pandas as pd
        key = self.group_by or "group"
        rows = [{key: g.value, "t": t, "median": med, "q1": q1, "q3": q3}
                for g in self.groups if g.profile is not None
                for (t, med, q1, q3) in g.profile.curve]
        return pd.DataFrame(rows, columns=[key, "t", "median", "q1", "q3"])

    def groups_to_pandas(self):
        """One row per group x fitter (needs group_by in the request)."""
        import pandas as pd
        rows = []
        for g in self.groups:
            for f in g.fitters:
                r = {self.group_by or "group": g.value, "series": g.series,
                     "does_not_fit": g.does_not_fit,
                     "not_enough_data": g.not_enough_data}
                r.update(f.row())
                rows.append(r)
        return pd.DataFrame(rows)


def _fit_layout() -> List[Tuple[str, str, str, str]]:
    """The fit columns (proto/adoption/v1/fit_columns.txt, copied beside the
    stubs by clients/python/build-stubs): (column, scope, field, shown) per
    line, ("@params", "@cv", ... , "", "", "") for a group. The same layout as
    adoptctl's CSV, read from the same file."""
    global _FIT_LAYOUT
    if _FIT_LAYOUT is None:
        path = os.path.join(os.path.dirname(__file__), "_generated", "fit_columns.txt")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:  # pragma: no cover - setup problem, not a bug
            raise ImportError(f"adoption_client: {path} is missing ({e}); run "
                              "clients/python/build-stubs") from e
        layout = []
        for line in text.splitlines():
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if words[0].startswith("@"):
                layout.append((words[0], "", "", ""))
            else:
                scope, _, name = words[1].partition(".")
                layout.append((words[0], scope, name, words[2]))
        _FIT_LAYOUT = layout
    return _FIT_LAYOUT


_FIT_LAYOUT = None


def _cell(value):
    """A field's value in a DataFrame: enums by their value, None as NaN."""
    if value is None:
        return math.nan
    if isinstance(value, Verdict):
        return "" if value is Verdict.UNSPECIFIED else value.value
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _fit_rows(pairs: Iterable[Tuple[Optional[SeriesReport], FitResult]]) -> List[dict]:
    """Rows for (series report or None, fit) pairs in the fit columns'
    layout (_fit_layout), then rank, loss and company."""
    pairs = list(pairs)
    params: List[str] = []
    derived: List[str] = []
    horizons: List[int] = []
    for _, f in pairs:
        for p in f.parameters:
            if p.name not in params:
                params.append(p.name)
        for d in f.derived:
            if d not in derived:
                derived.append(d)
        for e in f.cv_errors:
            if e.horizon not in horizons:
                horizons.append(e.horizon)
    nan = math.nan

    def num(v):
        return nan if v is None else v

    rows = []
    for s, f in pairs:
        meta = s.metadata if s is not None else {}
        r = {}
        for column, scope, name, shown in _fit_layout():
            if column == "@params":
                values = f.params
                for p in params:
                    r["param_" + p] = values.get(p, nan)
            elif column == "@std_errors":
                by_name = {p.name: p for p in f.parameters}
                for p in params:
                    q = by_name.get(p)
                    r["se_" + p] = num(q.std_error) if q is not None else nan
            elif column == "@at_bound":
                by_name = {p.name: p for p in f.parameters}
                for p in params:
                    q = by_name.get(p)
                    r["at_bound_" + p] = q.at_bound if q is not None else nan
            elif column == "@derived":
                for d in derived:
                    r["derived_" + d] = f.derived.get(d, nan)
            elif column == "@cv":
                if not horizons:
                    continue
                r["cv_score"] = num(f.cv_score)
                r["cv_rank"] = f.cv_rank if f.cv_rank > 0 else nan
                for h in horizons:
                    e = f.cv_error(h)
                    r[f"mae_h{h}"] = e.mae if e is not None and e.folds > 0 else nan
                    r[f"mape_h{h}"] = num(e.mape) if e is not None else nan
                    r[f"mase_h{h}"] = num(e.mase) if e is not None else nan
            elif scope == "meta":
                r[column] = meta.get(name, "")
            elif shown == "usable" and not f.usable:
                r[column] = nan
            elif scope == "series" and s is not None:
                r[column] = _cell(getattr(s, name))
            else:  # a fit's field (a series field of a lone fit: its own, or "")
                r[column] = _cell(getattr(f, name, ""))
        r["rank"] = f.rank if f.rank > 0 else nan
        r["loss"] = f.loss
        r["company"] = meta.get("company", "")
        rows.append(r)
    return rows


def _frame(rows: List[dict]):
    import pandas as pd
    df = pd.DataFrame(rows)
    for col in ("n", "k", "rank", "cv_rank"):
        if col in df.columns:
            df[col] = df[col].astype("Int64")
    for col in ("paper_lambda", "paper_mu", "paper_sigma"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col].replace("", math.nan), errors="coerce")
    return df


# ---------------------------------------------------------------- streaming

@dataclass(frozen=True)
class CompareProgress:
    """How far a streamed comparison is (Client.compare_stream)."""
    phase: str  # "pooled" while choosing a pooled option, then "compare"
    series_done: int
    series_total: int
    fits_done: int
    fits_total: int
    elapsed_seconds: float

    @classmethod
    def from_proto(cls, m) -> "CompareProgress":
        return cls(m.phase, m.series_done, m.series_total, m.fits_done, m.fits_total,
                   m.elapsed_seconds)

    @property
    def fraction(self) -> float:
        return self.fits_done / self.fits_total if self.fits_total else 1.0


@dataclass(frozen=True)
class CompareEvent:
    """One event of Client.compare_stream: exactly one of progress, reports
    (finished series, in id order) or summary (last: the CompareReport
    without series) is set."""
    progress: Optional[CompareProgress] = None
    reports: Tuple["SeriesReport", ...] = ()
    summary: Optional["CompareReport"] = None

    @classmethod
    def from_proto(cls, m) -> "CompareEvent":
        kind = m.WhichOneof("event")
        if kind == "progress":
            return cls(progress=CompareProgress.from_proto(m.progress))
        if kind == "series":
            return cls(reports=tuple(SeriesReport.from_proto(r) for r in m.series.reports))
        if kind == "summary":
            return cls(summary=CompareReport.from_proto(m.summary))
        return cls()


# ---------------------------------------------------------------- forecast

@dataclass(frozen=True)
class ForecastPoint:
    t: float
    value: float
    lower: Optional[float] = None
    upper: Optional[float] = None
    # P(actual >= 10 x value) under the interval's distribution (a surge).
    tenfold_probability: Optional[float] = None
    # "YYYY-MM-DD" when the series has an origin, else "".
    date: str = ""

    @classmethod
    def from_proto(cls, m) -> "ForecastPoint":
        return cls(m.t, m.value, _opt(m, "lower"), _opt(m, "upper"),
                   _opt(m, "tenfold_probability"), m.date)


@dataclass(frozen=True)
class FitterWeight:
    fitter: str
    weight: float
    cv_score: Optional[float] = None


@dataclass(frozen=True)
class Forecast:
    """Forecast: one point per month after the last observation."""
    series_id: str
    fitter: str
    fit: FitResult
    points: Tuple[ForecastPoint, ...]
    interval_level: float
    interval_method: str
    weights: Tuple[FitterWeight, ...]
    warnings: Tuple[str, ...]
    # Rolling origins of the forecaster's own errors behind the intervals
    # ("conformal"; 0: the corpus band alone).
    interval_folds: int = 0

    @classmethod
    def from_proto(cls, m) -> "Forecast":
        return cls(m.series_id, m.fitter, FitResult.from_proto(m.fit),
                   tuple(ForecastPoint.from_proto(p) for p in m.points),
                   m.interval_level, m.interval_method,
                   tuple(FitterWeight(w.fitter, w.weight, _opt(w, "cv_score")) for w in m.weights),
                   tuple(m.warnings), m.interval_folds)

    @property
    def has_interval(self) -> bool:
        return any(p.lower is not None and p.upper is not None for p in self.points)

    def to_pandas(self):
        """Columns series_id, fitter, t, ds, value, lower, upper,
        tenfold_probability (NaN when absent; ds a pandas Timestamp, NaT
        without an origin), as `adoptctl forecast --format csv` (date)."""
        import pandas as pd
        nan = math.nan
        opt = lambda v: nan if v is None else v
        df = pd.DataFrame(
            [{"series_id": self.series_id, "fitter": self.fitter, "t": p.t,
              "ds": p.date or None, "value": p.value, "lower": opt(p.lower),
              "upper": opt(p.upper), "tenfold_probability": opt(p.tenfold_probability)}
             for p in self.points],
            columns=["series_id", "fitter", "t", "ds", "value", "lower", "upper",
                     "tenfold_probability"])
        df["ds"] = pd.to_datetime(df["ds"])
        return df
