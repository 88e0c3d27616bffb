/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging: to the journal when it is there, else to stderr. log_*_errno() return the (negative) error
 * so that "return log_error_errno(r, ...)" logs and returns in one line; %m prints that error. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,    /* journal if JOURNAL_STREAM or /run/systemd/journal/socket, else stderr */
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

void log_setup(const char *ident, LogTarget target);
void log_set_max_level(int level);
int log_get_max_level(void);
int log_parse_level(const char *s); /* "debug", "info", ... or a number; -EINVAL when neither */

/* error is a negative or positive errno, or 0. Returns -abs(error) (or 0 for 0). */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
        _printf_(6, 7);

/* Structured journal entry: MESSAGE_ID plus extra "KEY=value" fields (NULL-terminated list after fmt args
 * is awkward in C, so callers pass a prepared array). Falls back to stderr with the fields appended. */
int log_struct_internal(int level, const char *message_id, const char *const *fields, const char *fmt, ...)
        _printf_(4, 5);

#define log_full_errno(level, error, ...)                                                          \
        ({                                                                                          \
                int _l = (level), _e = (error);                                                     \
                _l <= log_get_max_level() ? log_internal(_l, _e, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                                          : (_e > 0 ? -_e : _e);                                    \
        })

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
