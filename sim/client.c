/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's client verbs: one request line to <run-dir>/ctl.sock, the reply lines up to "ok" or
 * "error <text>". "wait" polls "get" until its conditions hold, which is how tests wait for the
 * simulated chair without sleeping. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "log.h"
#include "sim.h"

#define DEFAULT_TIMEOUT_SEC 10.0
#define WAIT_POLL_USEC (5 * USEC_PER_MSEC)
#define READY_POLL_USEC (10 * USEC_PER_MSEC)
#define MAX_EXPRS 32

typedef struct CtlConn {
        int fd;
        char buf[16384];
        size_t len;
} CtlConn;

static void ctl_conn_close(CtlConn *c) {
        if (c->fd >= 0)
                (void)close(c->fd);
        c->fd = -1;
        c->len = 0;
}

static int ctl_conn_open(const char *run_dir, CtlConn *c, bool quiet) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct timeval tv = {.tv_sec = 5};

        c->fd = -1;
        c->len = 0;
        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", run_dir) >=
            sizeof(sa.sun_path))
                return log_error_errno(-ENAMETOOLONG, "Run directory path too long: %s", run_dir);

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(negative_errno(), "socket() failed: %m");
        /* A simulator that stopped answering must not hang a test forever. */
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = negative_errno();
                if (quiet)
                        return r;
                return log_error_errno(r, "Cannot reach chair-sim at %s (is it running?): %m", sa.sun_path);
        }
        c->fd = TAKE_FD(fd);
        return 0;
}

