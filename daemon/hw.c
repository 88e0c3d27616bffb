/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hardware layer above the backends: reconnect backoff, board health, reading the planned input
 * blocks into ChairInputs, encoding and writing outputs with each board's heartbeat, and the debounce
 * of input-line releases (presses are reported on the first edge). See docs/hardware.md. */
#include <math.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>

#include "hw.h"
#include "log.h"

typedef struct BoardPriv {
        bool needs_init;     /* write CommTimeoutMs to CommTimeoutRegister before anything else */
        unsigned backoff_ms; /* retry period while lost, doubling */
        usec_t loss_ref;     /* start of the comm-loss window: the last good poll, or the (re)connect */
        usec_t failed_at;    /* when a request to it last failed */
        usec_t heartbeat_at; /* when its heartbeat register was last written */
        bool rewrite;        /* (re)initialised: write every output block, changed or not */
} BoardPriv;

/* Output blocks are written when their content changes, when the board's heartbeat is due, and at
 * least this often anyway (a board that lost a write, or was power-cycled without the link noticing,
 * has its setpoints again within this time). Unchanged blocks every cycle only cost bus time: over RTU
 * at 115200 baud that is the difference between ~30 Hz and 100 Hz. */
#define OUTPUT_REFRESH_USEC (1 * USEC_PER_SEC)
/* The heartbeat goes out this many times per board-side comm timeout. */
#define HEARTBEATS_PER_TIMEOUT 4
/* Boards without a comm timeout still get their heartbeat this often. */
#define HEARTBEAT_DEFAULT_USEC (100 * USEC_PER_MSEC)

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
        uint16_t *written;    /* what each output block last wrote: block i at written_offset[i] */
        size_t *written_offset;
        usec_t *written_at;   /* per block; 0 = must be written */
        bool started;  /* the first hw_read_inputs() happened */
        bool lines_up; /* our view: the line backend was opened and has not failed since */
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
        p->lines_up = false;

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
        p->lines_up = true;
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

        /* The backend noticed the loss itself (e.g. the sim closed its socket inside the loop). */
        if (hw->lines && HW_PRIV(hw)->lines_up && !hw->lines->connected)
                lines_lost(hw, now, -ENOTCONN);

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

/* ---- the bus and the boards on it ------------------------------------------------------------------ */

static void board_invalidate(Hw *hw, unsigned board) {
        HwPriv *p = HW_PRIV(hw);

        for (size_t i = 0; i < hw->config->n_signals; i++)
                if (hw->config->signals[i].board == board)
                        p->valid[hw->config->signals[i].id] = false;
}

static void board_set_health(Hw *hw, unsigned board, BoardHealth health) {
        BoardState *st = &hw->boards[board];
        const char *name = hw->config->boards[board].name;

        if (st->health == health)
                return;
        if (health == BOARD_LOST)
                st->losses++;
        if (health == BOARD_LOST && st->missed == 0)
                log_warning("Board %s lost: it answers, but only after a silence longer than its "
                            "CommLossMs or CommTimeoutMs (it may have stopped by itself).", name);
        else if (health == BOARD_LOST)
                log_warning_errno(st->last_error, "Board %s lost after %u missed polls: %m", name, st->missed);
        else if (st->health == BOARD_LOST || health == BOARD_OK)
                log_full_errno(st->health == BOARD_LOST ? LOG_NOTICE : LOG_DEBUG, 0, "Board %s is %s.", name,
                               board_health_to_string(health));
        else
                log_debug("Board %s is %s.", name, board_health_to_string(health));
        st->health = health;
}

static void bus_lost(Hw *hw, usec_t now, int error) {
        if (hw->bus->connected || hw->bus_backoff_ms == 0)
                log_warning_errno(error, "Modbus link lost, reconnecting with backoff: %m");
        hw->bus->ops->close(hw->bus);
        hw->bus->connected = false;

        hw->bus_backoff_ms = backoff_next(hw->config, hw->bus_backoff_ms);
        hw->bus_next_connect = now + (usec_t) hw->bus_backoff_ms * USEC_PER_MSEC;
        for (unsigned b = 0; b < hw->config->n_boards; b++) {
                if (hw->boards[b].health != BOARD_LOST)
                        board_set_health(hw, b, BOARD_OFFLINE);
                board_invalidate(hw, b);
        }
}

