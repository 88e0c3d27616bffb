/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Program files: reads one *.program with libinih and checks every key and every step (plain rules here,
 * caps and zone rules through safety_check_step()). The search path is config/program-list.c. Format:
 * docs/programs.md. */
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-internal.h"
#include "program.h"
#include "safety.h"

typedef enum StepKey {
        STEP_TECHNIQUE,
        STEP_ZONE,
        STEP_FROM,
        STEP_TO,
        STEP_SPEED,
        STEP_WIDTH,
        STEP_FORCE,
        STEP_POINTS,
        STEP_AIRBAGS,
        STEP_HEAT,
        STEP_RECLINE,
        STEP_SECONDS,
        STEP_REPEAT,
        _STEP_KEY_MAX,
} StepKey;

typedef enum ProgramKey {
        PROGRAM_ID,
        PROGRAM_NAME,
        PROGRAM_DESCRIPTION,
        PROGRAM_CATEGORY,
        PROGRAM_TOTAL_SECONDS,
        _PROGRAM_KEY_MAX,
} ProgramKey;

static const char *const step_key_table[_STEP_KEY_MAX] = {
        [STEP_TECHNIQUE] = "Technique", [STEP_ZONE] = "Zone",
        [STEP_FROM] = "From",           [STEP_TO] = "To",
        [STEP_SPEED] = "Speed",         [STEP_WIDTH] = "Width",
        [STEP_FORCE] = "Force",         [STEP_POINTS] = "Points",
        [STEP_AIRBAGS] = "Airbags",     [STEP_HEAT] = "Heat",
        [STEP_RECLINE] = "Recline",     [STEP_SECONDS] = "Seconds",
        [STEP_REPEAT] = "Repeat",
};

static const char *const program_key_table[_PROGRAM_KEY_MAX] = {
        [PROGRAM_ID] = "Id",
        [PROGRAM_NAME] = "Name",
        [PROGRAM_DESCRIPTION] = "Description",
        [PROGRAM_CATEGORY] = "Category",
        [PROGRAM_TOTAL_SECONDS] = "TotalSeconds",
};

static const char *const airbag_group_table[_AIRBAG_GROUP_MAX] = {
        [AIRBAG_GROUP_SHOULDERS] = "shoulders",
        [AIRBAG_GROUP_ARMS] = "arms",
        [AIRBAG_GROUP_HIPS] = "hips",
        [AIRBAG_GROUP_LEGS] = "legs",
};

/* Where each key of a step was written, for the error that names it later (0 = not given). */
typedef struct StepLines {
        unsigned key[_STEP_KEY_MAX];
} StepLines;

/* inih hands us one line at a time through this reader, which is how we know line numbers: Debian's
 * libinih is built without INI_HANDLER_LINENO. We also note section headers, which inih does not report
 * until their first key. */
typedef struct ProgramReader {
        FILE *f;
        unsigned line;
        bool at_line_start;
        bool indented;
        unsigned header_line;   /* line of the last "[...]" */
        unsigned too_long_line; /* first line longer than inih's buffer */
} ProgramReader;

typedef struct ProgramParser {
        const Config *c;
        const char *path;
        Program *p;
        ProgramReader reader;
        char *section;   /* the section the keys now go to */
        bool in_program; /* section is [Program] */
        bool program_seen;
        unsigned program_line; /* [Program] header */
        unsigned program_keys[_PROGRAM_KEY_MAX];
        StepLines *lines; /* one per step */
        char *error;
        unsigned error_line; /* the line our first error was found on */
        int r;
} ProgramParser;

const char *airbag_group_to_string(AirbagGroup g) {
        if (g < 0 || g >= _AIRBAG_GROUP_MAX)
                return NULL;
        return airbag_group_table[g];
}

AirbagGroup airbag_group_from_string(const char *s) {
        for (int i = 0; s && i < _AIRBAG_GROUP_MAX; i++)
                if (streq(s, airbag_group_table[i]))
                        return (AirbagGroup)i;
        return _AIRBAG_GROUP_INVALID;
}

