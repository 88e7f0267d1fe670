# CLI: JSON-schema constrained output end to end: /api/chat and
# /v1/chat/completions with a schema that uses $ref, anyOf, number bounds,
# string lengths, a pattern and enums (values the model would not pick by
# itself), greedy and sampled with several seeds; every answer must pass
# Python's jsonschema validator (the reference implementation here).
. tests/cli/lib.sh
. tests/cli/serve_lib.sh
m=$(model SmolLM2-135M-Instruct.Q4_1.gguf)
if [ -z "$m" ]; then skip "serve_schema: all" "SmolLM2 not in tests/models (make models)"; exit 0; fi
# the first python3 with jsonschema: PATH's, else Debian's (tests/deps.sh installs python3-jsonschema)
PY=
for p in python3 /usr/bin/python3; do
        if "$p" -c 'import jsonschema' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
        skip "serve_schema: all" "python3 jsonschema not installed (apt-get install python3-jsonschema)"
        exit 0
fi
trap 'stop_server; rm -rf "$TMP"' EXIT
cat >"$TMP/schema.json" <<'EOF'
{"type": "object",
 "$defs": {"code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
           "level": {"enum": ["low", "high"]}},
 "properties": {
   "name": {"type": "string", "minLength": 2, "maxLength": 6},
   "age": {"type": "integer", "minimum": 200, "maximum": 300},
   "ratio": {"type": "number", "exclusiveMinimum": -1, "maximum": -0.5},
   "code": {"$ref": "#/$defs/code"},
   "note": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/level"}]},
   "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "maxLength": 4}}},
 "required": ["name", "age", "ratio", "code", "note"]}
EOF
schema=$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$TMP/schema.json")
if ! start_server schema; then fail "serve_schema: starts" "$(cat "$SRV_LOG")"; exit 1; fi
check() { # NAME BODY-FILE (content extracted by the python snippet in $2)
        if "$PY" - "$TMP/schema.json" "$TMP/body" "$2" >"$TMP/why" 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
text = eval(sys.argv[3])
jsonschema.validate(json.loads(text), schema)
print(text)
PY
        then pass "$1: $(tr -s "\n " "  " <"$TMP/why" | head -c 160)"
        else fail "$1" "$(tail -c 400 "$TMP/why"; head -c 300 "$TMP/body")"; fi
}
q='Describe a person as JSON.'
for opt in '"temperature":0' '"temperature":1,"seed":1' '"temperature":1,"seed":2'; do
        http POST /api/chat "{\"model\":\"$m\",\"stream\":false,\"format\":$schema,\"messages\":[{\"role\":\"user\",\"content\":\"$q\"}],\"options\":{$opt,\"num_predict\":400}}"
        check "serve_schema: /api/chat ($opt) validates" 'd["message"]["content"]'
done
http POST /v1/chat/completions "{\"model\":\"$m\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"schema\":$schema}},\"messages\":[{\"role\":\"user\",\"content\":\"$q\"}],\"temperature\":0.7,\"seed\":5,\"max_tokens\":400}"
check "serve_schema: /v1 response_format json_schema validates" 'd["choices"][0]["message"]["content"]'
stop_server
exit $_failed
