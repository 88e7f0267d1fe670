#!/usr/bin/env python3
"""compare.py -- mullama vs llama.cpp on the same GGUF files, same threads,
same prompt and generation lengths, runs alternated so drift hits both.

  bench/compare.sh [--threads 1,2] [-p 512] [-n 128] [--reps 5] [--rounds 2]
                   [--depth 0] [--anchors DIR] [--out FILE.md] MODEL...

For each round, model and thread count it runs `mullama bench` and
llama.cpp's llama-bench (anchors/llama-bench.sh: stock llama-bench linked to
the prebuilt npm libraries) one after the other, alternating which goes first.
Load time and peak RSS: mullama's own figures (warm load to first token,
getrusage peak) vs a llama-bench run of the same test measured from outside
(wall time of a pp1/tg1 run, and the child's peak RSS from wait4).
Prints a Markdown table of ours / llama.cpp ratios (> 1 means mullama is
faster for t/s, < 1 means mullama is smaller/faster for load and RSS).
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time, statistics

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)

def run_child(cmd, cwd=None):
    """Run cmd, return (stdout, wall seconds, peak RSS bytes of the child)."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    out, err = p.communicate()
    wall = time.time() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.stderr.write(err.decode(errors="replace")[-2000:])
        raise SystemExit(f"compare: {' '.join(cmd[:3])}... failed with {p.returncode}")
    return out.decode(), wall, ru.ru_maxrss * 1024

def peak_rss_of(cmd, cwd=None):
    # RUSAGE_CHILDREN is a max over all children so far: measure in a fresh python
    code = ("import resource,subprocess,sys;"
            "p=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss*1024);"
            "sys.exit(p.returncode)")
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code] + cmd, cwd=cwd, capture_output=True,
                         text=True)
    return int(out.stdout.strip() or 0), time.time() - t0

def ours(mu, model, t, p, n, reps, depth):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    cmd = [mu, "bench", model, "-t", str(t), "-p", str(p), "-n", str(n), "-r", str(reps),
           "-d", str(depth), "--no-digest", "--output", path]
    run_child(cmd)
    rows = json.load(open(path))
    os.unlink(path)
    pp = next((r for r in rows if r["n_prompt"] == p and r["n_gen"] == 0), None)
    tg = next((r for r in rows if r["n_gen"] == n and r["n_prompt"] == 0), None)
    return {"pp": pp and pp["avg_ts"], "tg": tg and tg["avg_ts"],
            "load_ms": rows[0]["load_warm_ns"] / 1e6, "rss": rows[0]["peak_rss_bytes"]}

def theirs(anchors, model, t, p, n, reps, depth):
    extra = ["--", "-d", str(depth)] if depth else []
    out, _, _ = run_child([os.path.join(anchors, "llama-bench.sh"), "--model", model,
                           "--threads", str(t), "--prompt-tokens", str(p), "--gen-tokens",
                           str(n), "--reps", str(reps)] + extra)
    rows = json.loads(out)
    pp = next((r for r in rows if r["n_prompt"] == p and r["n_gen"] == 0), None)
    tg = next((r for r in rows if r["n_gen"] == n and r["n_prompt"] == 0), None)
    return {"pp": pp and pp["avg_ts"], "tg": tg and tg["avg_ts"]}

def their_load_rss(anchors, model, t):
    """Load-to-first-token and peak RSS of llama.cpp: node-llama-cpp's bench
    reports load_ms; peak RSS from a pp1/tg1 llama-bench child."""
    bins = os.path.join(anchors, "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64")
    exe = os.path.join(anchors, "build/llama-bench")
    rss, wall = peak_rss_of([exe, "-m", os.path.abspath(model), "-t", str(t), "-p", "1",
                             "-n", "1", "-r", "1", "--no-warmup"], cwd=bins)
    try:
        out, _, _ = run_child(["node", os.path.join(anchors, "llamacpp-bench.mjs"), "--model",
                               model, "--threads", str(t), "--prompt-tokens", "16",
                               "--gen-tokens", "4", "--reps", "1"])
        load_ms = json.loads(out)["load_ms"]
    except SystemExit:
        load_ms = wall * 1000
    return load_ms, rss

def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "—"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--depth", type=int, default=0)
    ap.add_argument("--anchors", default=os.environ.get("MULLAMA_ANCHORS",
                                                       os.path.join(root, "../shared/anchors")))
    ap.add_argument("--mullama", default=os.path.join(root, "mullama"))
    ap.add_argument("--out")
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    threads = [int(x) for x in a.threads.split(",")]
    res = {}
    for rnd in range(a.rounds):
        for m in a.models:
            for t in threads:
                key = (m, t)
                r = res.setdefault(key, {"ours": [], "theirs": []})
                order = [0, 1] if (rnd + t) % 2 == 0 else [1, 0]
                for which in order:
                    sys.stderr.write(f"compare: round {rnd + 1}/{a.rounds} {os.path.basename(m)} "
                                     f"t={t} {'mullama' if which == 0 else 'llama.cpp'}\n")
                    if which == 0:
                        r["ours"].append(ours(a.mullama, m, t, a.p, a.n, a.reps, a.depth))
                    else:
                        r["theirs"].append(theirs(a.anchors, m, t, a.p, a.n, a.reps, a.depth))
    lines = []
    dep = f" @ d{a.depth}" if a.depth else ""
    lines.append(f"| model | threads | pp{a.p}{dep} ours | llama.cpp | ratio | tg{a.n}{dep} ours "
                 f"| llama.cpp | ratio | load ms ours | llama.cpp | ratio | peak RSS MiB ours "
                 f"| llama.cpp | ratio |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (m, t), r in res.items():
        med = lambda L, k: statistics.median([x[k] for x in L if x[k]]) if any(x[k] for x in L) else None
        opp, tpp = med(r["ours"], "pp"), med(r["theirs"], "pp")
        otg, ttg = med(r["ours"], "tg"), med(r["theirs"], "tg")
        oload = med(r["ours"], "load_ms")
        orss = med(r["ours"], "rss")
        tload, trss = their_load_rss(a.anchors, m, t)
        f = lambda x: f"{x:.1f}" if x else "—"
        lines.append(f"| {os.path.basename(m)} | {t} | {f(opp)} | {f(tpp)} | {ratio(opp, tpp)} | "
                     f"{f(otg)} | {f(ttg)} | {ratio(otg, ttg)} | {f(oload)} | {f(tload)} | "
                     f"{ratio(oload, tload)} | {f(orss / 2**20)} | {f(trss / 2**20)} | "
                     f"{ratio(orss, trss)} |")
    hdr = (f"mullama {subprocess.run([a.mullama, '--version'], capture_output=True, text=True).stdout.splitlines()[0]}"
           f" vs llama.cpp (anchors: {a.anchors}); p={a.p} n={a.n} reps={a.reps} rounds={a.rounds}; "
           f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; {os.uname().nodename} "
           f"{os.cpu_count()} cpus")
    text = hdr + "\n\n" + "\n".join(lines) + "\n"
    print(text)
    if a.out:
        open(a.out, "w").write(text)

if __name__ == "__main__":
    main()
