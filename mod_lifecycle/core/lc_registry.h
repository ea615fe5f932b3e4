/* lc_registry.h — every dialect and every kind the module is built with: the
 * one list their names and tables come from.
 *
 * An X-macro list, not an ordinary header: an includer defines
 * LC_REG_DIALECT(name) and/or LC_REG_KIND(name) as it needs them, includes
 * this file, and gets both undefined again (an undefined one expands to
 * nothing).  LC_REG_DIALECT(x) names `const lc_dialect_t lc_dialect_x`
 * (lc_dialect_x.c); LC_REG_KIND(y) names `const lc_kind_def_t lc_y_kind`
 * (lc_kind_*.c).  One line a dialect, with the kinds it serves.  From it:
 *   lc_config.h   lc_dialect_e: a dialect's number is its place here
 *   mod_lifecycle.c  the dialect table (dispatch); lc_config.c their names
 *                 (LifecycleDialect, metrics labels)
 *   lc_kind_registry.c  the kind table (kind names, the admin API, the unit tests)
 *   build/scopes.sh   every dialect's default scopes (suite and run tokens)
 *
 * A dialect's number is its place here; it lives in memory only (the
 * configuration, the metrics counters), so the list may be reordered.  A
 * kind's number is not its place here but its lc_kind_e (lc_resource.h),
 * which is on disk in every journal record and snapshot: a new kind takes
 * the next number, and no kind is ever renumbered or its number reused.
 */
#ifndef LC_REG_DIALECT
#define LC_REG_DIALECT(name)
#endif
#ifndef LC_REG_KIND
#define LC_REG_KIND(name)
#endif

LC_REG_DIALECT(redivis)        LC_REG_KIND(notebook)
LC_REG_DIALECT(notte)          LC_REG_KIND(agent) LC_REG_KIND(session)
LC_REG_DIALECT(workstation)    LC_REG_KIND(workstation)
LC_REG_DIALECT(wrapper)        LC_REG_KIND(wrapper)
LC_REG_DIALECT(feldera)        LC_REG_KIND(pipeline)
LC_REG_DIALECT(admin)

#undef LC_REG_DIALECT
#undef LC_REG_KIND
