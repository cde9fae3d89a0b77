"""Reader for the paper's fine-tune CSV format (data/hf-finetunes-2025-02-18),
the same mapping as `adoptctl load-csv` (clients/cli/finetune_csv.h):

  model                  -> series id (unit "finetunes")
  0-month, 1-month, ...  -> points (t = k, value) until the first empty cell
  company, created_at    -> metadata, as given; created_at's UTC date is the
                            series' origin (time unit month)
  lambda_i, mu_i, sigma_i, approx_cond_label
                         -> metadata paper_lambda, paper_mu, paper_sigma, paper_label
  (always)               -> metadata source = "csv:<file name>"

Strict like adoptctl: a malformed line raises ValueError("<file>:<line>: reason").

read_downloads_csv reads the paper's daily download files
(data/hf-downloads-2025-02-18) as `adoptctl load-csv --kind downloads` does
(clients/cli/finetune_csv.h, ParseDownloadsCsv): one series
"download_days:<model>" per row, unit "downloads_30d_daysum" (also metadata
`unit`), time unit day, origin the UTC date of created_at (or the first
observed day when that is earlier, with metadata origin_note), points by
date from the first non-zero day (leading zeros are days not yet observed),
metadata model, company (default: the file's name), created_at, unit,
source, first_observed.
"""
from __future__ import annotations

import csv
import datetime
import math
import os
import re
from typing import List

from .types import Point, Series

_META = {"company": "company", "created_at": "created_at",
         "lambda_i": "paper_lambda", "mu_i": "paper_mu",
         "sigma_i": "paper_sigma", "approx_cond_label": "paper_label"}
_NUMERIC = {"lambda_i", "mu_i", "sigma_i", "sort_key"}
_MONTH = re.compile(r"^(\d+)-month$")


def _number(cell: str):
    try:
        return float(cell)
    except ValueError:
        return None


def _origin_of(created_at: str) -> str:
    """The UTC calendar date of a created_at such as "2023-07-25 13:25:51+00:00"
    ("" when it is not such a time), as adoptctl load-csv reads it."""
    try:
        t = datetime.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if t.tzinfo is not None:
        try:
            t = t.astimezone(datetime.timezone.utc)
        except OverflowError:
            return ""
    # Only origins the server accepts, as adoptctl.
    return t.date().isoformat() if 1900 <= t.year <= 2199 else ""


def read_finetune_csv(path) -> List[Series]:
    """Every series of one file, in file order."""
    name = os.fspath(path)
    base = os.path.basename(name)
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(enumerate(csv.reader(f), start=1))
    rows = [(i, r) for i, r in rows if r]
    if not rows:
        raise ValueError(f"{name}:1: empty file: no header")

    def error(line, reason):
        return ValueError(f"{name}:{line}: {reason}")

    _, header = rows[0]
    months = {}
    for c, h in enumerate(header):
        m = _MONTH.match(h)
        if m:
            months[int(m.group(1))] = c
    if "model" not in header:
        raise error(rows[0][0], 'header has no "model" column')
    if not months or sorted(months) != list(range(len(months))):
        raise error(rows[0][0], "month columns must run 0-month, 1-month, ... without gaps")
    model_col = header.index("model")
    month_cols = [months[k] for k in range(len(months))]
    named = [(c, h) for c, h in enumerate(header) if h in _META or h in _NUMERIC]
    out, seen = [], set()
    for line, f in rows[1:]:
        if len(f) != len(header):
            raise error(line, f"expected {len(header)} fields as in the header, got {len(f)}")
        sid = f[model_col]
        if not sid or sid in seen:
            raise error(line, f"model: empty or duplicate id {sid!r}")
        seen.add(sid)
        points, ended, previous = [], False, 0.0
        for k, c in enumerate(month_cols):
            cell = f[c]
            if cell == "":
                ended = True
                continue
            if ended:
                raise error(line, f"{header[c]}: value after an empty month (series must have no gaps)")
            v = _number(cell)
            if v is None or not math.isfinite(v) or v < 0:
                raise error(line, f"{header[c]}: must be a finite count >= 0, got {cell}")
            if k > 0 and v < previous:
                raise error(line, f"{header[c]}: cumulative count decreases ({cell} after {previous:g})")
            previous = v
            points.append(Point(float(k), v))
        metadata = {}
        for c, h in named:
            cell = f[c]
            if cell == "":
                continue
            if h in _NUMERIC and _number(cell) is None:
                raise error(line, f'{h}: not a number: "{cell}"')
            if h in _META:
                metadata[_META[h]] = cell
        metadata["source"] = f"csv:{base}"
        out.append(Series(id=sid, points=points, metadata=metadata, unit="finetunes",
                          origin=_origin_of(metadata.get("created_at", "")), time_unit="month"))
    return out


