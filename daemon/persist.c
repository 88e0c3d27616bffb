/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state file: format, parse with recovery, atomic save. A damaged file never stops the daemon and
 * never silently zeroes a counter that could still be read: what parses is kept, the rest is logged
 * and the original is moved aside for a post-mortem. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "log.h"
#include "persist.h"

/* A growing text buffer; the file is small, so a failed append just marks it broken. */
typedef struct Buf {
        char *data;
        size_t len, size;
        bool oom;
} Buf;

_printf_(2, 3) static void buf_printf(Buf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        if (b->oom)
                return;
        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->size - b->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        b->oom = true;
                        return;
                }
                if (b->data && b->len + (size_t) n < b->size) {
                        b->len += (size_t) n;
                        return;
                }
                size_t size = MAX(b->size * 2, b->len + (size_t) n + 256);
                char *p = realloc(b->data, size);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->data = p;
                b->size = size;
        }
}

/* Codes are one word and messages one line in the file: replace what would break the format. */
static void copy_clean(char *dst, size_t size, const char *src, bool word) {
        size_t i = 0;

        for (; src && *src && i + 1 < size; src++) {
                unsigned char c = (unsigned char) *src;
                if (c < 0x20 || c == 0x7f || (word && c == ' '))
                        c = word ? '-' : ' ';
                dst[i++] = (char) c;
        }
        dst[i] = '\0';
}

int persist_format(const PersistState *s, char **ret, size_t *ret_len) {
        Buf b = {};

        buf_printf(&b, "# chaird state: written by chaird, replaced atomically; do not edit\n");
        buf_printf(&b, "version=%d\n", PERSIST_VERSION);
        buf_printf(&b, "estops=%" PRIu64 "\n", s->estops);
        for (size_t i = 0; i < s->n_estop_kinds; i++)
                buf_printf(&b, "estops.%s=%" PRIu64 "\n", s->estop_kinds[i].name, s->estop_kinds[i].value);
        buf_printf(&b, "sessions=%" PRIu64 "\n", s->sessions);
        buf_printf(&b, "operating-seconds=%" PRIu64 "\n", s->operating_usec / USEC_PER_SEC);
        buf_printf(&b, "last_estop_reason=%s\n", s->last_estop_reason);
        for (int i = 0; i < _SAFETY_LIMIT_MAX; i++)
                if (s->limit_set[i])
                        buf_printf(&b, "limit.%s=%.17g\n", safety_limit_to_string(i), s->limit[i]);
        buf_printf(&b, "faults-dropped=%" PRIu64 "\n", s->faults_dropped);
        for (size_t i = 0; i < s->n_faults; i++)
                buf_printf(&b, "fault=%" PRIu64 " %s %s\n", s->faults[i].realtime_usec, s->faults[i].code,
                           s->faults[i].message);
        buf_printf(&b, "end\n");
        if (b.oom) {
                free(b.data);
                return -ENOMEM;
        }
        *ret = b.data;
        if (ret_len)
                *ret_len = b.len;
        return 0;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        char *end;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return false;
        *ret = v;
        return true;
}

static PersistCounter *estop_kind_find(PersistState *s, const char *kind, bool create) {
        for (size_t i = 0; i < s->n_estop_kinds; i++)
                if (streq(s->estop_kinds[i].name, kind))
                        return &s->estop_kinds[i];
        if (!create || s->n_estop_kinds >= PERSIST_KINDS_MAX)
                return NULL;
        PersistCounter *c = &s->estop_kinds[s->n_estop_kinds++];
        *c = (PersistCounter){};
        copy_clean(c->name, sizeof c->name, kind, true);
        return c;
}

