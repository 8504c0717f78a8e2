"""Fetch GraphiQL's files from the npm registry into api/graphiql/vendor/, checking each against the
integrity hash pinned here (those strawberry's own GraphiQL page pins), with the packages' licences.

    python tools/vendor_graphiql.py

Run it only to change versions: the files are committed, so the app serves GraphiQL with no internet
and no CDN (unpkg and jsDelivr are unreachable offline and slow or blocked in mainland China).
"""
from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
VENDOR = Path(__file__).resolve().parent.parent / "api" / "graphiql" / "vendor"

# package, version, {file in the package: (name here, sha384)}
PACKAGES = [
    ("react", "18.2.0", {"umd/react.production.min.js": (
        "react.production.min.js", "tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8")}),
    ("react-dom", "18.2.0", {"umd/react-dom.production.min.js": (
        "react-dom.production.min.js", "bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh")}),
    ("graphiql", "3.8.3", {
        "graphiql.min.js": ("graphiql.min.js", "HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"),
        "graphiql.min.css": ("graphiql.min.css", "Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM")}),
    ("@graphiql/plugin-explorer", "1.0.2", {
        "dist/index.umd.js": ("plugin-explorer.umd.js",
                              "2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9"),
        "dist/style.css": ("plugin-explorer.css", "5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi")}),
]


def sha384(data: bytes) -> str:
    return base64.b64encode(hashlib.sha384(data).digest()).decode()


def main() -> None:
    VENDOR.mkdir(parents=True, exist_ok=True)
    licences = []
    for package, version, files in PACKAGES:
        url = f"{REGISTRY}/{package}/-/{package.split('/')[-1]}-{version}.tgz"
        with urllib.request.urlopen(url, timeout=60) as response:
            archive = tarfile.open(fileobj=io.BytesIO(response.read()), mode="r:gz")
        members = {member.name.removeprefix("package/"): member for member in archive.getmembers()}
        for inside, (name, expected) in files.items():
            data = archive.extractfile(members[inside]).read()
            if sha384(data) != expected:
                sys.exit(f"{package}@{version} {inside}: integrity sha384-{sha384(data)}, expected sha384-{expected}")
            (VENDOR / name).write_bytes(data)
        licence = archive.extractfile(members["LICENSE"]).read().decode() if "LICENSE" in members else \
            "MIT (package.json); the graphiql monorepo's LICENSE applies, see graphiql above.\n"
        licences.append(f"## {package} {version} ({url})\n\n{licence.strip()}\n")
    (VENDOR / "LICENSES.md").write_text("# Licences of the files in this folder\n\n" + "\n".join(licences))
    print(f"wrote {VENDOR}")


if __name__ == "__main__":
    main()