DOWNLOAD_DAYS_PREFIX = "download_days:"
DOWNLOAD_DAYS_UNIT = "downloads_30d_daysum"
_MAX_DAYS = 10000  # the server's largest t (engine/store/validation.h, SeriesLimits::max_t)
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T].*)?$")


def _day_column(name: str):
    m = _DAY.match(name)
    if not m:
        return None
    try:
        return datetime.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def read_downloads_csv(path) -> List[Series]:
    """Every series of one daily download file, in file order."""
    name = os.fspath(path)
    base = os.path.basename(name)
    stem = base[:-4] if base.endswith(".csv") else base
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(enumerate(csv.reader(f), start=1))
    rows = [(i, r) for i, r in rows if r]
    if not rows:
        raise ValueError(f"{name}:0: empty file: no header")

    def error(line, reason):
        return ValueError(f"{name}:{line}: {reason}")

    hline, header = rows[0]
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise error(hline, f'duplicate column "{dup}"')
    days, previous = [], None
    for c, h in enumerate(header):
        if h.endswith("-month"):
            raise error(hline, f'column {c + 1} "{h}": month columns are the fine-tune layout; '
                               "kind downloads reads a column per day")
        day = _day_column(h)
        if day is None:
            continue
        if not 1900 <= day.year <= 2199:
            raise error(hline, f'column {c + 1} "{h}": days must lie in 1900-01-01..2199-12-31')
        if previous is not None and day <= previous:
            raise error(hline, f'column {c + 1} "{h}": day columns must be in increasing order '
                               f"without repeats (after {previous.isoformat()})")
        previous = day
        days.append((c, day.isoformat()))
    for required in ("model", "created_at"):
        if required not in header:
            raise error(hline, f'header has no "{required}" column')
    if not days:
        raise error(hline, "header has no day columns (2024-07-02 00:00:00, ...)")
    model_col, created_col = header.index("model"), header.index("created_at")
    company_col = header.index("company") if "company" in header else None
    out, seen = [], set()
    for line, f in rows[1:]:
        if len(f) != len(header):
            raise error(line, f"expected {len(header)} fields as in the header, got {len(f)}")
        model = f[model_col]
        if not model:
            raise error(line, "model: must not be empty")
        if model in seen:
            raise error(line, f'model: duplicate id "{model}"')
        seen.add(model)
        origin = _origin_of(f[created_col])
        if not origin:
            raise error(line, "created_at: expected a time such as 2024-07-18 08:56:00+00:00, "
                              f'got "{f[created_col]}"')
        points, last, last_date = [], 0.0, ""
        for c, date in days:
            v = _number(f[c])
            if v is None:
                raise error(line, f'{header[c]}: not a number: "{f[c]}"')
            if not math.isfinite(v) or v < 0:
                raise error(line, f"{header[c]}: must be a finite count >= 0, got {f[c]}")
            if v < last:
                raise error(line, f"{header[c]}: download-days decrease ({f[c]} after {last:g} "
                                  f"on {last_date}): a negative daily increment")
            if v > 0 or points:
                points.append(Point(math.nan, v, date))
            last, last_date = v, date
        metadata = {"model": model, "created_at": f[created_col],
                    "company": (f[company_col] if company_col is not None and f[company_col]
                                else stem),
                    "unit": DOWNLOAD_DAYS_UNIT, "source": f"csv:{base}"}
        if points:
            first_day = datetime.date.fromisoformat(points[0].date)
            span = datetime.date.fromisoformat(points[-1].date) - min(
                first_day, datetime.date.fromisoformat(origin))
            if span.days > _MAX_DAYS:
                raise error(line, f"created_at: {f[created_col]} lies more than {_MAX_DAYS} days "
                                  f"before {points[-1].date} (the server's largest t)")
            metadata["first_observed"] = points[0].date
            if points[0].date < origin:
                metadata["origin_note"] = (f"first observed {points[0].date}, before created_at: "
                                           "t counts from the first observation")
                origin = points[0].date
        out.append(Series(id=DOWNLOAD_DAYS_PREFIX + model, points=points, metadata=metadata,
                          unit=DOWNLOAD_DAYS_UNIT, origin=origin, time_unit="day"))
    return out
