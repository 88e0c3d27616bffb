/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Maintenance operations that touch the hardware: raw register reads limited to the configured map, and
 * the self-test, a small state machine advanced by the control cycle so the loop never blocks on it.
 * The self-test only ever asks for the relay to be OFF beyond what the supervisor allows: "on" is the
 * supervisor's own decision (it allows the relay when idle and not latched). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bus-error.h"
#include "log.h"
#include "maint.h"

/* How long the boards get to report the relay's new state (the slowest board polls every 100 ms). */
#define SELFTEST_RELAY_TIMEOUT_USEC (2 * USEC_PER_SEC)
/* The boards' status register: bit0 = actuator power present (docs/chair-sim.md, and the OEM map). */
#define BOARD_STATUS_POWERED 0x1u

Maint *maint_free(Maint *x) {
        if (!x)
                return NULL;
        free(x->board_health);
        free(x->board_losses);
        free(x);
        return NULL;
}

static int why(char **ret_why, int r, const char *fmt, ...) _printf_(3, 4);
static int why(char **ret_why, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_why) {
                va_start(ap, fmt);
                if (vasprintf(ret_why, fmt, ap) < 0)
                        *ret_why = NULL;
                va_end(ap);
        }
        return r;
}

/* Is address inside the map of this board and kind: a configured signal's registers, or the board's
 * heartbeat / comm-timeout holding register? */
static bool address_mapped(const Config *c, unsigned board, RegisterKind kind, unsigned address) {
        const BoardConfig *b = &c->boards[board];

        for (size_t i = 0; i < c->n_signals; i++) {
                const SignalConfig *s = &c->signals[i];
                if (s->board == board && s->kind == kind && address >= s->address &&
                    address < s->address + value_type_registers(s->type))
                        return true;
        }
        return kind == REGISTER_HOLDING &&
               ((b->heartbeat_register >= 0 && address == (unsigned) b->heartbeat_register) ||
                (b->comm_timeout_register >= 0 && address == (unsigned) b->comm_timeout_register));
}

int manager_read_registers(Manager *m, const char *board, const char *kind, unsigned address, unsigned count,
                           uint16_t *ret_values, char **ret_why) {
        const Config *c = m->config;
        int exception = 0, b, r;
        RegisterKind k;
        HwBlock block;

        b = config_board_index(c, board);
        if (b < 0)
                return why(ret_why, -EINVAL, "board: no board \"%s\" is configured", board);
        k = register_kind_from_string(kind);
        if (k < 0)
                return why(ret_why, -EINVAL, "kind: \"%s\" is not coil, discrete, input or holding", kind);
        if (count < 1 || count > MAINT_READ_MAX)
                return why(ret_why, -EINVAL, "count: %u is not in 1..%d", count, MAINT_READ_MAX);
        for (unsigned a = address; a < address + count; a++)
                if (a > UINT16_MAX || !address_mapped(c, (unsigned) b, k, a))
                        return why(ret_why, -EINVAL, "address: %s register %u of board %s is not in the configured map",
                                   kind, a, board);
        if (!m->hw || !m->hw->bus || !m->hw->bus->connected)
                return why(ret_why, -ENOTCONN, "the Modbus link is not connected");

        block = (HwBlock){ .board = (unsigned) b, .slave_id = c->boards[b].slave_id, .kind = k,
                           .address = address, .count = count };
        r = m->hw->bus->ops->read_block(m->hw->bus, &block, ret_values, &exception);
        if (r < 0) {
                if (exception)
                        return why(ret_why, r, "board %s answered with Modbus exception %d", board, exception);
                return why(ret_why, r, "board %s: %s", board, strerror(-r));
        }
        return 0;
}

static void row_add_detail(Maint *x, const char *name, bool passed, const char *fmt, ...) _printf_(4, 5);
static void row_add_detail(Maint *x, const char *name, bool passed, const char *fmt, ...) {
        va_list ap;
        SelfTestRow *row;

        if (x->n_rows >= SELFTEST_ROWS_MAX)
                return;
        row = &x->rows[x->n_rows++];
        snprintf(row->name, sizeof row->name, "%s", name);
        row->passed = passed;
        va_start(ap, fmt);
        vsnprintf(row->detail, sizeof row->detail, fmt, ap);
        va_end(ap);
}

