# CLI: global flags, help, version, unknown commands and flags.
. tests/cli/lib.sh

expect_rc "cli: --help exits 0" 0 "$MU" --help
expect_grep "cli: --help lists run" '^  run ' "$OUT"
expect_grep "cli: --help lists MULLAMA_MODELS" 'MULLAMA_MODELS' "$OUT"
expect_grep "cli: --help lists MULLAMA_HOST" 'MULLAMA_HOST' "$OUT"
expect_grep "cli: --help lists MULLAMA_DEBUG" 'MULLAMA_DEBUG' "$OUT"
expect_rc "cli: --version exits 0" 0 "$MU" --version
expect_grep "cli: --version shows version" '^mullama version [0-9]+\.[0-9]+' "$OUT"
expect_grep "cli: --version shows commit" '^build commit: ' "$OUT"
expect_grep "cli: --version shows backends" '^backends: .*cpu' "$OUT"
expect_rc "cli: no arguments is a usage error" 2 "$MU"
expect_rc "cli: unknown command exits 2" 2 "$MU" frobnicate
expect_grep "cli: unknown command names it" "unknown command 'frobnicate'" "$ERR"
expect_rc "cli: unknown global flag exits 2" 2 "$MU" --frob
expect_rc "cli: unknown command flag exits 2" 2 "$MU" list --no-such-flag
expect_grep "cli: unknown flag names it" "unknown option '--no-such-flag'" "$ERR"
for c in run show list pull create bench serve cp rm ps; do
        expect_rc "cli: $c --help exits 0" 0 "$MU" "$c" --help
done
expect_rc "cli: help run exits 0" 0 "$MU" help run
expect_grep "cli: help run prints run usage" 'Usage: mullama run' "$OUT"
expect_rc "cli: help of unknown command exits 2" 2 "$MU" help frobnicate
exit $_failed
