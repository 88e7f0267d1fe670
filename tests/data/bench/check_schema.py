#!/usr/bin/env python3
"""check_schema.py SCHEMA RESULT.json -- every row of a `mullama bench`
JSON result has every documented field with the documented type, and no
field the schema does not document.  Prints one problem per line; exit 1."""
import json, sys

def check(schema, obj, path, errs):
    for k, t in schema.items():
        if k not in obj:
            errs.append(f"{path}{k}: missing")
            continue
        v = obj[k]
        if isinstance(t, dict):
            if not isinstance(v, dict):
                errs.append(f"{path}{k}: expected object")
            else:
                check(t, v, f"{path}{k}.", errs)
            continue
        base, arr = (t[:-2], True) if t.endswith("[]") else (t, False)
        vals = v if arr else [v]
        if arr and not isinstance(v, list):
            errs.append(f"{path}{k}: expected array")
            continue
        for x in vals:
            ok = {"int": isinstance(x, int) and not isinstance(x, bool) or
                         (isinstance(x, float) and x.is_integer()),
                  "num": isinstance(x, (int, float)) and not isinstance(x, bool),
                  "str": isinstance(x, str), "bool": isinstance(x, bool)}[base]
            if not ok:
                errs.append(f"{path}{k}: {x!r} is not {base}")
    for k in obj:
        if k not in schema:
            errs.append(f"{path}{k}: not in the schema")

schema = json.load(open(sys.argv[1]))
rows = json.load(open(sys.argv[2]))
errs = []
if not isinstance(rows, list) or not rows:
    errs.append("result is not a non-empty array")
else:
    for i, r in enumerate(rows):
        check(schema, r, f"[{i}].", errs)
print("\n".join(errs))
sys.exit(1 if errs else 0)