/* Every configured input of this board answered this poll and is inside its configured range. */
static void selftest_board(Manager *m, unsigned board) {
        const Config *c = m->config;
        const BoardState *st = hw_board_state(m->hw, board);
        char name[SELFTEST_NAME_MAX];
        unsigned n = 0;

        snprintf(name, sizeof name, "board:%s", c->boards[board].name);
        if (!st || st->health != BOARD_OK) {
                row_add_detail(m->maint, name, false, "%s (last error: %s)",
                               st ? board_health_to_string(st->health) : "unknown",
                               st && st->last_error ? strerror(-st->last_error) : "none");
                return;
        }
        for (size_t i = 0; i < c->n_signals; i++) {
                const SignalConfig *s = &c->signals[i];
                double v = m->in.value[s->id];

                if (s->board != board || signal_id_direction(s->id) != SIGNAL_IN)
                        continue;
                if (!m->in.valid[s->id] || m->in.updated[s->id] <= m->maint->phase_start) {
                        row_add_detail(m->maint, name, false, "%s not read", signal_id_to_string(s->id));
                        return;
                }
                if (s->has_range && !(v >= s->min && v <= s->max)) {
                        row_add_detail(m->maint, name, false, "%s=%g outside %g..%g", signal_id_to_string(s->id),
                                       v, s->min, s->max);
                        return;
                }
                n++;
        }
        row_add_detail(m->maint, name, true, "answers; %u input%s plausible", n, n == 1 ? "" : "s");
}

static void selftest_lines(Manager *m) {
        for (int l = 0; l < _LINE_MAX; l++) {
                char name[SELFTEST_NAME_MAX];

                if (line_id_is_output(l) || !m->config->gpio.lines[l].configured)
                        continue;
                snprintf(name, sizeof name, "gpio:%s", line_id_to_string(l));
                if (!m->in.line_valid[l])
                        row_add_detail(m->maint, name, false, "not readable");
                else
                        row_add_detail(m->maint, name, true, "reads %s", m->in.line[l] ? "active" : "inactive");
        }
}

static void selftest_heater(Manager *m) {
        const SignalConfig *s = config_signal(m->config, SIGNAL_HEAT_TEMPERATURE);
        double v = m->in.value[SIGNAL_HEAT_TEMPERATURE], cap = m->config->limits.heat_max_temp_c;

        /* Idle means the heater is off: hotter than its own cap, or outside the sensor's range, is a
         * sensor (or a heater that does not switch off) to look at. */
        if (!s)
                row_add_detail(m->maint, "heater", true, "no heater configured");
        else if (!m->in.valid[SIGNAL_HEAT_TEMPERATURE])
                row_add_detail(m->maint, "heater", false, "temperature not read");
        else if ((s->has_range && !(v >= s->min && v <= s->max)) || v > cap)
                row_add_detail(m->maint, "heater", false, "%.1f °C implausible (cap %.1f °C)", v, cap);
        else
                row_add_detail(m->maint, "heater", true, "%.1f °C", v);
}

static void selftest_check(Manager *m) {
        for (unsigned b = 0; b < m->config->n_boards; b++)
                selftest_board(m, b);
        selftest_lines(m);
        if (m->config->gpio.lines[LINE_ESTOP].configured)
                row_add_detail(m->maint, "estop-released", m->in.line_valid[LINE_ESTOP] && !m->in.line[LINE_ESTOP],
                               "%s", !m->in.line_valid[LINE_ESTOP] ? "not readable"
                                     : m->in.line[LINE_ESTOP]      ? "pressed (or wire broken)"
                                                                   : "released");
        selftest_heater(m);
}

static bool selftest_inputs_fresh(Manager *m, usec_t since) {
        for (size_t i = 0; i < m->config->n_signals; i++) {
                SignalId id = m->config->signals[i].id;
                if (signal_id_direction(id) == SIGNAL_IN && m->in.updated[id] <= since)
                        return false;
        }
        return true;
}

/* The boards that report actuator power in their status register; -1 when none can tell. */
static int relay_observed(Manager *m, usec_t since, char *names, size_t size) {
        static const SignalId observers[] = { SIGNAL_AIRBAG_STATUS, SIGNAL_BASE_STATUS };
        int powered = -1;
        size_t n = 0;

        names[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(observers); i++) {
                SignalId id = observers[i];
                bool on;

                if (!config_signal(m->config, id))
                        continue;
                n += (size_t) snprintf(names + n, n < size ? size - n : 0, "%s%s", n ? ", " : "",
                                       signal_id_to_string(id));
                if (!m->in.valid[id] || m->in.updated[id] <= since)
                        return -EAGAIN; /* not read since the relay was asked to change */
                on = ((unsigned) m->in.value[id] & BOARD_STATUS_POWERED) != 0;
                if (powered >= 0 && powered != on)
                        return -EAGAIN; /* boards disagree: wait for the slower one */
                powered = on;
        }
        return powered;
}

