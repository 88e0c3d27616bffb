/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading the OEM config: finds the main file and the drop-ins (DESIGN §3 precedence), reads each with
 * libinih, applies every Key=Value through the key table (last writer wins) and hands the merged result to
 * the validator. Also the object's lifetime, lookups and the one error-message format. */
#include <dirent.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config-internal.h"

/* inih hands us one line at a time through this reader, which is how we know the line number: Debian's
 * libinih is built without INI_HANDLER_LINENO, so the handler itself never sees it. */
typedef struct LineReader {
        FILE *f;
        unsigned line;          /* number of the line the last chunk belongs to */
        bool at_line_start;     /* the next chunk starts a new line */
        bool indented;          /* the current line starts with blanks */
        unsigned too_long_line; /* first line longer than inih's buffer, 0 = none */
} LineReader;

typedef struct ParseContext {
        Config *c;
        const char *file; /* points into c->files */
        LineReader reader;
        char *board_names[_SIGNAL_MAX]; /* Board= of each signal, resolved once every file is read */
        char *error;
        unsigned error_line;
        int r;
} ParseContext;

static void fclosep(FILE **f) {
        if (*f)
                (void)fclose(*f);
}

static void closedirp(DIR **d) {
        if (*d)
                (void)closedir(*d);
}

static char *reader_gets(char *buf, int size, void *stream) {
        LineReader *lr = stream;
        size_t n;

        if (!fgets(buf, size, lr->f))
                return NULL;
        n = strlen(buf);
        if (lr->at_line_start) {
                lr->line++;
                lr->indented = buf[0] == ' ' || buf[0] == '\t';
        }
        lr->at_line_start = n > 0 && buf[n - 1] == '\n';
        if (!lr->at_line_start && !feof(lr->f) && lr->too_long_line == 0)
                lr->too_long_line = lr->line;
        return buf;
}

int config_error(const Config *c, char **ret_error, int r, const ConfigOrigin *origin, const char *section,
                 const char *key, const char *value, const char *fmt, ...) {
        _cleanup_free_ char *why = NULL, *where = NULL, *what = NULL;
        const char *file = origin && origin->file ? origin->file : c->n_files > 0 ? c->files[0] : "(config)";
        unsigned line = origin && origin->file ? origin->line : 0;
        va_list ap;
        int k;

        if (!ret_error || *ret_error)
                return r; /* the first error is the one worth reading */

        va_start(ap, fmt);
        k = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (k < 0)
                return r;
        k = line > 0 ? asprintf(&where, "%s:%u", file, line) : asprintf(&where, "%s", file);
        if (k < 0)
                return r;
        if (section && key)
                k = asprintf(&what, "[%s] %s=%s: ", section, key, value ?: "");
        else if (section)
                k = asprintf(&what, "[%s]: ", section);
        else if (key)
                k = asprintf(&what, "%s=%s: ", key, value ?: "");
        else
                k = asprintf(&what, "%s", "");
        if (k < 0)
                return r;
        if (asprintf(ret_error, "%s: %s%s", where, what, why) < 0)
                *ret_error = NULL;
        return r;
}

const ConfigEntry *config_entry_find(const Config *c, const char *section, const char *key) {
        for (size_t i = 0; i < c->n_entries; i++)
                if (streq(c->entries[i].section, section) && streq(c->entries[i].key, key))
                        return &c->entries[i];
        return NULL;
}

const ConfigEntry *config_entry_given(const Config *c, const char *section, const char *key) {
        const ConfigEntry *e = config_entry_find(c, section, key);
        return e && e->value[0] != '\0' ? e : NULL;
}

static int config_entry_set(Config *c, const char *section, const char *key, const char *value,
                            ConfigOrigin origin) {
        ConfigEntry *e = (ConfigEntry *)config_entry_find(c, section, key), *n;
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        if (e) {
                free(e->value);
                e->value = v;
                e->origin = origin;
                return 0;
        }
        n = realloc(c->entries, (c->n_entries + 1) * sizeof(ConfigEntry));
        if (!n)
                return free(v), -ENOMEM;
        c->entries = n;
        e = &c->entries[c->n_entries];
        *e = (ConfigEntry){.section = strdup(section), .key = strdup(key), .value = v, .origin = origin};
        c->n_entries++;
        if (!e->section || !e->key)
                return -ENOMEM; /* config_free() releases the half-built entry */
        return 0;
}

