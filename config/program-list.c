/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The program search path: every *.program of /etc/chaird/programs and /usr/share/chaird/programs (the
 * same name in /etc wins, a link to /dev/null masks), each loaded on its own so that a rejected file only
 * leaves its error message behind, sorted by id. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-internal.h"
#include "program.h"

static void closedirp(DIR **d) {
        if (*d)
                (void)closedir(*d);
}

ProgramList *program_list_free(ProgramList *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n_programs; i++)
                program_free(l->programs[i]);
        free(l->programs);
        for (size_t i = 0; i < l->n_errors; i++)
                free(l->errors[i]);
        free(l->errors);
        free(l);
        return NULL;
}

const Program *program_list_find(const ProgramList *l, const char *id) {
        for (size_t i = 0; l && id && i < l->n_programs; i++)
                if (streq(l->programs[i]->id, id))
                        return l->programs[i];
        return NULL;
}

static int strv_push(char ***v, size_t *n, char *s) {
        char **nv;

        if (!s)
                return -ENOMEM;
        nv = realloc(*v, (*n + 1) * sizeof(char *));
        if (!nv)
                return free(s), -ENOMEM;
        nv[(*n)++] = s;
        *v = nv;
        return 0;
}

static bool strv_contains(char **v, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

static int list_add_file(ProgramList *l, const char *path, const Config *c, const struct Safety *s) {
        Program *p = NULL, **np;
        char *error = NULL;
        int r;

        r = program_load_file(path, c, s, &p, &error);
        if (r == -ENOMEM)
                return free(error), r;
        if (r < 0)
                return strv_push(&l->errors, &l->n_errors, error ?: strdup(path));
        np = realloc(l->programs, (l->n_programs + 1) * sizeof(Program *));
        if (!np)
                return program_free(p), -ENOMEM;
        np[l->n_programs++] = p;
        l->programs = np;
        return 0;
}

/* One folder: every *.program whose name no folder of higher priority had (names collects them). A name
 * that is a link to /dev/null masks the lower ones without loading anything, as in systemd. */
static int list_add_dir(ProgramList *l, const char *dir, char ***names, size_t *n_names, const Config *c,
                        const struct Safety *s) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        int r;

        if (!d)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name), sn = strlen(PROGRAM_SUFFIX);
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (de->d_name[0] == '.' || n <= sn || !streq(de->d_name + n - sn, PROGRAM_SUFFIX) ||
                    strv_contains(*names, *n_names, de->d_name))
                        continue;
                r = strv_push(names, n_names, strdup(de->d_name));
                if (r < 0)
                        return r;
                path = config_path_join(dir, de->d_name);
                if (!path)
                        return -ENOMEM;
                if (stat(path, &st) < 0 || S_ISCHR(st.st_mode))
                        continue;
                r = list_add_file(l, path, c, s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int program_compare(const void *a, const void *b) {
        return strcmp((*(Program *const *)a)->id, (*(Program *const *)b)->id);
}

static int string_compare(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int program_list_load_dirs(const char *const *dirs, size_t n_dirs, const Config *c, const struct Safety *s,
                           ProgramList **ret) {
        _cleanup_(program_list_freep) ProgramList *l = calloc(1, sizeof(ProgramList));
        char **names = NULL;
        size_t n_names = 0;
        int r = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n_dirs && r >= 0; i++)
                r = list_add_dir(l, dirs[i], &names, &n_names, c, s);
        for (size_t i = 0; i < n_names; i++)
                free(names[i]);
        free(names);
        if (r < 0)
                return r;
        if (l->n_programs > 1)
                qsort(l->programs, l->n_programs, sizeof(Program *), program_compare);
        if (l->n_errors > 1)
                qsort(l->errors, l->n_errors, sizeof(char *), string_compare);
        *ret = TAKE_PTR(l);
        return 0;
}

int program_list_load(const char *root, const Config *c, const struct Safety *s, ProgramList **ret) {
        static const char *const rel[] = CONFIG_PROGRAM_DIRS;
        char *dirs[ELEMENTSOF(rel)] = {};
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(rel); i++)
                if (!(dirs[i] = config_path_join(root ?: "/", rel[i])))
                        r = -ENOMEM;
        if (r >= 0)
                r = program_list_load_dirs((const char *const *)dirs, ELEMENTSOF(rel), c, s, ret);
        for (size_t i = 0; i < ELEMENTSOF(rel); i++)
                free(dirs[i]);
        return r;
}
