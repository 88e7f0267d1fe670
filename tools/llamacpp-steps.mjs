// llamacpp-steps.mjs -- llama.cpp's logits at every step of its own greedy run.
//
// usage: node tools/llamacpp-steps.mjs --model M.gguf --jsonl GOLDEN.jsonl [--out DIR]
//                                      [--anchors /work/anchors] [--threads 1]
// For each line of a golden.mjs output file, runs llama.cpp the way golden.mjs does
// (same context size and threads; the prompt in one decode, then one decode per token,
// greedy) and prints, for each step s (the logits that chose token s), one line:
//   PROMPT_FILE s chosen id:logit id:logit id:logit id:logit     (the 4 highest logits)
// "chosen" is llama.cpp's greedy token; it must equal the golden's (a line
// "PROMPT_FILE mismatch s" says when it does not).
// With --out DIR, also writes DIR/PROMPT_FILE.f32: the whole logit vector of every step,
// float32 little endian, steps one after the other (for comparing with our logits).
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";

const { values: a } = parseArgs({
    options: {
        model: { type: "string" }, jsonl: { type: "string" }, out: { type: "string" },
        threads: { type: "string", default: "1" },
        anchors: { type: "string", default: process.env.ANCHORS || "/work/anchors" }
    }
});
if (!a.model || !a.jsonl) {
    console.error("usage: node llamacpp-steps.mjs --model M.gguf --jsonl GOLDEN.jsonl [--out DIR]");
    process.exit(2);
}
process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
const req = createRequire(path.join(path.resolve(a.anchors), "package.json"));
const { getLlama, LlamaLogLevel } = await import(req.resolve("node-llama-cpp"));
const llama = await getLlama({
    gpu: false, build: "never", skipDownload: true, usePrebuiltBinaries: true,
    progressLogs: false, logLevel: LlamaLogLevel.error
});
const model = await llama.loadModel({ modelPath: path.resolve(a.model), gpuLayers: 0 });
const context = await model.createContext({ contextSize: Math.min(model.trainContextSize, 4096),
    sequences: 1, threads: parseInt(a.threads, 10) });
const seq = context.getSequence();
let nv = 0;
if (a.out)
    fs.mkdirSync(a.out, { recursive: true });
const next = { generateNext: { token: true, logits: true, options: { temperature: 0 } } };

for (const line of fs.readFileSync(a.jsonl, "utf8").split("\n")) {
    if (!line.trim())
        continue;
    const g = JSON.parse(line);
    await seq.clearHistory();
    const chunks = [];
    let input = g.prompt_tokens.map((t, i) => (i === g.prompt_tokens.length - 1 ? [t, next] : t));
    for (let s = 0; s < g.greedy_tokens.length; s++) {
        const r = await seq.controlledEvaluate(input);
        const res = r[r.length - 1].next;
        if (!nv)
            for (const id of res.logits.keys())
                nv = Math.max(nv, id + 1);
        const v = new Float32Array(nv);
        for (const [id, x] of res.logits.entries())
            v[id] = x;
        const top = [];
        for (let k = 0; k < 4; k++) {
            let b = -1;
            for (let i = 0; i < nv; i++)
                if (!top.includes(i) && (b < 0 || v[i] > v[b])) b = i;
            top.push(b);
        }
        console.log(`${g.prompt_file} ${s} ${res.token} ` +
            top.map((i) => `${i}:${v[i].toPrecision(9)}`).join(" "));
        if (res.token !== g.greedy_tokens[s])
            console.log(`${g.prompt_file} mismatch ${s}`);
        chunks.push(Buffer.from(v.buffer));
        input = [[g.greedy_tokens[s], next]];
    }
    if (a.out)
        fs.writeFileSync(path.join(a.out, g.prompt_file + ".f32"), Buffer.concat(chunks));
}
await context.dispose();
await model.dispose();
