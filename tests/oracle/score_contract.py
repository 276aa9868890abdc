#!/usr/bin/env python3
"""An independent reading of ../shared/docs/scoring-2023.md, used only as a test oracle.

It restates the contract's two indicator tables by hand (not from our framework files) and
scores a cohort with Python's exact fractions, printing the same JSON as `dtictl score`.
The differential test in services/dtictl/tests/oracle.rs compares the two on generated
cohorts, which checks both the engine and the framework data files against the contract.
"""
import json
import sys
from fractions import Fraction as F

R = lambda n, d, *t: ("ratio", n, d) + t


def booleans(first, last, points=10):
    return {f"6.{i}": (points, "boolean") for i in range(first, last + 1)}


DEPARTMENT = {
    "1.1": (10, "head_role"), "1.2": (10,) + R("a", "b"), "1.3": (10,) + R("a", "b"),
    "1.4": (10, "portal_posts"), "2.1": (5, "boolean"), "2.2": (10, "boolean"),
    "2.3": (10,) + R("a", "b"), "3.1": (5, "all_or_nothing"), "3.2": (5, "all_or_nothing"),
    "3.3": (30, "tiers_3_3"), "3.4": (30, "split_halves"),
    "4.1": (10, "minmax_ratio", "a+b+c+d", "e+f"), "4.2": (10, "boolean"), "4.3": (10,) + R("a", "b"),
    "5.1": (10, "minmax_count"), "5.2": (10,) + R("a", "b"), "5.3": (10,) + R("a", "b"),
    "5.4": (5,) + R("a", "b"), "6.1": (10, "portal_tech"), "6.2": (5,) + R("a", "b"),
    "6.3": (10,) + R("c+d", "a+b"), "6.4": (5, "target", "b", "a", F(9, 10)),
    **booleans(5, 12), "6.13": (10, "growth"), "6.14": (10, "target", "a", "b", F(8, 10)),
}
DISTRICT = {
    "1.1": (10, "head_role"), "1.2": (10,) + R("a", "b"), "1.3": (10,) + R("a", "b"),
    "1.4": (10, "portal_posts"), "1.5": (20, "frequency"), "2.1": (5, "boolean"), "2.2": (5, "boolean"),
    "2.3": (10, "boolean"), "2.4": (10,) + R("a", "b"), "2.5": (10, "boolean"), "2.6": (10, "boolean"),
    "3.1": (5, "all_or_nothing"), "3.2": (5, "all_or_nothing"), "3.3": (30, "tiers_3_3"),
    "3.4": (30, "split_halves"), "4.1": (10,) + R("a", "b"), "4.2": (10,) + R("a", "b"),
    "4.3": (10,) + R("a+b+c+d", "e+f"), "4.4": (10, "boolean"), "4.5": (10,) + R("a", "b"),
    "4.6": (5,) + R("a", "b"), "4.7": (5, "target", "a", "b", F(1, 2)), "5.1": (10, "minmax_count"),
    "5.2": (10,) + R("a", "b"), "5.3": (10,) + R("a", "b"), "5.4": (5,) + R("a", "b"),
    "6.1": (10, "portal_tech"), "6.2": (10,) + R("c+d", "a+b"), "6.3": (20, "target", "b+c", "a", F(1, 2)),
    "6.4": (5, "target", "b", "a", F(9, 10)), **booleans(5, 12), "6.13": (10, "growth"),
    "6.14": (10, "target", "a", "b", F(8, 10)), "6.15": (20,) + R("a", "b"), "6.16": (20,) + R("a", "b"),
    "7.1": (30, "target", "a", "b", F(1, 2)), "7.2": (30, "target", "a", "b", F(8, 10)),
    "7.3": (30,) + R("a", "b"), "8.1": (20,) + R("a", "b"), "8.2": (20, "target", "a", "b", F(6, 10)),
    "8.3": (20, "target", "a", "b", F(1, 2)), "8.4": (10, "target", "a", "b", F(7, 10)),
    "8.5": (20, "activities"), "9.1": (20, "status"),
}
FRAMEWORKS = {"hcm-2023-department": DEPARTMENT, "hcm-2023-district": DISTRICT}
LEVELS = {
    "head_role": {"head": F(1), "deputy": F(1, 2), "none": F(0)},
    "frequency": {"weekly": F(1), "monthly": F(1, 2), "rarer": F(0)},
    "status": {"deployed": F(1), "in_progress": F(1, 2), "none": F(0)},
}


