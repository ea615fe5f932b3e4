/* lc_actor.h — who a request acts for, as its token says. */
#ifndef LC_ACTOR_H
#define LC_ACTOR_H

#define LC_SUB_MAX 63
#define LC_JTI_MAX 127
#define LC_SCOPE_ADMIN "lifecycle.admin"

typedef struct lc_actor {
    char sub[LC_SUB_MAX + 1];     /* "-" when unknown */
    char jti[LC_JTI_MAX + 1];
    int  admin;                   /* holds lifecycle.admin: passes owner checks */
} lc_actor_t;

#endif
