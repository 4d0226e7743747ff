"""The command line of the benchmarks.

    python -m bench                      every part at 5,000 and 50,000 options
    python -m bench fetch|import|finder  one part (--sizes, --repetitions)
    python -m bench generate --options 50000 --out DIR
    python -m bench report RESULTS.json  rewrite the README table from a result
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from traction_rec.emulator.generator import write_org

logger = logging.getLogger(__name__)

DEFAULT_SIZES = [5000, 50000]


def _generate(args):
    counts = write_org(
        args.out, options=args.options, seed=args.seed, anchor_date=args.anchor_date
    )
    print(
        f"Wrote {counts['TREX1__Course_Option__c']} course options "
        f"({sum(counts.values())} records) to {args.out}."
    )
    return 0


def _measure(args):
    from bench import report, runner

    parts = runner.PARTS if args.command in (None, "all") else (args.command,)
    document = runner.run(
        parts=parts,
        sizes=args.sizes,
        repetitions=args.repetitions,
        seed=args.seed,
        keep=args.keep,
        workdir=args.workdir,
        time_limit=args.time_limit,
        finder_requests=args.finder_requests,
        profile=args.profile,
    )
    path = report.write_results(document, args.results_dir)
    print(f"Results written to {path}.")
    if args.readme:
        readme = report.update_readme(document, path.name)
        print(f"Table written to {readme}.")
    missed = [t for t in document["targets"] if t["met"] is False]
    for target in missed:
        print(f"Target missed at {target['size']} options: {target['target']} "
              f"(figure {target['figure']} {target['unit']}).")
    return 0


def _report(args):
    from bench import report

    document = json.loads(Path(args.results).read_text())
    readme = report.update_readme(document, Path(args.results).name)
    print(f"Table written to {readme}.")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m bench")
    commands = parser.add_subparsers(dest="command")

    generate = commands.add_parser("generate", help="write a local-org folder")
    generate.add_argument("--options", type=int, default=400)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--anchor-date", default=None, help="YYYY-MM-DD; default today")
    generate.add_argument("--out", type=Path, required=True)
    generate.set_defaults(handler=_generate)

    for name, text in (
        ("all", "every part"),
        ("fetch", "our fetch beside a download floor and simple-salesforce"),
        ("import", "cold, unchanged and 1%% changed imports beside the naive importer"),
        ("finder", "the activity finder beside a trivial view"),
    ):
        part = commands.add_parser(name, help=text)
        _measure_options(part)
    report = commands.add_parser("report", help="rewrite the README table from a result file")
    report.add_argument("results", type=Path)
    report.set_defaults(handler=_report)
    _measure_options(parser)
    return parser


def _measure_options(parser):
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--time-limit", type=float, default=840,
        help="seconds for the whole run (default 840: 14 minutes)",
    )
    parser.add_argument("--finder-requests", type=int, default=None,
                        help="requests per finder round (default 60)")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="where the result JSON goes (default bench/results)")
    parser.add_argument("--no-readme", dest="readme", action="store_false",
                        help="do not rewrite the table in bench/README.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--profile", action="store_true",
                        help="also profile one cold import (pyinstrument); "
                        "the report goes to the temp folder")
    parser.set_defaults(handler=_measure)


def main(argv=None):
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    # The local org logs every query; the bench logs its own figures.
    logging.getLogger("traction_rec.emulator").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "results_dir", "unset") is None:
        from bench.report import RESULTS_DIR

        args.results_dir = RESULTS_DIR
    return args.handler(args)
