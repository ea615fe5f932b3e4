/* lc_shm_gate.h — a futex gate in the shared segment, in front of the store mutex. */
#ifndef LC_SHM_GATE_H
#define LC_SHM_GATE_H

#include <stdint.h>

/* A gate: its holder's thread id, zero when open, and how many sleep at it. */
typedef struct lc_shm_gate {
    uint32_t holder;
    uint32_t sleepers;
} lc_shm_gate_t;

/* Pass the gate: returns once this thread holds it, or once its holder has
 * been found dead or has kept it over a second (then two threads may hold
 * it: the mutex behind the gate still keeps them apart). */
void lc_shm_gate_enter(lc_shm_gate_t *g);

/* Open the gate again, waking one thread asleep at it if any is. */
void lc_shm_gate_leave(lc_shm_gate_t *g);

#endif