def clamp(x):
    return max(F(0), min(F(1), x))


def total(v, expr):
    return sum(v[name] for name in expr.split("+"))


def fraction(v, num, den):
    return F(total(v, num), total(v, den))


def score(spec, v):
    points, kind = spec[0], spec[1]
    if kind in LEVELS:
        return LEVELS[kind][v[kind]] * points
    if kind == "boolean":
        return F(points) if v["yes"] else F(0)
    if kind == "ratio":
        return clamp(fraction(v, spec[2], spec[3])) * points
    if kind == "target":
        r, t = fraction(v, spec[2], spec[3]), spec[4]
        return F(points) if r >= t else clamp(r / t) * points
    if kind == "all_or_nothing":
        return F(points) if F(v["a"], v["b"]) >= F(8, 10) else F(0)
    if kind == "tiers_3_3":
        r = F(v["a"], v["b"])
        return F(30) if r > F(8, 10) else F(15) if r >= F(1, 2) else F(0)
    if kind == "split_halves":
        return clamp(F(v["a"], v["b"])) * F(points, 2) + clamp(F(v["c"], v["d"])) * F(points, 2)
    if kind == "portal_posts":
        if not v["has_section"]:
            return F(0)
        p = v["posts"]
        return F(points) if p >= 20 else F(points, 2) if p >= 10 else F(points, 4)
    if kind == "portal_tech":
        return (F(4, 5) * points if v["meets_requirements"] else 0) + (F(1, 5) * points if v["ipv6"] else 0)
    if kind == "growth":
        g = F(v["a"], v["b"]) - 1
        return F(points) if g >= F(1, 10) else clamp(g / F(1, 10)) * points
    if kind == "activities":
        good = sum(1 for a in v["activities"] if a["reports"] > 0 and F(a["resolved"], a["reports"]) >= F(8, 10))
        return F(min(good, points))
    raise ValueError(kind)


def cents(x):
    return (x * 100 + F(1, 2)).__floor__()


def money(c):
    return "%d.%02d" % (c // 100, c % 100)


def main(path):
    cohort = json.load(open(path) if path != "-" else sys.stdin)
    framework = FRAMEWORKS[cohort["framework"]]
    units = cohort["units"]
    ranges = {}
    for code, spec in framework.items():
        if spec[1] not in ("minmax_ratio", "minmax_count"):
            continue
        xs = {}
        for u in units:
            if code in u.get("not_applicable", []) or code not in u.get("values", {}):
                continue
            v = u["values"][code]
            xs[u["unit"]] = F(v["a"]) if spec[1] == "minmax_count" else clamp(fraction(v, spec[2], spec[3]))
        ranges[code] = xs
    results = []
    for u in units:
        indicators = {}
        for code, spec in framework.items():
            if code in u.get("not_applicable", []):
                s = F(spec[0])
            elif code not in u.get("values", {}):
                s = F(0)
            elif code in ranges:
                xs = ranges[code]
                lo, hi, x = min(xs.values()), max(xs.values()), xs[u["unit"]]
                s = (F(spec[0]) if x > 0 else F(0)) if lo == hi else (x - lo) / (hi - lo) * spec[0]
            else:
                s = score(spec, u["values"][code])
            indicators[code] = cents(s)
        groups = {}
        for code, c in indicators.items():
            groups[code.split(".")[0]] = groups.get(code.split(".")[0], 0) + c
        results.append((u["unit"], indicators, groups, sum(indicators.values())))
    out = []
    for unit, indicators, groups, tot in results:
        rank = 1 + sum(1 for other in results if other[3] > tot)
        out.append({"unit": unit, "indicators": {k: money(c) for k, c in indicators.items()},
                    "groups": {k: money(c) for k, c in groups.items()}, "total": money(tot), "rank": rank})
    json.dump({"framework": cohort["framework"], "units": out}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
