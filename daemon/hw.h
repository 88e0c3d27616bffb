/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hardware layer: one table of operations that every backend fills (Modbus, libgpiod, chair-sim's
 * GPIO), and the layer above it that turns the configured signal map into batched requests and the
 * logical ChairInputs/ChairOutputs. Only backends include libmodbus/libgpiod headers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "chair.h"
#include "config.h"

typedef struct Hw Hw;
typedef struct HwBackend HwBackend;

/* One batched request: contiguous registers of one kind on one board (a "block"). Built once per
 * config by hw_plan_build(); each signal knows its block and its index inside it. */
typedef struct HwBlock {
        unsigned board;   /* index into Config.boards */
        unsigned slave_id;
        RegisterKind kind;
        unsigned address;
        unsigned count;   /* registers (or bits for coils/discretes) */
        bool write;       /* true: outputs written each cycle; false: inputs read each poll */
} HwBlock;

/* Called by a line backend when an input line changes (already active-level applied, not debounced).
 * timestamp is CLOCK_MONOTONIC of the edge as the backend saw it. */
typedef void (*HwLineCallback)(Hw *hw, LineId line, bool active, usec_t timestamp, void *userdata);

typedef struct HwOps {
        const char *name; /* "modbus", "gpiod", "sim-gpio", "mock" */

        /* Lifecycle. open() may fail with -ECONNREFUSED etc.; the layer retries with backoff. */
        int (*open)(HwBackend *b);
        void (*close)(HwBackend *b);
        void (*free)(HwBackend *b);

        /* Registers (bus backends). bits/regs hold block->count entries. Errors: -ETIMEDOUT no answer,
         * -EPROTO bad/exception reply (ret_exception set when the board sent one), -EIO link error,
         * -ENOTCONN not connected. */
        int (*read_block)(HwBackend *b, const HwBlock *block, uint16_t *ret_values, int *ret_exception);
        int (*write_block)(HwBackend *b, const HwBlock *block, const uint16_t *values, int *ret_exception);

        /* Lines (GPIO backends). Outputs are requested at their safe (inactive) value in open(). */
        int (*line_get)(HwBackend *b, LineId line, bool *ret_active);
        int (*line_set)(HwBackend *b, LineId line, bool active);
        /* Register the backend's event fd(s) with the loop so edges arrive as HwLineCallback. */
        int (*attach_event)(HwBackend *b, sd_event *event);
} HwOps;

/* Common head of every backend; backends embed it first and cast. */
struct HwBackend {
        const HwOps *ops;
        const Config *config;
        Hw *hw;
        bool connected;
};

/* Constructors of the real backends (each in its own file). */
int hw_modbus_new(const Config *c, HwBackend **ret);   /* daemon/hw-modbus.c */
int hw_gpiod_new(const Config *c, HwBackend **ret);    /* daemon/hw-gpiod.c */
int hw_simgpio_new(const Config *c, HwBackend **ret);  /* daemon/hw-simgpio.c */

/* ---- the layer (daemon/hw.c, daemon/hw-plan.c) ---- */

typedef struct HwPlan {
        HwBlock *blocks;
        size_t n_blocks;
        /* for each configured signal (index into Config.signals): its block and offset in it */
        unsigned *signal_block;
        unsigned *signal_offset;
} HwPlan;

/* Groups the configured signals into as few blocks as the map allows: same board, same kind,
 * contiguous (or within the board's ReadGap for reads), at most the Modbus PDU limit per request
 * (125 registers read, 123 written, 2000 coils read, 1968 written). Pure; unit tested. */
int hw_plan_build(const Config *c, HwPlan *ret);
void hw_plan_done(HwPlan *p);

typedef enum BoardHealth {
        BOARD_OK,
        BOARD_DEGRADED, /* missed some polls, below the limit */
        BOARD_LOST,     /* missed MaxMissedPolls in a row or no good poll for CommLossMs */
        BOARD_OFFLINE,  /* transport not connected (backoff running) */
        _BOARD_HEALTH_MAX,
} BoardHealth;

typedef struct BoardState {
        BoardHealth health;
        unsigned missed;     /* consecutive failed polls */
        usec_t last_good;    /* CLOCK_MONOTONIC of the last good poll */
        int last_error;      /* negative errno of the last failure, 0 if none */
        int last_exception;  /* Modbus exception code of the last failure, 0 if none */
        uint64_t requests, failures;
        unsigned losses;     /* how often it became lost: a loss between two looks is not missed */
        uint16_t heartbeat;  /* last value written to the heartbeat register */
        usec_t next_poll;    /* PollIntervalMs scheduling */
} BoardState;

struct Hw {
        const Config *config;
        sd_event *event;
        HwPlan plan;
        HwBackend *bus;   /* Modbus */
        HwBackend *lines; /* gpiod, sim, or NULL for GPIO_BACKEND_NONE */
        BoardState *boards; /* n_boards */
        uint16_t *block_values; /* scratch, sized for the largest block */
        usec_t bus_next_connect; /* reconnect backoff */
        unsigned bus_backoff_ms;
        bool line_state[_LINE_MAX];   /* last logical value seen/written */
        usec_t line_release_at[_LINE_MAX]; /* debounce of releases */
        HwLineCallback line_cb;
        void *line_userdata;
};

/* Creates the backends from the config (or takes the given ones, for unit tests with a mock table),
 * requests the output lines at their safe value before returning. */
int hw_new(const Config *c, sd_event *event, Hw **ret);
int hw_new_with_backends(const Config *c, sd_event *event, HwBackend *bus, HwBackend *lines, Hw **ret);
Hw *hw_free(Hw *hw);
DEFINE_TRIVIAL_CLEANUP_FUNC(Hw *, hw_free);

void hw_set_line_callback(Hw *hw, HwLineCallback cb, void *userdata);

/* Points the layer and its backends at a new Config whose hardware sections equal the current one's
 * (a reload): the plan and the board states stay valid. */
void hw_set_config(Hw *hw, const Config *c);

/* Line backends call this on every raw edge (active level applied, not debounced). The layer keeps
 * line_state, reports presses at once and releases after DebounceMs, through the callback above. */
void hw_line_edge(Hw *hw, LineId line, bool active, usec_t timestamp);

/* One poll: reads every input block whose board is due, decodes into in (valid[] false for signals
 * whose board failed), reads input lines, updates BoardState. Never blocks longer than the sum of the
 * response timeouts of the boards polled; a board that is lost or offline is retried with backoff. */
int hw_read_inputs(Hw *hw, usec_t now, ChairInputs *in);

/* Writes every output block (and each board's heartbeat register), then the output lines. */
int hw_write_outputs(Hw *hw, usec_t now, const ChairOutputs *out);

/* Sets one output line at once (the e-stop path: relay off before any Modbus traffic). */
int hw_set_line(Hw *hw, LineId line, bool active);

/* Writes the safe value of every output signal on every board, ignoring per-board failures (returns
 * the first error). Used right after the relay cut and at shutdown. */
int hw_all_stop(Hw *hw, usec_t now);

const BoardState *hw_board_state(const Hw *hw, unsigned board);
const char *board_health_to_string(BoardHealth h);

/* Maps a libmodbus errno (its own range, EMBXILFUN...) or a system errno to -ETIMEDOUT, -EPROTO or
 * -EIO; sets *ret_exception to the Modbus exception code when there is one. daemon/hw-modbus.c. */
int modbus_error_to_errno(int error, int *ret_exception);
