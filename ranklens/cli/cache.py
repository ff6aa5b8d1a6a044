"""`ranklens cache`: what RankLens keeps under $RANKLENS_HOME that it can make again, and clearing it.

With no option, a table: each cache, its entries, its size, and the stale exports (an upgrade's leftovers: made for
other library versions or in an earlier layout). `--stale` removes those exports; `--clear NAME ...` empties caches by
name (`all`: every one). Projects, labels, stored corpora and saved runs are data and are never touched.
"""

from __future__ import annotations

import argparse

from ranklens import caches
from ranklens.settings import data_dir


def register(commands) -> None:
    """Add `ranklens cache` and its options to the subcommands."""
    parser = commands.add_parser("cache", help="list the caches under $RANKLENS_HOME, remove stale exports, clear")
    parser.add_argument(
        "--clear",
        nargs="+",
        choices=[*caches.CACHES, "all"],
        metavar="NAME",
        help=f"empty these caches (made again when needed): {', '.join(caches.CACHES)}, or all",
    )
    parser.add_argument(
        "--stale",
        action="store_true",
        help="remove the stale exports (made for other library versions or in an earlier layout)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Carry out `ranklens cache` with the parsed options."""
    if args.stale:
        removed = caches.remove_stale_exports()
        print(f"removed {removed.entries} stale exports, {caches.size_text(removed.size)}")
    for name in caches.CACHES if args.clear and "all" in args.clear else args.clear or ():
        before = caches.clear(name)
        print(f"cleared {name}: {before.entries} entries, {caches.size_text(before.size)}")
    print(f"caches under {data_dir()}:")
    for cache in caches.measure_all():
        stale = f" ({cache.stale} stale, {caches.size_text(cache.stale_size)})" if cache.stale else ""
        if cache.damaged:
            stale = " (damaged: SQLite cannot read it; --clear removes it)"
        print(f"  {cache.name:<15} {cache.entries:>9} entries {caches.size_text(cache.size):>10}{stale}")
