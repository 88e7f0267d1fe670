// llamacpp-logits.mjs -- llama.cpp's raw logits for a token sequence, for test goldens.
//
// usage: node tools/llamacpp-logits.mjs --model M.gguf --tokens 1,2,3 [--from K] [--top N]
//                                       [--anchors /work/anchors] [--threads 1]
// Evaluates the tokens in one sequence (no BOS added: pass it yourself) with llama.cpp
// (node-llama-cpp's prebuilt CPU libraries from the anchors directory) and prints, for
// each position p >= K (default: the last position only), one line:
//   p  id:logit id:logit ...     (top N by logit, N = 0: the whole vocabulary in id order)
// Logits are the model's raw output (no sampling options applied).
//
//        node tools/llamacpp-logits.mjs --model M.gguf --jsonl GOLDEN.jsonl [--top 2]
// For each line of a golden.mjs output file, evaluates prompt_tokens + greedy_tokens and
// prints, for each greedy step s (the logits that chose greedy_tokens[s]), one line:
//   PROMPT_FILE s id:logit id:logit ...   (top N, default 2)
import path from "node:path";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";

const { values: a } = parseArgs({
    options: {
        model: { type: "string" }, tokens: { type: "string" }, from: { type: "string" },
        top: { type: "string", default: "0" }, threads: { type: "string", default: "1" },
        anchors: { type: "string", default: process.env.ANCHORS || "/work/anchors" },
        ctx: { type: "string", default: "512" }, jsonl: { type: "string" }
    }
});
if (!a.model || (!a.tokens && !a.jsonl)) {
    console.error("usage: node llamacpp-logits.mjs --model M.gguf --tokens 1,2,3 [--from K] [--top N]");
    process.exit(2);
}
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
const req = createRequire(path.join(path.resolve(a.anchors), "package.json"));
const { getLlama, LlamaLogLevel } = await import(req.resolve("node-llama-cpp"));
import fs from "node:fs";
const toks = (a.tokens || "").split(",").filter((s) => s.length).map((s) => parseInt(s, 10));
const from = a.from !== undefined ? parseInt(a.from, 10) : toks.length - 1;
const top = parseInt(a.top, 10);
const llama = await getLlama({
    gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true,
    progressLogs: false, logLevel: LlamaLogLevel.error
});
const model = await llama.loadModel({ modelPath: path.resolve(a.model), gpuLayers: 0 });
const context = await model.createContext({ contextSize: Math.max(parseInt(a.ctx, 10), toks.length + 8),
    sequences: 1, threads: parseInt(a.threads, 10), batchSize: Math.max(toks.length, 512) });
const seq = context.getSequence();
if (a.jsonl) {
    const n = a.top !== "0" ? parseInt(a.top, 10) : 2;
    for (const line of fs.readFileSync(a.jsonl, "utf8").split("\n")) {
        if (!line.trim()) continue;
        const g = JSON.parse(line);
        const all = [...g.prompt_tokens, ...g.greedy_tokens];
        const k = g.prompt_tokens.length - 1;
        await seq.clearHistory();
        const r = await seq.controlledEvaluate(all.map((t, i) =>
            (i >= k && i < all.length - 1
                ? [t, { generateNext: { logits: { filter: { tokens: [], includeTop: n } } } }] : t)));
        for (let p = k; p < all.length - 1; p++) {
            const items = Array.from(r[p].next.logits.entries()).sort((x, y) => y[1] - x[1]).slice(0, n);
            console.log(`${g.prompt_file} ${p - k} ` + items.map(([id, v]) => `${id}:${v.toPrecision(9)}`).join(" "));
        }
    }
    await context.dispose();
    await model.dispose();
    process.exit(0);
}
const input = toks.map((t, i) => (i >= from ? [t, { generateNext: { logits: true } }] : t));
const res = await seq.controlledEvaluate(input);
for (let p = from; p < toks.length; p++) {
    const lg = res[p]?.next?.logits;
    if (!lg) throw new Error(`no logits at position ${p}`);
    let items;
    if (top > 0) {
        items = Array.from(lg.entries()).slice(0, top);
    } else {
        items = Array.from(lg.entries()).sort((x, y) => x[0] - y[0]);
    }
    console.log(`${p} ` + items.map(([id, v]) => `${id}:${v.toPrecision(9)}`).join(" "));
}
await context.dispose();
await model.dispose();
