/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The safety supervisor: pure logic between the outputs the daemon wants and the outputs it sends.
 * It owns the e-stop latch, the mode and the effective limits. Time is passed in (CLOCK_MONOTONIC);
 * it does no I/O and no logging: the manager logs the events it returns. Rules: docs/safety.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chair.h"
#include "config.h"
#include "macro.h"
#include "time-util.h"

/* journal MESSAGE_ID of every e-stop and of every other safety event */
#define SAFETY_MESSAGE_ID_ESTOP "afeb56ecd11a4a6d98d4eaefc2e6ae00"
#define SAFETY_MESSAGE_ID_EVENT "da5a1156b6944cb88790408a333c5aea"

#define SAFETY_EVENTS_MAX 16
#define SAFETY_TEXT_MAX 96
#define SAFETY_ZONES_MAX 32

/* The requirements of docs/safety.md; safety_rule_to_string() gives "SR-n". */
typedef enum SafetyRule {
        SR_NONE = 0,
        SR_SAFE_STATE = 1,
        SR_ESTOP_SOURCES = 2,
        SR_ESTOP_RESET = 3,
        SR_STARTUP = 4,
        SR_WATCHDOG = 5,
        SR_HEARTBEAT_GPIO = 6,
        SR_HEARTBEAT_BOARD = 7,
        SR_COMM_LOSS = 8,
        SR_NECK_ZONE = 9,
        SR_ZONE_CLAMP = 10,
        SR_OVER_LIMIT = 11,
        SR_HARD_FORCE = 12,
        SR_CAPS = 13,
        SR_PROGRAM_CHECK = 14,
        SR_UNTRAINED_ENTRY = 15,
        SR_UNTRAINED_LIMITS = 16,
        SR_INTERLOCK_LOSS = 17,
        SR_SESSION_TIME = 18,
        SR_HEAT = 19,
        SR_OCCUPANCY = 20,
        SR_PLAUSIBILITY = 21,
        SR_MOTION_LIMITS = 22,
        SR_AIRBAG = 23,
        _SR_MAX,
        _SR_INVALID = -EINVAL,
} SafetyRule;

typedef enum SafetyStopReason {
        SAFETY_STOP_NONE,
        SAFETY_STOP_BUTTON,          /* "button": the e-stop line (pressed, wire broken or unreadable) */
        SAFETY_STOP_REMOTE,          /* "remote": EmergencyStop() over D-Bus or chairctl */
        SAFETY_STOP_INTERNAL,        /* "internal": a fault the manager found (detail names it) */
        SAFETY_STOP_UNCLEAN_RESTART, /* "unclean-restart": the previous run did not exit cleanly */
        SAFETY_STOP_COMM_LOSS,       /* "comm-loss": a required board stopped answering */
        SAFETY_STOP_HARD_FORCE,      /* "hard-force": measured force over a hard limit */
        SAFETY_STOP_SENSOR_FAULT,    /* "sensor-fault": an implausible input */
        _SAFETY_STOP_MAX,
        _SAFETY_STOP_INVALID = -EINVAL,
} SafetyStopReason;

/* kind of a SafetyEvent (the D-Bus SafetyEvent's first argument) */
typedef enum SafetyEventKind {
        SAFETY_EVENT_ESTOP,           /* "estop": latched now */
        SAFETY_EVENT_RESET,           /* "reset": latch released */
        SAFETY_EVENT_LIMIT,           /* "limit": an output was clamped or refused */
        SAFETY_EVENT_RETRACT,         /* "retract": over the zone limit too long */
        SAFETY_EVENT_CONTROLLED_STOP, /* "controlled-stop": session stopping, out of the neck first */
        SAFETY_EVENT_SESSION_END,     /* "session-end": the supervisor ended the session */
        SAFETY_EVENT_FAULT,           /* "fault": an implausible input */
        SAFETY_EVENT_INTERLOCK,       /* "interlock": interlock key changed while it matters */
        SAFETY_EVENT_MODE,            /* "mode": untrained -> program */
        _SAFETY_EVENT_KIND_MAX,
        _SAFETY_EVENT_KIND_INVALID = -EINVAL,
} SafetyEventKind;

