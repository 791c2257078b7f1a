#!/usr/bin/env python3
"""Find where a classifier fails, with the libprime Python package.

Loads tags and outcomes, searches for failure modes, prints them as a
table and writes the JSON document `prime search` would write:

    PYTHONPATH=python PRIME_LIBRARY=build/lib/libprime.so \\
        python3 examples/python/failure_modes.py \\
        --tags data/demo/tags.csv --outcomes data/demo/outcomes.csv --output modes.json

Any search parameter can be given: --max-tags 3 --min-size 20 --min-drop 0.25
--min-gain 0,0.1,0.05 --min-tag-count 10 --whole-dataset.
"""
from __future__ import annotations

import argparse
import os
import sys

try:
    import libprime
except ImportError:  # run from a source tree without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "..", "python"))
    import libprime


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tags", required=True, help="tags CSV, JSON Lines or binary store")
    ap.add_argument("--outcomes", help="outcomes CSV (default: the tags file's own column)")
    ap.add_argument("--output", help="write the result as JSON to this file")
    ap.add_argument("--max-tags", type=int)
    ap.add_argument("--min-size", type=int)
    ap.add_argument("--min-drop", type=float)
    ap.add_argument("--min-gain", type=lambda s: [float(x) for x in s.split(",")])
    ap.add_argument("--min-tag-count", type=int)
    ap.add_argument("--whole-dataset", action="store_true")
    return ap.parse_args(argv)


def print_table(result: libprime.Result) -> None:
    """One line per failure mode, grouped by class."""
    per_class = {c.name: c for c in result.classes}
    print("%-12s %-44s %6s %8s %8s" % ("class", "tags", "size", "accuracy", "drop"))
    print("-" * 82)
    for mode in result:
        print("%-12s %-44s %6d %8.3f %8.3f" % (mode.class_name, " + ".join(mode.tags),
                                              mode.size, mode.accuracy, mode.drop))
    print("-" * 82)
    print("%d failure modes in %d classes (%s)" % (
        len(result), len(per_class),
        ", ".join("%s %.3f" % (c.name, c.accuracy) for c in per_class.values())))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    params = {k: v for k, v in (("max_tags", args.max_tags), ("min_size", args.min_size),
                                ("min_drop", args.min_drop), ("min_gain", args.min_gain),
                                ("min_tag_count", args.min_tag_count)) if v is not None}
    if args.whole_dataset:
        params["whole_dataset"] = True
    try:
        with libprime.Config(**params) as config:
            store, outcomes = libprime.TagStore.load_with_outcomes(args.tags)
            with store:
                if args.outcomes:
                    if outcomes is not None:
                        outcomes.close()
                    outcomes = libprime.Outcomes.load(args.outcomes, store)
                if outcomes is None:
                    print("%s has no outcomes: give --outcomes FILE" % args.tags,
                          file=sys.stderr)
                    return 1
                with outcomes, libprime.search(store, outcomes, config) as result:
                    print_table(result)
                    if result:
                        # Why is the worst mode a failure mode? Each tag is needed.
                        worst = max(result, key=lambda m: m.drop)
                        print("\nworst: %s (drop %.3f)" % (worst.description, worst.drop))
                        for p in libprime.query_parents(store, outcomes, worst.tags,
                                                        worst.class_name):
                            print("  without %-20s %4d images, accuracy %.3f"
                                  % (p.removed, p.size, p.accuracy))
                    if args.output:
                        result.write(args.output, "json")
                        print("\nwrote %s" % args.output)
    except libprime.PrimeError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