double program_step_force(const ProgramStep *step, unsigned intensity, unsigned max_intensity) {
        if (max_intensity == 0)
                return 0;
        intensity = MIN(intensity, max_intensity);
        return step->force_n * (0.4 + 0.6 * (double)intensity / (double)max_intensity);
}

static char *reader_gets(char *buf, int size, void *stream) {
        ProgramReader *pr = stream;
        size_t n;

        if (!fgets(buf, size, pr->f))
                return NULL;
        n = strlen(buf);
        if (pr->at_line_start) {
                pr->line++;
                pr->indented = buf[0] == ' ' || buf[0] == '\t';
                if (buf[strspn(buf, " \t")] == '[')
                        pr->header_line = pr->line;
        }
        pr->at_line_start = n > 0 && buf[n - 1] == '\n';
        if (!pr->at_line_start && !feof(pr->f) && pr->too_long_line == 0)
                pr->too_long_line = pr->line;
        return buf;
}

static void fclosep(FILE **f) {
        if (*f)
                (void)fclose(*f);
}

/* The one error format (config_error's): "FILE:LINE: [Section] Key=Value: why". */
#define parser_error(ps, r, line, section, key, value, ...)                                                 \
        ({                                                                                                  \
                ConfigOrigin _o = {(ps)->path, (line)};                                                     \
                config_error((ps)->c, &(ps)->error, (r), &_o, (section), (key), (value), __VA_ARGS__);      \
        })