static void selftest_finish(Manager *m, int error) {
        Maint *x = m->maint;
        SelfTestDone done = x->done;

        x->phase = SELFTEST_IDLE;
        x->done = NULL;
        log_info("Self-test finished.");
        if (done)
                done(m, x->rows, x->n_rows, error, x->done_userdata);
}

static void selftest_relay(Manager *m, usec_t now) {
        static const char *const phase_name[_SELFTEST_PHASE_MAX] = {
                [SELFTEST_RELAY_OFF] = "off", [SELFTEST_RELAY_ON] = "on", [SELFTEST_RELAY_OFF_AGAIN] = "off again",
        };
        Maint *x = m->maint;
        char names[96];
        int powered = relay_observed(m, x->phase_start, names, sizeof names);

        if (powered == -1) {
                row_add_detail(x, "relay", false, "not observable: no board status signal configured");
                selftest_finish(m, 0);
                return;
        }
        if (powered == (int) x->relay_wanted) {
                if (x->phase == SELFTEST_RELAY_OFF_AGAIN) {
                        row_add_detail(x, "relay", true, "off→on→off seen in %s", names);
                        selftest_finish(m, 0);
                        return;
                }
                x->phase++;
                x->relay_wanted = x->phase == SELFTEST_RELAY_ON;
                x->phase_start = now;
                return;
        }
        if (now - x->phase_start > SELFTEST_RELAY_TIMEOUT_USEC) {
                bool held = x->relay_wanted && !m->allowed.line[LINE_POWER_RELAY];
                row_add_detail(x, "relay", false, "%s: %s did not follow within %llu ms%s", phase_name[x->phase],
                               names, (unsigned long long) (SELFTEST_RELAY_TIMEOUT_USEC / USEC_PER_MSEC),
                               held ? " (the safety supervisor holds it off)" : "");
                selftest_finish(m, 0);
        }
}

void manager_selftest_step(Manager *m, usec_t now) {
        Maint *x = m->maint;
        bool failed = false;

        if (!x || x->phase == SELFTEST_IDLE)
                return;
        if (safety_latched(&m->safety)) {
                row_add_detail(x, "aborted", false, "emergency stop latched (%s)", safety_estop_text(&m->safety));
                selftest_finish(m, 0);
                return;
        }
        if (x->phase != SELFTEST_CHECK) {
                selftest_relay(m, now);
                return;
        }

        /* Judge fresh readings only: every board polled since the test started (or the wait timed out,
         * and the board rows say what was missing). */
        if (!selftest_inputs_fresh(m, x->phase_start) && now - x->phase_start <= SELFTEST_RELAY_TIMEOUT_USEC)
                return;
        selftest_check(m);
        for (size_t i = 0; i < x->n_rows; i++)
                failed = failed || !x->rows[i].passed;
        if (failed) {
                /* Toggling power on a chair that already failed a check proves nothing and risks more. */
                row_add_detail(x, "relay", false, "skipped: an earlier check failed");
                selftest_finish(m, 0);
                return;
        }
        x->phase = SELFTEST_RELAY_OFF;
        x->relay_wanted = false;
        x->phase_start = now;
}

void manager_selftest_wanted(Manager *m, ChairOutputs *wanted) {
        Maint *x = m->maint;

        /* Only ever lowers what is asked for: the supervisor still decides whether "on" is allowed. */
        if (x && x->phase >= SELFTEST_RELAY_OFF && !x->relay_wanted)
                wanted->line[LINE_POWER_RELAY] = false;
}

bool manager_selftest_running(Manager *m) {
        return m->maint && m->maint->phase != SELFTEST_IDLE;
}

int manager_selftest_start(Manager *m, SelfTestDone done, void *userdata) {
        Maint *x = m->maint;

        if (!x)
                return -ENOMEM;
        if (safety_latched(&m->safety))
                return -CHAIR_ERR_ESTOP;
        if (m->state != CHAIR_IDLE || x->phase != SELFTEST_IDLE)
                return -CHAIR_ERR_BUSY;
        x->phase = SELFTEST_CHECK;
        x->n_rows = 0;
        x->relay_wanted = true;
        x->phase_start = mono_usec();
        x->done = done;
        x->done_userdata = userdata;
        log_info("Self-test started by a technician.");
        return 0;
}

void manager_selftest_cancel(Manager *m) {
        if (manager_selftest_running(m))
                selftest_finish(m, -ECANCELED);
}
