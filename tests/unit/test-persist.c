/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of daemon/persist.c: the state file round-trips; a truncated, torn or garbage file keeps
 * every counter that is still readable, is moved aside and replaced; the fault log stays bounded; e-stops
 * are counted by the kind before ':'. Files live in a fresh temporary folder per test. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "log.h"
#include "persist.h"

static char dir[64];

static int setup(void **state) {
        snprintf(dir, sizeof dir, "/tmp/test-persist.XXXXXX");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state) {
        DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' || strncmp(de->d_name, ".#", 2) == 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        if (d)
                closedir(d);
        (void) rmdir(dir);
        return 0;
}

static void write_raw(const char *text) {
        assert_int_equal(write_file_atomic(dir, PERSIST_FILE, text, strlen(text)), 0);
}

/* How many "state.corrupt-*" files the folder holds. */
static unsigned count_aside(void) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                n += strncmp(de->d_name, PERSIST_FILE ".corrupt-", strlen(PERSIST_FILE) + 9) == 0;
        closedir(d);
        return n;
}

static PersistState *sample(void) {
        static PersistState s;

        s = (PersistState){ .operating_usec = 3723 * USEC_PER_SEC + 999, .sessions = 17 };
        persist_count_estop(&s, "comm-loss:airbag");
        persist_count_estop(&s, "comm-loss:roller");
        persist_count_estop(&s, "button");
        s.limit_set[SAFETY_LIMIT_NECK_FORCE] = true;
        s.limit[SAFETY_LIMIT_NECK_FORCE] = 27.5;
        persist_fault_add(&s, 1700000000000001, "board-lost:airbag", "board airbag stopped answering");
        persist_fault_add(&s, 1700000000000002, "sensor fault", "roller.force: spike\nsecond line");
        return &s;
}

static void test_round_trip(void **state) {
        PersistState *s = sample(), back;

        assert_int_equal(persist_save(dir, s), 0);
        assert_int_equal(persist_load(dir, &back), 0);
        assert_int_equal(back.estops, 3);
        assert_int_equal(persist_estop_kind_count(&back, "comm-loss"), 2);
        assert_int_equal(persist_estop_kind_count(&back, "button"), 1);
        assert_int_equal(back.sessions, 17);
        assert_int_equal(back.operating_usec, 3723 * USEC_PER_SEC); /* whole seconds are stored */
        assert_string_equal(back.last_estop_reason, "button");
        assert_true(back.limit_set[SAFETY_LIMIT_NECK_FORCE]);
        assert_true(back.limit[SAFETY_LIMIT_NECK_FORCE] == 27.5);
        assert_false(back.limit_set[SAFETY_LIMIT_MAX_FORCE]);
        assert_int_equal(back.n_faults, 2);
        assert_int_equal(back.faults[0].realtime_usec, 1700000000000001);
        assert_string_equal(back.faults[0].code, "board-lost:airbag");
        /* a code is one word and a message one line, whatever the caller passed */
        assert_string_equal(back.faults[1].code, "sensor-fault");
        assert_string_equal(back.faults[1].message, "roller.force: spike second line");
        assert_int_equal(count_aside(), 0);
}

static void test_missing_file(void **state) {
        PersistState s;

        s.estops = 99;
        assert_int_equal(persist_load(dir, &s), 0);
        assert_int_equal(s.estops, 0);
        assert_int_equal(s.n_faults, 0);
}

/* Cut the saved file at every length: never a crash, never a count above the truth, the file moved aside
 * and replaced, and a count whose line survived whole is kept exactly. */
static void test_truncated_everywhere(void **state) {
        _cleanup_free_ char *text = NULL;
        PersistState *s = sample(), back;
        size_t len;

        assert_int_equal(persist_format(s, &text, &len), 0);
        const char *sessions_line = strstr(text, "sessions=17\n");
        assert_non_null(sessions_line);
        for (size_t cut = 0; cut < len; cut++) {
                char *part = strndup(text, cut);
                assert_non_null(part);
                write_raw(part);
                assert_int_equal(persist_load(dir, &back), 1);
                assert_true(back.estops <= 3);
                assert_true(back.sessions <= 17);
                if (cut >= (size_t) (sessions_line - text) + strlen("sessions=17\n"))
                        assert_int_equal(back.sessions, 17);
                /* the replacement is complete: loading it again is clean and gives the same counts */
                PersistState again;
                assert_int_equal(persist_load(dir, &again), 0);
                assert_int_equal(again.sessions, back.sessions);
                assert_int_equal(again.estops, back.estops);
                free(part);
                teardown(state);
                setup(state);
        }
}

