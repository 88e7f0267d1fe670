# CLI: mullama export / import (archives, store directories, GGUF files)
# and hostile archives (path traversal, links, wrong digests, truncation).
. tests/cli/lib.sh

gguf=$(model llama-2-tiny-random.gguf)
story=$(model stories260K.gguf)
if [ -z "$gguf" ] || [ -z "$story" ]; then
        skip "archive: export/import" "test models not in tests/models (run make models)"
        exit 0
fi
W=$TMP/work
mkdir -p "$W"
cp -L "$gguf" "$W/tiny.gguf"
printf 'FROM tiny.gguf\nPARAMETER temperature 0.5\nSYSTEM be brief\n' >"$W/Modelfile"
"$MU" create tiny -f "$W/Modelfile" >/dev/null 2>&1
"$MU" create me/story:small -f <(printf 'FROM %s\n' "$story") >/dev/null 2>&1 ||
        { printf 'FROM %s\n' "$story" >"$W/M2"; "$MU" create me/story:small -f "$W/M2" >/dev/null 2>&1; }
ORIG=$MULLAMA_MODELS
if [ ! -f "$ORIG/manifests/registry.ollama.ai/library/tiny/latest" ] ||
        [ ! -f "$ORIG/manifests/registry.ollama.ai/me/story/small" ]; then
        fail "archive: set-up (create two models)"; exit 1
fi

# empty_store NAME DIR: no file at all was left in DIR
empty_store() {
        local left
        left=$(find "$2" -type f 2>/dev/null)
        if [ -z "$left" ]; then pass "$1"; else fail "$1" "left: $left"; fi
}

# ---- round trips ---------------------------------------------------------------------
for ext in tar tar.gz tar.zst; do
        expect_rc "archive: export .$ext" 0 "$MU" export tiny me/story:small -o "$W/models.$ext"
        expect_grep "archive: export .$ext reports" "exported 2 models to .*models.$ext" "$ERR"
        names=$(tar -tf "$W/models.$ext" 2>/dev/null | sort | tr '\n' ' ')
        want=$( (cd "$ORIG" && find manifests blobs -type f) | sort | tr '\n' ' ')
        [ "$names" = "$want" ] && pass "archive: .$ext holds the store's layout" \
                || fail "archive: .$ext holds the store's layout" "got '$names', want '$want'"
        MULLAMA_MODELS=$TMP/s-$ext expect_rc "archive: import .$ext into an empty store" 0 \
                "$MU" import "$W/models.$ext"
        expect_grep "archive: import .$ext names the models" 'imported tiny:latest' "$ERR"
        if diff -r "$ORIG" "$TMP/s-$ext" >/dev/null; then pass "archive: .$ext round trip reproduces the same files"
        else fail "archive: .$ext round trip reproduces the same files" "$(diff -r "$ORIG" "$TMP/s-$ext" | head -5)"; fi
done
[ "$(head -c 2 "$W/models.tar.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ] \
        && pass "archive: .tar.gz is gzip" || fail "archive: .tar.gz is gzip"
[ "$(head -c 4 "$W/models.tar.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ] \
        && pass "archive: .tar.zst is zstd" || fail "archive: .tar.zst is zstd"
MULLAMA_MODELS=$TMP/s-tar expect_rc "archive: importing again is harmless" 0 "$MU" import "$W/models.tar"
MULLAMA_MODELS=$TMP/s-tar expect_rc "archive: imported model runs" 0 "$MU" show tiny --system
expect_grep "archive: imported model keeps its layers" '^be brief$' "$OUT"

# ---- usage errors ---------------------------------------------------------------------
expect_rc "archive: export without -o" 2 "$MU" export tiny
expect_rc "archive: export of a missing model" 3 "$MU" export ghost -o "$W/x.tar"
[ ! -e "$W/x.tar" ] && pass "archive: failed export leaves no file" || fail "archive: failed export leaves no file"
expect_rc "archive: export to an unknown extension" 2 "$MU" export tiny -o "$W/x.zip"
expect_rc "archive: import without PATH" 2 "$MU" import
expect_rc "archive: import of a missing file" 3 "$MU" import "$W/nope.tar"

# ---- store directories and GGUF files ------------------------------------------------
MULLAMA_MODELS=$TMP/s-dir expect_rc "archive: import a store directory" 0 "$MU" import "$ORIG"
diff -r "$ORIG" "$TMP/s-dir" >/dev/null && pass "archive: directory import reproduces the files" \
        || fail "archive: directory import reproduces the files"
mkdir -p "$TMP/ollama-home"
cp -r "$ORIG" "$TMP/ollama-home/models"
MULLAMA_MODELS=$TMP/s-dir2 expect_rc "archive: import ~/.ollama-like dir (with models/)" 0 "$MU" import "$TMP/ollama-home"
diff -r "$ORIG" "$TMP/s-dir2" >/dev/null && pass "archive: parent directory import reproduces the files" \
        || fail "archive: parent directory import reproduces the files"
MULLAMA_MODELS=$TMP/s-dir3 expect_rc "archive: import a directory without a store" 2 "$MU" import "$W"
MULLAMA_MODELS=$TMP/s-gguf expect_rc "archive: import a bare GGUF" 0 "$MU" import "$story"
expect_grep "archive: GGUF import names the model after the file" 'imported stories260k:latest' "$ERR"
MULLAMA_MODELS=$TMP/s-gguf expect_rc "archive: imported GGUF is listed" 0 "$MU" list -q
expect_grep "archive: GGUF model in the list" '^stories260k:latest$' "$OUT"
MULLAMA_MODELS=$TMP/s-gguf expect_rc "archive: import a GGUF with --name" 0 "$MU" import --name me/tale:v1 "$story"
[ -f "$TMP/s-gguf/blobs/sha256-$(sha256sum "$story" | cut -d' ' -f1)" ] \
        && pass "archive: GGUF blob stored under its digest" || fail "archive: GGUF blob stored under its digest"
