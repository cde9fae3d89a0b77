"""The words every client shares with adoptctl: server address, losses,
fitter options, interval levels, and what a "clear" winner is.

  server   Client() and python3 -m adoption_client default to $ADOPTION_SERVER,
           else 127.0.0.1:50051 (as adoptctl and the Go client).
  loss     "sse" or "poisson" (adoptctl compare --loss), or the names the
           server reports ("sse_cumulative", "poisson_deviance_increments").
  options  compare(): {"citation": {"m": 100}} or {"citation.m": 100}
           (adoptctl compare --option citation.m=100); fit() and forecast():
           {"m": 100} (adoptctl fit --option m=100). Values are str, numbers
           or bools; anything else is a TypeError naming the option.
  level    a forecast's interval level is in (0, 1); None means the server's
           default, 0.95 (adoptctl forecast --level).
  near tie a winner is not clear when the runner-up's criterion value (AICc
           by default) is within NEAR_TIE of the winner's.
"""
from __future__ import annotations

import math
import numbers
import os
from typing import Dict, Mapping, Optional

DEFAULT_SERVER = "127.0.0.1:50051"

# A winner whose criterion value is within this of the runner-up's is not
# clear: Burnham & Anderson's rule of thumb (a difference of 2 or less means
# substantial support for both models).
NEAR_TIE = 2.0

# Loss names: adoptctl's short ones and the server's, to the server's.
LOSSES = {
    "sse": "sse_cumulative",
    "sse_cumulative": "sse_cumulative",
    "poisson": "poisson_deviance_increments",
    "poisson_deviance_increments": "poisson_deviance_increments",
}


def default_server() -> str:
    """$ADOPTION_SERVER if set and not empty, else 127.0.0.1:50051."""
    return os.environ.get("ADOPTION_SERVER") or DEFAULT_SERVER


def loss_name(loss: Optional[str]) -> str:
    """The server's name of a loss ("" for None: the server's default,
    least squares). ValueError for an unknown name."""
    if loss is None or loss == "":
        return ""
    if not isinstance(loss, str):
        raise TypeError(f"loss: expected a str (sse or poisson), got {type(loss).__name__}")
    try:
        return LOSSES[loss]
    except KeyError:
        raise ValueError(f"loss: expected sse or poisson (or {', '.join(sorted(set(LOSSES.values())))}), "
                         f"got {loss!r}") from None


def interval_level(level: Optional[float]) -> float:
    """The request's interval_level: 0 (the server's default, 0.95) for
    None; ValueError outside (0, 1)."""
    if level is None:
        return 0.0
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise TypeError(f"interval_level: expected a number in (0, 1), got {type(level).__name__}")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"interval_level: must be in (0, 1) (e.g. 0.9), got {level!r}")
    return float(level)


def option_value(name: str, value) -> str:
    """One option value as the request carries it (a string). name is the
    option as the error should name it, e.g. "options['citation']['m']"."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"{name}: must be finite, got {value!r}")
        return repr(v)
    raise TypeError(f"{name}: expected a str, number or bool, got {type(value).__name__} {value!r}")


def fit_options(options: Optional[Mapping[str, object]], what: str = "fit") -> Dict[str, str]:
    """One fitter's options ({"m": 100, "time_unit": "months"}) as strings."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"options: expected a mapping {{option: value}}, e.g. {{'m': 100}}, "
                        f"got {type(options).__name__}")
    out = {}
    for key, value in options.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"options: option names are non-empty str, got {key!r}")
        if isinstance(value, Mapping):
            raise TypeError(f"options[{key!r}]: {what}() takes one fitter's options, "
                            f"e.g. options={{'m': 100}}; per-fitter options "
                            f"({{{key!r}: {{...}}}}) are for compare()")
        out[key] = option_value(f"options[{key!r}]", value)
    return out


def compare_options(options: Optional[Mapping[str, object]]) -> Dict[str, Dict[str, str]]:
    """Per-fitter options for compare(): {"citation": {"m": 100}} or
    {"citation.m": 100} (adoptctl's --option citation.m=100), or both.
    TypeError/ValueError naming the option otherwise."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError("options: expected a mapping {fitter: {option: value}} or "
                        f"{{'fitter.option': value}}, got {type(options).__name__}")
    out: Dict[str, Dict[str, str]] = {}

    def put(fitter: str, key: str, value, name: str) -> None:
        if not fitter or not key:
            raise ValueError(f"{name}: empty fitter or option name")
        text = option_value(name, value)
        previous = out.setdefault(fitter, {}).get(key)
        if previous is not None and previous != text:
            raise ValueError(f"{name}: {fitter}.{key} given twice ({previous!r} and {text!r})")
        out[fitter][key] = text

    for key, value in options.items():
        if not isinstance(key, str):
            raise TypeError(f"options: keys are fitter names or 'fitter.option', got {key!r}")
        if isinstance(value, Mapping):
            for opt, v in value.items():
                if not isinstance(opt, str):
                    raise TypeError(f"options[{key!r}]: option names are str, got {opt!r}")
                put(key, opt, v, f"options[{key!r}][{opt!r}]")
        elif "." in key:
            fitter, opt = key.split(".", 1)
            put(fitter, opt, value, f"options[{key!r}]")
        else:
            raise TypeError(
                f"options[{key!r}]: compare() takes options per fitter, so {key!r} must map to "
                f"{{option: value}}, got {type(value).__name__} {value!r}; for a fitter's option "
                f"write e.g. options={{'citation': {{{key!r}: {value!r}}}}} or "
                f"{{'citation.{key}': {value!r}}}")
    return out


def filter_hint(wanted: Mapping[str, str], values: Mapping[str, set]) -> str:
    """" (did you mean company=Meta?)" when a stored value differs from the
    wanted one only in case or spaces; else the values the key has (or that
    no series has the key). values: {key: the stored values of that key}."""
    def norm(text: str) -> str:
        return "".join(text.split()).casefold()

    near, other = [], []
    for k, v in sorted(wanted.items()):
        have = values.get(k, set())
        close = sorted(x for x in have if norm(x) == norm(v) and x != v)
        if close:
            near.append(f"{k}={close[0]}")
        elif not have:
            other.append(f"no series has the metadata key {k!r}")
        elif v not in have:
            shown = sorted(have)
            listed = ", ".join(shown[:12]) + (f", ... ({len(shown)} values)" if len(shown) > 12 else "")
            other.append(f"{k} is one of {listed}")
    if near:
        return " (filters match exactly: did you mean " + " ".join(near) + "?)"
    if other:
        return " (" + "; ".join(other) + ")"
    return ""
