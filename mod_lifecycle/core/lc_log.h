/* lc_log.h — the tags of the module's log lines, as httpd's APLOGNO().
 *
 * Every line the module writes to the error log starts with a tag of its
 * own, "LC00042: ", the way httpd's modules start theirs with APLOGNO's
 * "AH01234: ": operators grep for it and conf/LOGTAGS.md says what each one
 * means and what to do.  A number is given once and never reused, even when
 * its line goes.  build/logtags.pl (make unit) fails on a number used twice,
 * a log call without a tag, and a tag conf/LOGTAGS.md does not list.
 *
 *   LC_LOGNO(00042) "text"   the tag (five digits, written as such), at the
 *                            point the text is made: the ap_log_*error() call,
 *                            or the pure core's message (lc_journal_dir_say,
 *                            lc_dbd_log, a `why` handed up) that a callback
 *                            of the httpd layer writes;
 *   LC_TAGGED(msg)           in a log call that writes a message made (and
 *                            tagged) elsewhere;
 *   LC_TAGGED_LEN(msg)       the same, for a call that puts words of its own
 *                            before the message: "%.*sprefix: %s",
 *                            LC_TAGGED_LEN(m), m, m + LC_TAGGED_LEN(m) keeps
 *                            the tag first;
 *   LC_LOGNO_NONE            a line without a tag by design (the audit
 *                            records, whose lines start "audit kind=": see
 *                            conf/LOGTAGS.md).
 *
 * Pure: no httpd header, so that the core's files may use it. */
#ifndef LC_LOG_H
#define LC_LOG_H

#define LC_LOGNO(n)     "LC" #n ": "
#define LC_TAGGED(msg)  (msg)
#define LC_TAGGED_LEN(msg) lc_logno_len(msg)
#define LC_LOGNO_NONE   ""

/* 9 when msg starts with a tag ("LC" five digits ": "), else 0. */
static inline int lc_logno_len(const char *msg)
{
    int i;

    if (!msg || msg[0] != 'L' || msg[1] != 'C') {
        return 0;
    }
    for (i = 2; i < 7; i++) {
        if (msg[i] < '0' || msg[i] > '9') {
            return 0;
        }
    }
    return msg[7] == ':' && msg[8] == ' ' ? 9 : 0;
}

#endif
