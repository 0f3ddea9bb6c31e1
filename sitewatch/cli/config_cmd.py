"""``sitewatch config check FILE…``: validate site YAMLs, print every problem with its line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="check a site YAML file, or print the key reference")
    inner = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = inner.add_parser(
        "check", help="exit 0 if every FILE is valid; else print FILE:LINE: key: reason, exit 2"
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE", help="site YAML to check")
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
    """Every file is checked; stderr holds only ``FILE:LINE: …`` lines; exit 2 if any is bad."""
    from sitewatch.config import ConfigError, load_site

    status = 0
    for path in args.files:
        try:
            site = load_site(path)
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = 2
            continue
        if not args.quiet:
            zones = sum(len(c.zones) for c in site.cameras)
            print(f"{path}: OK ({len(site.cameras)} cameras, {zones} zones)")
    return status