/* Groups the entries by section (sections in the order first seen, keys in file order). */
static int config_entries_group(Config *c) {
        _cleanup_free_ ConfigEntry *sorted = NULL;
        _cleanup_free_ bool *done = NULL;
        size_t n = 0;

        if (c->n_entries == 0)
                return 0;
        sorted = calloc(c->n_entries, sizeof(ConfigEntry));
        done = calloc(c->n_entries, sizeof(bool));
        if (!sorted || !done)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_entries; i++)
                for (size_t j = i; j < c->n_entries && !done[i]; j++)
                        if (!done[j] && streq(c->entries[j].section, c->entries[i].section)) {
                                sorted[n++] = c->entries[j];
                                done[j] = true;
                        }
        free(c->entries);
        c->entries = TAKE_PTR(sorted);
        return 0;
}

static void config_section_defaults(SectionKind kind, void *base) {
        for (size_t i = 0; i < config_keys_count; i++)
                if (config_keys[i].section == kind)
                        config_key_set_default(&config_keys[i], base);
}

static void *config_section_create(Config *c, SectionKind kind, const char *name, ConfigOrigin origin) {
        void *base = NULL;
        void *n;

        switch (kind) {
        case SECTION_BOARD:
                n = realloc(c->boards, (c->n_boards + 1) * sizeof(BoardConfig));
                if (!n)
                        return NULL;
                c->boards = n;
                c->boards[c->n_boards] = (BoardConfig){.name = strdup(name), .origin = origin};
                base = &c->boards[c->n_boards++];
                if (!((BoardConfig *)base)->name)
                        return NULL;
                break;
        case SECTION_SIGNAL:
                n = realloc(c->signals, (c->n_signals + 1) * sizeof(SignalConfig));
                if (!n)
                        return NULL;
                c->signals = n;
                c->signals[c->n_signals] =
                        (SignalConfig){.id = signal_id_from_string(name), .origin = origin};
                base = &c->signals[c->n_signals++];
                break;
        case SECTION_ZONE:
                n = realloc(c->zones, (c->n_zones + 1) * sizeof(ZoneConfig));
                if (!n)
                        return NULL;
                c->zones = n;
                c->zones[c->n_zones] = (ZoneConfig){.name = strdup(name), .origin = origin};
                base = &c->zones[c->n_zones++];
                if (!((ZoneConfig *)base)->name)
                        return NULL;
                break;
        case SECTION_LINE:
                base = &c->gpio.lines[line_id_from_string(name)];
                *(LineConfig *)base = (LineConfig){.configured = true, .origin = origin};
                break;
        default:
                return NULL;
        }
        config_section_defaults(kind, base);
        return base;
}

/* Splits "Signal roller.force" into its kind and name and checks both; writes the canonical name. */
static int section_parse(ParseContext *ctx, const char *section, ConfigOrigin *o, SectionKind *ret_kind,
                         char *canonical, size_t size, const char **ret_name) {
        size_t w = strcspn(section, " \t");
        const char *name = section + w + strspn(section + w, " \t");
        char word[32];
        SectionKind kind = _SECTION_KIND_INVALID;

        if (w < sizeof(word)) {
                memcpy(word, section, w);
                word[w] = '\0';
                kind = section_kind_from_string(word);
        }
        if (kind < 0 || (!section_kind_is_named(kind) && *name))
                return config_error(ctx->c, &ctx->error, -EINVAL, o, section, NULL, NULL, "unknown section");
        if (section_kind_is_named(kind) && !*name)
                return config_error(ctx->c, &ctx->error, -EINVAL, o, section, NULL, NULL,
                                    "section needs a name ([%s NAME])", word);
        if (kind == SECTION_SIGNAL && signal_id_from_string(name) < 0)
                return config_error(ctx->c, &ctx->error, -EINVAL, o, section, NULL, NULL,
                                    "unknown signal name");
        if (kind == SECTION_LINE && line_id_from_string(name) < 0)
                return config_error(ctx->c, &ctx->error, -EINVAL, o, section, NULL, NULL,
                                    "unknown line name");

        snprintf(canonical, size, "%s%s%s", word, *name ? " " : "", name);
        *ret_kind = kind;
        *ret_name = name;
        return 0;
}

