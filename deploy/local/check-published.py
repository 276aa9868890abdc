#!/usr/bin/env python3
"""Checks a published result against the engine: every unit's rank, total, group scores and
indicator scores in the publication's snapshot (`dtictl --json publication show`), and every
rank and total the ranking service serves (`dtictl --json ranking show --basis verified`),
must equal `dtictl score` of the verified inputs. Prints the published ranking; exits 1
listing every difference.

usage: check-published.py ENGINE_JSON PUBLICATION_JSON RANKING_JSON
"""
import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main() -> int:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    engine = {unit["unit"]: unit for unit in load(sys.argv[1])["units"]}
    publication = load(sys.argv[2])
    snapshot = json.loads(publication["snapshotJson"])
    ranking = load(sys.argv[3])
    differences = []
    published = {unit["unit"]: unit for unit in snapshot["units"]}
    if set(published) != set(engine):
        differences.append(f"units: published {sorted(published)} but the engine scored {sorted(engine)}")
    for unit_id, unit in sorted(published.items()):
        expected = engine.get(unit_id)
        if expected is None:
            continue
        where = f"revision {snapshot['revision']} unit {unit_id}"
        for field in ("rank", "total"):
            if unit[field] != expected[field]:
                differences.append(f"{where} {field}: published {unit[field]}, engine {expected[field]}")
        for group in unit["groups"]:
            if group["score"] != expected["groups"].get(group["code"]):
                differences.append(f"{where} group {group['code']}: published {group['score']}, "
                                   f"engine {expected['groups'].get(group['code'])}")
        for indicator in unit["indicators"]:
            want = expected["indicators"].get(indicator["code"])
            if indicator["score"] != want:
                differences.append(f"{where} indicator {indicator['code']}: published "
                                   f"{indicator['score']}, engine {want}")
    served = {entry["unit"]["unitId"]: entry for entry in ranking.get("units", [])}
    if set(served) != set(engine):
        differences.append(f"ranking service: serves {sorted(served)}, the engine scored {sorted(engine)}")
    for unit_id, entry in sorted(served.items()):
        expected = engine.get(unit_id)
        if expected and (entry.get("rank") != expected["rank"] or entry.get("score") != expected["total"]):
            differences.append(f"ranking service unit {unit_id}: rank {entry.get('rank')} total "
                               f"{entry.get('score')}, engine rank {expected['rank']} total {expected['total']}")
    if differences:
        print("the published result differs from the engine on the verified inputs:", file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"{'rank':>4}  {'unit':<16} {'total':>8}")
    for unit in sorted(published.values(), key=lambda u: (u["rank"], u["unit"])):
        print(f"{unit['rank']:>4}  {unit['unit']:<16} {unit['total']:>8}")
    print(f"every published score of revision {snapshot['revision']} ({len(published)} units, "
          f"{sum(len(u['indicators']) for u in published.values())} indicator scores) and every "
          f"rank the ranking service serves equals the engine on the verified inputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
