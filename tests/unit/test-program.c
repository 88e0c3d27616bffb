/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of config/program.c: the shipped programs against the example chair, a good file field by
 * field, every rejection rule with its exact file:line message, a bad file among good ones, and the
 * /etc over /usr/share precedence. Program trees are built from strings in a mkdtemp(). */
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "program.h"
#include "safety.h"
#include "example-config.h"

#define USR "/usr/share/chaird/programs/"
#define ETC "/etc/chaird/programs/"

static char *root;    /* a fresh tree per test */

/* A file of the source tree, found from the binary (BUILD/tests/test-program) or $CHAIRD_SRCDIR. */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        root = strdup("/tmp/test-program-XXXXXX");
        return root && mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state) {
        int r = nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(root);
        root = NULL;
        return r;
}

/* Writes root + rel (parents made as needed); returns the full path in buf. */
static void write_file(const char *rel, const char *text, char *buf, size_t size) {
        char dir[PATH_MAX];
        FILE *f;

        snprintf(buf, size, "%s%s", root, rel);
        for (char *p = strchr(buf + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
                snprintf(dir, sizeof(dir), "%.*s", (int)(p - buf), buf);
                assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
        }
        f = fopen(buf, "we");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

#define HEAD(id) "[Program]\nId=" id "\nName=Test\n"
/* a valid step: lines 4..9 when it follows HEAD */
#define STEP1 "[Step 1]\nTechnique=knead\nZone=shoulders\nSpeed=20\nForce=60\nSeconds=30\n"

/* ---- the shipped programs ---- */

static void test_shipped(void **state) {
        char dir[PATH_MAX];
        const char *dirs[] = {dir};
        _cleanup_(program_list_freep) ProgramList *l = NULL;
        static const char *const ids[] = {
                "deep-tissue-back", "neck-and-shoulder", "quick-10", "shiatsu", "stretch", "swedish-back",
        };
        static const unsigned seconds[] = {1200, 900, 600, 1200, 900, 900};
        const ZoneConfig *neck = config_neck_zone(chair);

        source_path("config/programs", dir, sizeof dir);
        assert_int_equal(program_list_load_dirs(dirs, 1, chair, NULL, &l), 0);
        for (size_t i = 0; i < l->n_errors; i++)
                fprintf(stderr, "%s\n", l->errors[i]);
        assert_int_equal(l->n_errors, 0);
        assert_int_equal(l->n_programs, ELEMENTSOF(ids));
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                const Program *p = l->programs[i];
                assert_string_equal(p->id, ids[i]); /* sorted by id */
                assert_int_equal(p->total_seconds, seconds[i]);
                assert_true(strlen(p->name) > 0 && strlen(p->description) > 0);
                assert_ptr_equal(program_list_find(l, ids[i]), p);
        }
        /* the neck program works in the neck, well below its cap; deep tissue never touches it */
        const Program *p = program_list_find(l, "neck-and-shoulder");
        bool in_neck = false;
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->steps[i].from_mm < neck->to_mm) {
                        in_neck = true;
                        assert_true(p->steps[i].force_n <= neck->max_force_n * 0.6);
                }
        assert_true(in_neck);
        p = program_list_find(l, "deep-tissue-back");
        for (size_t i = 0; i < p->n_steps; i++)
                assert_true(p->steps[i].from_mm >= neck->to_mm);
        p = program_list_find(l, "stretch");
        for (size_t i = 0; i < p->n_steps; i++)
                assert_true(p->steps[i].recline);
        assert_null(program_list_find(l, "nope"));
}

/* ---- one good file, field by field ---- */

