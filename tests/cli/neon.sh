# CLI: the NEON kernel table (src/kernels/cpu_neon.c), cross-built for
# aarch64 with Debian's gcc-aarch64-linux-gnu and run under qemu-user, each
# NEON dot product against the scalar reference (tests/neon_check.c).  On an
# ARM machine it runs natively.  Without a cross compiler or qemu: SKIP.
. tests/cli/lib.sh
cc=${NEON_CC:-aarch64-linux-gnu-gcc}
case "$(uname -m)" in
aarch64) cc=${NEON_CC:-cc}; run="" ;;
*) run=qemu-aarch64-static ;;
esac
if ! command -v "$cc" >/dev/null; then
        skip "neon: kernels" "no aarch64 cross compiler ($cc; tests/deps.sh installs gcc-aarch64-linux-gnu)"
        exit 0
fi
if [ -n "$run" ] && ! command -v "$run" >/dev/null; then
        skip "neon: kernels" "no $run (qemu-user-static)"
        exit 0
fi
if make -s NEON_CC="$cc" neon-check >"$TMP/build" 2>&1; then
        pass "neon: cpu_neon.c builds for aarch64"
else
        fail "neon: cpu_neon.c builds for aarch64" "$(tail -5 "$TMP/build")"
        exit 1
fi
$run build-neon/neon_check >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
grep -q '^FAIL' "$TMP/out" && _failed=1
[ "$rc" -eq 0 ] || grep -q '^FAIL' "$TMP/out" || fail "neon: neon_check exits 0" "exit $rc"
exit $_failed
