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