static void test_good_file(void **state) {
        char path[PATH_MAX], *err = NULL;
        _cleanup_(program_freep) Program *p = NULL;

        write_file(USR "good.program",
                   "# comment\n"
                   "[Program]\n"
                   "Id=good\n"
                   "Name=Good One\n"
                   "Category=relax\n"
                   "TotalSeconds=150\n"
                   "\n"
                   "[Step 1]\n"
                   "Technique=long-glide\n"
                   "From=-40\n"
                   "To=200\n"
                   "Speed=50\n"
                   "Force=25\n"
                   "Airbags=shoulders legs\n"
                   "Heat=40\n"
                   "Recline=20\n"
                   "Seconds=30\n"
                   "Repeat=3\n"
                   "[Step 2]\n"
                   "Technique=press\n"
                   "Zone=upper-back\n"
                   "Speed=20\n"
                   "Width=70\n"
                   "Force=100\n"
                   "Points=4\n"
                   "Seconds=60\n",
                   path, sizeof path);
        assert_int_equal(program_load_file(path, chair, NULL, &p, &err), 0);
        assert_null(err);
        assert_string_equal(p->id, "good");
        assert_string_equal(p->name, "Good One");
        assert_string_equal(p->category, "relax");
        assert_string_equal(p->description, "");
        assert_string_equal(p->path, path);
        assert_int_equal(p->n_steps, 2);
        assert_int_equal(p->total_seconds, 150);

        const ProgramStep *a = &p->steps[0], *b = &p->steps[1];
        assert_int_equal(a->technique, TECHNIQUE_GLIDE);
        assert_null(a->zone);
        assert_true(a->from_mm == -40 && a->to_mm == 200);
        assert_true(a->speed_mm_s == 50 && a->force_n == 25 && a->width_mm == 100 /* default */);
        assert_int_equal(a->airbags, (1u << AIRBAG_GROUP_SHOULDERS) | (1u << AIRBAG_GROUP_LEGS));
        assert_true(a->heat && a->heat_c == 40);
        assert_true(a->recline && a->recline_deg == 20);
        assert_int_equal(a->seconds, 30);
        assert_int_equal(a->repeat, 3);
        assert_int_equal(a->points, 0);
        assert_int_equal(a->line, 8);

        assert_int_equal(b->technique, TECHNIQUE_PRESS);
        assert_string_equal(b->zone, "upper-back");
        /* a named zone takes its range from the chair config */
        assert_true(b->from_mm == config_zone(chair, "upper-back")->from_mm);
        assert_true(b->to_mm == config_zone(chair, "upper-back")->to_mm);
        assert_true(b->width_mm == 70);
        assert_int_equal(b->points, 4);
        assert_int_equal(b->repeat, 1);
        assert_false(b->heat);
        assert_false(b->recline);
        assert_int_equal(b->airbags, 0);
        assert_int_equal(b->line, 19);
}

static void test_step_force(void **state) {
        ProgramStep st = {.force_n = 100};

        assert_true(fabs(program_step_force(&st, 10, 10) - 100) < 1e-9);
        assert_true(fabs(program_step_force(&st, 5, 10) - 70) < 1e-9);
        assert_true(fabs(program_step_force(&st, 1, 10) - 46) < 1e-9);
        /* never above the written force, whatever the caller passes */
        assert_true(fabs(program_step_force(&st, 20, 10) - 100) < 1e-9);
        assert_true(program_step_force(&st, 3, 0) == 0);
}

/* ---- every rejection rule, with its exact message ---- */

typedef struct BadCase {
        const char *text;
        const char *message; /* after "PATH:" */
} BadCase;

