// llamacpp-dump.cpp -- llama.cpp's intermediate tensors for one batch of tokens.
//
// usage: llamacpp-dump MODEL.gguf OUTDIR TOK,TOK,...   (built by tools/llamacpp-dump.sh)
// Loads the CPU backend named by $CPU_BE (a libggml-cpu-*.so path), decodes the tokens in
// one batch (n_ctx 4096, one thread, default context parameters: F16 KV cache, flash
// attention auto) and writes every F32/F16 contiguous tensor the graph computes to
// OUTDIR/NAME.bin (6 int32: ggml type, ne0..ne3, 0; then the data), and the last
// position's logits to OUTDIR/logits.f32.  A name computed twice keeps its last value.
#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

static const char *outdir;

static bool on_tensor(struct ggml_tensor *t, bool ask, void *)
{
    if (ask)
        return true;
    if ((t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_F16) || !ggml_is_contiguous(t))
        return true;
    std::string n = t->name;
    for (auto &c : n)
        if (c == '/' || c == ' ' || c == '(' || c == ')')
            c = '_';
    std::vector<char> buf(ggml_nbytes(t));
    ggml_backend_tensor_get(t, buf.data(), 0, buf.size());
    FILE *f = fopen((std::string(outdir) + "/" + n + ".bin").c_str(), "wb");
    if (!f)
        return false;
    int hdr[6] = {(int)t->type, (int)t->ne[0], (int)t->ne[1], (int)t->ne[2], (int)t->ne[3], 0};
    fwrite(hdr, sizeof hdr, 1, f);
    fwrite(buf.data(), 1, buf.size(), f);
    fclose(f);
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 4 || !getenv("CPU_BE")) {
        fprintf(stderr, "usage: CPU_BE=libggml-cpu-X.so llamacpp-dump MODEL OUTDIR TOK,TOK,...\n");
        return 2;
    }
    outdir = argv[2];
    if (!ggml_backend_load(getenv("CPU_BE"))) {
        fprintf(stderr, "cannot load %s\n", getenv("CPU_BE"));
        return 1;
    }
    llama_backend_init();
    llama_model *m = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!m)
        return 1;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 4096;
    cp.n_threads = cp.n_threads_batch = 1;
    cp.cb_eval = on_tensor;
    llama_context *ctx = llama_init_from_model(m, cp);
    std::vector<llama_token> toks;
    for (char *p = argv[3]; *p;) {
        toks.push_back((llama_token)strtol(p, &p, 10));
        if (*p == ',')
            p++;
    }
    if (!ctx || llama_decode(ctx, llama_batch_get_one(toks.data(), (int)toks.size()))) {
        fprintf(stderr, "decode failed\n");
        return 1;
    }
    FILE *f = fopen((std::string(outdir) + "/logits.f32").c_str(), "wb");
    fwrite(llama_get_logits_ith(ctx, -1), 4, llama_vocab_n_tokens(llama_model_get_vocab(m)), f);
    fclose(f);
    llama_free(ctx);
    llama_model_free(m);
    return 0;
}
