/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Massage programs: the *.program files OEMs and therapists write (docs/programs.md), parsed with libinih
 * and checked step by step against the safety supervisor's caps and zone rules before anything runs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "chair.h"
#include "config.h"

struct Safety;

#define PROGRAM_SUFFIX ".program"
#define PROGRAM_ID_MAX 64
#define PROGRAM_STEPS_MAX 64
#define PROGRAM_STEP_SECONDS_MAX 3600
#define PROGRAM_REPEAT_MAX 100
#define PROGRAM_POINTS_MAX 20

/* Airbag groups a step may inflate: bit (1 << AirbagGroup) in ProgramStep.airbags. */
typedef enum AirbagGroup {
        AIRBAG_GROUP_SHOULDERS,
        AIRBAG_GROUP_ARMS,
        AIRBAG_GROUP_HIPS,
        AIRBAG_GROUP_LEGS,
        _AIRBAG_GROUP_MAX,
        _AIRBAG_GROUP_INVALID = -EINVAL,
} AirbagGroup;

typedef struct ProgramStep {
        Technique technique;
        char *zone;            /* the named zone, NULL when From=/To= were given */
        double from_mm, to_mm; /* relative to the shoulder line (+ = toward the seat) */
        double speed_mm_s;
        double width_mm;
        double force_n;   /* the setpoint at the top intensity; scaled down below it (program_step_force) */
        unsigned points;  /* 0 = sweep the range; N ≥ 2 = visit N evenly spaced points (press work) */
        unsigned airbags; /* AirbagGroup bits; 0 = none */
        bool heat;
        double heat_c;
        bool recline; /* false = leave the backrest where it is */
        double recline_deg;
        unsigned seconds; /* one run of the step */
        unsigned repeat;  /* runs; the step lasts seconds × repeat */
        unsigned line;    /* line of the [Step N] header */
} ProgramStep;

typedef struct Program {
        char *id;
        char *name;
        char *description;
        char *category;
        char *path; /* the file it came from */
        ProgramStep *steps;
        size_t n_steps;
        unsigned total_seconds; /* Σ seconds × repeat */
} Program;

/* Every program of the search path, sorted by id, plus one message per file that was rejected. */
typedef struct ProgramList {
        Program **programs;
        size_t n_programs;
        char **errors; /* "FILE:LINE: [Section] Key=Value: why (SR-n)" */
        size_t n_errors;
} ProgramList;

/* Reads and checks one file. Steps are checked with safety_check_step() against s; s may be NULL, then
 * a supervisor is set up from c alone (the OEM caps, as chairctl's offline check wants). On error writes
 * one message naming file:line and, for a safety rule, its SR id into ret_error (caller frees). */
int program_load_file(const char *path, const Config *c, const struct Safety *s, Program **ret,
                      char **ret_error);

/* Loads every *.program of <root>/etc/chaird/programs and <root>/usr/share/chaird/programs (the same
 * file name in /etc wins). A rejected file only adds to errors: the others still load. Fails only on
 * OOM or an unreadable folder. */
int program_list_load(const char *root, const Config *c, const struct Safety *s, ProgramList **ret);
/* The same from explicit folders, highest priority first. */
int program_list_load_dirs(const char *const *dirs, size_t n_dirs, const Config *c, const struct Safety *s,
                           ProgramList **ret);

const Program *program_list_find(const ProgramList *l, const char *id);

Program *program_free(Program *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Program *, program_free);
ProgramList *program_list_free(ProgramList *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProgramList *, program_list_free);

/* The force a step asks for at this intensity: force × (0.4 + 0.6 × intensity / max_intensity), so the
 * top level gives the written Force and level 1 of 10 a little under half of it. */
double program_step_force(const ProgramStep *step, unsigned intensity, unsigned max_intensity);

const char *airbag_group_to_string(AirbagGroup g);
AirbagGroup airbag_group_from_string(const char *s);
