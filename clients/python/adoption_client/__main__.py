"""Command line: python3 -m adoption_client {report,plot} ...

  report [--server ADDR] --out report.html (--series ID... | --all | --filter k=v...)
         [--top N] [--fitters a,b] [--option fitter.key=value] [--loss sse|poisson]
         [--horizon 6] [--group-by company] [--no-cv] [--cv-max-origins N] [--token T]
         [--tls-ca PEM]
  plot   [--server ADDR] --series ID --out figure.png|svg [--horizon 6] ...

--server defaults to $ADOPTION_SERVER, else 127.0.0.1:50051 (as adoptctl).
Exit codes as adoptctl: 0 ok, 1 refused by the server or a selection that
matches no series ("error: CODE: message"), 2 usage.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import errors, vocabulary
from .client import Client


class _Usage(Exception):
    pass


def _kv(items, what):
    out = {}
    for item in items or []:
        k, eq, v = item.partition("=")
        if not eq or not k:
            raise _Usage(f"{what}: expected key=value, got {item!r}")
        if k in out and out[k] != v:
            raise _Usage(f"{what}: key {k!r} given twice ({out[k]!r} and {v!r})")
        out[k] = v
    return out


def _options(items):
    out = {}
    for k, v in _kv(items, "--option").items():
        fitter, dot, key = k.partition(".")
        if not dot or not fitter or not key:
            raise _Usage(f"--option: expected fitter.key=value (e.g. citation.m=100), got {k}={v}")
        out.setdefault(fitter, {})[key] = v
    return out


def _common(p):
    p.add_argument("--server", default=vocabulary.default_server(),
                   help="adoptiond host:port (default $ADOPTION_SERVER, else 127.0.0.1:50051)")
    p.add_argument("--token", help="bearer token (server started with --token-file)")
    p.add_argument("--tls-ca", help="PEM root certificate: connect with TLS")
    p.add_argument("--tls-server-name", help="certificate name to expect, if not the host")
    p.add_argument("--timeout", type=float, default=600, help="seconds per call")
    p.add_argument("--fitters", help="comma-separated fitter names (default: all loaded)")
    p.add_argument("--option", action="append", metavar="FITTER.KEY=VALUE",
                   help="fitter option, e.g. citation.time_unit=months (repeatable)")
    p.add_argument("--horizon", type=int, default=6, help="forecast months (default 6)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m adoption_client",
                                     description="adoptiond reports and figures")
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("report", help="self-contained HTML report")
    _common(r)
    r.add_argument("--out", required=True, help="HTML file to write")
    sel = r.add_mutually_exclusive_group(required=True)
    sel.add_argument("--series", nargs="+", metavar="ID", help="series ids")
    sel.add_argument("--all", action="store_true", help="every stored series")
    sel.add_argument("--filter", action="append", metavar="KEY=VALUE",
                     help="series whose metadata matches (repeatable)")
    r.add_argument("--top", type=int, default=None,
                   help="figures for the top N series by last value (default 12; "
                        "with --series, all listed)")
    r.add_argument("--group-by", default="company", help="metadata key of the per-group table")
    r.add_argument("--no-cv", action="store_true", help="skip cross-validation (faster)")
    r.add_argument("--loss", choices=["sse", "poisson"], default="sse",
                   help="what curves are fitted to, as adoptctl compare --loss (default sse)")
    r.add_argument("--cv-max-origins", type=int, default=0,
                   help="most recent rolling origins per series (0: all)")
    r.add_argument("--title", default="Adoption model comparison")
    r.add_argument("--org-top", type=int, default=3,
                   help="figures on each organisation's page (default 3); the pages go to "
                        "<out stem>.orgs/ beside --out")
    r.add_argument("--no-org-pages", action="store_true",
                   help="no per-organisation pages (and no links to them)")

    pl = sub.add_parser("plot", help="one series' figure (PNG, SVG or PDF)")
    _common(pl)
    pl.add_argument("--series", required=True, metavar="ID")
    pl.add_argument("--out", required=True, help="figure file (.png, .svg, .pdf)")

    args = parser.parse_args(argv)
    fitters = [f.strip() for f in args.fitters.split(",") if f.strip()] if args.fitters else None
    try:
        options = _options(args.option)
        filters = _kv(args.filter, "--filter") if getattr(args, "filter", None) else None
    except _Usage as e:
        parser.error(str(e))  # exit code 2
    try:
        with Client(args.server, token=args.token, tls=args.tls_ca,
                    tls_server_name=args.tls_server_name, timeout=args.timeout) as c:
            if args.command == "report":
                from .report import build_report_pages
                top = args.top if args.top is not None else (None if args.series else 12)
                name = os.path.basename(args.out)
                pages = build_report_pages(
                    c, series=args.series, all=args.all,
                    filter=filters, top=top, fitters=fitters, options=options,
                    horizon=args.horizon, group_by=args.group_by,
                    cross_validation=not args.no_cv, max_origins=args.cv_max_origins,
                    title=args.title, loss=args.loss,
                    org_top=None if args.no_org_pages else max(args.org_top, 0), page=name)
                where = os.path.dirname(os.path.abspath(args.out))
                for path, page in pages.items():
                    target = args.out if path == name else os.path.join(where, path)
                    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
                    with open(target, "w", encoding="utf-8") as f:
                        f.write(page)
                main = pages[name]
                others = len(pages) - 1
                print(f"wrote {args.out} ({len(main) // 1024} KiB)"
                      + (f" and {others} organisation pages in "
                         f"{os.path.join(where, os.path.splitext(name)[0] + '.orgs')}"
                         if others else ""), file=sys.stderr)
            else:
                from .plot import plot_from_server, save_figure
                fig = plot_from_server(c, args.series, fitters=fitters, options=options,
                                       horizon=args.horizon)
                save_figure(fig, args.out, dpi=110)
                print(f"wrote {args.out}", file=sys.stderr)
    except errors.AdoptionError as e:
        print(f"error: {e.code.name}: {e.message}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
