/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chair-sim's shared types: the physical model of the chair, its three Modbus boards, the transports
 * (Modbus TCP, Modbus RTU on a tty, the GPIO and control sockets) and the server that owns them all. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "chair.h"
#include "macro.h"
#include "time-util.h"

/* After macro.h on purpose: modbus.h pulls in <sys/param.h>, whose MIN/MAX would clash with macro.h's
 * under -Werror if they came first (a redefinition inside a system header is not diagnosed). */
#include <modbus/modbus.h>

#define SIM_DEFAULT_RUN_DIR "/run/chair-sim"
#define SIM_DEFAULT_SHOULDER_MM 180.0
#define SIM_DEFAULT_STIFFNESS 1.5
#define SIM_TRACK_MM 700.0
#define SIM_LINE_MAX 128 /* docs/sim-gpio-protocol.md: at most 128 bytes a line */
#define SIM_ADU_MAX 260  /* largest Modbus TCP ADU; RTU frames are at most 256 bytes */

/* ---- the model (sim/model.c) ------------------------------------------------------------------------ */

typedef enum SimBoardId {
        SIM_BOARD_ROLLER,
        SIM_BOARD_AIRBAG,
        SIM_BOARD_BASE,
        _SIM_BOARD_MAX,
        _SIM_BOARD_INVALID = -EINVAL,
} SimBoardId;

typedef enum BusFault {
        BUS_FAULT_NONE,
        BUS_FAULT_TIMEOUT,    /* never answer */
        BUS_FAULT_EXCEPTION,  /* answer with exception <arg> */
        BUS_FAULT_DISCONNECT, /* TCP: drop and refuse connections; RTU: silence */
        BUS_FAULT_SLOW,       /* answer after <arg> ms */
        BUS_FAULT_GARBAGE,    /* RTU: random bytes; TCP: malformed MBAP header */
        BUS_FAULT_CRC,        /* RTU: reply with a wrong CRC; TCP: like garbage */
        _BUS_FAULT_MAX,
        _BUS_FAULT_INVALID = -EINVAL,
} BusFault;

typedef enum SensorFault {
        SENSOR_NORMAL,
        SENSOR_STUCK,  /* report the value frozen when the fault was set */
        SENSOR_SPIKE,  /* report true value + arg */
        SENSOR_OFFSET, /* report true value + arg */
        SENSOR_RAMP,   /* report true value + an offset moving from its current value toward arg at rate/s */
        _SENSOR_FAULT_MAX,
        _SENSOR_FAULT_INVALID = -EINVAL,
} SensorFault;

/* The measured quantities that the boards report in input registers; sensor faults apply to these. */
typedef enum SimSensorId {
        SIM_SENSOR_ROLLER_POSITION,
        SIM_SENSOR_ROLLER_SPEED,
        SIM_SENSOR_ROLLER_FORCE,
        SIM_SENSOR_SHOULDERS_PRESSURE,
        SIM_SENSOR_ARMS_PRESSURE,
        SIM_SENSOR_HIPS_PRESSURE,
        SIM_SENSOR_LEGS_PRESSURE,
        SIM_SENSOR_HEAT_TEMPERATURE,
        SIM_SENSOR_RECLINE_ANGLE,
        _SIM_SENSOR_MAX,
        _SIM_SENSOR_INVALID = -EINVAL,
} SimSensorId;

typedef struct SimBoard {
        modbus_mapping_t *map;
        unsigned heartbeat_reg;
        unsigned comm_timeout_reg;
        usec_t last_heartbeat; /* last write of the heartbeat register (or comm timeout armed) */
        bool tripped;          /* board-side comm timeout */
        uint64_t requests;     /* requests answered */
        BusFault fault;
        unsigned fault_arg;
} SimBoard;

typedef struct SimSensor {
        SensorFault fault;
        double arg;
        double frozen;
        double rate;  /* SENSOR_RAMP: units per second */
        double base;  /* SENSOR_RAMP: the offset when the ramp started */
        usec_t since; /* SENSOR_RAMP: when the ramp started */
} SimSensor;

typedef struct Model {
        usec_t now; /* CLOCK_MONOTONIC the model was last advanced to */

        /* inputs the control socket drives */
        bool estop_pressed, estop_broken, interlock;
        bool seated;
        double shoulder_mm, stiffness;

        /* outputs the GPIO clients drive */
        bool power_en, wdt_level, wdt_started;
        usec_t wdt_last_toggle;

        /* physical state, engineering units */
        double roller_pos, roller_speed, roller_force;
        double pressure[4]; /* shoulders, arms, hips, legs */
        double temperature, angle;

        /* CLOCK_MONOTONIC ns of notable events, 0 = never */
        uint64_t relay_off_ns, estop_press_ns, motors_zero_ns;
        bool motors_zero;

        SimBoard boards[_SIM_BOARD_MAX];
        SimSensor sensors[_SIM_SENSOR_MAX];
} Model;

