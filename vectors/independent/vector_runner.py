"""The driver every independent checker shares.

It reads a vector file, validates it against the JSON schema beside it,
runs the checker's function for each vector's `kind` and prints one
verdict per file. It knows no protocol: every byte layout, primitive and
state machine stays in the checker that re-derives it from the spec, so a
checker still shares no protocol code with the Rust crates or with the
other checkers.

A check function takes the vector (a dict) and reports success by
returning None, "" or [] and failure by returning a reason (str), a list
of reasons, or by raising any exception (a crashing checker is a failure,
never a pass).

Output: `FAIL <name> (<kind>): <reason>` per failure, then
`<file>: N passed, M failed`. `main` returns the exit status: 0 all pass,
1 any failure; a missing dependency exits 2 at import.
"""

import json
import os
import sys

try:
    import jsonschema
except ImportError as e:  # pragma: no cover
    print(f"missing dependency: {e} (pip install jsonschema)")
    sys.exit(2)


VECTORS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def schema_path_of(path):
    """The schema beside a vector file (`x.json` -> `x.schema.json`), or the
    one of that name in `vectors/` for a copy kept elsewhere."""
    beside = path[: -len(".json")] + ".schema.json"
    return beside if os.path.exists(beside) else os.path.join(VECTORS, os.path.basename(beside))


def schema_errors(doc, schema_path):
    """Every way `doc` violates its schema, sorted by location."""
    with open(schema_path, encoding="utf-8") as fh:
        schema = json.load(fh)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:200]}" for e in errors]


def reasons(call, *args):
    """Runs a check and normalises its verdict to a list of reasons."""
    try:
        result = call(*args)
    except Exception as e:  # a checker crash is a failure, not a pass
        return [f"checker raised {type(e).__name__}: {e}"]
    if not result:
        return []
    return [result] if isinstance(result, str) else list(result)


def check_file(path, checks, file_checks=(), first_kinds=()):
    """Checks one vector file; returns the number of failures.

    `checks` maps a vector kind to its check function, or is a function of
    the parsed document that returns that map (for checks that need other
    vectors of the file). `file_checks` are `(label, function(doc))` pairs
    run once per file, such as a spec worked example. Vectors whose kind is
    in `first_kinds` run first (an outside check that the rest builds on).
    """
    label = os.path.basename(path)
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    failed = 0
    schema = schema_path_of(path)
    if not os.path.exists(schema):
        print(f"{label}: 0 passed, 1 failed (no schema {os.path.basename(schema)} beside it or in vectors/)")
        return 1
    problems = schema_errors(doc, schema)
    for msg in problems:
        print(f"FAIL schema: {msg}")
    failed += bool(problems)
    if not isinstance(doc, dict) or not isinstance(doc.get("vectors"), list):
        print(f"{label}: 0 passed, {failed + 1} failed (no vector list)")
        return failed + 1
    for what, call in file_checks:
        for msg in reasons(call, doc):
            print(f"FAIL {what}: {msg}")
            failed += 1
    table = checks(doc) if callable(checks) else checks
    vectors = doc["vectors"]
    order = sorted(range(len(vectors)), key=lambda i: _kind(vectors[i]) not in first_kinds)
    passed, seen = 0, set()
    for i in order:
        v = vectors[i]
        name, kind = (v.get("name", f"#{i}"), _kind(v)) if isinstance(v, dict) else (f"#{i}", "?")
        if not isinstance(v, dict):
            errs = ["not an object"]
        elif name in seen:
            errs = ["duplicate name"]
        elif kind not in table:
            errs = [f"unknown kind {kind!r}"]
        else:
            errs = reasons(table[kind], v)
        seen.add(name)
        for msg in errs:
            print(f"FAIL {name} ({kind}): {msg}")
        failed += bool(errs)
        passed += not errs
    print(f"{label}: {passed} passed, {failed} failed")
    return failed


def dispatching(check):
    """`checks` for a checker whose one function dispatches on the kind
    itself (and fails unknown kinds)."""
    return lambda doc: {_kind(v): check for v in doc["vectors"]}


def _kind(v):
    return v.get("kind", "?") if isinstance(v, dict) else "?"


def main(argv, default_paths, checks, self_tests=(), **options):
    """Runs the self-tests, then checks every file named on the command line
    (or `default_paths`); returns the exit status."""
    for test in self_tests:
        for msg in reasons(test):
            print(f"SELF-TEST FAILED ({test.__name__}): {msg}", file=sys.stderr)
            return 1
    paths = argv[1:] or default_paths
    failures = sum(check_file(p, checks, **options) for p in paths)
    return 1 if failures else 0