static int bus_connect(Hw *hw, usec_t now) {
        HwPriv *p = HW_PRIV(hw);
        int r;

        if (hw->bus->connected)
                return 0;
        if (now < hw->bus_next_connect)
                return -ENOTCONN;

        r = hw->bus->ops->open(hw->bus);
        if (r < 0) {
                bus_lost(hw, now, r);
                return r;
        }
        hw->bus->connected = true;
        log_debug("Modbus link (%s) connected.", hw->bus->ops->name);

        /* A (re)connected board may have rebooted: tell it its comm timeout first and poll it at once.
         * Its comm-loss window keeps running: a link that flaps must not reset it. */
        for (unsigned b = 0; b < hw->config->n_boards; b++) {
                p->boards[b].needs_init = true;
                p->boards[b].rewrite = true;
                p->boards[b].backoff_ms = 0;
                hw->boards[b].next_poll = now;
        }
        return 0;
}

static int board_request(Hw *hw, const HwBlock *block, uint16_t *values, bool write) {
        BoardState *st = &hw->boards[block->board];
        int exception = 0, r;

        st->requests++;
        r = write ? hw->bus->ops->write_block(hw->bus, block, values, &exception)
                  : hw->bus->ops->read_block(hw->bus, block, values, &exception);
        if (r < 0) {
                st->failures++;
                st->last_error = r;
                st->last_exception = exception;
        }
        return r;
}

/* A failed request, or a due poll while the link is down: counts a missed poll, decides LOST or not,
 * and hands a link error to the reconnect logic. Offline boards go LOST by the same rule, so the
 * safety supervisor sees a dead link as lost boards within MaxMissedPolls/CommLossMs. */
static void board_failed(Hw *hw, unsigned board, usec_t now, int error) {
        const BoardConfig *bc = &hw->config->boards[board];
        BoardState *st = &hw->boards[board];
        BoardPriv *bp = &HW_PRIV(hw)->boards[board];
        bool lost;

        st->missed++;
        bp->needs_init = true;
        bp->rewrite = true;
        bp->failed_at = now;
        board_invalidate(hw, board);

        if ((error == -EIO || error == -ENOTCONN) && hw->bus->connected)
                bus_lost(hw, now, error);

        lost = st->missed >= MAX(bc->max_missed_polls, 1u) ||
               (bc->comm_loss_ms > 0 && now - bp->loss_ref > (usec_t) bc->comm_loss_ms * USEC_PER_MSEC);
        if (!lost) {
                board_set_health(hw, board, hw->bus->connected ? BOARD_DEGRADED : BOARD_OFFLINE);
                return;
        }

        /* A dead board costs the loop one response timeout per backoff period, no more. */
        board_set_health(hw, board, BOARD_LOST);
        bp->backoff_ms = backoff_next(hw->config, bp->backoff_ms);
        st->next_poll = now + (usec_t) bp->backoff_ms * USEC_PER_MSEC;
}

static void board_succeeded(Hw *hw, unsigned board, usec_t now, bool polled) {
        const BoardConfig *bc = &hw->config->boards[board];
        BoardState *st = &hw->boards[board];
        BoardPriv *bp = &HW_PRIV(hw)->boards[board];
        /* A good poll after a silence longer than CommLossMs (the daemon was stalled, or the link hung)
         * is still a comm loss: the board may have stopped its motors by itself meanwhile, and what ran
         * must not simply carry on. It is reported lost once; the next good poll makes it ok again. */
        usec_t silence = now - bp->loss_ref, limit = (usec_t) bc->comm_loss_ms * USEC_PER_MSEC;
        bool gap;

        /* The board's own comm timeout, when shorter, is the surer sign: past it, it has stopped. */
        if (bc->comm_timeout_register >= 0 && bc->comm_timeout_ms > 0)
                limit = limit > 0 ? MIN(limit, (usec_t) bc->comm_timeout_ms * USEC_PER_MSEC)
                                  : (usec_t) bc->comm_timeout_ms * USEC_PER_MSEC;
        gap = polled && limit > 0 && st->health != BOARD_LOST && silence > limit;

        st->missed = 0;
        st->last_good = now;
        bp->loss_ref = now;
        bp->backoff_ms = 0;
        hw->bus_backoff_ms = 0; /* the link works: the next loss starts at ReconnectMinMs again */
        board_set_health(hw, board, gap ? BOARD_LOST : BOARD_OK);
}

