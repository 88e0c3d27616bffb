/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The body scan: to the top of the track, down to the search range, then slowly through it at a constant
 * light force while the measured force is binned by position; then the shoulder peak is found in the
 * smoothed profile and held to plausibility rules before anyone relies on it (daemon/scan.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scan.h"

static const char *const scan_error_table[_SCAN_ERROR_MAX] = {
        [SCAN_ERROR_NONE] = "",
        [SCAN_ERROR_NOT_SEATED] = "not-seated",
        [SCAN_ERROR_FLAT] = "flat-profile",
        [SCAN_ERROR_OUT_OF_RANGE] = "out-of-range",
        [SCAN_ERROR_TIMEOUT] = "timeout",
        [SCAN_ERROR_NOT_MOVING] = "roller-not-moving",
};

const char *scan_error_to_string(ScanError e) {
        if (e < 0 || e >= _SCAN_ERROR_MAX)
                return NULL;
        return scan_error_table[e];
}

/* how close counts as "there" */
#define SCAN_TOLERANCE_MM 1.0

static double travel_speed(const Scan *s) {
        return MIN(SCAN_TRAVEL_SPEED_MM_S, s->config->limits.max_speed_mm_s);
}

static double sweep_speed(const Scan *s) {
        return MIN(SCAN_SPEED_MM_S, s->config->limits.max_speed_mm_s);
}

void scan_start(Scan *s, const Config *c, usec_t now) {
        const LimitsConfig *l = &c->limits;
        double plan_s;

        *s = (Scan){
                .config = c,
                .phase = SCAN_PHASE_TOP,
                .status = SCAN_RUNNING,
                .search_lo = CLAMP(l->shoulder_min_mm - SCAN_MARGIN_MM, 0, l->track_length_mm),
                .search_hi = CLAMP(l->shoulder_max_mm + SCAN_MARGIN_MM, 0, l->track_length_mm),
                .stall_since = now,
        };
        s->bin_mm = MAX(SCAN_BIN_MM, (s->search_hi - s->search_lo) / SCAN_BINS_MAX);
        s->n_bins = (unsigned)CLAMP(ceil((s->search_hi - s->search_lo) / s->bin_mm), 1, SCAN_BINS_MAX);
        /* the whole track up, down to the range, through it: what the plan needs, plus slack */
        plan_s = (l->track_length_mm + s->search_lo) / travel_speed(s) +
                 (s->search_hi - s->search_lo) / sweep_speed(s);
        s->deadline = now + (usec_t)(plan_s * USEC_PER_SEC) + SCAN_SLACK_USEC;
}

static ScanStatus scan_fail(Scan *s, ScanError e, const char *fmt, ...) _printf_(3, 4);
static ScanStatus scan_fail(Scan *s, ScanError e, const char *fmt, ...) {
        va_list ap;

        s->status = SCAN_FAILED;
        s->error = e;
        s->phase = SCAN_PHASE_END;
        va_start(ap, fmt);
        (void)vsnprintf(s->message, sizeof s->message, fmt, ap);
        va_end(ap);
        return s->status;
}

int scan_result(const Scan *s, double *ret_shoulder_mm) {
        if (s->status == SCAN_RUNNING)
                return -EAGAIN;
        if (s->status == SCAN_FAILED)
                return -EIO;
        *ret_shoulder_mm = s->shoulder_mm;
        return 0;
}

const char *scan_error(const Scan *s) {
        return s->status == SCAN_FAILED ? s->message : "";
}

ScanError scan_error_code(const Scan *s) {
        return s->error;
}

static int double_compare(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

/* Median of v[from..to) (sorted in a copy); NAN when empty. */
static double median(const double *v, int from, int to) {
        double tmp[SCAN_BINS_MAX];
        int n = to - from;

        if (n <= 0)
                return NAN;
        memcpy(tmp, v + from, (size_t)n * sizeof(double));
        qsort(tmp, (size_t)n, sizeof(double), double_compare);
        return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Bin means, with empty bins filled from their neighbours; -1 when too many are empty to trust. */
static int profile_raw(const Scan *s, double *raw) {
        int n = (int)s->n_bins, missing = 0, last = -1;

        for (int i = 0; i < n; i++) {
                if (s->count[i] == 0) {
                        missing++;
                        continue;
                }
                raw[i] = s->sum[i] / s->count[i];
                for (int j = last + 1; j < i; j++) /* a gap (or the leading edge) takes the next good bin */
                        raw[j] = last < 0 ? raw[i] : (raw[last] + raw[i]) / 2;
                last = i;
        }
        if (last < 0 || missing * 4 > n)
                return -1;
        for (int j = last + 1; j < n; j++)
                raw[j] = raw[last];
        return 0;
}

static void profile_smooth(const Scan *s, const double *raw, double *sm) {
        int n = (int)s->n_bins, half = (int)lround(SCAN_SMOOTH_MM / s->bin_mm / 2);

        for (int i = 0; i < n; i++) {
                int a = MAX(i - half, 0), b = MIN(i + half, n - 1);
                double sum = 0;
                for (int j = a; j <= b; j++)
                        sum += raw[j];
                sm[i] = sum / (b - a + 1);
        }
}

static int bin_at(const Scan *s, double mm) {
        return (int)CLAMP(floor((mm - s->search_lo) / s->bin_mm), 0, (double)s->n_bins);
}

/* Median of the smoothed bins between two distances from the peak; the whole profile when the range
 * holds fewer than three bins (the track ends there). */
static double reference(const Scan *s, const double *sm, double peak_mm, double from, double to) {
        int a = bin_at(s, peak_mm + MIN(from, to)), b = bin_at(s, peak_mm + MAX(from, to));

        return b - a >= 3 ? median(sm, a, b) : median(sm, 0, (int)s->n_bins);
}

static ScanStatus scan_analyse(Scan *s) {
        const LimitsConfig *l = &s->config->limits;
        double raw[SCAN_BINS_MAX], sm[SCAN_BINS_MAX], med, below, above, base, delta = 0, mm;
        int n = (int)s->n_bins, peak = 0;

        if (profile_raw(s, raw) < 0)
                return scan_fail(s, SCAN_ERROR_NOT_MOVING,
                                 "roller position skipped most of the search range");
        profile_smooth(s, raw, sm);
        med = median(sm, 0, n);
        if (med < SCAN_MIN_CONTACT_N)
                return scan_fail(s, SCAN_ERROR_NOT_SEATED, "nobody seated (median force %.1f N)", med);
        for (int i = 1; i < n; i++)
                if (sm[i] > sm[peak])
                        peak = i;
        if (sm[peak] < SCAN_MIN_CONTRAST * med)
                return scan_fail(s, SCAN_ERROR_FLAT, "no clear shoulder peak (%.2f × the median)",
                                 sm[peak] / med);
        /* between bins: the vertex of the parabola through the peak and its neighbours */
        if (peak > 0 && peak < n - 1) {
                double a = sm[peak - 1], b = sm[peak], c = sm[peak + 1];
                if (a - 2 * b + c < 0)
                        delta = CLAMP(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5);
        }
        mm = s->search_lo + (peak + 0.5 + delta) * s->bin_mm;
        if (mm < l->shoulder_min_mm || mm > l->shoulder_max_mm)
                return scan_fail(s, SCAN_ERROR_OUT_OF_RANGE,
                                 "shoulder peak at %.0f mm, outside %.0f..%.0f mm", mm, l->shoulder_min_mm,
                                 l->shoulder_max_mm);
        /* the blades stand out against the back below and the neck above, not just against the average */
        below = reference(s, sm, mm, SCAN_BELOW_FROM_MM, SCAN_BELOW_TO_MM);
        above = reference(s, sm, mm, -SCAN_BELOW_FROM_MM, -SCAN_BELOW_TO_MM);
        base = MAX(below, above);
        if (sm[peak] < SCAN_MIN_CONTRAST * base)
                return scan_fail(s, SCAN_ERROR_FLAT, "shoulder peak too weak (%.2f × the back around it)",
                                 sm[peak] / base);
        s->shoulder_mm = mm;
        s->status = SCAN_DONE;
        s->phase = SCAN_PHASE_END;
        return s->status;
}

static bool seated(const Scan *s, const ChairInputs *in) {
        return !s->config->gpio.lines[LINE_SEAT].configured ||
               (in->line_valid[LINE_SEAT] && in->line[LINE_SEAT]);
}

/* Sent somewhere and not getting there: a roller that moved less than SCAN_STALL_MM in SCAN_STALL_USEC. */
static bool stalled(Scan *s, const ChairInputs *in, double target, usec_t now) {
        double pos = in->value[SIGNAL_ROLLER_POSITION];

        if (in->valid[SIGNAL_ROLLER_POSITION] && (fabs(pos - target) <= SCAN_STALL_MM || !s->stall_valid ||
                                                  fabs(pos - s->stall_pos) > SCAN_STALL_MM)) {
                s->stall_pos = pos;
                s->stall_valid = true;
                s->stall_since = now;
        }
        return now - s->stall_since >= SCAN_STALL_USEC;
}

static void write_roller(ChairOutputs *o, double target, double speed, double force) {
        o->value[SIGNAL_ROLLER_ENABLE] = 1;
        o->value[SIGNAL_ROLLER_TARGET] = target;
        o->value[SIGNAL_ROLLER_SPEED_LIMIT] = speed;
        o->value[SIGNAL_ROLLER_FORCE_SETPOINT] = force;
        o->value[SIGNAL_ROLLER_TECHNIQUE] = TECHNIQUE_NONE;
}

static void sample(Scan *s, const ChairInputs *in) {
        double pos = in->value[SIGNAL_ROLLER_POSITION];
        int b;

        if (!in->valid[SIGNAL_ROLLER_POSITION] || !in->valid[SIGNAL_ROLLER_FORCE] || pos < s->search_lo ||
            pos > s->search_hi)
                return;
        b = MIN(bin_at(s, pos), (int)s->n_bins - 1);
        s->sum[b] += in->value[SIGNAL_ROLLER_FORCE];
        s->count[b]++;
}

/* Advances the phase when the roller has arrived; returns where it goes now. */
static double phase_target(Scan *s, const ChairInputs *in, double *ret_speed, double *ret_force) {
        static const double top = 0;
        bool valid = in->valid[SIGNAL_ROLLER_POSITION];
        double pos = in->value[SIGNAL_ROLLER_POSITION];

        if (s->phase == SCAN_PHASE_TOP && valid && fabs(pos - top) <= SCAN_TOLERANCE_MM)
                s->phase = SCAN_PHASE_APPROACH;
        if (s->phase == SCAN_PHASE_APPROACH && valid && fabs(pos - s->search_lo) <= SCAN_TOLERANCE_MM)
                s->phase = SCAN_PHASE_SWEEP;
        if (s->phase == SCAN_PHASE_SWEEP) {
                sample(s, in);
                if (valid && fabs(pos - s->search_hi) <= SCAN_TOLERANCE_MM)
                        s->phase = SCAN_PHASE_END;
        }
        *ret_force = s->phase == SCAN_PHASE_TOP ? SCAN_TOP_FORCE_N : SCAN_FORCE_N;
        *ret_speed = s->phase == SCAN_PHASE_SWEEP ? sweep_speed(s) : travel_speed(s);
        return s->phase == SCAN_PHASE_TOP        ? top
               : s->phase == SCAN_PHASE_APPROACH ? s->search_lo
                                                 : s->search_hi;
}

ScanStatus scan_step(Scan *s, const ChairInputs *in, usec_t now, ChairOutputs *wanted) {
        double target, speed, force, pos = in->value[SIGNAL_ROLLER_POSITION];

        if (s->status != SCAN_RUNNING)
                return s->status;
        if (!seated(s, in))
                scan_fail(s, SCAN_ERROR_NOT_SEATED, "nobody seated (seat sensor)");
        else if (now >= s->deadline)
                scan_fail(s, SCAN_ERROR_TIMEOUT, "no result in time");
        else {
                target = phase_target(s, in, &speed, &force);
                if (s->phase == SCAN_PHASE_END)
                        scan_analyse(s);
                else if (stalled(s, in, target, now))
                        scan_fail(s, SCAN_ERROR_NOT_MOVING, "roller did not move toward %.0f mm", target);
                else {
                        write_roller(wanted, target, speed, force);
                        return s->status;
                }
        }
        /* over: stay where it is, without pressure, until the manager decides what comes next */
        write_roller(wanted, in->valid[SIGNAL_ROLLER_POSITION] ? pos : wanted->value[SIGNAL_ROLLER_TARGET],
                     0, 0);
        return s->status;
}