typedef enum SafetyMode {
        SAFETY_MODE_PROGRAM,   /* "program": OEM-vetted programs */
        SAFETY_MODE_UNTRAINED, /* "untrained": manual control, tighter limits (SR-16) */
        _SAFETY_MODE_MAX,
        _SAFETY_MODE_INVALID = -EINVAL,
} SafetyMode;

/* Limits a technician may read and lower (never above the OEM cap from Config). */
typedef enum SafetyLimit {
        SAFETY_LIMIT_MAX_FORCE,       /* "max-force-n":  [Limits] MaxForceN */
        SAFETY_LIMIT_NECK_FORCE,      /* "neck-max-force-n": the neck zone's MaxForceN */
        SAFETY_LIMIT_MAX_SPEED,       /* "max-speed-mm-s": [Limits] MaxSpeedMmS */
        SAFETY_LIMIT_SESSION,         /* "max-session-s": [Limits] MaxSessionMinutes */
        SAFETY_LIMIT_HEAT_TEMP,       /* "heat-max-temp-c": [Limits] HeatMaxTempC */
        SAFETY_LIMIT_UNTRAINED_FORCE, /* "untrained-max-force-n": [Untrained] MaxForceN */
        _SAFETY_LIMIT_MAX,
        _SAFETY_LIMIT_INVALID = -EINVAL,
} SafetyLimit;

/* Why a request was refused; the string is the org.chaird.Error.* name the adaptor replies with. */
typedef enum SafetyRefusal {
        SAFETY_REFUSAL_NONE,
        SAFETY_REFUSAL_ESTOP,         /* "EmergencyStop" */
        SAFETY_REFUSAL_INTERLOCK,     /* "Interlock" */
        SAFETY_REFUSAL_NOT_OCCUPIED,  /* "NotOccupied" */
        SAFETY_REFUSAL_BUSY,          /* "Busy" */
        SAFETY_REFUSAL_NOT_PERMITTED, /* "NotPermitted" */
        SAFETY_REFUSAL_HARDWARE,      /* "Hardware" */
        SAFETY_REFUSAL_INVALID,       /* "InvalidArgument" */
        _SAFETY_REFUSAL_MAX,
        _SAFETY_REFUSAL_INVALID = -EINVAL,
} SafetyRefusal;

/* Actions for the manager, a bit mask in SafetyResult.actions. */
typedef enum SafetyAction {
        SAFETY_ACTION_CUT_RELAY = 1 << 0, /* e-stop now: relay off in this dispatch, then hw_all_stop() */
        SAFETY_ACTION_CONTROLLED_STOP = 1 << 1, /* the session is being stopped (see stop_target_mm) */
        SAFETY_ACTION_END_SESSION = 1 << 2,     /* end the session/program/jog: never resume it */
        SAFETY_ACTION_RAISE_FAULT = 1 << 3,     /* record a fault (State "fault", fault log) */
        SAFETY_ACTION_RETRACT = 1 << 4,         /* the roller backs off (program step may be skipped) */
        SAFETY_ACTION_LEAVE_UNTRAINED = 1 << 5, /* the mode went back to program */
} SafetyAction;

typedef struct SafetyEvent {
        SafetyEventKind kind;
        SafetyRule rule;
        char detail[SAFETY_TEXT_MAX];
} SafetyEvent;

typedef struct SafetyResult {
        ChairOutputs out;      /* what may be sent */
        unsigned actions;      /* SafetyAction bits */
        double stop_target_mm; /* roller target of a controlled stop or retract */
        SafetyEvent events[SAFETY_EVENTS_MAX];
        size_t n_events;
        unsigned events_dropped; /* more events than fit: the manager logs the count */
} SafetyResult;

typedef struct SafetyVerdict {
        SafetyRule rule;
        SafetyRefusal refusal;
        char reason[SAFETY_TEXT_MAX];
} SafetyVerdict;

/* What the manager knows about one board (the hardware layer decides "lost"). */
typedef struct SafetyBoard {
        const char *name;
        bool required;
        bool lost;
} SafetyBoard;

/* One control cycle's view: the input snapshot plus what the manager knows that is not a signal. */
typedef struct SafetyInput {
        const ChairInputs *in;
        const SafetyBoard *boards;
        size_t n_boards;
        bool scanned;        /* body scan done: shoulder_mm holds the result */
        double shoulder_mm;  /* track position of the shoulders */
        bool session_active; /* a program or an untrained-mode session runs (or is paused) */
        bool jog_active;     /* a technician jog runs */
        usec_t session_start;
        unsigned intensity; /* 1..MaxIntensity; 0 = none */
} SafetyInput;

