// special.mjs - llama.cpp's tokenization WITH special-token parsing, for the
// parse_special=true tests.  Same setup as /work/anchors/golden.mjs.
// usage: node special.mjs MODEL.gguf PROMPT_FILE...   (run with
// NODE_PATH=/work/anchors/node_modules, see regen.sh)
// Prints one JSON line per prompt: {"prompt_file", "tokenize_special": [...]}
// where tokenize_special = model.tokenize(text, true), i.e. llama_tokenize
// with add_special = false, parse_special = true.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = "true";
const require = createRequire(path.join(process.env.ANCHORS || "/work/anchors", "x.js"));
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));
const [modelPath, ...files] = process.argv.slice(2);
const llama = await getLlama({ gpu: false, build: "never", skipDownload: true,
    usePrebuiltBinaries: true, progressLogs: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: path.resolve(modelPath), gpuLayers: 0 });
for (const f of files) {
    const text = fs.readFileSync(f, "utf8");
    console.log(JSON.stringify({ prompt_file: path.basename(f),
        tokenize_special: Array.from(model.tokenize(text, true)) }));
}
await model.dispose();
