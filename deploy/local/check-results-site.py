#!/usr/bin/env python3
"""Checks the public results site against a publication as `dtictl --json publication show`
printed it: the site's snapshot download hashes to the published content hash, its signature
checks with the site's public key (`openssl pkeyutl`, when the site signs), and its ranking
table (CSV) lists every published unit with the published rank and total.

Usage: check-results-site.py <site url> <year> <framework> <publication.json>"""
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def main():
    site, year, framework, publication_file = sys.argv[1:5]
    publication = json.load(open(publication_file))
    base = f"{site}/{year}/{framework}"
    failures = []
    snapshot = fetch(f"{base}/snapshot.json")
    digest = hashlib.sha256(snapshot).hexdigest()
    if digest != publication["contentHash"]:
        failures.append(f"snapshot.json hashes to {digest}, published {publication['contentHash']}")
    signed = "unsigned"
    try:
        public_key = fetch(f"{site}/signing-key.pem")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise
        public_key = None
    if public_key is not None:
        with tempfile.TemporaryDirectory() as scratch:
            paths = {name: os.path.join(scratch, name) for name in ("key.pem", "snapshot.json", "snapshot.json.sig")}
            open(paths["key.pem"], "wb").write(public_key)
            open(paths["snapshot.json"], "wb").write(snapshot)
            open(paths["snapshot.json.sig"], "wb").write(fetch(f"{base}/snapshot.json.sig"))
            checked = subprocess.run(
                ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["key.pem"], "-rawin",
                 "-in", paths["snapshot.json"], "-sigfile", paths["snapshot.json.sig"]],
                capture_output=True, text=True)
            if checked.returncode != 0:
                failures.append(f"the snapshot's signature does not verify: {checked.stdout}{checked.stderr}")
            signed = "signature verified by openssl"
    rows = list(csv.reader(io.StringIO(fetch(f"{base}/ranking.csv").decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    published = {rank["unitId"]: rank for rank in publication["ranks"]}
    if len(body) != len(published):
        failures.append(f"ranking.csv has {len(body)} units, the publication {len(published)}")
    for row in body:
        cells = set(row)
        unit = next((u for u in published if u in cells), None)
        if unit is None:
            failures.append(f"ranking.csv row {row} names no published unit")
            continue
        rank = published[unit]
        if str(rank["rank"]) not in cells or rank["total"] not in cells:
            failures.append(f"{unit}: published rank {rank['rank']} total {rank['total']}, site row {row}")
    fetch(base)  # the page itself renders
    if failures:
        print("results site differs from the publication:", *failures, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print(f"results site: {base} shows revision {publication['revision']} of {len(published)} "
          f"units exactly as published (snapshot sha256 {digest[:12]}…, {signed})")


main()