static int ctl_conn_read_line(CtlConn *c, char *line, size_t size) {
        for (;;) {
                char *nl = memchr(c->buf, '\n', c->len);
                if (nl) {
                        size_t n = (size_t)(nl - c->buf);
                        snprintf(line, size, "%.*s", (int)n, c->buf);
                        memmove(c->buf, nl + 1, c->len - n - 1);
                        c->len -= n + 1;
                        return 0;
                }
                if (c->len == sizeof(c->buf))
                        return -EMSGSIZE;
                ssize_t k = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
                if (k < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
                if (k == 0)
                        return -ECONNRESET;
                c->len += (size_t)k;
        }
}

/* Sends one request. Returns 0 on "ok" (the lines before it in *ret_body), 1 on "error" (its text in
 * *ret_body), or a negative errno when the simulator could not be talked to. */
static int ctl_call(CtlConn *c, const char *request, char **ret_body) {
        _cleanup_free_ char *body = NULL;
        size_t body_size = 0;
        char line[512];
        int r;

        if (send(c->fd, request, strlen(request), MSG_NOSIGNAL) < 0 ||
            send(c->fd, "\n", 1, MSG_NOSIGNAL) < 0)
                return negative_errno();

        FILE *f = open_memstream(&body, &body_size);
        if (!f)
                return -ENOMEM;
        for (;;) {
                r = ctl_conn_read_line(c, line, sizeof(line));
                if (r < 0)
                        break;
                if (streq(line, "ok") || strncmp(line, "error", 5) == 0) {
                        r = line[0] == 'o' ? 0 : 1;
                        if (r == 1)
                                fputs(line[5] ? line + 6 : "unspecified error", f);
                        break;
                }
                fprintf(f, "%s\n", line);
        }
        fclose(f);
        if (r >= 0)
                *ret_body = TAKE_PTR(body);
        return r;
}

static void sleep_usec(usec_t usec) {
        struct timespec ts = {.tv_sec = (time_t)(usec / USEC_PER_SEC),
                              .tv_nsec = (long)(usec % USEC_PER_SEC) * 1000};
        (void)clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

/* Joins the arguments into one request line; the line protocol has no quoting, so refuse blanks. */
static int join_request(int argc, char **argv, char *buf, size_t size) {
        size_t pos = 0;

        buf[0] = 0;
        for (int i = 0; i < argc; i++) {
                if (!argv[i][0] || strpbrk(argv[i], " \t\r\n"))
                        return log_error_errno(-EINVAL, "Invalid argument '%s'", argv[i]);
                int n = snprintf(buf + pos, size - pos, "%s%s", i ? " " : "", argv[i]);
                if (n < 0 || (size_t)n >= size - pos)
                        return log_error_errno(-E2BIG, "Request too long");
                pos += (size_t)n;
        }
        return 0;
}

/* One request, its data lines printed to stdout. */
static int client_simple(const char *run_dir, const char *request) {
        _cleanup_free_ char *body = NULL;
        CtlConn c;
        int r;

        r = ctl_conn_open(run_dir, &c, false);
        if (r < 0)
                return r;
        r = ctl_call(&c, request, &body);
        ctl_conn_close(&c);
        if (r < 0)
                return log_error_errno(r, "No answer from chair-sim: %m");
        if (r == 1)
                return log_error_errno(-EINVAL, "chair-sim: %s", body);
        fputs(body, stdout);
        return 0;
}

static int parse_timeout(int *i, int argc, char **argv, double *ret) {
        const char *v = NULL;

        if (strncmp(argv[*i], "--timeout=", 10) == 0)
                v = argv[*i] + 10;
        else if (*i + 1 < argc)
                v = argv[++*i];
        char *end = NULL;
        double t = v ? strtod(v, &end) : NAN;
        if (!v || end == v || *end || !(t > 0 && t < 1e6))
                return log_error_errno(-EINVAL, "--timeout wants a number of seconds, got '%s'", v ? v : "");
        *ret = t;
        return 0;
}

static bool is_timeout_option(const char *a) {
        return streq(a, "--timeout") || strncmp(a, "--timeout=", 10) == 0;
}

static int client_wait_ready(const char *run_dir, int argc, char **argv) {
        double timeout = DEFAULT_TIMEOUT_SEC;

        for (int i = 1; i < argc; i++) {
                if (!is_timeout_option(argv[i]))
                        return log_error_errno(-EINVAL, "usage: wait-ready [--timeout SEC]");
                if (parse_timeout(&i, argc, argv, &timeout) < 0)
                        return -EINVAL;
        }

        usec_t deadline = mono_usec() + (usec_t)(timeout * 1e6);
        for (;;) {
                _cleanup_free_ char *body = NULL;
                CtlConn c;
                int r = ctl_conn_open(run_dir, &c, true);
                if (r >= 0) {
                        r = ctl_call(&c, "ping", &body);
                        ctl_conn_close(&c);
                        if (r == 0)
                                return 0;
                }
                if (mono_usec() >= deadline)
                        return log_error_errno(-ETIMEDOUT, "chair-sim at %s did not answer within %g s",
                                               run_dir, timeout);
                sleep_usec(READY_POLL_USEC);
        }
}

typedef struct Expr {
        char key[64];
        char op[3];
        char value[64];
        char last[64]; /* last value seen, for the timeout message */
} Expr;

static int expr_parse(const char *s, Expr *e) {
        size_t k = strcspn(s, "=!<>");
        const char *op = s + k;
        size_t oplen = (op[0] && op[1] == '=') ? 2 : 1;

        *e = (Expr){};
        if (k == 0 || k >= sizeof(e->key) || !op[0] || (oplen == 1 && op[0] != '<' && op[0] != '>') ||
            !op[oplen] || strlen(op + oplen) >= sizeof(e->value) || strpbrk(s, " \t\n"))
                return log_error_errno(-EINVAL, "Bad condition '%s': want KEY==V, !=, <, >, <= or >=", s);
        memcpy(e->key, s, k);
        memcpy(e->op, op, oplen);
        snprintf(e->value, sizeof(e->value), "%s", op + oplen);
        snprintf(e->last, sizeof(e->last), "?");
        return 0;
}

static bool to_double(const char *s, double *ret) {
        char *end;
        *ret = strtod(s, &end);
        return end != s && *end == 0;
}

static bool expr_holds(const Expr *e, const char *actual) {
        double a, b;

        if (to_double(actual, &a) && to_double(e->value, &b)) {
                if (streq(e->op, "=="))
                        return a == b;
                if (streq(e->op, "!="))
                        return a != b;
                if (streq(e->op, "<"))
                        return a < b;
                if (streq(e->op, ">"))
                        return a > b;
                if (streq(e->op, "<="))
                        return a <= b;
                return a >= b;
        }
        /* Not numbers (board.roller.fault==none): only equality makes sense. */
        if (streq(e->op, "=="))
                return streq(actual, e->value);
        if (streq(e->op, "!="))
                return !streq(actual, e->value);
        return false;
}

/* Updates each condition's last value from a "get" reply; true when all hold. */
static bool exprs_check(Expr *exprs, size_t n, char *body) {
        bool all = true;
        char *save = NULL;

        for (char *l = strtok_r(body, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(l, '=');
                if (!eq)
                        continue;
                *eq = 0;
                for (size_t i = 0; i < n; i++)
                        if (streq(exprs[i].key, l))
                                snprintf(exprs[i].last, sizeof(exprs[i].last), "%s", eq + 1);
        }
        for (size_t i = 0; i < n; i++)
                all = all && expr_holds(&exprs[i], exprs[i].last);
        return all;
}

static int wait_loop(const char *run_dir, Expr *exprs, size_t n, double timeout) {
        char request[SIM_LINE_MAX * 3] = "get";
        usec_t deadline = mono_usec() + (usec_t)(timeout * 1e6);
        CtlConn c;
        int r;

        for (size_t i = 0; i < n; i++)
                if (strlen(request) + strlen(exprs[i].key) + 2 < sizeof(request))
                        strcat(strcat(request, " "), exprs[i].key);

        r = ctl_conn_open(run_dir, &c, false);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_free_ char *body = NULL;
                r = ctl_call(&c, request, &body);
                if (r < 0) {
                        ctl_conn_close(&c);
                        return log_error_errno(r, "Lost chair-sim while waiting: %m");
                }
                if (r == 1) {
                        ctl_conn_close(&c);
                        return log_error_errno(-EINVAL, "chair-sim: %s", body);
                }
                if (exprs_check(exprs, n, body))
                        break;
                if (mono_usec() >= deadline) {
                        ctl_conn_close(&c);
                        fprintf(stderr, "chair-sim: timed out after %g s waiting for:\n", timeout);
                        for (size_t i = 0; i < n; i++)
                                fprintf(stderr, "  %s%s%s  (now %s=%s)\n", exprs[i].key, exprs[i].op,
                                        exprs[i].value, exprs[i].key, exprs[i].last);
                        return -ETIMEDOUT;
                }
                sleep_usec(WAIT_POLL_USEC);
        }
        ctl_conn_close(&c);
        return 0;
}

static int client_wait(const char *run_dir, int argc, char **argv) {
        Expr exprs[MAX_EXPRS];
        double timeout = DEFAULT_TIMEOUT_SEC;
        size_t n = 0;

        for (int i = 1; i < argc; i++) {
                if (is_timeout_option(argv[i])) {
                        if (parse_timeout(&i, argc, argv, &timeout) < 0)
                                return -EINVAL;
                } else if (n == MAX_EXPRS)
                        return log_error_errno(-E2BIG, "At most %d conditions", MAX_EXPRS);
                else if (expr_parse(argv[i], &exprs[n++]) < 0)
                        return -EINVAL;
        }
        if (n == 0)
                return log_error_errno(-EINVAL, "usage: wait EXPR... [--timeout SEC]");
        return wait_loop(run_dir, exprs, n, timeout);
}

static int client_sit(const char *run_dir, int argc, char **argv) {
        char request[SIM_LINE_MAX] = "sit";

        for (int i = 1; i < argc; i++) {
                const char *name = streq(argv[i], "--shoulder")    ? "shoulder"
                                   : streq(argv[i], "--stiffness") ? "stiffness"
                                                                   : NULL;
                if (!name || i + 1 >= argc || strpbrk(argv[i + 1], " \t\r\n") || !argv[i + 1][0])
                        return log_error_errno(-EINVAL, "usage: sit [--shoulder MM] [--stiffness N_PER_MM]");
                size_t len = strlen(request);
                snprintf(request + len, sizeof(request) - len, " %s=%s", name, argv[++i]);
        }
        return client_simple(run_dir, request);
}

int client_main(const char *run_dir, int argc, char **argv) {
        static const char *const passthrough[] = {"ping",  "estop",  "interlock", "stand",
                                                  "fault", "sensor", "get"};
        char request[SIM_LINE_MAX * 3];

        if (streq(argv[0], "wait"))
                return client_wait(run_dir, argc, argv);
        if (streq(argv[0], "wait-ready"))
                return client_wait_ready(run_dir, argc, argv);
        if (streq(argv[0], "sit"))
                return client_sit(run_dir, argc, argv);

        for (size_t i = 0; i < ELEMENTSOF(passthrough); i++)
                if (streq(argv[0], passthrough[i])) {
                        /* The simulator checks the arguments and says what is wrong with them. */
                        if (join_request(argc, argv, request, sizeof(request)) < 0)
                                return -EINVAL;
                        return client_simple(run_dir, request);
                }
        return log_error_errno(-EINVAL, "Unknown command '%s', see --help", argv[0]);
}
