/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The body scan: finds the shoulder line by running the roller down the back at a light, constant force
 * and looking for the shoulder blades' force peak. Pure state machine: time and inputs are passed in,
 * no I/O, no clock. The result places the zones (and the neck) of every program. docs/programs.md. */
#pragma once

#include <stdbool.h>

#include "chair.h"
#include "config.h"
#include "time-util.h"

#define SCAN_TOP_FORCE_N 10.0       /* on the way to the top: barely touching */
#define SCAN_FORCE_N 15.0           /* while sampling: constant, light, far under any neck limit */
#define SCAN_SPEED_MM_S 20.0        /* sampling travel */
#define SCAN_TRAVEL_SPEED_MM_S 80.0 /* to the top and to the search range; capped by MaxSpeedMmS */
#define SCAN_MARGIN_MM 50.0         /* searched beyond ShoulderMinMm..ShoulderMaxMm on both sides */
#define SCAN_BIN_MM 2.0             /* samples are averaged into bins this wide */
#define SCAN_BINS_MAX 512
#define SCAN_SMOOTH_MM 10.0     /* moving-average window over the bins */
#define SCAN_MIN_CONTACT_N 3.0  /* median force below this: nobody leans on the roller */
#define SCAN_MIN_CONTRAST 1.25  /* peak over the median of the back below it (and of the neck above) */
#define SCAN_BELOW_FROM_MM 30.0 /* the reference "back below" starts this far under the peak */
#define SCAN_BELOW_TO_MM 60.0
#define SCAN_STALL_USEC (3 * USEC_PER_SEC) /* sent somewhere and moved less than 2 mm in this long */
#define SCAN_STALL_MM 2.0
#define SCAN_SLACK_USEC (10 * USEC_PER_SEC) /* over the travel time the plan needs, before timeout */

typedef enum ScanStatus {
        SCAN_RUNNING,
        SCAN_DONE,
        SCAN_FAILED,
} ScanStatus;

typedef enum ScanPhase {
        SCAN_PHASE_TOP,      /* to the head end of the track */
        SCAN_PHASE_APPROACH, /* down to the start of the search range */
        SCAN_PHASE_SWEEP,    /* sampling down the search range */
        SCAN_PHASE_END,
} ScanPhase;

typedef enum ScanError {
        SCAN_ERROR_NONE,
        SCAN_ERROR_NOT_SEATED,   /* "not-seated": seat sensor empty or no contact force */
        SCAN_ERROR_FLAT,         /* "flat-profile": no clear shoulder peak */
        SCAN_ERROR_OUT_OF_RANGE, /* "out-of-range": the peak is outside ShoulderMinMm..ShoulderMaxMm */
        SCAN_ERROR_TIMEOUT,      /* "timeout": took longer than the plan allows */
        SCAN_ERROR_NOT_MOVING, /* "roller-not-moving": the roller did not follow (or its position is unknown)
                                */
        _SCAN_ERROR_MAX,
        _SCAN_ERROR_INVALID = -EINVAL,
} ScanError;

typedef struct Scan {
        const Config *config; /* borrowed */
        ScanPhase phase;
        ScanStatus status;
        ScanError error;
        char message[96];
        double shoulder_mm;

        double search_lo, search_hi; /* on the track */
        double bin_mm;
        unsigned n_bins;
        double sum[SCAN_BINS_MAX];
        unsigned count[SCAN_BINS_MAX];

        usec_t deadline;
        double stall_pos; /* the roller position the stall timer started at */
        usec_t stall_since;
        bool stall_valid;
} Scan;

/* Plans the scan from [Limits] (track, shoulder range, speed cap). */
void scan_start(Scan *s, const Config *c, usec_t now);

/* One control cycle: writes the roller outputs (target, speed, force, technique none, enable) into
 * wanted while running; on the cycle it ends, the roller is told to stay where it is without pressure. */
ScanStatus scan_step(Scan *s, const ChairInputs *in, usec_t now, ChairOutputs *wanted);

static inline ScanStatus scan_status(const Scan *s) {
        return s->status;
}

/* 0 and the shoulder line (mm from the head end) once done; -EAGAIN while running, -EIO after failure. */
int scan_result(const Scan *s, double *ret_shoulder_mm);

/* Why it failed, for people ("nobody seated", "no clear shoulder peak (contrast 1.02)", …); "" unless
 * failed. */
const char *scan_error(const Scan *s);
ScanError scan_error_code(const Scan *s);
const char *scan_error_to_string(ScanError e); /* "not-seated", … for logs and D-Bus */