static const BadCase bad_cases[] = {
        /* plain rules */
        {HEAD("bad") STEP1 "Foo=1\n", "10: [Step 1] Foo=1: unknown key"},
        {HEAD("bad") "[Steps]\nA=1\n", "4: [Steps]: unknown section (expected [Program] or [Step N])"},
        {HEAD("bad") "[Step 2]\nSeconds=1\n",
         "4: [Step 2]: steps are numbered 1, 2, 3, … in file order: expected [Step 1]"},
        {HEAD("bad") STEP1 "[Program]\nCategory=x\n", "10: [Program]: section given twice"},
        {HEAD("bad") STEP1 "Speed=30\n", "10: [Step 1] Speed=30: given twice (first on line 7)"},
        {HEAD("bad") "[Step 1]\nSpeed=fast\n", "5: [Step 1] Speed=fast: not a number"},
        {HEAD("bad") "[Step 1]\nSpeed=0\n", "5: [Step 1] Speed=0: must be above 0 mm/s"},
        {HEAD("bad") "[Step 1]\nSeconds=0\n", "5: [Step 1] Seconds=0: out of range (1..3600 s)"},
        {HEAD("bad") "[Step 1]\nSeconds=1.5\n", "5: [Step 1] Seconds=1.5: not a whole number"},
        {HEAD("bad") "[Step 1]\nRepeat=101\n", "5: [Step 1] Repeat=101: out of range (1..100 times)"},
        {HEAD("bad") "[Step 1]\nWidth=250\n", "5: [Step 1] Width=250: out of range (0..200 mm)"},
        {HEAD("bad") "[Step 1]\nTechnique=shake\n", "5: [Step 1] Technique=shake: unknown technique (knead, "
                                                    "tap, knead-and-tap, press, rolling, long-glide)"},
        {HEAD("bad") "[Step 1]\nZone=head\n", "5: [Step 1] Zone=head: no such zone in the chair config"},
        {HEAD("bad") "[Step 1]\nAirbags=feet\n",
         "5: [Step 1] Airbags=feet: expected none or a list of shoulders, arms, hips, legs"},
        {HEAD("bad") "[Step 1]\nHeat=warm\n", "5: [Step 1] Heat=warm: not a number"},
        {HEAD("bad") "[Step 1]\nRecline=70\n", "5: [Step 1] Recline=70: out of range (0..60 °)"},
        {HEAD("bad") "[Step 1]\nPoints=1\n", "5: [Step 1] Points=1: out of range (2..20 points)"},
        {HEAD("bad") "[Step 1]\n  Speed=3\n", "5: indented line (continuation lines are not supported)"},
        {HEAD("bad") "[Step 1]\nSpeed\n", "5: syntax error (expected [Section] or Key=Value)"},
        {"Id=bad\n", "1: Id=bad: assignment outside of a section"},
        {HEAD("other") STEP1, "2: [Program] Id=other: must be the file's name without .program (bad)"},
        {HEAD("BAD") STEP1, "2: [Program] Id=BAD: must be 1..64 of a-z, 0-9, '-', '_'"},
        {"[Program]\nId=bad\n" STEP1, "1: [Program]: Name= missing"},
        {STEP1, " no [Program] section"},
        {HEAD("bad"), "1: [Program]: no [Step 1]"},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nZone=neck\nSpeed=10\nSeconds=30\n",
         "4: [Step 1]: Force= missing"},
        {HEAD("bad") STEP1 "From=0\nTo=50\n", "4: [Step 1]: give either Zone= or both From= and To="},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nFrom=100\nSpeed=10\nForce=10\nSeconds=30\n",
         "4: [Step 1]: give either Zone= or both From= and To="},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nFrom=100\nTo=100\nSpeed=10\nForce=10\nSeconds=30\n",
         "7: [Step 1] To=100: must be above From=100"},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nFrom=600\nTo=650\nSpeed=10\nForce=10\nSeconds=30\n",
         "6: [Step 1] From=600: range 600..650 mm is off the track for every shoulder height"},
        {"[Program]\nId=bad\nName=T\nTotalSeconds=40\n" STEP1,
         "4: [Program] TotalSeconds=40: 40 s given, the steps add up to 30 s"},
        /* safety rules (SR ids from the supervisor's verdict) */
        {HEAD("bad") "[Step 1]\nTechnique=knead\nZone=neck\nSpeed=10\nForce=40\nSeconds=30\n",
         "8: [Step 1] Force=40: force 40.0 N over the neck limit 35.0 N (SR-9)"},
        {HEAD("bad") "[Step 1]\nTechnique=tap\nZone=neck\nSpeed=10\nForce=20\nSeconds=30\n",
         "5: [Step 1] Technique=tap: technique tap not allowed in zone neck (SR-10)"},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nZone=shoulders\nSpeed=10\nForce=95\nSeconds=30\n",
         "8: [Step 1] Force=95: force 95.0 N over the shoulders limit 90.0 N (SR-10)"},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nZone=lumbar\nSpeed=200\nForce=50\nSeconds=30\n",
         "7: [Step 1] Speed=200: speed 200.0 mm/s over the cap 150.0 mm/s (SR-22)"},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nFrom=-20\nTo=90\nSpeed=10\nForce=60\nSeconds=30\n",
         "9: [Step 1] Force=60: force 60.0 N over the neck limit 35.0 N (the range reaches into it) (SR-9)"},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nFrom=480\nTo=520\nSpeed=10\nForce=50\nSeconds=30\n",
         "9: [Step 1] Force=50: force 50.0 N over the neck limit 35.0 N (part of the range is in no zone: "
         "neck "
         "rules) (SR-9)"},
        {HEAD("bad") STEP1 "Heat=50\n", "10: [Step 1] Heat=50: 50 °C over the cap 45 °C (SR-19)"},
        {HEAD("bad") "[Step 1]\nTechnique=knead\nZone=lumbar\nSpeed=20\nForce=50\nSeconds=1000\nRepeat=2\n",
         "1: [Program]: runs 2000 s, longer than the maximum session of 1800 s (SR-18)"},
};