/* A zone on the track in absolute positions (mm from the head end). */
typedef struct SafetyZone {
        const char *name;
        double from_mm, to_mm;
} SafetyZone;

typedef enum SafetyClamp {
        SAFETY_CLAMP_FORCE,
        SAFETY_CLAMP_INTENSITY,
        SAFETY_CLAMP_SPEED,
        SAFETY_CLAMP_TARGET,
        SAFETY_CLAMP_TECHNIQUE,
        SAFETY_CLAMP_HEAT_SETPOINT,
        SAFETY_CLAMP_HEAT_OFF,
        SAFETY_CLAMP_AIRBAG,
        SAFETY_CLAMP_INVALID,
        _SAFETY_CLAMP_MAX,
} SafetyClamp;

/* The whole state. Embedded in the Manager; read it with the accessors below. */
typedef struct Safety {
        const Config *config;
        const ZoneConfig *neck_config;
        double limit[_SAFETY_LIMIT_MAX]; /* effective: OEM cap or lower */
        bool lowered[_SAFETY_LIMIT_MAX]; /* set by a technician below the cap */
        usec_t period;                   /* control period from [Chair] ControlRateHz */

        bool latched;
        SafetyStopReason reason;
        char reason_text[SAFETY_TEXT_MAX]; /* "comm-loss:roller", "button", ... */
        bool fault;                        /* a sensor fault latched us (State "fault") */
        unsigned estops;

        SafetyMode mode;
        SafetyZone neck; /* the neck zone in use (scan or conservative) */
        bool scanned;
        double shoulder_mm;

        bool stopping; /* controlled stop running */
        double stop_target;
        bool hold; /* motion held off until the manager ends the session (never resume) */

        bool over_limit;
        usec_t over_since;
        bool retracting;
        double retract_target;
        double retract_force;

        usec_t heat_on_usec; /* heater on-time in this session */
        bool heat_locked;

        bool have_force;
        double last_force;
        usec_t last_force_at;
        bool have_position;
        double last_position;
        usec_t last_position_at;
        double stuck_value;
        usec_t stuck_since;

        bool clamp_active[_SAFETY_CLAMP_MAX];
        bool clamp_now[_SAFETY_CLAMP_MAX];

        bool stepped;
        usec_t last_step;
        bool cycle_on_time;
        ChairOutputs last_out;
} Safety;

/* Comes up with every output safe. unclean_restart → latched with reason "unclean-restart" (SR-4).
 * -EINVAL when the config has no neck zone or more than SAFETY_ZONES_MAX zones: the supervisor then
 * stays latched ("internal", "config") so that nothing moves. */
int safety_init(Safety *s, const Config *c, bool unclean_restart, usec_t now);

/* Reload: zones and caps from the new config; technician-lowered limits are kept when still below
 * the new caps, else set to the cap. -EINVAL (state unchanged) when the config would fail init. */
int safety_update_config(Safety *s, const Config *c);

/* One control cycle: wanted outputs → allowed outputs, actions and events. ret is overwritten. */
void safety_step(Safety *s, const SafetyInput *si, const ChairOutputs *wanted, usec_t now,
                 SafetyResult *ret);

/* E-stop request (SR-2): from the button edge (SAFETY_STOP_BUTTON, in the same dispatch as the
 * edge), D-Bus/CLI (REMOTE) or an internal fault (INTERNAL, detail names it). Always returns
 * SAFETY_ACTION_CUT_RELAY with safe outputs; events only when newly latched. -EINVAL for NONE. */
int safety_estop(Safety *s, SafetyStopReason reason, const char *detail, usec_t now, SafetyResult *ret);

/* Reset (SR-3): refused (-EBUSY) while the button is pressed or unreadable, a sensor is still out of
 * range, or a required board is lost. Goes to idle: motion stays held until the manager ends the
 * session, so a program never resumes. 0 when not latched. */
int safety_reset(Safety *s, const SafetyInput *si, usec_t now, SafetyVerdict *ret_verdict,
                 SafetyResult *ret);

/* May a session (program, untrained-mode session) or a technician's jog start now? (SR-2, SR-3, SR-8;
 * SR-20 occupancy for sessions only) */