static int parse_double(const char *s, double min, double max, double *ret) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_unsigned(const char *s, unsigned min, unsigned max, unsigned *ret) {
        unsigned long v;
        char *end;

        if (s[0] < '0' || s[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

/* "shoulders arms" → bits; "none" alone → 0. */
static int parse_airbags(const char *s, unsigned *ret) {
        _cleanup_free_ char *copy = strdup(s);
        unsigned bits = 0;
        bool none = false;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
                AirbagGroup g = airbag_group_from_string(w);
                if (streq(w, "none"))
                        none = true;
                else if (g < 0)
                        return -EINVAL;
                else
                        bits |= 1u << g;
        }
        if ((none && bits != 0) || (!none && bits == 0))
                return -EINVAL;
        *ret = bits;
        return 0;
}

/* The range a signal may hold, from the chair config when it says, else the fallback. */
static void signal_range(const Config *c, SignalId id, double fallback_max, double *ret_min,
                         double *ret_max) {
        const SignalConfig *sc = config_signal(c, id);

        *ret_min = sc && sc->has_range ? sc->min : 0;
        *ret_max = sc && sc->has_range ? sc->max : fallback_max;
}

static int numeric_error(ProgramParser *ps, int r, const char *key, const char *value, double min,
                         double max, const char *unit) {
        if (r == -ERANGE)
                return parser_error(ps, -ERANGE, ps->reader.line, ps->section, key, value,
                                    "out of range (%g..%g %s)", min, max, unit);
        return parser_error(ps, -EINVAL, ps->reader.line, ps->section, key, value, "not a number");
}

static int step_set_double(ProgramParser *ps, const char *key, const char *value, double min, double max,
                           const char *unit, double *ret) {
        int r = parse_double(value, min, max, ret);
        return r < 0 ? numeric_error(ps, r, key, value, min, max, unit) : 0;
}

static int step_set_unsigned(ProgramParser *ps, const char *key, const char *value, unsigned min,
                             unsigned max, const char *unit, unsigned *ret) {
        int r = parse_unsigned(value, min, max, ret);
        if (r == -EINVAL)
                return parser_error(ps, -EINVAL, ps->reader.line, ps->section, key, value,
                                    "not a whole number");
        return r < 0 ? numeric_error(ps, r, key, value, min, max, unit) : 0;
}

static int step_set(ProgramParser *ps, ProgramStep *st, StepKey k, const char *key, const char *value) {
        const Config *c = ps->c;
        double lo, hi;
        int r;

        switch (k) {
        case STEP_TECHNIQUE:
                st->technique = technique_from_string(value);
                if (st->technique <= TECHNIQUE_NONE)
                        return parser_error(ps, -EINVAL, ps->reader.line, ps->section, key, value,
                                            "unknown technique (knead, tap, knead-and-tap, press, rolling, "
                                            "long-glide)");
                return 0;
        case STEP_ZONE:
                if (!config_zone(c, value))
                        return parser_error(ps, -ENOENT, ps->reader.line, ps->section, key, value,
                                            "no such zone in the chair config");
                st->zone = strdup(value);
                return st->zone ? 0 : -ENOMEM;
        case STEP_FROM:
                return step_set_double(ps, key, value, -c->limits.track_length_mm, c->limits.track_length_mm,
                                       "mm", &st->from_mm);
        case STEP_TO:
                return step_set_double(ps, key, value, -c->limits.track_length_mm, c->limits.track_length_mm,
                                       "mm", &st->to_mm);
        case STEP_SPEED:
                r = step_set_double(ps, key, value, 0, 1000, "mm/s", &st->speed_mm_s);
                if (r == 0 && st->speed_mm_s <= 0)
                        return parser_error(ps, -ERANGE, ps->reader.line, ps->section, key, value,
                                            "must be above 0 mm/s");
                return r;
        case STEP_WIDTH:
                signal_range(c, SIGNAL_ROLLER_WIDTH, 300, &lo, &hi);
                return step_set_double(ps, key, value, lo, hi, "mm", &st->width_mm);
        case STEP_FORCE:
                return step_set_double(ps, key, value, 0, 1000, "N", &st->force_n);
        case STEP_POINTS:
                return step_set_unsigned(ps, key, value, 2, PROGRAM_POINTS_MAX, "points", &st->points);
        case STEP_AIRBAGS:
                r = parse_airbags(value, &st->airbags);
                if (r == -EINVAL)
                        return parser_error(ps, r, ps->reader.line, ps->section, key, value,
                                            "expected none or a list of shoulders, arms, hips, legs");
                return r;
        case STEP_HEAT:
                st->heat = !streq(value, "off");
                signal_range(c, SIGNAL_HEAT_SETPOINT, 70, &lo, &hi);
                return st->heat ? step_set_double(ps, key, value, lo, hi, "°C, or off", &st->heat_c) : 0;
        case STEP_RECLINE:
                st->recline = true;
                signal_range(c, SIGNAL_RECLINE_TARGET, 90, &lo, &hi);
                return step_set_double(ps, key, value, lo, hi, "°", &st->recline_deg);
        case STEP_SECONDS:
                return step_set_unsigned(ps, key, value, 1, PROGRAM_STEP_SECONDS_MAX, "s", &st->seconds);
        case STEP_REPEAT:
                return step_set_unsigned(ps, key, value, 1, PROGRAM_REPEAT_MAX, "times", &st->repeat);
        default:
                return -EINVAL;
        }
}

static bool id_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > PROGRAM_ID_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
                        return false;
        return true;
}

static int program_set(ProgramParser *ps, ProgramKey k, const char *key, const char *value) {
        Program *p = ps->p;
        char **field = NULL;

        switch (k) {
        case PROGRAM_ID:
                if (!id_valid(value))
                        return parser_error(ps, -EINVAL, ps->reader.line, "Program", key, value,
                                            "must be 1..%d of a-z, 0-9, '-', '_'", PROGRAM_ID_MAX);
                field = &p->id;
                break;
        case PROGRAM_NAME:
                if (!*value)
                        return parser_error(ps, -EINVAL, ps->reader.line, "Program", key, value, "empty");
                field = &p->name;
                break;
        case PROGRAM_DESCRIPTION:
                field = &p->description;
                break;
        case PROGRAM_CATEGORY:
                field = &p->category;
                break;
        case PROGRAM_TOTAL_SECONDS:
                return step_set_unsigned(ps, key, value, 1, 24 * 3600, "s", &p->total_seconds);
        default:
                return -EINVAL;
        }
        *field = strdup(value);
        return *field ? 0 : -ENOMEM;
}

static int find_key(const char *const *table, int n, const char *key) {
        for (int i = 0; i < n; i++)
                if (streq(table[i], key))
                        return i;
        return -EINVAL;
}

/* A new section name: [Program] once, then [Step 1], [Step 2], … in order. */
static int parser_enter_section(ProgramParser *ps, const char *section) {
        unsigned n = 0, line = ps->reader.header_line;
        char *copy;
        int k = -1;

        if (streq(section, "Program")) {
                if (ps->program_seen)
                        return parser_error(ps, -EINVAL, line, section, NULL, NULL, "section given twice");
                ps->program_seen = true;
                ps->program_line = line;
        } else if (sscanf(section, "Step %u%n", &n, &k) == 1 && k == (int)strlen(section) && n > 0) {
                ProgramStep *steps;
                StepLines *lines;

                if (n != ps->p->n_steps + 1)
                        return parser_error(
                                ps, -EINVAL, line, section, NULL, NULL,
                                "steps are numbered 1, 2, 3, … in file order: expected [Step %zu]",
                                ps->p->n_steps + 1);
                if (n > PROGRAM_STEPS_MAX)
                        return parser_error(ps, -E2BIG, line, section, NULL, NULL, "more than %d steps",
                                            PROGRAM_STEPS_MAX);
                steps = realloc(ps->p->steps, n * sizeof(ProgramStep));
                if (!steps)
                        return -ENOMEM;
                ps->p->steps = steps;
                lines = realloc(ps->lines, n * sizeof(StepLines));
                if (!lines)
                        return -ENOMEM;
                ps->lines = lines;
                steps[n - 1] = (ProgramStep){.width_mm = 100, .repeat = 1, .line = line};
                lines[n - 1] = (StepLines){};
                ps->p->n_steps = n;
        } else
                return parser_error(ps, -EINVAL, line, section, NULL, NULL,
                                    "unknown section (expected [Program] or [Step N])");
        copy = strdup(section);
        if (!copy)
                return -ENOMEM;
        free(ps->section);
        ps->section = copy;
        ps->in_program = streq(section, "Program");
        return 0;
}

static int parser_handle(ProgramParser *ps, const char *section, const char *key, const char *value) {
        unsigned line = ps->reader.line, *seen;
        int k, r;

        if (ps->reader.too_long_line > 0)
                return parser_error(ps, -EINVAL, ps->reader.too_long_line, NULL, NULL, NULL,
                                    "line too long (at most %d characters)", INI_MAX_LINE - 3);
        if (ps->reader.indented)
                return parser_error(ps, -EINVAL, line, NULL, NULL, NULL,
                                    "indented line (continuation lines are not supported)");
        if (!*section)
                return parser_error(ps, -EINVAL, line, NULL, key, value, "assignment outside of a section");
        if (!ps->section || !streq(ps->section, section)) {
                r = parser_enter_section(ps, section);
                if (r < 0)
                        return r;
        }
        if (ps->in_program) {
                k = find_key(program_key_table, _PROGRAM_KEY_MAX, key);
                seen = k >= 0 ? &ps->program_keys[k] : NULL;
        } else {
                k = find_key(step_key_table, _STEP_KEY_MAX, key);
                seen = k >= 0 ? &ps->lines[ps->p->n_steps - 1].key[k] : NULL;
        }
        if (k < 0)
                return parser_error(ps, -EINVAL, line, section, key, value, "unknown key");
        if (*seen)
                return parser_error(ps, -EINVAL, line, section, key, value, "given twice (first on line %u)",
                                    *seen);
        *seen = line;
        if (ps->in_program)
                return program_set(ps, (ProgramKey)k, key, value);
        return step_set(ps, &ps->p->steps[ps->p->n_steps - 1], (StepKey)k, key, value);
}

static int parser_handler(void *user, const char *section, const char *key, const char *value) {
        ProgramParser *ps = user;

        if (ps->r < 0)
                return 1; /* keep the first error; inih reads on regardless */
        ps->r = parser_handle(ps, section, key, value);
        if (ps->r < 0) {
                ps->error_line = ps->reader.line;
                return 0;
        }
        return 1;
}

/* ---- whole-program checks ---- */

/* A value for an error message, as the file would say it. buf must hold 32 bytes. */
static const char *num(char *buf, double v) {
        (void)snprintf(buf, 32, "%g", v);
        return buf;
}

/* "Technique", "Force" or "Speed": the key a refusal of safety_check_step() is about. */
static StepKey verdict_key(int r, const SafetyVerdict *v) {
        if (r == -ENOENT)
                return STEP_ZONE;
        if (r == -EPERM || r == -EINVAL)
                return STEP_TECHNIQUE;
        return v->rule == SR_MOTION_LIMITS ? STEP_SPEED : STEP_FORCE;
}

static int step_refused(ProgramParser *ps, size_t i, int r, const SafetyVerdict *v, const char *where) {
        const StepLines *sl = &ps->lines[i];
        StepKey k = verdict_key(r, v);
        char section[32], value[64];
        const ProgramStep *st = &ps->p->steps[i];

        if (!sl->key[k])
                k = sl->key[STEP_ZONE] ? STEP_ZONE : STEP_FROM;
        (void)snprintf(section, sizeof section, "Step %zu", i + 1);
        switch (k) {
        case STEP_TECHNIQUE:
                (void)snprintf(value, sizeof value, "%s", technique_to_string(st->technique));
                break;
        case STEP_SPEED:
                (void)snprintf(value, sizeof value, "%g", st->speed_mm_s);
                break;
        case STEP_FORCE:
                (void)snprintf(value, sizeof value, "%g", st->force_n);
                break;
        case STEP_ZONE:
                (void)snprintf(value, sizeof value, "%s", st->zone ?: "");
                break;
        default:
                (void)snprintf(value, sizeof value, "%g", st->from_mm);
        }
        return parser_error(ps, r, sl->key[k], section, step_key_table[k], value, "%s%s (%s)", v->reason,
                            where, safety_rule_to_string(v->rule));
}

/* SR-14: a From=/To= range is held to the rules of every zone it touches, and where it touches none to
 * the neck's (the supervisor treats the head end and gaps as neck). */
static int step_check_range(ProgramParser *ps, const Safety *s, size_t i) {
        const ProgramStep *st = &ps->p->steps[i];
        const Config *c = ps->c;
        SafetyVerdict v;
        bool gap = false;
        int r;

        for (size_t z = 0; z < c->n_zones; z++) {
                if (!(c->zones[z].from_mm < st->to_mm && c->zones[z].to_mm > st->from_mm))
                        continue;
                r = safety_check_step(s, c->zones[z].name, st->technique, st->force_n, st->speed_mm_s, &v);
                if (r < 0)
                        return step_refused(ps, i, r, &v, " (the range reaches into it)");
        }
        for (double x = st->from_mm; x < st->to_mm && !gap; x += 1.0) {
                bool in = false;
                for (size_t z = 0; z < c->n_zones && !in; z++)
                        in = x >= c->zones[z].from_mm && x < c->zones[z].to_mm;
                gap = !in;
        }
        if (gap) {
                r = safety_check_step(s, config_neck_zone(c)->name, st->technique, st->force_n,
                                      st->speed_mm_s, &v);
                if (r < 0)
                        return step_refused(ps, i, r, &v, " (part of the range is in no zone: neck rules)");
        }
        return 0;
}

static int step_check(ProgramParser *ps, const Safety *s, size_t i) {
        ProgramStep *st = &ps->p->steps[i];
        const StepLines *sl = &ps->lines[i];
        const LimitsConfig *l = &ps->c->limits;
        char section[32], v1[32];
        SafetyVerdict v;
        int r;

        (void)snprintf(section, sizeof section, "Step %zu", i + 1);
        static const StepKey required[] = {STEP_TECHNIQUE, STEP_SPEED, STEP_FORCE, STEP_SECONDS};
        for (size_t k = 0; k < ELEMENTSOF(required); k++)
                if (!sl->key[required[k]])
                        return parser_error(ps, -EINVAL, st->line, section, NULL, NULL, "%s= missing",
                                            step_key_table[required[k]]);
        if (!!sl->key[STEP_ZONE] == (sl->key[STEP_FROM] || sl->key[STEP_TO]) ||
            !!sl->key[STEP_FROM] != !!sl->key[STEP_TO])
                return parser_error(ps, -EINVAL, st->line, section, NULL, NULL,
                                    "give either Zone= or both From= and To=");
        if (st->zone) {
                const ZoneConfig *z = config_zone(ps->c, st->zone);
                st->from_mm = z->from_mm;
                st->to_mm = z->to_mm;
                r = safety_check_step(s, st->zone, st->technique, st->force_n, st->speed_mm_s, &v);
                if (r < 0)
                        return step_refused(ps, i, r, &v, "");
        } else {
                if (st->from_mm >= st->to_mm)
                        return parser_error(ps, -EINVAL, sl->key[STEP_TO], section, "To", num(v1, st->to_mm),
                                            "must be above From=%g", st->from_mm);
                /* somewhere on the track for at least one shoulder height the OEM allows */
                if (l->shoulder_min_mm + st->from_mm >= l->track_length_mm ||
                    l->shoulder_max_mm + st->to_mm <= 0)
                        return parser_error(ps, -ERANGE, sl->key[STEP_FROM], section, "From",
                                            num(v1, st->from_mm),
                                            "range %g..%g mm is off the track for every shoulder height",
                                            st->from_mm, st->to_mm);
                r = step_check_range(ps, s, i);
                if (r < 0)
                        return r;
        }
        if (st->heat && st->heat_c > safety_limit_get(s, SAFETY_LIMIT_HEAT_TEMP))
                return parser_error(ps, -ERANGE, sl->key[STEP_HEAT], section, "Heat", num(v1, st->heat_c),
                                    "%g °C over the cap %g °C (%s)", st->heat_c,
                                    safety_limit_get(s, SAFETY_LIMIT_HEAT_TEMP),
                                    safety_rule_to_string(SR_HEAT));
        return 0;
}

static int program_check(ProgramParser *ps, const Safety *s, const char *base) {
        Program *p = ps->p;
        unsigned total = 0;
        char v1[32];
        int r;

        if (!ps->program_seen)
                return parser_error(ps, -EINVAL, 0, NULL, NULL, NULL, "no [Program] section");
        for (int k = PROGRAM_ID; k <= PROGRAM_NAME; k++)
                if (!ps->program_keys[k])
                        return parser_error(ps, -EINVAL, ps->program_line, "Program", NULL, NULL,
                                            "%s= missing", program_key_table[k]);
        if (!streq(p->id, base))
                return parser_error(ps, -EINVAL, ps->program_keys[PROGRAM_ID], "Program", "Id", p->id,
                                    "must be the file's name without .program (%s)", base);
        if (p->n_steps == 0)
                return parser_error(ps, -EINVAL, ps->program_line, "Program", NULL, NULL, "no [Step 1]");
        for (size_t i = 0; i < p->n_steps; i++) {
                r = step_check(ps, s, i);
                if (r < 0)
                        return r;
                total += p->steps[i].seconds * p->steps[i].repeat;
        }
        if (ps->program_keys[PROGRAM_TOTAL_SECONDS] && p->total_seconds != total)
                return parser_error(ps, -EINVAL, ps->program_keys[PROGRAM_TOTAL_SECONDS], "Program",
                                    "TotalSeconds", num(v1, p->total_seconds),
                                    "%u s given, the steps add up to %u s", p->total_seconds, total);
        p->total_seconds = total;
        if (total > safety_limit_get(s, SAFETY_LIMIT_SESSION))
                return parser_error(ps, -ERANGE, ps->program_line, "Program", NULL, NULL,
                                    "runs %u s, longer than the maximum session of %g s (%s)", total,
                                    safety_limit_get(s, SAFETY_LIMIT_SESSION),
                                    safety_rule_to_string(SR_SESSION_TIME));
        if (!p->description && !(p->description = strdup("")))
                return -ENOMEM;
        if (!p->category && !(p->category = strdup("general")))
                return -ENOMEM;
        return 0;
}

Program *program_free(Program *p) {
        if (!p)
                return NULL;
        free(p->id);
        free(p->name);
        free(p->description);
        free(p->category);
        free(p->path);
        for (size_t i = 0; i < p->n_steps; i++)
                free(p->steps[i].zone);
        free(p->steps);
        free(p);
        return NULL;
}

/* "dir/neck-relief.program" → "neck-relief" */
static char *path_base_id(const char *path) {
        const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
        size_t n = strlen(name), sn = strlen(PROGRAM_SUFFIX);

        if (n > sn && streq(name + n - sn, PROGRAM_SUFFIX))
                n -= sn;
        return strndup(name, n);
}

static int program_parse(ProgramParser *ps, const Safety *s) {
        _cleanup_(fclosep) FILE *f = fopen(ps->path, "re");
        _cleanup_free_ char *base = NULL;
        int r;

        if (!f) {
                r = negative_errno();
                return parser_error(ps, r, 0, NULL, NULL, NULL, "cannot read: %s", strerror(-r));
        }
        base = path_base_id(ps->path);
        if (!base)
                return -ENOMEM;
        ps->reader = (ProgramReader){.f = f, .at_line_start = true};
        r = ini_parse_stream(reader_gets, &ps->reader, parser_handler, ps);
        if (r < 0 && ps->r >= 0)
                return -ENOMEM;
        if (r > 0 && (ps->r >= 0 || (unsigned)r < ps->error_line)) {
                /* a line inih could not read (no '=', no closing ']') comes before our own first error */
                free(ps->error);
                ps->error = NULL;
                return parser_error(ps, -EINVAL, (unsigned)r, NULL, NULL, NULL,
                                    "syntax error (expected [Section] or Key=Value)");
        }
        if (ps->r < 0)
                return ps->r;
        return program_check(ps, s, base);
}

int program_load_file(const char *path, const Config *c, const Safety *s, Program **ret, char **ret_error) {
        _cleanup_(program_freep) Program *p = calloc(1, sizeof(Program));
        ProgramParser ps = {.c = c, .path = path};
        Safety own;
        int r;

        if (!p)
                return -ENOMEM;
        if (!s) {
                /* no supervisor at hand (chairctl's offline check): hold the steps to the OEM caps */
                r = safety_init(&own, c, false, 0);
                if (r < 0) {
                        if (ret_error &&
                            asprintf(ret_error, "%s: the chair config has no neck zone", path) < 0)
                                *ret_error = NULL;
                        return r;
                }
                s = &own;
        }
        p->path = strdup(path);
        if (!p->path)
                return -ENOMEM;
        ps.p = p;
        r = program_parse(&ps, s);
        free(ps.section);
        free(ps.lines);
        if (r < 0) {
                if (ret_error)
                        *ret_error = ps.error ?: strdup(strerror(-r));
                else
                        free(ps.error);
                return r;
        }
        free(ps.error);
        *ret = TAKE_PTR(p);
        return 0;
}
