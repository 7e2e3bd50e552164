#!/usr/bin/env python3
"""Validates every JSON and JSON-lines evidence member of an extracted bundle against the JSON
Schemas of format-spec/schemas/ (CONTENTS.md), with the independent `jsonschema` validator.

Usage: validate_contents.py EXTRACTED_DIR
Prints one line per member (`ok NAME records`), and exits 1 naming every record that does not
validate, or 2 when a member the collector always writes is absent.
"""
import json
import pathlib
import re
import sys

import jsonschema

SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "format-spec" / "schemas"

# (member name pattern, schema file, JSON lines?)
RULES = [
    (r"1-processes/processes\.json", "processes.schema.json", False),
    (r"2-network/sockets\.json", "sockets.schema.json", False),
    (r"5-filesystem/tree-index\.jsonl", "tree-entry.schema.json", True),
    (r"9-image/layers/[0-9]+\.jsonl", "tree-entry.schema.json", True),
    (r"5-filesystem/mounts\.json", "mounts.schema.json", False),
    (r"5-filesystem/upper-changes\.jsonl", "upper-change.schema.json", True),
    (r"5-filesystem/derived/(setuid|tmp-executables|recent)\.jsonl", "derived-entry.schema.json", True),
    (r"6-podspec/container\.json", "container.schema.json", False),
    (r"9-image/image\.json", "image.schema.json", False),
    (r"9-image/layers\.json", "layers.schema.json", False),
    (r"[1-9]-[a-z]+/commands\.jsonl", "command.schema.json", True),
    (r"[1-9]-[a-z]+/api-calls\.jsonl", "api-call.schema.json", True),
    (r"6-podspec/pod-containers\.json", "pod-containers.schema.json", False),
    (r"6-podspec/previous-inspect\.json", "containerd-inspect.schema.json", False),
    (r"6-podspec/offline-source\.json", "offline-source.schema.json", False),
]
ALWAYS = [
    "1-processes/processes.json",
    "2-network/sockets.json",
    "5-filesystem/tree-index.jsonl",
    "6-podspec/container.json",
    "9-image/image.json",
]


def validator(name):
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def main(root):
    root = pathlib.Path(root)
    members = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    # Collected offline (CONTENTS.md §17): sections 1-3 are gaps, the rest is always there.
    offline = "6-podspec/offline-source.json" in members
    always = [m for m in ALWAYS if not (offline and m.startswith(("1-", "2-")))]
    missing = [m for m in always if m not in members]
    if missing:
        print("missing: " + ", ".join(missing))
        return 2
    bad = 0
    for member in members:
        rule = next((r for r in RULES if re.fullmatch(r[0], member)), None)
        if rule is None and member == "6-podspec/inspect.json":
            # A client program's inspect output is verbatim and has no schema; containerd's API
            # document (CONTENTS.md §14) says what it is in its `api` key.
            try:
                doc = json.loads((root / member).read_text(encoding="utf-8"))
            except ValueError:
                doc = None
            if isinstance(doc, dict) and doc.get("api") == "containerd-grpc":
                rule = (member, "containerd-inspect.schema.json", False)
        if rule is None:
            continue
        v = validator(rule[1])
        data = (root / member).read_text(encoding="utf-8")
        records = [(i + 1, l) for i, l in enumerate(data.split("\n")) if l.strip()] if rule[2] else [(None, data)]
        errors = 0
        for line, text in records:
            for err in v.iter_errors(json.loads(text)):
                where = f"{member} line {line}" if line else member
                print(f"INVALID {where}: {'/'.join(map(str, err.absolute_path))}: {err.message}")
                errors += 1
        print(f"{'ok' if errors == 0 else 'bad'} {member} {len(records)}")
        bad += errors
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
