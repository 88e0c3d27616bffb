/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hardware layer above the backends: reconnect backoff, board health, reading the planned input
 * blocks into ChairInputs, encoding and writing outputs with each board's heartbeat, and the debounce
 * of input-line releases (presses are reported on the first edge). See docs/hardware.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "log.h"

typedef struct BoardPriv {
        bool needs_init;     /* write CommTimeoutMs to CommTimeoutRegister before anything else */
        unsigned backoff_ms; /* retry period while lost, doubling */
        usec_t loss_ref;     /* start of the comm-loss window: the last good poll, or the (re)connect */
} BoardPriv;

/* Hw is public (hw.h); what only this file needs lives around it. */
typedef struct HwPriv {
        Hw hw;
        BoardPriv *boards;
        double value[_SIGNAL_MAX];
        bool valid[_SIGNAL_MAX];
        usec_t updated[_SIGNAL_MAX];
        bool clamp_warned[_SIGNAL_MAX];
        bool line_written[_LINE_MAX]; /* output line_state is known to be what the line shows */
        sd_event_source *debounce_source;
        usec_t lines_next_connect;
        unsigned lines_backoff_ms;
} HwPriv;

#define HW_PRIV(h) ((HwPriv *) (h))

static const char *const board_health_table[_BOARD_HEALTH_MAX] = {
        [BOARD_OK] = "ok",
        [BOARD_DEGRADED] = "degraded",
        [BOARD_LOST] = "lost",
        [BOARD_OFFLINE] = "offline",
};

const char *board_health_to_string(BoardHealth h) {
        if (h < 0 || h >= _BOARD_HEALTH_MAX)
                return NULL;
        return board_health_table[h];
}

const BoardState *hw_board_state(const Hw *hw, unsigned board) {
        if (!hw || board >= hw->config->n_boards)
                return NULL;
        return &hw->boards[board];
}

void hw_set_line_callback(Hw *hw, HwLineCallback cb, void *userdata) {
        hw->line_cb = cb;
        hw->line_userdata = userdata;
}

static unsigned backoff_next(const Config *c, unsigned current_ms) {
        unsigned lo = MAX(c->modbus.reconnect_min_ms, 1u);
        unsigned hi = MAX(c->modbus.reconnect_max_ms, lo);

        return current_ms == 0 ? lo : MIN(current_ms > hi / 2 ? hi : current_ms * 2, hi);
}

/* ---- input lines and their debounce ---------------------------------------------------------------- */

static bool line_is_input(const Hw *hw, LineId line) {
        return line >= 0 && line < _LINE_MAX && !line_id_is_output(line) && hw->config->gpio.lines[line].configured;
}

static void line_report(Hw *hw, LineId line, bool active, usec_t timestamp) {
        if (hw->line_cb)
                hw->line_cb(hw, line, active, timestamp, hw->line_userdata);
}

static int debounce_handler(sd_event_source *s, uint64_t usec, void *userdata);

/* One timer for all lines, armed at the earliest pending release. */
static void debounce_arm(Hw *hw) {
        HwPriv *p = HW_PRIV(hw);
        usec_t next = USEC_INFINITY;
        int r;

        for (LineId l = 0; l < _LINE_MAX; l++)
                if (hw->line_release_at[l] != 0)
                        next = MIN(next, hw->line_release_at[l]);

        if (!hw->event)
                return; /* no loop (unit tests): hw_read_inputs() applies due releases */

        if (next == USEC_INFINITY) {
                if (p->debounce_source)
                        (void) sd_event_source_set_enabled(p->debounce_source, SD_EVENT_OFF);
                return;
        }

        if (!p->debounce_source) {
                r = sd_event_add_time(hw->event, &p->debounce_source, CLOCK_MONOTONIC, next, 1,
                                      debounce_handler, hw);
                if (r < 0)
                        log_warning_errno(r, "Failed to add debounce timer, releases wait for the next poll: %m");
                return;
        }
        (void) sd_event_source_set_time(p->debounce_source, next);
        (void) sd_event_source_set_enabled(p->debounce_source, SD_EVENT_ONESHOT);
}

/* Applies every release whose debounce time has passed. */
static void debounce_process(Hw *hw, usec_t now) {
        bool changed = false;

        for (LineId l = 0; l < _LINE_MAX; l++) {
                if (hw->line_release_at[l] == 0 || hw->line_release_at[l] > now)
                        continue;
                hw->line_release_at[l] = 0;
                hw->line_state[l] = false;
                changed = true;
                line_report(hw, l, false, now);
        }
        if (changed)
                debounce_arm(hw);
}

static int debounce_handler(sd_event_source *s, uint64_t usec, void *userdata) {
        debounce_process(userdata, usec);
        return 0;
}

void hw_line_edge(Hw *hw, LineId line, bool active, usec_t timestamp) {
        unsigned debounce_ms;

        if (!line_is_input(hw, line))
                return;

        /* A press acts on the first edge: an e-stop must never wait for a bounce to settle. */
        if (active) {
                bool pending = hw->line_release_at[line] != 0;

                hw->line_release_at[line] = 0;
                if (pending)
                        debounce_arm(hw);
                if (!hw->line_state[line]) {
                        hw->line_state[line] = true;
                        line_report(hw, line, true, timestamp);
                }
                return;
        }

        /* A release counts only after DebounceMs without a new press; a repeated release does not
         * restart the wait. */
        if (!hw->line_state[line] || hw->line_release_at[line] != 0)
                return;

        debounce_ms = hw->config->gpio.lines[line].debounce_ms;
        if (debounce_ms == 0) {
                hw->line_state[line] = false;
                line_report(hw, line, false, timestamp);
                return;
        }
        hw->line_release_at[line] = MAX(timestamp, 1u) + (usec_t) debounce_ms * USEC_PER_MSEC;
        debounce_arm(hw);
}