static int config_handle_line(ParseContext *ctx, const char *section, const char *key, const char *value) {
        ConfigOrigin o = {ctx->file, ctx->reader.line};
        char canonical[256], why[256];
        const ConfigKey *k;
        const char *name = NULL;
        SectionKind kind = _SECTION_KIND_INVALID;
        void *base;
        int r;

        if (ctx->reader.too_long_line > 0) {
                o.line = ctx->reader.too_long_line;
                return config_error(ctx->c, &ctx->error, -EINVAL, &o, NULL, NULL, NULL,
                                    "line too long (at most %d characters)", INI_MAX_LINE - 3);
        }
        if (ctx->reader.indented)
                return config_error(ctx->c, &ctx->error, -EINVAL, &o, NULL, NULL, NULL,
                                    "indented line (continuation lines are not supported)");
        if (!*section)
                return config_error(ctx->c, &ctx->error, -EINVAL, &o, NULL, key, value,
                                    "assignment outside of a section");
        r = section_parse(ctx, section, &o, &kind, canonical, sizeof(canonical), &name);
        if (r < 0)
                return r;
        k = config_key_find(kind, key);
        if (!k)
                return config_error(ctx->c, &ctx->error, -EINVAL, &o, canonical, key, value, "unknown key");

        base = config_section_base(ctx->c, kind, name);
        if (!base)
                base = config_section_create(ctx->c, kind, name, o);
        if (!base)
                return -ENOMEM;

        if (k->type == KEY_BOARD) {
                SignalId id = ((SignalConfig *)base)->id;
                char *copy = *value ? strdup(value) : NULL;
                if (*value && !copy)
                        return -ENOMEM;
                free(ctx->board_names[id]);
                ctx->board_names[id] = copy;
        } else {
                r = config_key_parse(k, base, value, why, sizeof(why));
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return config_error(ctx->c, &ctx->error, r, &o, canonical, key, value, "%s", why);
        }
        return config_entry_set(ctx->c, canonical, key, value, o);
}

static int config_handler(void *user, const char *section, const char *key, const char *value) {
        ParseContext *ctx = user;

        if (ctx->r < 0)
                return 1; /* keep the first error; inih reads on regardless */
        ctx->r = config_handle_line(ctx, section, key, value);
        if (ctx->r < 0) {
                ctx->error_line = ctx->reader.line;
                return 0;
        }
        return 1;
}

static int config_parse_file(ParseContext *ctx, const char *path) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        ConfigOrigin o = {path, 0};
        int r;

        if (!f) {
                r = negative_errno();
                return config_error(ctx->c, &ctx->error, r, &o, NULL, NULL, NULL, "cannot read: %s",
                                    strerror(-r));
        }
        ctx->file = path;
        ctx->reader = (LineReader){.f = f, .at_line_start = true};
        r = ini_parse_stream(reader_gets, &ctx->reader, config_handler, ctx);
        if (r < 0 && ctx->r >= 0)
                return -ENOMEM;
        if (r > 0 && (ctx->r >= 0 || (unsigned)r < ctx->error_line)) {
                /* A line inih could not read (no '=', no closing ']') comes before our own first error. */
                free(ctx->error);
                ctx->error = NULL;
                o.line = (unsigned)r;
                return config_error(ctx->c, &ctx->error, -EINVAL, &o, NULL, NULL, NULL,
                                    "syntax error (expected [Section] or Key=Value)");
        }
        if (ctx->r < 0 && !ctx->error)
                return ctx->r;
        return ctx->r < 0 ? ctx->r : 0;
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->root);
        free(c->state_dir);
        free(c->modbus.host);
        free(c->modbus.device);
        for (size_t i = 0; i < c->n_boards; i++)
                free(c->boards[i].name);
        free(c->boards);
        for (size_t i = 0; i < c->n_signals; i++)
                free(c->signals[i].unit);
        free(c->signals);
        free(c->gpio.chip);
        free(c->gpio.sim_socket);
        for (size_t i = 0; i < _LINE_MAX; i++)
                free(c->gpio.lines[i].name);
        for (size_t i = 0; i < c->n_zones; i++)
                free(c->zones[i].name);
        free(c->zones);
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].section);
                free(c->entries[i].key);
                free(c->entries[i].value);
        }
        free(c->entries);
        for (size_t i = 0; i < c->n_files; i++)
                free(c->files[i]);
        free(c->files);
        free(c);
        return NULL;
}

static Config *config_new(const char *root, char **files, size_t n_files) {
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        static const SectionKind singletons[] = {
                SECTION_CHAIR, SECTION_MODBUS, SECTION_GPIO, SECTION_LIMITS, SECTION_UNTRAINED,
        };

        if (!c)
                return NULL;
        c->root = strdup(root);
        c->files = calloc(n_files, sizeof(char *));
        if (!c->root || !c->files)
                return NULL;
        for (; c->n_files < n_files; c->n_files++) {
                c->files[c->n_files] = strdup(files[c->n_files]);
                if (!c->files[c->n_files])
                        return NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(singletons); i++)
                config_section_defaults(singletons[i], config_section_base(c, singletons[i], NULL));
        return TAKE_PTR(c);
}

