# CLI: a bounded fuzz of `mullama serve` (a few seconds): mutated and random
# JSON bodies on every endpoint, then malformed HTTP from a raw socket
# client.  The server must answer each request it can parse with a JSON
# error or a normal answer (never 5xx but 501 for unimplemented), and keep
# serving: afterwards GET / and a generation still work.
# FUZZ_N (default 300) bodies, FUZZ_SEED (default 1).
. tests/cli/lib.sh
. tests/cli/serve_lib.sh
s=$(model stories260K.gguf)
if [ -z "$s" ]; then skip "serve fuzz: all" "stories260K.gguf not in tests/models"; exit 0; fi
trap 'stop_server; rm -rf "$TMP"' EXIT
printf 'FROM %s\n' "$s" > "$TMP/Modelfile"; "$MU" create story -f "$TMP/Modelfile" >/dev/null 2>&1
if ! start_server fuzz --parallel 2 --max-queue 64 --max-body 64k; then
        fail "serve fuzz: server starts" "$(cat "$SRV_LOG")"; exit 1
fi
python3 - "$PORT" "${FUZZ_N:-300}" "${FUZZ_SEED:-1}" <<'PY'
import json, random, socket, sys, time
port, n, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
opts = {"num_predict": 3, "temperature": 0}
seeds = [
    ("POST", "/api/generate", {"model": "story", "prompt": "Once", "raw": True, "options": opts, "stream": False}),
    ("POST", "/api/generate", {"model": "story", "prompt": "Once", "format": "json", "options": opts, "keep_alive": "5m"}),
    ("POST", "/api/chat", {"model": "story", "messages": [{"role": "user", "content": "hi"}], "options": opts}),
    ("POST", "/api/embed", {"model": "story", "input": ["a", "b"], "dimensions": 4}),
    ("POST", "/api/embeddings", {"model": "story", "prompt": "a"}),
    ("POST", "/api/show", {"model": "story", "verbose": True}),
    ("POST", "/api/create", {"model": "fz", "from": "story", "parameters": {"top_k": 3}, "stream": False}),
    ("POST", "/api/copy", {"source": "story", "destination": "fz2"}),
    ("DELETE", "/api/delete", {"model": "fz2"}),
    ("POST", "/api/pull", {"model": "story", "stream": False}),
    ("POST", "/v1/chat/completions", {"model": "story", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stream": True}),
    ("POST", "/v1/completions", {"model": "story", "prompt": "Once", "max_tokens": 3, "stop": ["x"]}),
    ("POST", "/v1/embeddings", {"model": "story", "input": "a", "encoding_format": "base64"}),
]
odd = [None, True, 0, -1, 1e308, -1e308, "", "x" * 3000, [], {}, [1, [2, [3]]], {"a": {"b": None}},
       "\u0000", "\ud800", 2**63, "-1", "5m", "json", 12.5]

def mutate_obj(o):
    o = json.loads(json.dumps(o))
    for _ in range(rnd.randint(1, 3)):
        k = rnd.choice(list(o.keys()) + ["options", "extra", "messages", "format", "stream"])
        r = rnd.random()
        if r < 0.5:
            o[k] = rnd.choice(odd)
        elif r < 0.7 and isinstance(o.get("options"), dict):
            o["options"][rnd.choice(["num_ctx", "top_k", "stop", "seed", "num_predict", "nope"])] = rnd.choice(odd)
        elif r < 0.85:
            o.pop(k, None)
        else:
            o[k] = {"deep": [[[[[]]]]], "s": "\U0001F600" * 10}
    if isinstance(o.get("options"), dict):
        o["options"]["num_predict"] = 3   # keep generations short
    return json.dumps(o, ensure_ascii=rnd.random() < 0.5).encode("utf-8", "surrogatepass")

def mutate_bytes(b):
    b = bytearray(b)
    for _ in range(rnd.randint(1, 8)):
        op = rnd.random()
        if op < 0.4 and b:
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif op < 0.6 and b:
            del b[rnd.randrange(len(b)):]
        elif op < 0.8:
            b[rnd.randrange(len(b) + 1):0] = rnd.choice([b"{", b"[", b"\"", b"\\u12", b"\x00", b"1e99999", b",,", b"}}"])
        else:
            b += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 50)))
    return bytes(b)

def send(raw, timeout=2.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    except socket.timeout:
        return b"TIMEOUT"
    finally:
        s.close()

def request(method, path, body):
    head = "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (method, path, len(body))
    return send(head.encode() + body)

bad = []
statuses = {}
t_end = time.time() + 60
for i in range(n):
    if time.time() > t_end:
        break
    method, path, obj = rnd.choice(seeds)
    r = rnd.random()
    if r < 0.5:
        body = mutate_obj(obj)
    elif r < 0.8:
        body = mutate_bytes(json.dumps(obj).encode())
    elif r < 0.9:
        body = rnd.choice([b"[" * 5000, b"{\"a\":" * 3000, b"", b"null", b"\"str\"", b"1", b"\xff\xfe\x00", b"{\"model\":\"story\"}" * 3])
    else:
        body = bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 300)))
    resp = request(method, path, body)
    if resp == b"TIMEOUT":
        statuses["timeout"] = statuses.get("timeout", 0) + 1
        continue
    try:
        status = int(resp.split(b" ", 2)[1])
    except Exception:
        bad.append((path, body[:80], resp[:80]))
        continue
    statuses[status] = statuses.get(status, 0) + 1
    if status >= 500 and not (status == 501 and path == "/api/pull"):
        bad.append((path, body[:120], resp[:200]))

# malformed HTTP from a raw socket
raws = [b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n",
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"H: v\r\n" * 5000 + b"\r\n",
        b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"",
        b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /api/tags?%zz=%%%% HTTP/1.1\r\nHost: x\r\n\r\n"]
for raw in raws:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(raw)
        if raw.endswith(b"{\"model\""):
            s.close()      # half a body, then gone
            continue
        try:
            s.recv(4096)
        except socket.timeout:
            pass
        s.close()
    except OSError:
        pass
ok = not bad
print(("PASS" if ok else "FAIL") + " serve fuzz: %d bodies on every endpoint, statuses %s%s" % (
    sum(statuses.values()), dict(sorted(statuses.items(), key=str)), "" if ok else ": " + repr(bad[:3])))
resp = send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print(("PASS" if resp.startswith(b"HTTP/1.1 200") else "FAIL") + " serve fuzz: still serving after malformed HTTP")
PY
http POST /api/generate '{"model":"story","prompt":"Once upon a time","raw":true,"stream":false,"options":{"temperature":0,"num_predict":8}}'
if printf '%s' "$BODY" | pyjson 'assert d["response"]==", there was a little girl"'; then pass "serve fuzz: generation still right afterwards"
else fail "serve fuzz: generation afterwards" "$CODE $BODY"; fi
if kill -0 "$SRV_PID" 2>/dev/null; then pass "serve fuzz: server alive"; else fail "serve fuzz: server alive" "$(tail -5 "$SRV_LOG")"; fi
stop_server
if [ "$SRV_RC" = 0 ]; then pass "serve fuzz: clean exit"; else fail "serve fuzz: clean exit" "rc $SRV_RC: $(grep -m3 -E 'ERROR|runtime error' "$SRV_LOG")"; fi
exit 0