MULLAMA_MODELS=$TMP/s-gguf expect_rc "archive: imported GGUF runs" 0 "$MU" run me/tale:v1 --raw --temperature 0 -n 4 "Once upon a time"
expect_grep "archive: imported GGUF answers like the file" '^, there was a$' "$OUT"

# ---- hostile archives --------------------------------------------------------------------
MHEX=$(sha256sum "$gguf" | cut -d' ' -f1)
MAN=$ORIG/manifests/registry.ollama.ai/library/tiny/latest
python3 - "$W" "$ORIG" "$MHEX" "$MAN" <<'PY'
import io, os, sys, tarfile
w, orig, mhex, man = sys.argv[1:5]
def mk(name, entries, mode="w"):
    with tarfile.open(os.path.join(w, name), mode) as t:
        for e in entries:
            t.addfile(e[0], io.BytesIO(e[1]) if len(e) > 1 else None)
def reg(path, data):
    i = tarfile.TarInfo(path); i.size = len(data); return (i, data)
def link(path, target, kind):
    i = tarfile.TarInfo(path); i.type = kind; i.linkname = target; return (i,)
blobs = [reg("blobs/" + f, open(os.path.join(orig, "blobs", f), "rb").read())
         for f in sorted(os.listdir(os.path.join(orig, "blobs")))]
mdata = open(man, "rb").read()
mreg = reg("manifests/registry.ollama.ai/library/tiny/latest", mdata)
mk("traversal.tar", blobs + [reg("../evil", b"x"), mreg])
mk("traversal2.tar", blobs + [reg("manifests/../../evil", b"x")])
mk("absolute.tar", [reg("/tmp/mullama-evil-abs", b"x")] + blobs + [mreg])
mk("symlink.tar", [link("blobs/sha256-" + mhex, "/etc/passwd", tarfile.SYMTYPE), mreg])
mk("hardlink.tar", blobs + [link("blobs/sha256-" + "0" * 64, "blobs/sha256-" + mhex, tarfile.LNKTYPE), mreg])
bad = bytearray(open(os.path.join(orig, "blobs", "sha256-" + mhex), "rb").read()); bad[1000] ^= 1
mk("wrongdigest.tar", [reg("blobs/sha256-" + mhex, bytes(bad))] + [b for b in blobs if mhex not in b[0].name] + [mreg])
mk("missingblob.tar", [b for b in blobs if mhex not in b[0].name] + [mreg])
mk("stray.tar", blobs + [reg("README", b"hello"), mreg])
dev = tarfile.TarInfo("blobs/x"); dev.type = tarfile.CHRTYPE
mk("device.tar", [(dev,), mreg])
mk("badmanifest.tar", blobs + [reg("manifests/registry.ollama.ai/library/tiny/latest", b"{not json")])
mk("empty.tar", [])
with open(os.path.join(w, "huge.tar"), "wb") as f:  # claims a 1 PB blob, holds nothing
    i = tarfile.TarInfo("blobs/sha256-" + mhex); i.size = 10 ** 15
    f.write(i.tobuf(format=tarfile.PAX_FORMAT))
PY
full=$(stat -c %s "$W/models.tar.gz")
head -c $((full / 2)) "$W/models.tar.gz" >"$W/truncated.tar.gz"
head -c 3000 "$W/models.tar" >"$W/truncated.tar"
printf 'this is not an archive\n' >"$W/garbage.tar"
for h in traversal traversal2 absolute symlink hardlink wrongdigest missingblob stray device badmanifest empty truncated garbage huge; do
        f=$W/$h.tar
        [ -f "$f" ] || f=$W/$h.tar.gz
        S=$TMP/h-$h
        MULLAMA_MODELS=$S expect_rc "archive: hostile '$h' rejected" 1 "$MU" import "$f"
        n=$(printf '%s\n' "$ERR" | grep -c .)
        [ "$n" = 1 ] && expect_grep "archive: '$h' gives one error line" '^error: ' "$ERR" \
                || fail "archive: '$h' gives one error line" "$ERR"
        empty_store "archive: '$h' leaves nothing in the store" "$S"
done
[ ! -e "$TMP/evil" ] && [ ! -e "$W/../evil" ] && [ ! -e /tmp/mullama-evil-abs ] \
        && pass "archive: nothing written outside the store" || fail "archive: nothing written outside the store"
MULLAMA_MODELS=$TMP/h-wd2 "$MU" import "$W/wrongdigest.tar" 2>"$TMP/wd.err"
expect_grep "archive: wrong digest names the blob" "blobs/sha256-$MHEX in .* does not match" "$(cat "$TMP/wd.err")"
MULLAMA_MODELS=$TMP/h-mb2 "$MU" import "$W/missingblob.tar" 2>"$TMP/mb.err"
MULLAMA_MODELS=$TMP/h-huge2 "$MU" import "$W/huge.tar" 2>"$TMP/huge.err"
expect_grep "archive: a blob larger than the free space is refused first" "not enough disk space" "$(cat "$TMP/huge.err")"
expect_grep "archive: missing blob names it" "needs blob sha256:$MHEX" "$(cat "$TMP/mb.err")"

exit $_failed
