# make install / uninstall into a DESTDIR: the binary, the man page and the
# three completion scripts land where Debian's man and shells look, the
# installed binary runs, and uninstall removes them all.
. tests/cli/lib.sh

command -v make >/dev/null || { skip "install: make install" "make not installed"; exit 0; }
D=$TMP/dest
# BIN= the binary under test; -o: use it as it is, never rebuild it here
unset MAKEFLAGS MAKELEVEL MFLAGS  # not a sub-make of `make test`
if make -s install DESTDIR="$D" PREFIX=/usr BIN="$MU" -o "$MU" >"$TMP/inst.out" 2>&1; then
        pass "install: make install DESTDIR=... PREFIX=/usr"
else
        fail "install: make install DESTDIR=... PREFIX=/usr" "$(tail -c 400 "$TMP/inst.out")"
fi
for f in usr/bin/mullama usr/share/man/man1/mullama.1 \
        usr/share/bash-completion/completions/mullama usr/share/zsh/site-functions/_mullama \
        usr/share/fish/vendor_completions.d/mullama.fish; do
        [ -f "$D/$f" ] && pass "install: $f" || fail "install: $f" "not installed"
done
[ -x "$D/usr/bin/mullama" ] && pass "install: binary is executable" || fail "install: binary is executable"
expect_rc "install: installed binary runs" 0 "$D/usr/bin/mullama" --version
cmp -s man/mullama.1 "$D/usr/share/man/man1/mullama.1" && pass "install: man page is man/mullama.1" ||
        fail "install: man page is man/mullama.1"
cmp -s completions/mullama.zsh "$D/usr/share/zsh/site-functions/_mullama" &&
        pass "install: zsh completion is completions/mullama.zsh" ||
        fail "install: zsh completion is completions/mullama.zsh"
if command -v man >/dev/null; then
        out=$(MANWIDTH=80 MANPATH="$D/usr/share/man" man mullama 2>&1)
        expect_grep "install: man mullama finds the installed page" '^EXIT STATUS' "$(printf '%s' "$out" | sed 's/.\x08//g')"
else
        skip "install: man mullama finds the installed page" "man-db not installed"
fi
# the shells find the installed scripts by themselves (zsh: #compdef through
# $fpath and compinit; fish: vendor_completions.d under XDG_DATA_DIRS)
mkdir -p "$TMP/bin" && ln -sf "$D/usr/bin/mullama" "$TMP/bin/mullama"
if command -v zsh >/dev/null; then
        printf 'fpath=(%s $fpath)\ncompinit -u -D\n' "$D/usr/share/zsh/site-functions" >"$TMP/zsh-fpath"
        PATH="$TMP/bin:$PATH" zsh -f tests/cli/zcomplete.zsh "$TMP/zsh-fpath" "$TMP/zsh-out" "mullama r"
        got=$(sort "$TMP/zsh-out" | tr '\n' ' ')
        [ "$got" = "rm run " ] && pass "install: zsh autoloads _mullama from site-functions" ||
                fail "install: zsh autoloads _mullama from site-functions" "got '$got'"
else
        skip "install: zsh autoloads _mullama from site-functions" "zsh not installed"
fi
if command -v fish >/dev/null; then
        got=$(PATH="$TMP/bin:$PATH" XDG_DATA_DIRS="$D/usr/share" fish -c 'complete -C "mullama r"' |
                cut -f1 | sort | tr '\n' ' ')
        [ "$got" = "rm run " ] && pass "install: fish loads vendor_completions.d/mullama.fish" ||
                fail "install: fish loads vendor_completions.d/mullama.fish" "got '$got'"
else
        skip "install: fish loads vendor_completions.d/mullama.fish" "fish not installed"
fi
if make -s uninstall DESTDIR="$D" PREFIX=/usr >"$TMP/uninst.out" 2>&1 &&
        [ -z "$(find "$D" -type f)" ]; then
        pass "install: make uninstall removes every file"
else
        fail "install: make uninstall removes every file" "left: $(find "$D" -type f | head -5)"
fi
exit $_failed