static void board_schedule(Hw *hw, unsigned board, usec_t now) {
        usec_t interval = (usec_t) hw->config->boards[board].poll_interval_ms * USEC_PER_MSEC;
        BoardState *st = &hw->boards[board];

        /* Step from the previous due time, not from now, so a late cycle does not push every later
         * poll back; start over only when we fell a whole interval behind. */
        st->next_poll = st->next_poll + interval;
        if (st->next_poll <= now)
                st->next_poll = interval > 0 ? now + interval : 0;
}

static int board_init(Hw *hw, unsigned board) {
        const BoardConfig *bc = &hw->config->boards[board];
        BoardPriv *bp = &HW_PRIV(hw)->boards[board];
        uint16_t value;
        int r;

        if (!bp->needs_init)
                return 0;
        if (bc->comm_timeout_register >= 0) {
                HwBlock block = {
                        .board = board,
                        .slave_id = bc->slave_id,
                        .kind = REGISTER_HOLDING,
                        .address = (unsigned) bc->comm_timeout_register,
                        .count = 1,
                        .write = true,
                };

                value = (uint16_t) MIN(bc->comm_timeout_ms, 0xffffu);
                r = board_request(hw, &block, &value, true);
                if (r < 0)
                        return r;
        }
        bp->needs_init = false;
        return 0;
}

static int board_poll(Hw *hw, unsigned board, usec_t now) {
        const Config *c = hw->config;
        HwPriv *p = HW_PRIV(hw);
        int r;

        r = board_init(hw, board);
        if (r < 0)
                return r;

        for (size_t i = 0; i < hw->plan.n_blocks; i++) {
                const HwBlock *block = &hw->plan.blocks[i];

                if (block->board != board || block->write)
                        continue;
                r = board_request(hw, block, hw->block_values, false);
                if (r < 0)
                        return r; /* one timeout per board per poll, not one per block */

                for (size_t j = 0; j < c->n_signals; j++) {
                        const SignalConfig *s = &c->signals[j];

                        if (hw->plan.signal_block[j] != i)
                                continue;
                        p->value[s->id] = signal_decode(s, hw->block_values + hw->plan.signal_offset[j]);
                        p->valid[s->id] = true;
                        p->updated[s->id] = now;
                }
        }
        return 0;
}

static int board_read(Hw *hw, unsigned board, usec_t now) {
        const BoardConfig *bc = &hw->config->boards[board];
        BoardState *st = &hw->boards[board];
        int r;

        if (now < st->next_poll) {
                /* Not due; a board that already missed still runs out of time here. */
                if ((st->health == BOARD_DEGRADED || st->health == BOARD_OFFLINE) && st->missed > 0 &&
                    bc->comm_loss_ms > 0 &&
                    now - HW_PRIV(hw)->boards[board].loss_ref > (usec_t) bc->comm_loss_ms * USEC_PER_MSEC)
                        board_set_health(hw, board, BOARD_LOST);
                return hw->bus->connected ? 0 : -ENOTCONN;
        }

        r = hw->bus->connected ? board_poll(hw, board, now) : -ENOTCONN;
        if (r < 0) {
                if (!hw->bus->connected) {
                        hw->boards[board].last_error = r;
                        hw->boards[board].last_exception = 0;
                }
                board_failed(hw, board, now, r);
                if (st->health != BOARD_LOST)
                        board_schedule(hw, board, now);
                return r;
        }
        board_succeeded(hw, board, now, true);
        board_schedule(hw, board, now);
        return 0;
}