int safety_check_start(const Safety *s, const SafetyInput *si, bool jog, SafetyVerdict *ret_verdict);

/* SR-15; on success the mode is untrained. */
int safety_enter_untrained(Safety *s, const SafetyInput *si, SafetyVerdict *ret_verdict);
/* Back to program mode; with a session running, a controlled stop out of the neck (SR-17). */
void safety_leave_untrained(Safety *s, const SafetyInput *si, SafetyResult *ret);

/* SetIntensity: 1..MaxIntensity, and ≤ [Untrained] MaxIntensity in untrained mode (SR-16). */
int safety_check_intensity(const Safety *s, unsigned intensity, SafetyVerdict *ret_verdict);

/* SR-14: one program step (zone by name, technique, force, speed) against the caps and zone rules.
 * -ENOENT unknown zone, -EINVAL bad value, -EPERM technique not allowed, -ERANGE over a cap. */
int safety_check_step(const Safety *s, const char *zone, Technique technique, double force_n,
                      double speed_mm_s, SafetyVerdict *ret_verdict);

/* SR-13: effective limits. set: -EINVAL value ≤ 0 (or not finite), -EPERM above the OEM cap. */
double safety_limit_get(const Safety *s, SafetyLimit id);
double safety_limit_cap(const Safety *s, SafetyLimit id);
int safety_limit_set(Safety *s, SafetyLimit id, double value);

/* SR-5: call once per control cycle when it is done; true = this cycle may kick the watchdog. */
bool safety_cycle_done(Safety *s, usec_t deadline, usec_t finished);
/* SR-6: may the heartbeat line toggle now (last cycle on time, recent, no sensor fault)? */
bool safety_heartbeat_ok(const Safety *s, usec_t now);

static inline bool safety_latched(const Safety *s) {
        return s->latched;
}
static inline SafetyStopReason safety_estop_reason(const Safety *s) {
        return s->reason;
}
/* "comm-loss:roller", "unclean-restart", ...; "" when not latched */
static inline const char *safety_estop_text(const Safety *s) {
        return s->reason_text;
}
static inline bool safety_faulted(const Safety *s) {
        return s->fault;
}
static inline SafetyMode safety_mode(const Safety *s) {
        return s->mode;
}
static inline const SafetyZone *safety_neck_zone(const Safety *s) {
        return &s->neck;
}
/* name of the first configured zone holding this position (scan or conservative); NULL for none */
const char *safety_zone_at(const Safety *s, double position_mm);

const char *safety_rule_to_string(SafetyRule r);
const char *safety_stop_reason_to_string(SafetyStopReason r);
SafetyStopReason safety_stop_reason_from_string(const char *s);
const char *safety_event_kind_to_string(SafetyEventKind k);
const char *safety_mode_to_string(SafetyMode m);
const char *safety_limit_to_string(SafetyLimit l);
SafetyLimit safety_limit_from_string(const char *s);
const char *safety_refusal_to_string(SafetyRefusal r);

/* ---- internal to daemon/safety*.c (declared here for -Wmissing-prototypes) ---- */
void safety_event_add(SafetyResult *r, SafetyEventKind kind, SafetyRule rule, const char *fmt, ...)
        _printf_(4, 5);
void safety_clamp_hit(Safety *s, SafetyResult *r, SafetyClamp clamp, SafetyRule rule, const char *fmt, ...)
        _printf_(5, 6);
void safety_latch(Safety *s, SafetyResult *r, SafetyStopReason reason, SafetyRule rule, const char *detail);
unsigned safety_max_intensity(const Safety *s);
bool safety_scan_usable(const Safety *s, bool scanned, double shoulder_mm);
void safety_zones_update(Safety *s, bool scanned, double shoulder_mm);
double safety_zone_force_limit(const Safety *s, const ZoneConfig *z, bool untrained);
bool safety_technique_allowed(const Safety *s, const ZoneConfig *z, Technique t, bool untrained);
void safety_mode_leave(Safety *s, const SafetyInput *si, SafetyResult *r, SafetyRule rule, const char *why);
void safety_check_force(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r);
void safety_check_plausibility(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r);
bool safety_range_fault(const Safety *s, const ChairInputs *in, char *buf, size_t size);
void safety_supervise(Safety *s, const SafetyInput *si, usec_t now, SafetyResult *r);