/* The line backend is gone: inputs take their fail-safe value at once (e-stop active, interlock and
 * seat inactive), outputs are whatever the hardware falls back to, and we reconnect with backoff. */
static void lines_lost(Hw *hw, usec_t now, int error) {
        HwPriv *p = HW_PRIV(hw);

        if (hw->lines->connected || p->lines_backoff_ms == 0)
                log_warning_errno(error, "GPIO lines (%s) lost, e-stop reads active: %m", hw->lines->ops->name);
        hw->lines->ops->close(hw->lines);
        hw->lines->connected = false;

        p->lines_backoff_ms = backoff_next(hw->config, p->lines_backoff_ms);
        p->lines_next_connect = now + (usec_t) p->lines_backoff_ms * USEC_PER_MSEC;

        for (LineId l = 0; l < _LINE_MAX; l++) {
                bool safe = l == LINE_ESTOP;

                hw->line_release_at[l] = 0;
                p->line_written[l] = false;
                if (line_id_is_output(l)) {
                        hw->line_state[l] = false;
                        continue;
                }
                if (hw->line_state[l] != safe) {
                        hw->line_state[l] = safe;
                        if (line_is_input(hw, l))
                                line_report(hw, l, safe, now);
                }
        }
        debounce_arm(hw);
}

/* Opens the line backend (outputs come up at their safe value there), hooks its edges into the loop
 * and takes the input levels as they are now. */
static int lines_connect(Hw *hw, usec_t now, bool initial) {
        HwPriv *p = HW_PRIV(hw);
        int r;

        if (!hw->lines || hw->lines->connected)
                return 0;
        if (!initial && now < p->lines_next_connect)
                return -ENOTCONN;

        r = hw->lines->ops->open(hw->lines);
        if (r >= 0 && hw->event && hw->lines->ops->attach_event)
                r = hw->lines->ops->attach_event(hw->lines, hw->event);
        if (r < 0) {
                lines_lost(hw, initial ? 0 : now, r);
                return r;
        }
        hw->lines->connected = true;
        p->lines_backoff_ms = 0;

        for (LineId l = 0; l < _LINE_MAX; l++) {
                bool active = false;

                if (line_id_is_output(l)) {
                        hw->line_state[l] = false;
                        p->line_written[l] = hw->config->gpio.lines[l].configured;
                        continue;
                }
                if (!line_is_input(hw, l))
                        continue;
                r = hw->lines->ops->line_get(hw->lines, l, &active);
                if (r < 0) {
                        lines_lost(hw, initial ? 0 : now, r);
                        return r;
                }
                if (initial)
                        hw->line_state[l] = active; /* nothing to debounce against yet */
                else
                        hw_line_edge(hw, l, active, now);
        }
        log_debug("GPIO lines (%s) connected.", hw->lines->ops->name);
        return 0;
}

static void lines_read(Hw *hw, usec_t now, ChairInputs *in) {
        bool connected;

        if (hw->lines && lines_connect(hw, now, false) >= 0)
                /* Edges arrive through the loop; polling the level too catches one a backend dropped. */
                for (LineId l = 0; l < _LINE_MAX; l++) {
                        bool active;
                        int r;

                        if (!line_is_input(hw, l))
                                continue;
                        r = hw->lines->ops->line_get(hw->lines, l, &active);
                        if (r < 0) {
                                lines_lost(hw, now, r);
                                break;
                        }
                        hw_line_edge(hw, l, active, now);
                }
        debounce_process(hw, now);

        connected = hw->lines && hw->lines->connected;
        for (LineId l = 0; l < _LINE_MAX; l++) {
                in->line_valid[l] = connected && hw->config->gpio.lines[l].configured;
                /* An e-stop we cannot read is a pressed e-stop. */
                in->line[l] = in->line_valid[l] ? hw->line_state[l] : l == LINE_ESTOP;
        }
}

static int lines_write(Hw *hw, usec_t now, const ChairOutputs *out) {
        HwPriv *p = HW_PRIV(hw);
        int ret = 0;

        if (!hw->lines || !hw->lines->connected)
                return hw->lines ? -ENOTCONN : 0;

        for (LineId l = 0; l < _LINE_MAX; l++) {
                int r;

                if (!line_id_is_output(l) || !hw->config->gpio.lines[l].configured)
                        continue;
                if (p->line_written[l] && hw->line_state[l] == out->line[l])
                        continue;
                r = hw->lines->ops->line_set(hw->lines, l, out->line[l]);
                if (r == -ENOTCONN) {
                        lines_lost(hw, now, r);
                        return r;
                }
                if (r < 0) {
                        log_warning_errno(r, "Failed to set line %s: %m", line_id_to_string(l));
                        p->line_written[l] = false;
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                hw->line_state[l] = out->line[l];
                p->line_written[l] = true;
        }
        return ret;
}

int hw_set_line(Hw *hw, LineId line, bool active) {
        int r;

        if (line < 0 || line >= _LINE_MAX || !line_id_is_output(line))
                return -EINVAL;
        if (!hw->lines)
                return -ENODEV;
        if (!hw->config->gpio.lines[line].configured)
                return -ENOENT;
        if (!hw->lines->connected)
                return -ENOTCONN;

        r = hw->lines->ops->line_set(hw->lines, line, active);
        if (r < 0)
                return r;
        hw->line_state[line] = active;
        HW_PRIV(hw)->line_written[line] = true;
        return 0;
}