int hw_read_inputs(Hw *hw, usec_t now, ChairInputs *in) {
        HwPriv *p = HW_PRIV(hw);
        int ret = 0, r;

        if (hw->bus) {
                if (!p->started) {
                        /* The comm-loss window of a board never heard from starts with the first poll. */
                        for (unsigned b = 0; b < hw->config->n_boards; b++)
                                p->boards[b].loss_ref = now;
                        p->started = true;
                }
                r = bus_connect(hw, now);
                if (r < 0)
                        ret = r;
                for (unsigned b = 0; b < hw->config->n_boards; b++) {
                        r = board_read(hw, b, now);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
        }

        lines_read(hw, now, in);

        in->now = now;
        for (SignalId id = 0; id < _SIGNAL_MAX; id++) {
                in->value[id] = p->value[id];
                in->valid[id] = p->valid[id];
                in->updated[id] = p->updated[id];
        }
        return ret;
}

/* ---- outputs --------------------------------------------------------------------------------------- */

static void value_type_raw_range(ValueType t, double *ret_lo, double *ret_hi) {
        switch (t) {
        case VALUE_BOOL:
                *ret_lo = 0, *ret_hi = 1;
                break;
        case VALUE_S16:
                *ret_lo = INT16_MIN, *ret_hi = INT16_MAX;
                break;
        case VALUE_U32:
                *ret_lo = 0, *ret_hi = UINT32_MAX;
                break;
        case VALUE_S32:
                *ret_lo = INT32_MIN, *ret_hi = INT32_MAX;
                break;
        default:
                *ret_lo = 0, *ret_hi = UINT16_MAX;
                break;
        }
}

/* Encodes one output. A value outside Min/Max, or one the register cannot hold, is clamped and never
 * wraps: 70000 into a u16 must not become 4464. Anything still unencodable is sent as the safe value. */
static void output_encode(Hw *hw, size_t index, double value, uint16_t *regs) {
        const SignalConfig *s = &hw->config->signals[index];
        HwPriv *p = HW_PRIV(hw);
        double v = value, lo, hi;
        int r;

        if (isnan(v))
                v = signal_id_safe_value(s->id);
        if (s->has_range)
                v = CLAMP(v, s->min, s->max);
        r = signal_encode(s, v, regs);
        if (r == -ERANGE) {
                value_type_raw_range(s->type, &lo, &hi);
                lo = lo * s->scale + s->offset;
                hi = hi * s->scale + s->offset;
                v = CLAMP(v, MIN(lo, hi), MAX(lo, hi));
                r = signal_encode(s, v, regs);
        }
        if (r < 0) {
                v = signal_id_safe_value(s->id);
                if (signal_encode(s, v, regs) < 0)
                        memset(regs, 0, value_type_registers(s->type) * sizeof(uint16_t));
        }

        if (v == value) {
                p->clamp_warned[s->id] = false;
                return;
        }
        if (!p->clamp_warned[s->id])
                log_warning("Output %s=%g does not fit its register or range, sending %g.",
                            signal_id_to_string(s->id), value, v);
        p->clamp_warned[s->id] = true;
}

/* Fills the scratch buffer for write block i; returns true when it carries the heartbeat. */
static bool block_fill(Hw *hw, size_t i, const double *values, uint16_t heartbeat) {
        const HwBlock *block = &hw->plan.blocks[i];
        int hb = hw->config->boards[block->board].heartbeat_register;

        memset(hw->block_values, 0, block->count * sizeof(uint16_t));
        for (size_t j = 0; j < hw->config->n_signals; j++)
                if (hw->plan.signal_block[j] == i)
                        output_encode(hw, j, values[hw->config->signals[j].id],
                                      hw->block_values + hw->plan.signal_offset[j]);

        if (block->kind != REGISTER_HOLDING || hb < 0 || (unsigned) hb < block->address ||
            (unsigned) hb >= block->address + block->count)
                return false;
        hw->block_values[(unsigned) hb - block->address] = heartbeat;
        return true;
}

static usec_t heartbeat_period(const Hw *hw, unsigned board) {
        const BoardConfig *bc = &hw->config->boards[board];

        if (bc->comm_timeout_register >= 0 && bc->comm_timeout_ms > 0)
                return (usec_t) bc->comm_timeout_ms * USEC_PER_MSEC / HEARTBEATS_PER_TIMEOUT;
        return HEARTBEAT_DEFAULT_USEC;
}

/* Whether block i must go out now; hw->block_values holds its content with the last heartbeat. */
static bool block_due(Hw *hw, size_t i, usec_t now, bool with_heartbeat, bool force) {
        HwPriv *p = HW_PRIV(hw);
        const HwBlock *block = &hw->plan.blocks[i];
        BoardPriv *bp = &p->boards[block->board];

        if (force || p->written_at[i] == 0 || now - p->written_at[i] >= OUTPUT_REFRESH_USEC)
                return true;
        if (with_heartbeat && now - bp->heartbeat_at >= heartbeat_period(hw, block->board))
                return true;
        return memcmp(p->written + p->written_offset[i], hw->block_values, block->count * sizeof(uint16_t)) != 0;
}

static int board_write(Hw *hw, unsigned board, usec_t now, const double *values, bool force) {
        HwPriv *p = HW_PRIV(hw);
        BoardState *st = &hw->boards[board];
        BoardPriv *bp = &p->boards[board];
        bool has_reads = false;
        int r;

        if (!hw->bus || !hw->bus->connected)
                return -ENOTCONN;

        /* A board that is (re)initialised may have lost everything: write every block. */
        force = force || bp->rewrite;
        r = board_init(hw, board);
        if (r < 0) {
                board_failed(hw, board, now, r);
                return r;
        }

        for (size_t i = 0; i < hw->plan.n_blocks; i++) {
                const HwBlock *block = &hw->plan.blocks[i];
                int hb = hw->config->boards[board].heartbeat_register;
                bool with_heartbeat;

                if (block->board != board)
                        continue;
                if (!block->write) {
                        has_reads = true;
                        continue;
                }
                /* Compare with the heartbeat as last written; a write carries the next one. */
                with_heartbeat = block_fill(hw, i, values, st->heartbeat);
                if (!block_due(hw, i, now, with_heartbeat, force))
                        continue;
                if (with_heartbeat)
                        hw->block_values[(unsigned) hb - block->address] = (uint16_t) (st->heartbeat + 1);
                r = board_request(hw, block, hw->block_values, true);
                if (r < 0) {
                        board_failed(hw, board, now, r);
                        return r;
                }
                memcpy(p->written + p->written_offset[i], hw->block_values, block->count * sizeof(uint16_t));
                p->written_at[i] = now;
                if (with_heartbeat) {
                        st->heartbeat++;
                        bp->heartbeat_at = now;
                }
        }

        bp->rewrite = false;
        /* Reads decide a board's health; a board with outputs only has nothing else to go by. */
        if (!has_reads)
                board_succeeded(hw, board, now, false);
        return 0;
}

int hw_write_outputs(Hw *hw, usec_t now, const ChairOutputs *out) {
        int ret = 0, r;

        for (unsigned b = 0; hw->bus && b < hw->config->n_boards; b++) {
                BoardHealth h = hw->boards[b].health;

                if (!hw->bus->connected) {
                        ret = ret < 0 ? ret : -ENOTCONN;
                        break;
                }
                /* A lost board is retried by the read path on its backoff, not here every cycle; one that
                 * just failed its poll would only cost a second response timeout in the same cycle. */
                if (h == BOARD_LOST || h == BOARD_OFFLINE || HW_PRIV(hw)->boards[b].failed_at == now)
                        continue;
                r = board_write(hw, b, now, out->value, false);
                if (r < 0 && ret == 0)
                        ret = r;
        }

        r = lines_write(hw, now, out);
        if (r < 0 && ret == 0)
                ret = r;
        return ret;
}

int hw_all_stop(Hw *hw, usec_t now) {
        double safe[_SIGNAL_MAX];
        int ret = 0, r;

        for (SignalId id = 0; id < _SIGNAL_MAX; id++)
                safe[id] = signal_id_safe_value(id);

        /* At start-up nothing has connected yet: the stop is worth one connect attempt (outputs safe from
         * the first instant, before the first control cycle). */
        if (hw->bus)
                (void) bus_connect(hw, now);

        /* Every board, lost ones included: this is the stop, worth one response timeout each. */
        for (unsigned b = 0; hw->bus && b < hw->config->n_boards; b++) {
                r = board_write(hw, b, now, safe, true);
                if (r < 0) {
                        log_warning_errno(r, "All-stop of board %s failed, continuing: %m",
                                          hw->config->boards[b].name);
                        if (ret == 0)
                                ret = r;
                }
        }
        return ret;
}

/* ---- lifecycle ------------------------------------------------------------------------------------- */

static int hw_alloc_state(Hw *hw) {
        HwPriv *p = HW_PRIV(hw);
        size_t largest = 2, n = hw->config->n_boards;

        for (size_t i = 0; i < hw->plan.n_blocks; i++)
                largest = MAX(largest, (size_t) hw->plan.blocks[i].count);

        hw->boards = calloc(n + 1, sizeof(BoardState));
        p->boards = calloc(n + 1, sizeof(BoardPriv));
        hw->block_values = calloc(largest, sizeof(uint16_t));
        p->written_offset = calloc(hw->plan.n_blocks + 1, sizeof(size_t));
        p->written_at = calloc(hw->plan.n_blocks + 1, sizeof(usec_t));
        if (!hw->boards || !p->boards || !hw->block_values || !p->written_offset || !p->written_at)
                return -ENOMEM;
        size_t total = 0;
        for (size_t i = 0; i < hw->plan.n_blocks; i++) {
                p->written_offset[i] = total;
                total += hw->plan.blocks[i].count;
        }
        p->written = calloc(total + 1, sizeof(uint16_t));
        if (!p->written)
                return -ENOMEM;

        for (size_t b = 0; b < n; b++) {
                hw->boards[b].health = BOARD_OFFLINE;
                p->boards[b].needs_init = true;
                p->boards[b].rewrite = true;
        }
        return 0;
}

void hw_set_config(Hw *hw, const Config *c) {
        hw->config = c;
        if (hw->bus)
                hw->bus->config = c;
        if (hw->lines)
                hw->lines->config = c;
}

int hw_new_with_backends(const Config *c, sd_event *event, HwBackend *bus, HwBackend *lines, Hw **ret) {
        _cleanup_(hw_freep) Hw *hw = NULL;
        HwPriv *p;
        int r;

        p = calloc(1, sizeof(HwPriv));
        if (!p)
                return log_oom();
        hw = &p->hw;
        hw->config = c;
        hw->event = event ? sd_event_ref(event) : NULL;

        r = hw_plan_build(c, &hw->plan);
        if (r < 0)
                return r;
        r = hw_alloc_state(hw);
        if (r < 0)
                return log_oom();

        /* From here on the backends are ours and hw_free() releases them. */
        hw->bus = bus;
        hw->lines = lines;
        if (bus) {
                bus->hw = hw;
                bus->config = c;
        }
        if (lines) {
                lines->hw = hw;
                lines->config = c;
                /* Outputs at their safe value before anything else; a backend that is not there yet is
                 * retried from the first poll on, and until then the e-stop reads active. */
                (void) lines_connect(hw, 0, true);
        } else
                hw->line_state[LINE_ESTOP] = true;

        *ret = TAKE_PTR(hw);
        return 0;
}

int hw_new(const Config *c, sd_event *event, Hw **ret) {
        HwBackend *bus = NULL, *lines = NULL;
        int r = 0;

        if (c->n_boards > 0) {
                r = hw_modbus_new(c, &bus);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the Modbus backend: %m");
        }

        if (c->gpio.backend == GPIO_BACKEND_GPIOD)
                r = hw_gpiod_new(c, &lines);
        else if (c->gpio.backend == GPIO_BACKEND_SIM)
                r = hw_simgpio_new(c, &lines);
        if (r < 0) {
                if (bus)
                        bus->ops->free(bus);
                return log_error_errno(r, "Failed to set up the GPIO backend: %m");
        }

        r = hw_new_with_backends(c, event, bus, lines, ret);
        if (r < 0) {
                if (bus)
                        bus->ops->free(bus);
                if (lines)
                        lines->ops->free(lines);
        }
        return r;
}

Hw *hw_free(Hw *hw) {
        HwPriv *p;

        if (!hw)
                return NULL;
        p = HW_PRIV(hw);

        p->debounce_source = sd_event_source_disable_unref(p->debounce_source);
        if (hw->lines)
                hw->lines->ops->free(hw->lines);
        if (hw->bus)
                hw->bus->ops->free(hw->bus);
        hw_plan_done(&hw->plan);
        free(hw->boards);
        free(hw->block_values);
        free(p->boards);
        free(p->written);
        free(p->written_offset);
        free(p->written_at);
        sd_event_unref(hw->event);
        free(p);
        return NULL;
}