static void test_garbage_lines_keep_the_rest(void **state) {
        PersistState back;

        write_raw("version=1\nestops=12\nestops.button=4\nestops.comm-loss=8\nsessions=x7\n\x01\x02garbage\n"
                  "operating-seconds=3600\nfault=12 estop:button pressed\nfault=notanumber x y\nend\n");
        assert_int_equal(persist_load(dir, &back), 1);
        assert_int_equal(back.estops, 12);
        assert_int_equal(back.sessions, 0); /* unreadable: logged, not invented */
        assert_int_equal(back.operating_usec, 3600 * USEC_PER_SEC);
        assert_int_equal(back.n_faults, 1);
        assert_string_equal(back.faults[0].code, "estop:button");
        assert_string_equal(back.faults[0].message, "pressed");
        assert_int_equal(count_aside(), 1);
}

static void test_total_never_below_parts(void **state) {
        PersistState back;

        /* the total's line was damaged; its parts still prove at least 9 */
        write_raw("version=1\nestops=#\nestops.button=4\nestops.remote=5\nend\n");
        assert_int_equal(persist_load(dir, &back), 1);
        assert_int_equal(back.estops, 9);
}

static void test_binary_and_huge(void **state) {
        static const char bin[] = "estops=5\n\0\0\0\xff\xfe";
        PersistState back;
        char *big;

        assert_int_equal(write_file_atomic(dir, PERSIST_FILE, bin, sizeof bin - 1), 0);
        assert_int_equal(persist_load(dir, &back), 1);
        assert_int_equal(back.estops, 5); /* the part before the damage */
        assert_int_equal(count_aside(), 1);

        big = malloc(PERSIST_FILE_MAX + 10);
        assert_non_null(big);
        memset(big, 'x', PERSIST_FILE_MAX + 9);
        big[PERSIST_FILE_MAX + 9] = '\0';
        write_raw(big);
        free(big);
        assert_int_equal(persist_load(dir, &back), 1);
        assert_int_equal(back.estops, 0);
        /* replaced by a clean file */
        assert_int_equal(persist_load(dir, &back), 0);
}

static void test_fault_log_bounded(void **state) {
        PersistState s = {}, back;
        char code[32];

        for (unsigned i = 0; i < PERSIST_FAULTS_MAX + 10; i++) {
                snprintf(code, sizeof code, "f%u", i);
                persist_fault_add(&s, i, code, "m");
        }
        assert_int_equal(s.n_faults, PERSIST_FAULTS_MAX);
        assert_int_equal(s.faults_dropped, 10);
        assert_string_equal(s.faults[0].code, "f10"); /* oldest went first */
        assert_int_equal(persist_save(dir, &s), 0);
        assert_int_equal(persist_load(dir, &back), 0);
        assert_int_equal(back.n_faults, PERSIST_FAULTS_MAX);
        assert_int_equal(back.faults_dropped, 10);
        assert_string_equal(back.faults[PERSIST_FAULTS_MAX - 1].code, "f73");
        persist_faults_clear(&back);
        assert_int_equal(back.n_faults, 0);
}

static void test_estop_kinds(void **state) {
        PersistState s = {};

        persist_count_estop(&s, "comm-loss:base");
        persist_count_estop(&s, "");
        persist_count_estop(&s, NULL);
        assert_int_equal(s.estops, 3);
        assert_int_equal(persist_estop_kind_count(&s, "comm-loss"), 1);
        assert_int_equal(persist_estop_kind_count(&s, "unknown"), 2);
        /* more kinds than slots are still counted, never lost */
        for (unsigned i = 0; i < PERSIST_KINDS_MAX + 5; i++) {
                char reason[32];
                snprintf(reason, sizeof reason, "kind%u:x", i);
                persist_count_estop(&s, reason);
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < s.n_estop_kinds; i++)
                sum += s.estop_kinds[i].value;
        assert_int_equal(sum, s.estops);
}

static void test_bad_limit_rejected(void **state) {
        PersistState back;

        write_raw("version=1\nlimit.max-force-n=-3\nlimit.no-such=4\nlimit.neck-max-force-n=20\nend\n");
        assert_int_equal(persist_load(dir, &back), 1);
        assert_false(back.limit_set[SAFETY_LIMIT_MAX_FORCE]);
        assert_true(back.limit_set[SAFETY_LIMIT_NECK_FORCE]);
        assert_true(back.limit[SAFETY_LIMIT_NECK_FORCE] == 20);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncated_everywhere, setup, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_lines_keep_the_rest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_total_never_below_parts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_binary_and_huge, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fault_log_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_estop_kinds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_limit_rejected, setup, teardown),
        };

        log_setup("test-persist", LOG_TARGET_STDERR);
        log_set_max_level(LOG_ERR); /* the recovery warnings are expected here */
        return cmocka_run_group_tests(tests, NULL, NULL);
}
