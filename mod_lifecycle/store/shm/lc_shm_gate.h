/* lc_shm_gate.h — a futex gate in the shared segment, in front of the store mutex. */
#ifndef LC_SHM_GATE_H
#define LC_SHM_GATE_H

#include <stdint.h>

/* A gate is one 32-bit word in shared memory, zero when open. */
typedef uint32_t lc_shm_gate_t;

/* Pass the gate: returns once this thread holds it, or once its holder
 * has been found dead (then two threads may hold it: the mutex behind the
 * gate still keeps them apart). */
void lc_shm_gate_enter(lc_shm_gate_t *g);

/* Open the gate again, waking one thread waiting at it. */
void lc_shm_gate_leave(lc_shm_gate_t *g);

#endif
