#!/usr/bin/env python3
"""repl_ttft.py -- time to first token, turn by turn, of a scripted chat in
`mullama run MODEL` on a real pseudo-terminal.  The REPL keeps the KV cache
of earlier turns, so turn 10's time to first token should be close to turn
1's (only the new message is evaluated), not growing with the conversation.

Per turn: TTFT measured from outside (Enter sent -> first answer byte on the
terminal) and the REPL's own --verbose lines (prompt eval count/duration).
Usage: bench/repl_ttft.py [MODEL] [TURNS] [NUM_PREDICT]
Prints a table; exit 1 when turn N's outside TTFT is over 2x turn 1's."""
import os, pty, re, select, sys, time, fcntl, termios, struct

model = sys.argv[1] if len(sys.argv) > 1 else "tests/models/SmolLM2-135M-Instruct.Q4_1.gguf"
turns = int(sys.argv[2]) if len(sys.argv) > 2 else 10
predict = int(sys.argv[3]) if len(sys.argv) > 3 else 16
mu = os.environ.get("MULLAMA_BIN", "./mullama")
questions = ["What is the capital of France?", "And of Italy?", "Which one is bigger?",
             "Name a river in the first one.", "How long is it?", "Name a painter from there.",
             "What did he paint?", "Is it in a museum?", "Which museum?", "Thanks, summarize."]

pid, fd = pty.fork()
if pid == 0:
    env = dict(os.environ, MULLAMA_NOHISTORY="1")
    os.execvpe(mu, [mu, "run", model, "--verbose", "--temperature", "0",
                    "-n", str(predict)], env)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))

buf = b""
def read_until(pred, timeout=600):
    """Read until pred(buf) is true; returns the time it first was."""
    global buf
    end = time.time() + timeout
    while not pred(buf):
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            raise SystemExit("timeout; screen tail: %r" % buf[-300:])
        try:
            data = os.read(fd, 65536)
        except OSError:
            raise SystemExit("mullama exited; tail: %r" % buf[-300:])
        buf += data
    return time.time()

ansi = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\r|[\xe2][\xa0-\xa3][\x80-\xbf] ?")
read_until(lambda b: b.rstrip().endswith(b">>>"))
rows = []
in_cache = 0  # tokens already in the KV cache: everything evaluated so far
for t in range(turns):
    q = questions[t % len(questions)]
    buf = b""
    t0 = time.time()
    os.write(fd, q.encode() + b"\r")
    # the echo ends with a newline; the first visible byte after it is the answer
    read_until(lambda b: b"\n" in b)
    def answered(b):
        after = ansi.sub(b"", b.split(b"\n", 1)[1])
        return len(after.strip()) > 0
    t1 = read_until(answered)
    read_until(lambda b: b"eval rate:" in b and b.rstrip().endswith(b">>>"))
    text = buf.decode("utf-8", "replace")
    pc = int(re.search(r"prompt eval count:\s+(\d+)", text).group(1))
    m = re.search(r"prompt eval duration:\s+([0-9.]+)(ms|s)", text)
    pd = float(m.group(1)) * (1 if m.group(2) == "ms" else 1000)
    ec = int(re.search(r"\neval count:\s+(\d+)", text).group(1))
    rows.append((t + 1, in_cache, pc, pd, (t1 - t0) * 1000))
    in_cache += pc + ec
os.write(fd, b"/bye\r")
os.waitpid(pid, 0)

print("| turn | tokens in cache before (approx.) | prompt eval count | prompt eval ms | TTFT ms (outside) |")
print("| ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print("| %d | %d | %d | %.1f | %.1f |" % r)
ratio = rows[-1][4] / rows[0][4]
print("turn %d / turn 1 TTFT: %.2f" % (rows[-1][0], ratio))
sys.exit(0 if ratio <= 2 else 1)
