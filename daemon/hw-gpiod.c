/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GPIO backend on a kernel gpiochip with libgpiod 1.6: inputs requested for both edges (their event fds
 * go into sd-event), outputs requested at their safe, inactive level. Active-low and bias are the
 * kernel's job here, so every value this file hands up is already logical. */
#include <gpiod.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "hw.h"
#include "log.h"

#define GPIOD_CONSUMER "chaird"
#define GPIOD_EVENT_BATCH 16

typedef struct HwGpiod {
        HwBackend head;
        struct gpiod_chip *chip;
        struct gpiod_line *line[_LINE_MAX];
        sd_event_source *io[_LINE_MAX];
} HwGpiod;

static int gpiod_request_flags(const LineConfig *lc) {
        int flags = lc->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;

        switch (lc->bias) {
        case LINE_BIAS_DISABLE:
                return flags | GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
        case LINE_BIAS_PULL_UP:
                return flags | GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
        case LINE_BIAS_PULL_DOWN:
                return flags | GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
        default:
                return flags;
        }
}

static void hw_gpiod_close(HwBackend *b) {
        HwGpiod *g = (HwGpiod *) b;

        for (LineId l = 0; l < _LINE_MAX; l++) {
                g->io[l] = sd_event_source_disable_unref(g->io[l]);
                if (g->line[l] && gpiod_line_is_requested(g->line[l]))
                        gpiod_line_release(g->line[l]);
                g->line[l] = NULL;
        }
        if (g->chip) {
                gpiod_chip_close(g->chip);
                g->chip = NULL;
        }
        b->connected = false;
}

static int gpiod_request_line(HwGpiod *g, LineId l) {
        const LineConfig *lc = &g->head.config->gpio.lines[l];
        bool output = line_id_is_output(l);
        struct gpiod_line *line;

        line = lc->name ? gpiod_chip_find_line(g->chip, lc->name)
                        : lc->offset >= 0 ? gpiod_chip_get_line(g->chip, (unsigned) lc->offset) : NULL;
        if (!line)
                return log_error_errno(lc->name || lc->offset >= 0 ? negative_errno() : -EINVAL,
                                       "No GPIO line %s (%s) on %s: %m", line_id_to_string(l),
                                       lc->name ?: "by offset", gpiod_chip_name(g->chip));

        struct gpiod_line_request_config request = {
                .consumer = GPIOD_CONSUMER,
                .request_type = output ? GPIOD_LINE_REQUEST_DIRECTION_OUTPUT
                                       : GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES,
                .flags = gpiod_request_flags(lc),
        };

        /* default_val is logical (the kernel applies active-low): 0 is the safe, inactive level, set
         * in the same ioctl that takes the line, so the relay never glitches on at start-up. */
        if (gpiod_line_request(line, &request, 0) < 0)
                return log_error_errno(negative_errno(), "Failed to request GPIO line %s: %m",
                                       line_id_to_string(l));
        g->line[l] = line;
        return 0;
}

static int hw_gpiod_open(HwBackend *b) {
        HwGpiod *g = (HwGpiod *) b;
        const char *chip = b->config->gpio.chip ?: "gpiochip0";
        int r;

        if (g->chip)
                return 0;

        /* _lookup takes a name, a path, a label or a number: whatever the OEM wrote in Chip=. */
        g->chip = gpiod_chip_open_lookup(chip);
        if (!g->chip)
                return log_error_errno(negative_errno(), "Failed to open GPIO chip %s: %m", chip);

        for (LineId l = 0; l < _LINE_MAX; l++) {
                if (!b->config->gpio.lines[l].configured)
                        continue;
                r = gpiod_request_line(g, l);
                if (r < 0) {
                        hw_gpiod_close(b);
                        return r;
                }
        }
        b->connected = true;
        return 0;
}

static void hw_gpiod_free(HwBackend *b) {
        if (!b)
                return;
        hw_gpiod_close(b);
        free(b);
}

