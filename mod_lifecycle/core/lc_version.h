/* lc_version.h — the project's version, from the top-level VERSION file.
 *
 * The Makefile (apxs.mk) reads VERSION and passes it, bare, to every
 * compilation: -DLC_VERSION=0.1.0.  LC_VERSION_STRING is it as a string:
 * what the module adds to httpd's version components ("mod_lifecycle/0.1.0",
 * in the Server header under ServerTokens Full and in the start-up notice)
 * and shows on /server-status, and what each CLI's --version prints.  The
 * Debian package's version (build/debian/changelog) is checked against the
 * same file by build/deb.sh. */
#ifndef LC_VERSION_H
#define LC_VERSION_H

#ifndef LC_VERSION
#error "LC_VERSION is not defined: build with the Makefile, which passes -DLC_VERSION=$(cat VERSION)"
#endif

#define LC_VERSION_STR_(v) #v
#define LC_VERSION_STR(v)  LC_VERSION_STR_(v)
#define LC_VERSION_STRING  LC_VERSION_STR(LC_VERSION)

#endif
