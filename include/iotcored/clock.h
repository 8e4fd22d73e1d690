/* clock.h - wall-clock time in milliseconds (expiry stamps that outlive the
 * process; lifecycle timestamps). Monotonic time comes from uv_now. */
#ifndef IOTCORED_CLOCK_H
#define IOTCORED_CLOCK_H

#include <stdint.h>

int64_t ic_clock_wall_ms(void);

#endif