static int hw_gpiod_line_get(HwBackend *b, LineId line, bool *ret_active) {
        HwGpiod *g = (HwGpiod *) b;
        int v;

        if (line < 0 || line >= _LINE_MAX)
                return -EINVAL;
        if (!g->line[line])
                return g->chip ? -ENOENT : -ENOTCONN;

        v = gpiod_line_get_value(g->line[line]);
        if (v < 0)
                return negative_errno();
        *ret_active = v > 0;
        return 0;
}

static int hw_gpiod_line_set(HwBackend *b, LineId line, bool active) {
        HwGpiod *g = (HwGpiod *) b;

        if (line < 0 || line >= _LINE_MAX || !line_id_is_output(line))
                return -EINVAL;
        if (!g->line[line])
                return g->chip ? -ENOENT : -ENOTCONN;

        if (gpiod_line_set_value(g->line[line], active ? 1 : 0) < 0)
                return negative_errno();
        return 0;
}

/* The kernel stamps v1 line events with CLOCK_MONOTONIC since Linux 5.7 and with the wall clock
 * before; only a stamp that looks monotonic is used, else the time we read it. */
static usec_t gpiod_event_time(const struct gpiod_line_event *ev, usec_t now) {
        usec_t t = timespec_to_usec(&ev->ts);

        return t <= now && now - t < USEC_PER_SEC ? t : now;
}

static int gpiod_event_handler(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HwGpiod *g = userdata;
        struct gpiod_line_event events[GPIOD_EVENT_BATCH];
        LineId line = _LINE_INVALID;
        usec_t now = mono_usec();
        int n;

        for (LineId l = 0; l < _LINE_MAX; l++)
                if (g->io[l] == s)
                        line = l;
        if (line < 0)
                return 0;

        n = gpiod_line_event_read_fd_multiple(fd, events, GPIOD_EVENT_BATCH);
        if (n < 0) {
                log_warning_errno(negative_errno(), "Failed to read events of GPIO line %s, ignoring: %m",
                                  line_id_to_string(line));
                return 0;
        }

        /* With both edges requested the kernel names each event by the logical level after it, so
         * a rising edge is "active" whatever ActiveLow= says. Every edge is passed on in order: the
         * layer reports a press at once and debounces releases. */
        for (int i = 0; i < n; i++)
                hw_line_edge(g->head.hw, line, events[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE,
                             gpiod_event_time(&events[i], now));
        return 0;
}

static int hw_gpiod_attach_event(HwBackend *b, sd_event *event) {
        HwGpiod *g = (HwGpiod *) b;
        int r;

        for (LineId l = 0; l < _LINE_MAX; l++) {
                int fd;

                if (!g->line[l] || line_id_is_output(l) || g->io[l])
                        continue;
                fd = gpiod_line_event_get_fd(g->line[l]);
                if (fd < 0)
                        return negative_errno();
                r = sd_event_add_io(event, &g->io[l], fd, EPOLLIN, gpiod_event_handler, g);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch GPIO line %s: %m", line_id_to_string(l));
                /* An e-stop edge goes before any timer or bus work that is due at the same time. */
                (void) sd_event_source_set_priority(g->io[l], SD_EVENT_PRIORITY_IMPORTANT);
                (void) sd_event_source_set_description(g->io[l], "gpiod-line");
        }
        return 0;
}

static const HwOps hw_gpiod_ops = {
        .name = "gpiod",
        .open = hw_gpiod_open,
        .close = hw_gpiod_close,
        .free = hw_gpiod_free,
        .line_get = hw_gpiod_line_get,
        .line_set = hw_gpiod_line_set,
        .attach_event = hw_gpiod_attach_event,
};

int hw_gpiod_new(const Config *c, HwBackend **ret) {
        HwGpiod *g;

        g = calloc(1, sizeof(HwGpiod));
        if (!g)
                return -ENOMEM;
        g->head.ops = &hw_gpiod_ops;
        g->head.config = c;
        *ret = &g->head;
        return 0;
}
