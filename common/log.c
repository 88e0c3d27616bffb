/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Logging to the journal with a stderr fallback, so the daemon logs the same way under systemd, in a
 * test harness and on a developer's terminal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool use_journal = false;
static const char *log_ident = "chaird";

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",  [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_setup(const char *ident, LogTarget target) {
        struct stat st;

        if (ident)
                log_ident = ident;

        switch (target) {
        case LOG_TARGET_JOURNAL:
                use_journal = true;
                break;
        case LOG_TARGET_STDERR:
                use_journal = false;
                break;
        default:
                /* Under systemd stderr is a journal stream; elsewhere (tests, demo) stderr is read by a
                 * person or a harness, so only use the journal when we were started by it. */
                use_journal = getenv("JOURNAL_STREAM") && stat("/run/systemd/journal/socket", &st) >= 0;
                break;
        }

        const char *e = getenv("CHAIRD_LOG_LEVEL");
        if (e) {
                int l = log_parse_level(e);
                if (l >= 0)
                        max_level = l;
        }
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_parse_level(const char *s) {
        char *end;
        long v;

        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (level_names[i] && strcmp(s, level_names[i]) == 0)
                        return (int) i;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || *s == '\0' || *end != '\0' || v < LOG_EMERG || v > LOG_DEBUG)
                return -EINVAL;
        return (int) v;
}

static void log_write(int level, int error, const char *file, int line, const char *func, const char *msg,
                      const char *message_id, const char *const *fields) {
        if (use_journal) {
                /* Up to 8 extra fields; more is a programming error and is truncated. */
                struct iovec iov[16];
                char buf[16][256];
                size_t n = 0;

                snprintf(buf[n], sizeof buf[n], "MESSAGE=%s", msg);
                n++;
                snprintf(buf[n], sizeof buf[n], "PRIORITY=%i", level);
                n++;
                snprintf(buf[n], sizeof buf[n], "SYSLOG_IDENTIFIER=%s", log_ident);
                n++;
                if (file) {
                        snprintf(buf[n], sizeof buf[n], "CODE_FILE=%s", file);
                        n++;
                        snprintf(buf[n], sizeof buf[n], "CODE_LINE=%i", line);
                        n++;
                        snprintf(buf[n], sizeof buf[n], "CODE_FUNC=%s", func);
                        n++;
                }
                if (error != 0) {
                        snprintf(buf[n], sizeof buf[n], "ERRNO=%i", abs(error));
                        n++;
                }
                if (message_id) {
                        snprintf(buf[n], sizeof buf[n], "MESSAGE_ID=%s", message_id);
                        n++;
                }
                for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(buf); i++) {
                        snprintf(buf[n], sizeof buf[n], "%s", fields[i]);
                        n++;
                }
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = strlen(buf[i]) };
                if (sd_journal_sendv(iov, (int) n) >= 0)
                        return;
        }

        fprintf(stderr, "%s[%i]: <%s> %s", log_ident, (int) getpid(),
                level >= 0 && level < (int) ELEMENTSOF(level_names) ? level_names[level] : "?", msg);
        for (size_t i = 0; fields && fields[i]; i++)
                fprintf(stderr, " %s", fields[i]);
        fputc('\n', stderr);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        int saved = errno;

        errno = abs(error);
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        log_write(level, error, file, line, func, msg, NULL, NULL);
        errno = saved;
        return error > 0 ? -error : error;
}

int log_struct_internal(int level, const char *message_id, const char *const *fields, const char *fmt, ...) {
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        if (level <= max_level)
                log_write(level, 0, NULL, 0, NULL, msg, message_id, fields);
        return 0;
}
