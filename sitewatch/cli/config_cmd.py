"""``sitewatch config check FILE``: validate a site YAML, print every problem with its line."""

from __future__ import annotations

import argparse
import sys

from sitewatch.config import ConfigError, load_site


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="check a site YAML file, or print the key reference")
    inner = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = inner.add_parser(
        "check", help="exit 0 if FILE is valid; else print FILE:LINE: key: reason and exit 2"
    )
    check.add_argument("file", metavar="FILE", help="site YAML to check")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing when valid")
    check.set_defaults(func=run_check)
    ref = inner.add_parser("reference", help="print every config key as a Markdown table")
    ref.set_defaults(func=run_reference)


def run_reference(args: argparse.Namespace) -> int:
    from sitewatch.config.reference import config_reference
    from sitewatch.config.site import SiteConfig

    print(config_reference(SiteConfig), end="")
    return 0


def run_check(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.file)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        n = len(exc.problems)
        print(f"{args.file}: {n} problem{'s' if n != 1 else ''}", file=sys.stderr)
        return 2
    if not args.quiet:
        zones = sum(len(c.zones) for c in site.cameras)
        print(f"{args.file}: OK ({len(site.cameras)} cameras, {zones} zones)")
    return 0