static bool parse_fault(PersistState *s, const char *v) {
        char code[PERSIST_CODE_MAX];
        const char *sp1, *sp2;
        uint64_t t;
        char num[24];

        sp1 = strchr(v, ' ');
        if (!sp1 || (size_t) (sp1 - v) >= sizeof num)
                return false;
        memcpy(num, v, (size_t) (sp1 - v));
        num[sp1 - v] = '\0';
        if (!parse_u64(num, &t))
                return false;
        sp2 = strchr(sp1 + 1, ' ');
        if (!sp2 || sp2 == sp1 + 1 || (size_t) (sp2 - sp1 - 1) >= sizeof code)
                return false;
        memcpy(code, sp1 + 1, (size_t) (sp2 - sp1 - 1));
        code[sp2 - sp1 - 1] = '\0';
        persist_fault_add(s, t, code, sp2 + 1);
        return true;
}

static bool parse_limit(PersistState *s, const char *name, const char *v) {
        SafetyLimit id = safety_limit_from_string(name);
        char *end;
        double d;

        if (id < 0)
                return false;
        errno = 0;
        d = strtod(v, &end);
        if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d <= 0)
                return false;
        s->limit_set[id] = true;
        s->limit[id] = d;
        return true;
}

/* One "key=value" line; false when it does not parse. */
static bool parse_line(PersistState *s, char *l) {
        char *eq = strchr(l, '=');
        uint64_t u;

        if (l[0] == '#' || l[0] == '\0')
                return true;
        if (!eq)
                return false;
        *eq = '\0';
        const char *k = l, *v = eq + 1;

        if (streq(k, "version"))
                return parse_u64(v, &u) && u == PERSIST_VERSION;
        if (streq(k, "estops"))
                return parse_u64(v, &s->estops);
        if (strncmp(k, "estops.", 7) == 0) {
                PersistCounter *c;
                if (!parse_u64(v, &u) || k[7] == '\0' || !(c = estop_kind_find(s, k + 7, true)))
                        return false;
                c->value = u;
                return true;
        }
        if (streq(k, "sessions"))
                return parse_u64(v, &s->sessions);
        if (streq(k, "operating-seconds")) {
                if (!parse_u64(v, &u) || u > UINT64_MAX / USEC_PER_SEC)
                        return false;
                s->operating_usec = u * USEC_PER_SEC;
                return true;
        }
        if (streq(k, "last_estop_reason")) {
                copy_clean(s->last_estop_reason, sizeof s->last_estop_reason, v, true);
                return true;
        }
        if (strncmp(k, "limit.", 6) == 0)
                return parse_limit(s, k + 6, v);
        if (streq(k, "faults-dropped"))
                return parse_u64(v, &s->faults_dropped);
        if (streq(k, "fault"))
                return parse_fault(s, v);
        return false;
}

int persist_parse(PersistState *s, const char *text, PersistProblems *ret) {
        PersistProblems p = { .truncated = true };
        unsigned line = 0;
        uint64_t kinds = 0;

        for (const char *l = text; *l;) {
                const char *nl = strchr(l, '\n');
                char buf[PERSIST_CODE_MAX + PERSIST_MESSAGE_MAX + 64];
                size_t n;

                line++;
                if (!nl) /* the last line lost its end: a torn value would read smaller than it was */
                        break;
                n = (size_t) (nl - l);
                if (!p.truncated || n >= sizeof buf) {
                        /* anything after "end", or an absurdly long line, is damage */
                        if (!p.bad_lines++)
                                p.first_bad_line = line;
                } else {
                        memcpy(buf, l, n);
                        buf[n] = '\0';
                        if (streq(buf, "end"))
                                p.truncated = false;
                        else if (!parse_line(s, buf) && !p.bad_lines++)
                                p.first_bad_line = line;
                }
                l = nl + 1;
        }

        /* The total can never be below its parts: if only the total was damaged, keep what the parts prove. */
        for (size_t i = 0; i < s->n_estop_kinds; i++)
                kinds += s->estop_kinds[i].value;
        s->estops = MAX(s->estops, kinds);

        if (ret)
                *ret = p;
        return p.bad_lines > 0 || p.truncated ? 1 : 0;
}