static void test_bad_files(void **state) {
        char path[PATH_MAX], want[PATH_MAX + 256];
        unsigned failed = 0;

        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                _cleanup_(program_freep) Program *p = NULL;
                char *err = NULL;
                int r;

                write_file(USR "bad.program", bad_cases[i].text, path, sizeof path);
                r = program_load_file(path, chair, NULL, &p, &err);
                snprintf(want, sizeof want, "%s:%s", path, bad_cases[i].message);
                if (r >= 0 || !err || strcmp(err, want) != 0) {
                        print_error("case %zu: r=%d\n got: %s\nwant: %s\n", i, r, err ?: "(null)", want);
                        failed++;
                }
                assert_null(p);
                free(err);
        }
        assert_int_equal(failed, 0);
}

/* The supervisor's effective limits count: a neck limit a technician lowered rejects a step it allowed. */
static void test_lowered_limit(void **state) {
        char path[PATH_MAX], *err = NULL;
        _cleanup_(program_freep) Program *p = NULL;
        Safety s;

        write_file(USR "neck.program",
                   HEAD("neck") "[Step 1]\nTechnique=knead\nZone=neck\nSpeed=10\nForce=20\nSeconds=30\n",
                   path, sizeof path);
        assert_int_equal(safety_init(&s, chair, false, 0), 0);
        assert_int_equal(program_load_file(path, chair, &s, &p, &err), 0);
        p = program_free(p);
        assert_int_equal(safety_limit_set(&s, SAFETY_LIMIT_NECK_FORCE, 15), 0);
        assert_int_equal(program_load_file(path, chair, &s, &p, &err), -ERANGE);
        assert_non_null(
                strstr(err, ":8: [Step 1] Force=20: force 20.0 N over the neck limit 15.0 N (SR-9)"));
        free(err);
}

/* ---- the search path ---- */

static void test_bad_file_does_not_stop_others(void **state) {
        char path[PATH_MAX], want[PATH_MAX + 128];
        _cleanup_(program_list_freep) ProgramList *l = NULL;

        write_file(USR "alpha.program", HEAD("alpha") STEP1, path, sizeof path);
        write_file(USR "beta.program",
                   HEAD("beta") "[Step 1]\nTechnique=tap\nZone=neck\nSpeed=10\nForce=20\nSeconds=30\n", path,
                   sizeof path);
        snprintf(want, sizeof want,
                 "%s:5: [Step 1] Technique=tap: technique tap not allowed in zone neck (SR-10)", path);
        write_file(ETC "gamma.program", HEAD("gamma") STEP1, path, sizeof path);
        write_file(USR "notes.txt", "not a program", path, sizeof path);

        assert_int_equal(program_list_load(root, chair, NULL, &l), 0);
        assert_int_equal(l->n_programs, 2);
        assert_string_equal(l->programs[0]->id, "alpha");
        assert_string_equal(l->programs[1]->id, "gamma");
        assert_int_equal(l->n_errors, 1);
        assert_string_equal(l->errors[0], want);
        assert_null(program_list_find(l, "beta"));
}

static void test_etc_overrides(void **state) {
        char path[PATH_MAX], etc[PATH_MAX];
        _cleanup_(program_list_freep) ProgramList *l = NULL;

        write_file(USR "relax.program", HEAD("relax") STEP1, path, sizeof path);
        write_file(ETC "relax.program", "[Program]\nId=relax\nName=Local\n" STEP1, etc, sizeof etc);
        /* a broken /usr/share file hidden by a good /etc one is never read */
        write_file(USR "fixed.program", "broken\n", path, sizeof path);
        write_file(ETC "fixed.program", HEAD("fixed") STEP1, path, sizeof path);
        /* a link to /dev/null in /etc masks the shipped program */
        write_file(USR "gone.program", HEAD("gone") STEP1, path, sizeof path);
        snprintf(path, sizeof path, "%s" ETC "gone.program", root);
        assert_int_equal(symlink("/dev/null", path), 0);

        assert_int_equal(program_list_load(root, chair, NULL, &l), 0);
        assert_int_equal(l->n_errors, 0);
        assert_int_equal(l->n_programs, 2);
        assert_string_equal(program_list_find(l, "relax")->name, "Local");
        assert_string_equal(program_list_find(l, "relax")->path, etc);
        assert_non_null(program_list_find(l, "fixed"));
        assert_null(program_list_find(l, "gone"));
}

static void test_empty_root(void **state) {
        _cleanup_(program_list_freep) ProgramList *l = NULL;

        assert_int_equal(program_list_load(root, chair, NULL, &l), 0);
        assert_int_equal(l->n_programs, 0);
        assert_int_equal(l->n_errors, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped),
                cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
                cmocka_unit_test(test_step_force),
                cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lowered_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_file_does_not_stop_others, setup, teardown),
                cmocka_unit_test_setup_teardown(test_etc_overrides, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_root, setup, teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