/* Register numbers (0-based PDU addresses), the same as config/examples/chaird.conf. */
enum {
        ROLLER_IN_POSITION = 0,
        ROLLER_IN_SPEED,
        ROLLER_IN_FORCE,
        ROLLER_IN_STATUS,
        _ROLLER_IN_MAX,
        ROLLER_HR_TARGET = 0,
        ROLLER_HR_SPEED_LIMIT,
        ROLLER_HR_FORCE,
        ROLLER_HR_TECHNIQUE,
        ROLLER_HR_WIDTH,
        ROLLER_HR_ENABLE,
        ROLLER_HR_HEARTBEAT,
        ROLLER_HR_COMM_TIMEOUT,
        _ROLLER_HR_MAX,
        AIRBAG_IN_STATUS = 4,
        _AIRBAG_IN_MAX,
        AIRBAG_HR_HEARTBEAT = 4,
        AIRBAG_HR_COMM_TIMEOUT,
        _AIRBAG_HR_MAX,
        BASE_IN_TEMPERATURE = 0,
        BASE_IN_ANGLE,
        BASE_IN_STATUS,
        _BASE_IN_MAX,
        BASE_HR_SETPOINT = 0,
        BASE_HR_RECLINE_TARGET,
        BASE_HR_HEARTBEAT,
        BASE_HR_COMM_TIMEOUT,
        _BASE_HR_MAX,
        BASE_COIL_HEAT = 0,
        BASE_COIL_RECLINE,
        _BASE_COIL_MAX,
};

enum {
        BOARD_STATUS_POWERED = 1u << 0,
        BOARD_STATUS_TRIPPED = 1u << 1,
        BOARD_STATUS_FAULT = 1u << 2,
};

int model_init(Model *m, usec_t now);
void model_done(Model *m);
void model_advance(Model *m, usec_t now);
/* Writes the (fault-applied) reported values into the boards' input registers. */
void model_update_inputs(Model *m);
/* Called after a Modbus write to board b was applied: heartbeat tracking, motors-zero timestamp. */
void model_after_write(Model *m, SimBoardId b, bool heartbeat_written, bool comm_timeout_written);
/* Range check of a register write before it is applied; false = illegal data value. */
bool model_register_value_ok(SimBoardId b, unsigned reg, uint16_t value);

bool model_actuator_power(const Model *m); /* relay closed and the external watchdog not tripped */
bool model_roller_can_move(const Model *m);
bool model_wdt_tripped(const Model *m);
double model_sensor_true_value(const Model *m, SimSensorId s);
double model_sensor_reported(const Model *m, SimSensorId s);
double model_sensor_register(const Model *m, SimSensorId s); /* what the input register says, decoded */
int model_set_sensor_fault(Model *m, SimSensorId s, SensorFault f, double arg, double rate);

/* Line levels (physical, 0/1). */
bool model_estop_level(const Model *m);

const char *sim_board_to_string(SimBoardId b) _pure_;
SimBoardId sim_board_from_string(const char *s) _pure_;
const char *bus_fault_to_string(BusFault f) _pure_;
BusFault bus_fault_from_string(const char *s) _pure_;
const char *sensor_fault_to_string(SensorFault f) _pure_;
SensorFault sensor_fault_from_string(const char *s) _pure_;
const char *sim_sensor_to_string(SimSensorId s) _pure_;
SimSensorId sim_sensor_from_string(const char *s) _pure_;

/* Returns the fd and sets the variable to -1: hands ownership over. */
#define TAKE_FD(fd)                                                                                         \
        ({                                                                                                  \
                int _fd_ = (fd);                                                                            \
                (fd) = -1;                                                                                  \
                _fd_;                                                                                       \
        })