static int persist_move_aside(const char *dir, const char *path) {
        char aside[4096];

        snprintf(aside, sizeof aside, "%s/%s.corrupt-%" PRIu64, dir, PERSIST_FILE,
                 (uint64_t) now_usec(CLOCK_REALTIME) / USEC_PER_SEC);
        if (rename(path, aside) < 0)
                return log_warning_errno(errno, "Failed to move %s aside: %m", path);
        log_warning("Kept the damaged state file as %s.", aside);
        return 0;
}

int persist_load(const char *dir, PersistState *s) {
        _cleanup_free_ char *text = NULL;
        PersistProblems p = {};
        char path[4096];
        size_t len = 0;
        int r;

        *s = (PersistState){};
        snprintf(path, sizeof path, "%s/%s", dir, PERSIST_FILE);
        r = read_file_full(path, PERSIST_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0 && r != -EFBIG)
                return log_warning_errno(r, "Failed to read %s, starting with empty counters: %m", path);
        if (r == -EFBIG)
                log_warning("%s is larger than %d bytes: damaged.", path, PERSIST_FILE_MAX);
        else if (strlen(text) != len) {
                /* parsing stops at the NUL; what came before it is kept */
                (void) persist_parse(s, text, &p);
                log_warning("%s contains NUL bytes: damaged; keeping what was readable before them.", path);
        } else if (persist_parse(s, text, &p) == 0)
                return 0;
        else if (p.bad_lines > 0)
                log_warning("%s: %u unreadable line(s), first at line %u%s; keeping what was readable.", path,
                            p.bad_lines, p.first_bad_line, p.truncated ? ", and truncated" : "");
        else
                log_warning("%s is truncated; keeping what was readable.", path);

        /* Whatever was readable (nothing after a NUL or when too big) is kept; the original is moved aside
         * and replaced at once so the next start sees a clean file. */
        (void) persist_move_aside(dir, path);
        r = persist_save(dir, s);
        if (r < 0)
                return log_warning_errno(r, "Failed to replace %s: %m", path);
        return 1;
}

int persist_save(const char *dir, const PersistState *s) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = persist_format(s, &text, &len);
        if (r < 0)
                return r;
        return write_file_atomic(dir, PERSIST_FILE, text, len);
}

void persist_count_estop(PersistState *s, const char *reason) {
        char kind[PERSIST_NAME_MAX];
        PersistCounter *c;
        const char *colon;

        reason = reason && reason[0] ? reason : "unknown";
        colon = strchr(reason, ':');
        snprintf(kind, sizeof kind, "%.*s", colon ? (int) (colon - reason) : (int) strlen(reason), reason);
        s->estops++;
        copy_clean(s->last_estop_reason, sizeof s->last_estop_reason, reason, true);
        c = estop_kind_find(s, kind, true);
        if (!c) /* more kinds than slots: count them together rather than lose them */
                c = estop_kind_find(s, "other", false) ?: &s->estop_kinds[PERSIST_KINDS_MAX - 1];
        c->value++;
}

uint64_t persist_estop_kind_count(const PersistState *s, const char *kind) {
        for (size_t i = 0; i < s->n_estop_kinds; i++)
                if (streq(s->estop_kinds[i].name, kind))
                        return s->estop_kinds[i].value;
        return 0;
}

void persist_fault_add(PersistState *s, uint64_t realtime_usec, const char *code, const char *message) {
        PersistFault *f;

        if (s->n_faults == PERSIST_FAULTS_MAX) {
                memmove(&s->faults[0], &s->faults[1], (PERSIST_FAULTS_MAX - 1) * sizeof s->faults[0]);
                s->n_faults--;
                s->faults_dropped++;
        }
        f = &s->faults[s->n_faults++];
        f->realtime_usec = realtime_usec;
        copy_clean(f->code, sizeof f->code, code && code[0] ? code : "unknown", true);
        copy_clean(f->message, sizeof f->message, message ?: "", false);
}

void persist_faults_clear(PersistState *s) {
        s->n_faults = 0;
}
