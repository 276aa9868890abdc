#!/usr/bin/env python3
"""The verified inputs of a round, rebuilt from what people gave the platform: the units' cohort
file (their self-assessments), the files of units that resubmitted (each replaces that unit's
values), and the verifiers' decisions files in order (dtictl verify decide's format; a later
file's decision on an indicator replaces an earlier one). Prints a cohort file in the scoring
contract's format, for `dtictl score`: the main job checks the published scores against it.

Decisions (docs/verification.md): accept keeps the unit's entry; adjust replaces it with the
verified values or marks it not applicable; evidence_insufficient removes it (missing scores 0).

usage: verified-inputs.py COHORT [--resubmission UNIT_FILE]... [--decisions FILE]...
"""
import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cohort")
    parser.add_argument("--resubmission", action="append", default=[])
    parser.add_argument("--decisions", action="append", default=[])
    args = parser.parse_args()
    with open(args.cohort, encoding="utf-8") as f:
        cohort = json.load(f)
    units = {unit["unit"]: unit for unit in cohort["units"]}
    for path in args.resubmission:
        with open(path, encoding="utf-8") as f:
            unit = json.load(f)
        if unit["unit"] not in units:
            sys.exit(f"{path}: unit {unit['unit']} is not in {args.cohort}")
        units[unit["unit"]] = unit
    for path in args.decisions:
        with open(path, encoding="utf-8") as f:
            decisions = json.load(f)
        for unit_id, entry in decisions["units"].items():
            indicators = entry.get("indicators", {})
            unit = units.get(unit_id)
            if unit is None:
                sys.exit(f"{path}: unit {unit_id} is not in {args.cohort}")
            values = unit.setdefault("values", {})
            not_applicable = unit.setdefault("not_applicable", [])
            for code, decision in indicators.items():
                kind = decision["decision"]
                if kind == "accept":
                    continue
                if code in not_applicable:
                    not_applicable.remove(code)
                values.pop(code, None)
                if kind == "adjust" and decision.get("not_applicable"):
                    not_applicable.append(code)
                elif kind == "adjust":
                    values[code] = decision["values"]
                elif kind != "evidence_insufficient":
                    sys.exit(f"{path}: unit {unit_id} indicator {code}: unknown decision {kind!r}")
    cohort["units"] = list(units.values())
    json.dump(cohort, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
