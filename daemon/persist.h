/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What chaird keeps across restarts in its state directory: counters (operating seconds, sessions,
 * e-stops by reason), a bounded fault log and the technician-lowered limits, as one small text file
 * replaced atomically. No Manager here, so the format and the recovery rules are unit tested alone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "safety.h"

#define PERSIST_FILE "state"
#define PERSIST_VERSION 1
#define PERSIST_FAULTS_MAX 64   /* the oldest entry goes when a new one does not fit */
#define PERSIST_KINDS_MAX 16    /* distinct e-stop reason kinds counted */
#define PERSIST_NAME_MAX 32
#define PERSIST_CODE_MAX 64
#define PERSIST_MESSAGE_MAX 160
#define PERSIST_FILE_MAX (64 * 1024)

typedef struct PersistFault {
        uint64_t realtime_usec; /* CLOCK_REALTIME: a technician reads it as a date */
        char code[PERSIST_CODE_MAX];       /* "estop:comm-loss:airbag", "board-lost:roller", ... */
        char message[PERSIST_MESSAGE_MAX];
} PersistFault;

typedef struct PersistCounter {
        char name[PERSIST_NAME_MAX];
        uint64_t value;
} PersistCounter;

typedef struct PersistState {
        uint64_t operating_usec; /* saved in whole seconds; the remainder lives until the next save */
        uint64_t sessions;
        uint64_t estops;
        PersistCounter estop_kinds[PERSIST_KINDS_MAX];
        size_t n_estop_kinds;
        char last_estop_reason[SAFETY_TEXT_MAX];
        bool limit_set[_SAFETY_LIMIT_MAX]; /* lowered by a technician (SetLimit) */
        double limit[_SAFETY_LIMIT_MAX];
        PersistFault faults[PERSIST_FAULTS_MAX]; /* oldest first */
        size_t n_faults;
        uint64_t faults_dropped; /* entries pushed out of the bounded log, ever */
} PersistState;

/* Why a file was not taken whole: counts of lines that did not parse, and whether the "end" line was
 * missing (truncated). */
typedef struct PersistProblems {
        unsigned bad_lines;
        unsigned first_bad_line;
        bool truncated;
} PersistProblems;

/* Text form: "key=value" lines, one fault a line, "end" last. */
int persist_format(const PersistState *s, char **ret, size_t *ret_len);

/* Fills s with every line that parses; a line without its '\n' is not trusted (a torn number would
 * read smaller). Returns 0 when the whole text was good, 1 when something was skipped (see ret). */
int persist_parse(PersistState *s, const char *text, PersistProblems *ret);

/* Reads dir/state into s (zeroed first). Missing file: 0, empty state. A corrupt or truncated file is
 * logged, renamed to state.corrupt-<realtime seconds>, and replaced by what was readable: returns 1.
 * Never fails for a bad file; negative errno only when the folder itself is unusable. */
int persist_load(const char *dir, PersistState *s);

/* Atomic replacement (temp file, fsync, rename, fsync of the folder). */
int persist_save(const char *dir, const PersistState *s);

/* Bookkeeping. reason is the e-stop text ("comm-loss:airbag"); its kind is the part before ':'. */
void persist_count_estop(PersistState *s, const char *reason);
uint64_t persist_estop_kind_count(const PersistState *s, const char *kind);
void persist_fault_add(PersistState *s, uint64_t realtime_usec, const char *code, const char *message);
void persist_faults_clear(PersistState *s);
