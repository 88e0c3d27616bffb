#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make mutation: mutates the safety supervisor (daemon/safety*.c) one change at a time, builds its unit
# tests against each mutant in a scratch dir and runs them. Every mutant must be killed, or listed with
# its reason under "Equivalent mutants" in docs/safety.md. Usage: tools/mutation.sh [BUILD_DIR]
set -euo pipefail

BUILD=${1:-build}
cd "$(dirname "$0")/.."

CC=${CC:-cc}
JOBS=${MUTATION_JOBS:-$(nproc 2>/dev/null || echo 2)}
TEST_TIMEOUT=${MUTATION_TIMEOUT:-10}
SOURCES=(daemon/safety*.c)
TESTS=(tests/unit/test-safety*.c)
DOC=docs/safety.md
# the Makefile's flags (-Werror included: a mutant the compiler rejects is counted as such)
CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
        -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wundef -Wvla
        -Icommon -Iconfig -Idaemon -D_GNU_SOURCE -O1
        -fsanitize=address,undefined -fno-sanitize-recover=all)
# ASan/UBSan: a mutant that reads past an array or shifts too far is caught, not luckily harmless
LIBS=(-fsanitize=address,undefined -lcmocka -lm)

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/chaird-mutation.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$BUILD"

# Objects that do not change between mutants, built once.
for f in common/chair.c "${SOURCES[@]}" "${TESTS[@]}"; do
        "$CC" "${CFLAGS[@]}" -c "$f" -o "$SCRATCH/$(basename "$f" .c).o"
done

# $1 = dir holding the objects to link (one of them replaced by the mutant); runs every test binary.
run_tests() {
        local dir=$1 objs=$2 t
        for t in "${TESTS[@]}"; do
                t=$(basename "$t" .c)
                "$CC" -o "$dir/$t" $objs "$SCRATCH/$t.o" "$SCRATCH/chair.o" "${LIBS[@]}" || return 2
                timeout "$TEST_TIMEOUT" "$dir/$t" >/dev/null 2>&1 || return 1
        done
        return 0
}

baseline_objs=""
for f in "${SOURCES[@]}"; do
        baseline_objs+=" $SCRATCH/$(basename "$f" .c).o"
done
if ! run_tests "$SCRATCH" "$baseline_objs"; then
        echo "mutation: the unit tests fail without any mutant; fix them first" >&2
        exit 2
fi

mkdir -p "$SCRATCH/m"
total=$(python3 tools/mutate.py "$SCRATCH/m" "${SOURCES[@]}")
echo "mutation: $total mutants of ${SOURCES[*]}, $JOBS at a time"

# One mutant: compile the mutated file, link it with the unchanged objects, run the tests.
one() {
        local tag=$1 path=$2 where=$3 change=$4 dir="$SCRATCH/m/$1" objs="" f o verdict
        for f in "${SOURCES[@]}"; do
                o="$SCRATCH/$(basename "$f" .c).o"
                if [ "$f" = "$path" ]; then
                        o="$dir/mutant.o"
                        if ! "$CC" "${CFLAGS[@]}" -c "$dir/$path" -o "$o" 2>/dev/null; then
                                printf 'did-not-compile\t%s:%s: %s\n' "$path" "$where" "$change" >"$dir/result"
                                return 0
                        fi
                fi
                objs+=" $o"
        done
        if run_tests "$dir" "$objs"; then
                verdict=survived
        else
                verdict=killed
        fi
        printf '%s\t%s:%s: %s\n' "$verdict" "$path" "$where" "$change" >"$dir/result"
        rm -f "$dir"/test-* "$dir/mutant.o"
}
export -f one run_tests
export SCRATCH CC TEST_TIMEOUT
export SOURCES_LIST="${SOURCES[*]}" TESTS_LIST="${TESTS[*]}" CFLAGS_LIST="${CFLAGS[*]}" LIBS_LIST="${LIBS[*]}"

# bash cannot export arrays: each job rebuilds them from the lists
tr '\t' '\037' <"$SCRATCH/m/manifest" |
        xargs -P "$JOBS" -I{} -d '\n' bash -c '
                read -r -a SOURCES <<<"$SOURCES_LIST"; read -r -a TESTS <<<"$TESTS_LIST"
                read -r -a CFLAGS <<<"$CFLAGS_LIST"; read -r -a LIBS <<<"$LIBS_LIST"
                IFS=$'"'"'\037'"'"' read -r tag path where change <<<"$1"
                one "$tag" "$path" "$where" "$change"' _ {}

killed=0 survived=0 nocompile=0 unexplained=0
survivors=()
while IFS=$'\t' read -r tag _; do
        IFS=$'\t' read -r verdict id <"$SCRATCH/m/$tag/result"
        echo "$verdict $id"
        case $verdict in
        killed) killed=$((killed + 1)) ;;
        did-not-compile) nocompile=$((nocompile + 1)) ;;
        survived)
                survived=$((survived + 1))
                survivors+=("$id")
                ;;
        esac
done <"$SCRATCH/m/manifest"

echo "mutation: $killed killed, $survived survived, $nocompile did not compile"
# The explanations: "Equivalent mutants" section of docs/safety.md, one "`file:line:col: change`" each.
explained=$(sed -n '/^## Equivalent mutants/,/^## /p' "$DOC" 2>/dev/null || true)
for id in "${survivors[@]}"; do
        if grep -qF "\`$id\`" <<<"$explained"; then
                echo "survivor (explained in $DOC): $id"
        else
                echo "survivor (NOT explained): $id"
                unexplained=$((unexplained + 1))
        fi
done
{
        echo "killed=$killed survived=$survived did_not_compile=$nocompile unexplained=$unexplained"
        printf 'survivor %s\n' "${survivors[@]}"
} >"$BUILD/mutation-summary.txt"
[ "$unexplained" -eq 0 ]