static inline uint64_t mono_nsec(void) {
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the server (sim/server.c) ---------------------------------------------------------------------- */

typedef struct Sim Sim;
typedef struct LineServer LineServer;
typedef struct LineClient LineClient;

/* A reply waiting for its send time (slow fault, wire time). */
typedef struct Pending {
        struct Pending *next;
        usec_t due;
        size_t len;
        uint8_t data[SIM_ADU_MAX];
} Pending;

typedef struct ReplyQueue {
        Sim *sim;
        int fd;
        Pending *head;
        sd_event_source *timer;
} ReplyQueue;

typedef enum SimTransport {
        SIM_TRANSPORT_TCP,
        SIM_TRANSPORT_RTU,
} SimTransport;

typedef struct TcpConn {
        struct TcpConn *next;
        Sim *sim;
        int fd;
        sd_event_source *src;
        uint8_t buf[2 * SIM_ADU_MAX];
        size_t len;
        unsigned boards_addressed; /* bit per SimBoardId: "its connections" for the disconnect fault */
        ReplyQueue queue;
} TcpConn;

typedef struct RtuPort {
        Sim *sim;
        int fd;
        sd_event_source *src, *silence;
        uint8_t buf[512];
        size_t len;
        bool resync;        /* after a bad frame: drop everything until an inter-frame silence */
        usec_t frame_start; /* when the first byte of the frame in buf arrived */
        usec_t char_usec;   /* one character (11 bits) at the baud rate */
        ReplyQueue queue;
} RtuPort;

typedef struct SimOptions {
        const char *run_dir;
        const char *tcp;
        const char *rtu;
        unsigned baud;
        char parity; /* 'N', 'E', 'O' */
        int stop_bits;
        bool wire_time;
        double shoulder_mm, stiffness;
        bool empty;
} SimOptions;

/* A Unix stream socket server speaking one text line per message (GPIO and control sockets). */
typedef int (*LineHandler)(LineClient *c, char *line);
typedef void (*LineClientHook)(LineClient *c);

struct LineClient {
        LineClient *next;
        LineServer *server;
        int fd;
        sd_event_source *src;
        char buf[SIM_LINE_MAX * 4];
        size_t len;
        bool overflow;        /* dropping the rest of a too-long line */
        unsigned outputs_set; /* GPIO: bit per LineId this client drove */
};

struct LineServer {
        Sim *sim;
        char *path;
        int fd;
        sd_event_source *src;
        LineClient *clients;
        size_t max_line;
        LineHandler on_line;
        LineClientHook on_connect, on_disconnect;
};

struct Sim {
        sd_event *event;
        SimOptions opts;
        Model model;
        sd_event_source *tick;

        int capture[2]; /* libmodbus writes replies into [0]; we take them from [1] */
        modbus_t *tcp_ctx, *rtu_ctx;

        int tcp_fd;
        sd_event_source *tcp_src;
        char *tcp_host, *tcp_port;
        TcpConn *tcp_conns;
        bool tcp_refusing;

        RtuPort *rtu;
        LineServer gpio, ctl;
};

int sim_serve(const SimOptions *o);
void sim_advance(Sim *s);

/* sim/modbus.c: one request from either transport. Returns the reply length (0: no reply), or
 * -ECONNRESET when the connection must be dropped (TCP disconnect fault). *ret_delay is extra time
 * before the reply goes out (slow fault). *ret_board is the addressed board or _SIM_BOARD_INVALID. */
int sim_modbus_handle(Sim *s, SimTransport t, const uint8_t *req, size_t len, uint8_t *rsp,
                      usec_t *ret_delay, SimBoardId *ret_board);
int sim_modbus_setup(Sim *s);
void sim_modbus_done(Sim *s);
uint16_t modbus_crc16(const uint8_t *data, size_t len);
/* Length of a request PDU (function code onwards) from its first bytes: >0 the length, 0 more bytes are
 * needed to know, -EBADMSG a function code whose request length we cannot tell. */
int modbus_pdu_length(const uint8_t *pdu, size_t avail);

/* sim/bus.c: the transports. */
int tcp_server_start(Sim *s);
void tcp_server_stop(Sim *s);
void tcp_server_apply_faults(Sim *s); /* drop/refuse connections when a disconnect fault is set */
int rtu_port_open(Sim *s);
void rtu_port_close(Sim *s);
void reply_queue_init(ReplyQueue *q, Sim *s, int fd);
int reply_queue_push(ReplyQueue *q, const uint8_t *data, size_t len, usec_t due);
void reply_queue_done(ReplyQueue *q);

/* sim/lines.c: line servers and the GPIO protocol. */
int line_server_start(LineServer *ls, Sim *s, const char *path, LineHandler on_line);
void line_server_stop(LineServer *ls);
int line_client_send(LineClient *c, const char *fmt, ...) _printf_(2, 3);
int gpio_server_start(Sim *s, const char *path);
void gpio_broadcast_edge(Sim *s, LineId line, bool level, uint64_t ns);
bool gpio_level(const Sim *s, LineId line);

/* sim/ctl.c: the control socket and the "get" keys. */
int ctl_server_start(Sim *s, const char *path);
typedef void (*KeyCallback)(const char *key, const char *value, void *userdata);
void ctl_foreach_key(Sim *s, KeyCallback cb, void *userdata);

/* sim/client.c: the client verbs. */
int client_main(const char *run_dir, int argc, char **argv);
