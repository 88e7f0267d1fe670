# CLI: mullama serve driven by the real client libraries from PyPI, the
# official `ollama` and `openai` packages (venv made by tests/pyenv.sh):
# generate, chat, streaming and not, list, show, ps, embeddings; the text
# must equal `mullama run` with the same seed.
REAL_HOME=$HOME
. tests/cli/lib.sh
. tests/cli/serve_lib.sh
s=$(model stories260K.gguf)
m=$(model SmolLM2-135M-Instruct.Q4_1.gguf)
if [ -z "$s" ] || [ -z "$m" ]; then
        skip "serve clients: all" "stories260K.gguf / SmolLM2 not in tests/models (make models)"
        exit 0
fi
if ! py=$(MULLAMA_VENV=${MULLAMA_VENV:-$REAL_HOME/.cache/mullama-venv} tests/pyenv.sh 2>"$TMP/pyenv.err"); then
        fail "serve clients: python venv with ollama and openai" "$(tail -3 "$TMP/pyenv.err")"
        exit 1
fi
trap 'stop_server; rm -rf "$TMP"' EXIT
printf 'FROM %s\n' "$s" > "$TMP/Modelfile.story"; "$MU" create story -f "$TMP/Modelfile.story" >/dev/null 2>&1
printf 'FROM %s\n' "$m" > "$TMP/Modelfile.smol"; "$MU" create smol -f "$TMP/Modelfile.smol" >/dev/null 2>&1
want_gen=$("$MU" run story --raw --seed 7 -n 20 "Once upon a time" 2>/dev/null)
want_chat=$("$MU" run smol --seed 3 -n 10 "What is the capital of France?" 2>/dev/null)
if ! start_server clients --parallel 2; then fail "serve clients: server starts" "$(cat "$SRV_LOG")"; exit 1; fi
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
"$py" - "http://127.0.0.1:$PORT" "$want_gen" "$want_chat" <<'PY'
import json, math, sys, traceback
import ollama, openai

host, want_gen, want_chat = sys.argv[1], sys.argv[2], sys.argv[3]
failed = False

def check(name, fn):
    global failed
    try:
        fn()
        print("PASS serve clients: " + name)
    except Exception as e:
        failed = True
        msg = (str(e) or type(e).__name__).replace("\n", " ")[:300]
        print("FAIL serve clients: %s: %s" % (name, msg))

c = ollama.Client(host=host)
q = "What is the capital of France?"

def gen():
    r = c.generate(model="story", prompt="Once upon a time", raw=True, options={"seed": 7, "num_predict": 20})
    assert r.response == want_gen, (r.response, want_gen)
    assert r.done and r.eval_count == 20 and r.total_duration > 0
def gen_stream():
    parts = list(c.generate(model="story", prompt="Once upon a time", raw=True, stream=True,
                            options={"seed": 7, "num_predict": 20}))
    assert parts[-1].done and parts[-1].done_reason == "length"
    text = "".join(p.response for p in parts)
    assert text == want_gen, (text, want_gen)
def fresh():
    # an empty KV cache, as `mullama run` starts with: a reused prefix makes
    # the rest evaluate in other batch sizes, which round differently
    c.generate(model="smol", keep_alive=0)

def chat():
    fresh()
    r = c.chat(model="smol", messages=[{"role": "user", "content": q}], options={"seed": 3, "num_predict": 10})
    assert r.message.role == "assistant" and r.message.content == want_chat, (r.message.content, want_chat)
def chat_stream():
    fresh()
    parts = list(c.chat(model="smol", messages=[{"role": "user", "content": q}], stream=True,
                        options={"seed": 3, "num_predict": 10}))
    text = "".join(p.message.content for p in parts)
    assert text == want_chat and parts[-1].done, (text, want_chat)
def lst():
    names = [m.model for m in c.list().models]
    assert "story:latest" in names and "smol:latest" in names, names
def show():
    r = c.show("smol")
    assert r.details.family == "llama" and r.modelinfo["general.architecture"] == "llama"
def ps():
    names = [m.model for m in c.ps().models]
    assert "smol:latest" in names, names
def embed():
    r = c.embed(model="smol", input=["The sky is blue.", "Paris is in France."])
    assert len(r.embeddings) == 2 and len(r.embeddings[0]) == 576
    assert abs(math.sqrt(sum(x * x for x in r.embeddings[0])) - 1) < 1e-3
def missing():
    try:
        c.generate(model="nope", prompt="x")
    except ollama.ResponseError as e:
        assert e.status_code == 404, e.status_code
        return
    raise AssertionError("no error for an unknown model")

def structured():
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"]}
    r = c.chat(model="smol", messages=[{"role": "user", "content": q + " Respond in JSON."}], format=schema,
               options={"temperature": 0, "num_predict": 100})
    o = json.loads(r.message.content)
    assert set(o) == {"city", "population"} and isinstance(o["city"], str) and type(o["population"]) is int, o

for n, f in [("ollama structured output (JSON schema)", structured), ("ollama generate", gen), ("ollama generate stream", gen_stream), ("ollama chat", chat),
             ("ollama chat stream", chat_stream), ("ollama list", lst), ("ollama show", show),
             ("ollama ps", ps), ("ollama embed", embed), ("ollama unknown model raises 404", missing)]:
    check(n, f)

o = openai.OpenAI(base_url=host + "/v1", api_key="unused")
def ochat():
    fresh()
    r = o.chat.completions.create(model="smol", messages=[{"role": "user", "content": q}], seed=3, max_tokens=10)
    assert r.choices[0].message.content == want_chat, (r.choices[0].message.content, want_chat)
    assert r.usage.completion_tokens == 10 and r.choices[0].finish_reason == "length"
def ochat_stream():
    fresh()
    chunks = list(o.chat.completions.create(model="smol", messages=[{"role": "user", "content": q}], seed=3,
                                            max_tokens=10, stream=True, stream_options={"include_usage": True}))
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == want_chat, (text, want_chat)
    assert chunks[-1].usage.completion_tokens == 10
def ocomp():
    r = o.completions.create(model="story", prompt="Once upon a time", seed=7, max_tokens=20)
    assert r.choices[0].text == want_gen, (r.choices[0].text, want_gen)
def omodels():
    ids = [m.id for m in o.models.list()]
    assert "story:latest" in ids, ids
def oembed():
    r = o.embeddings.create(model="smol", input=["hello", "world"])
    assert len(r.data) == 2 and len(r.data[0].embedding) == 576
def omissing():
    try:
        o.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    except openai.NotFoundError:
        return
    raise AssertionError("no NotFoundError")

for n, f in [("openai chat", ochat), ("openai chat stream with usage", ochat_stream),
             ("openai completions", ocomp), ("openai models", omodels), ("openai embeddings", oembed),
             ("openai unknown model raises NotFoundError", omissing)]:
    check(n, f)
sys.exit(1 if failed else 0)
PY
exit 0