static int config_load_internal(const char *root, char **files, size_t n_files, Config **ret,
                                char **ret_error) {
        _cleanup_(config_freep) Config *c = NULL;
        ParseContext ctx = {};
        int r = 0;

        if (n_files == 0)
                return -EINVAL;
        c = config_new(root, files, n_files);
        if (!c)
                return -ENOMEM;

        ctx.c = c;
        for (size_t i = 0; i < c->n_files && r >= 0; i++)
                r = config_parse_file(&ctx, c->files[i]);
        if (r >= 0)
                r = config_entries_group(c);
        if (r >= 0)
                r = config_validate(c, ctx.board_names, &ctx.error);

        for (size_t i = 0; i < _SIGNAL_MAX; i++)
                free(ctx.board_names[i]);
        if (r < 0) {
                if (ret_error)
                        *ret_error = ctx.error ?: strdup(strerror(-r));
                else
                        free(ctx.error);
                return r;
        }
        free(ctx.error);
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_files(char **files, size_t n_files, Config **ret, char **ret_error) {
        return config_load_internal("/", files, n_files, ret, ret_error);
}

char *config_path_join(const char *root, const char *rel) {
        size_t n = strlen(root);
        char *p;

        while (n > 0 && root[n - 1] == '/')
                n--;
        while (*rel == '/')
                rel++;
        if (asprintf(&p, "%.*s/%s", (int)n, root, rel) < 0)
                return NULL;
        return p;
}

typedef struct DropIn {
        char *name; /* points into path */
        char *path;
} DropIn;

static int dropin_compare(const void *a, const void *b) {
        return strcmp(((const DropIn *)a)->name, ((const DropIn *)b)->name);
}

static bool dropin_wanted(const char *dir, const struct dirent *de) {
        size_t n = strlen(de->d_name);
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (de->d_name[0] == '.' || n <= 5 || !streq(de->d_name + n - 5, ".conf"))
                return false;
        /* Follow symlinks: a link to /dev/null masks a lower-priority file of the same name, as in systemd.
         */
        p = config_path_join(dir, de->d_name);
        return p && stat(p, &st) >= 0 && (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode));
}

/* Adds the *.conf of one drop-in folder unless a folder read before (higher priority) has that name. */
static int dropins_add_dir(const char *dir, DropIn **list, size_t *n, char **ret_error) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;

        if (!d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                int r = negative_errno();
                if (ret_error && asprintf(ret_error, "%s: cannot open folder: %s", dir, strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        while ((de = readdir(d))) {
                bool shadowed = false;
                DropIn *nl;

                if (!dropin_wanted(dir, de))
                        continue;
                for (size_t i = 0; i < *n && !shadowed; i++)
                        shadowed = streq((*list)[i].name, de->d_name);
                if (shadowed)
                        continue;
                nl = realloc(*list, (*n + 1) * sizeof(DropIn));
                if (!nl)
                        return -ENOMEM;
                *list = nl;
                nl[*n].path = config_path_join(dir, de->d_name);
                if (!nl[*n].path)
                        return -ENOMEM;
                nl[*n].name = strrchr(nl[*n].path, '/') + 1;
                (*n)++;
        }
        return 0;
}

int config_load(const char *root, Config **ret, char **ret_error) {
        static const char *const dirs[] = CONFIG_DROPIN_DIRS;
        _cleanup_free_ char **files = NULL;
        DropIn *list = NULL;
        size_t n = 0;
        int r = 0;

        if (!root)
                root = "/";
        for (size_t i = 0; i < ELEMENTSOF(dirs) && r >= 0; i++) {
                _cleanup_free_ char *dir = config_path_join(root, dirs[i]);
                r = dir ? dropins_add_dir(dir, &list, &n, ret_error) : -ENOMEM;
        }
        if (r >= 0) {
                if (n > 0)
                        qsort(list, n, sizeof(DropIn), dropin_compare);
                files = calloc(n + 1, sizeof(char *));
                if (files && (files[0] = config_path_join(root, CONFIG_MAIN_FILE))) {
                        for (size_t i = 0; i < n; i++)
                                files[i + 1] = list[i].path;
                        r = config_load_internal(root, files, n + 1, ret, ret_error);
                } else
                        r = -ENOMEM;
        }
        if (files)
                free(files[0]);
        for (size_t i = 0; i < n; i++)
                free(list[i].path);
        free(list);
        return r;
}

const SignalConfig *config_signal(const Config *c, SignalId id) {
        for (size_t i = 0; i < c->n_signals; i++)
                if (c->signals[i].id == id)
                        return &c->signals[i];
        return NULL;
}

int config_board_index(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_boards; i++)
                if (name && streq(c->boards[i].name, name))
                        return (int)i;
        return -ENOENT;
}

const ZoneConfig *config_zone(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_zones; i++)
                if (name && streq(c->zones[i].name, name))
                        return &c->zones[i];
        return NULL;
}

const ZoneConfig *config_neck_zone(const Config *c) {
        for (size_t i = 0; i < c->n_zones; i++)
                if (c->zones[i].neck)
                        return &c->zones[i];
        return NULL;
}
