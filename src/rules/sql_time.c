/* sql_time.c - the time half of AWS IoT SQL's functions (pure, L1;
 * aws-iot-rules.md 6.3, U53): parse_time() formats epoch milliseconds with a
 * Joda-Time pattern, time_to_epoch() parses text with a java.time
 * DateTimeFormatter pattern.
 *
 * Single job: calendar arithmetic, pattern interpretation and time-zone
 * offsets. It owns nothing beyond one call. It must not know about SQL
 * values; sql.c converts arguments and results. Any thread; no globals.
 *
 * Zones: "UTC", "GMT", "UT", "Z", fixed offsets ("+01:00", "-0530",
 * "UTC+01:00", "GMT-5"), a few common abbreviations when parsing (EST, PDT,
 * CET, ...: fixed offsets, as java.time's text parser resolves them to one
 * offset), and IANA IDs read from the system tz database as TZif files
 * (version 1-3, with the POSIX-TZ footer for instants after the last
 * transition). That file read is the only I/O of the SQL module: bounded
 * (256 KiB), no global state, no setenv("TZ") (process-global, spec 6.3).
 *
 * Pattern letters (English names only): format - G C Y y x w e E D M d a K h
 * H k m s S z Z and 'quoted text'; zzzz (long zone names) prints the zone ID
 * (no name tables). Parse - G u y D M L d E a h K k H m s S n V z O X x Z;
 * text fields match case-insensitively, missing date fields default to
 * 1970-01-01 and missing time fields to midnight.
 */
#include "iotcored/sql.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TZ_DIR "/usr/share/zoneinfo/"
#define TZ_MAX_FILE (256 * 1024)
#define TZ_MAX_TYPES 256
#define TZ_MAX_ID 64

static const char *const month_names[12] = {
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"};
static const char *const day_names[7] = { /* ISO order: Monday first */
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

/* ---- calendar (proleptic Gregorian; H. Hinnant's algorithms) ---------- */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ISO day of week, 1 = Monday .. 7 = Sunday (1970-01-01 was a Thursday). */
static int iso_dow(int64_t days) {
    return (int)(floor_div(days + 3, 7) * -7 + days + 3) + 1;
}

/* ---- zones ---------------------------------------------------------------- */

typedef struct tzrule_s {
    int m, w, d;        /* Mm.w.d */
    int32_t secs;       /* local time of day of the change */
} tzrule_t;

typedef struct ttype_s {
    int32_t off;        /* seconds east of UTC */
    bool dst;
    char abbr[12];
} ttype_t;

typedef struct zone_s {
    char id[TZ_MAX_ID + 1];
    bool fixed;             /* a constant offset: types[0] */
    int64_t *trans;         /* transition instants (UTC seconds), malloc'd */
    uint8_t *tidx;          /* type after each transition */
    size_t n_trans;
    ttype_t types[TZ_MAX_TYPES];
    size_t n_types;
    bool has_rule;          /* POSIX footer: used after the last transition */
    ttype_t std, dstt;      /* footer types (dstt unused when no DST) */
    bool rule_dst;
    tzrule_t start, end;
} zone_t;

static void zone_free(zone_t *z) {
    free(z->trans);
    free(z->tidx);
    z->trans = NULL;
    z->tidx = NULL;
}

static void zone_fixed(zone_t *z, int32_t off, const char *name, size_t n) {
    memset(z, 0, sizeof(*z));
    z->fixed = true;
    z->n_types = 1;
    z->types[0].off = off;
    snprintf(z->id, sizeof(z->id), "%.*s", (int)n, name);
    snprintf(z->types[0].abbr, sizeof(z->types[0].abbr), "%.*s", (int)(n < 11 ? n : 11), name);
}

/* [+-]h, hh, hh:mm, hhmm, hh:mm:ss at s[*i]; |offset| <= 18h. */
static bool parse_offset(const char *s, size_t n, size_t *i, int32_t *off) {
    size_t k = *i, nd = 0;
    int sign, h = 0, m = 0, sec = 0;
    if (k >= n || (s[k] != '+' && s[k] != '-'))
        return false;
    sign = s[k++] == '-' ? -1 : 1;
    while (k < n && nd < 2 && isdigit((unsigned char)s[k])) {
        h = h * 10 + (s[k++] - '0');
        nd++;
    }
    if (nd == 0)
        return false;
    if (nd == 2 && k + 1 < n && isdigit((unsigned char)s[k]) && isdigit((unsigned char)s[k + 1])) {
        m = (s[k] - '0') * 10 + (s[k + 1] - '0');
        k += 2;
    } else if (nd == 2 && k + 2 < n && s[k] == ':' && isdigit((unsigned char)s[k + 1]) &&
               isdigit((unsigned char)s[k + 2])) {
        m = (s[k + 1] - '0') * 10 + (s[k + 2] - '0');
        k += 3;
        if (k + 2 < n && s[k] == ':' && isdigit((unsigned char)s[k + 1]) &&
            isdigit((unsigned char)s[k + 2])) {
            sec = (s[k + 1] - '0') * 10 + (s[k + 2] - '0');
            k += 3;
        }
    }
    if (h > 18 || m > 59 || sec > 59 || (h == 18 && (m || sec)))
        return false;
    *off = sign * (h * 3600 + m * 60 + sec);
    *i = k;
    return true;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p) {
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* POSIX TZ offset: [+-]hh[:mm[:ss]], sign inverted (west positive). */
static bool posix_offset(const char **p, int32_t *off) {
    const char *s = *p;
    int sign = 1, h = 0, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s))
        h = h * 10 + (*s++ - '0');
    if (*s == ':') {
        s++;
        while (isdigit((unsigned char)*s))
            m = m * 10 + (*s++ - '0');
        if (*s == ':') {
            s++;
            while (isdigit((unsigned char)*s))
                sec = sec * 10 + (*s++ - '0');
        }
    }
    if (h > 167 || m > 59 || sec > 59)
        return false;
    *off = sign * (h * 3600 + m * 60 + sec);
    *p = s;
    return true;
}

static bool posix_name(const char **p, char *out) {
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (*s && *s != '>' && n < 11)
            out[n++] = *s++;
        if (*s++ != '>')
            return false;
    } else {
        while (isalpha((unsigned char)*s) && n < 11)
            out[n++] = *s++;
    }
    out[n] = '\0';
    *p = s;
    return n >= 3;
}

static bool posix_date(const char **p, tzrule_t *r) {
    const char *s = *p;
    int32_t t = 7200;
    if (*s++ != 'M') /* Jn and n forms are not used by the tz database */
        return false;
    r->m = r->w = r->d = 0;
    while (isdigit((unsigned char)*s) && r->m < 100)
        r->m = r->m * 10 + (*s++ - '0');
    if (*s++ != '.')
        return false;
    while (isdigit((unsigned char)*s) && r->w < 100)
        r->w = r->w * 10 + (*s++ - '0');
    if (*s++ != '.')
        return false;
    while (isdigit((unsigned char)*s) && r->d < 100)
        r->d = r->d * 10 + (*s++ - '0');
    if (r->m < 1 || r->m > 12 || r->w < 1 || r->w > 5 || r->d < 0 || r->d > 6)
        return false;
    if (*s == '/') {
        s++;
        if (!posix_offset(&s, &t))
            return false;
    }
    r->secs = t;
    *p = s;
    return true;
}

/* The TZif footer, e.g. "PST8PDT,M3.2.0,M11.1.0" or "<-03>3". */
static void parse_footer(zone_t *z, const char *s) {
    int32_t off;
    if (!posix_name(&s, z->std.abbr) || !posix_offset(&s, &off))
        return;
    z->std.off = -off;
    if (*s == '\0') {
        z->has_rule = true;
        return;
    }
    if (!posix_name(&s, z->dstt.abbr))
        return;
    z->dstt.off = z->std.off + 3600;
    z->dstt.dst = true;
    if (*s != ',' && posix_offset(&s, &off))
        z->dstt.off = -off;
    if (*s++ != ',' || !posix_date(&s, &z->start) || *s++ != ',' || !posix_date(&s, &z->end) ||
        *s != '\0')
        return;
    z->rule_dst = true;
    z->has_rule = true;
}

static bool zone_id_ok(const char *id, size_t n) {
    if (n == 0 || n > TZ_MAX_ID || id[0] == '/' || id[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!isalnum((unsigned char)c) && c != '_' && c != '-' && c != '+' && c != '/')
            return false;
        if (c == '/' && id[i + 1] == '/')
            return false;
    }
    return strstr(id, "..") == NULL;
}

/* Load an IANA zone from its TZif file. */
static bool zone_load(zone_t *z, const char *id, size_t n) {
    char path[sizeof(TZ_DIR) + TZ_MAX_ID];
    unsigned char *buf;
    const unsigned char *p, *end;
    ssize_t got;
    size_t len = 0;
    int fd;
    uint32_t cnt[6];
    int tsize = 4;
    bool ok = false;
    memset(z, 0, sizeof(*z));
    if (!zone_id_ok(id, n))
        return false;
    snprintf(z->id, sizeof(z->id), "%.*s", (int)n, id);
    snprintf(path, sizeof(path), TZ_DIR "%s", z->id);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return false;
    buf = malloc(TZ_MAX_FILE);
    if (!buf) {
        close(fd);
        return false;
    }
    while (len < TZ_MAX_FILE && (got = read(fd, buf + len, TZ_MAX_FILE - len)) > 0)
        len += (size_t)got;
    close(fd);
    p = buf;
    end = buf + len;
    for (int pass = 0; pass < 2; pass++) {
        size_t need;
        if (end - p < 44 || memcmp(p, "TZif", 4) != 0)
            goto out;
        for (int i = 0; i < 6; i++)
            cnt[i] = be32(p + 20 + 4 * i);
        /* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
        if (cnt[3] > 100000 || cnt[4] == 0 || cnt[4] > TZ_MAX_TYPES || cnt[5] > 1024 ||
            cnt[2] > 10000)
            goto out;
        need = cnt[3] * (size_t)tsize + cnt[3] + cnt[4] * 6u + cnt[5] +
               cnt[2] * (size_t)(tsize + 4) + cnt[1] + cnt[0];
        if ((size_t)(end - p) < 44 + need)
            goto out;
        if (pass == 0 && p[4] >= '2') { /* skip the 32-bit block */
            p += 44 + need;
            tsize = 8;
            continue;
        }
        p += 44;
        z->n_trans = cnt[3];
        z->trans = malloc((cnt[3] ? cnt[3] : 1) * sizeof(int64_t));
        z->tidx = malloc(cnt[3] ? cnt[3] : 1);
        if (!z->trans || !z->tidx)
            goto out;
        for (uint32_t i = 0; i < cnt[3]; i++)
            z->trans[i] = tsize == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
        p += cnt[3] * (size_t)tsize;
        for (uint32_t i = 0; i < cnt[3]; i++)
            if ((z->tidx[i] = p[i]) >= cnt[4])
                goto out;
        p += cnt[3];
        z->n_types = cnt[4];
        for (uint32_t i = 0; i < cnt[4]; i++) {
            const unsigned char *t = p + 6 * i;
            unsigned ai = t[5];
            const char *abbr = (const char *)p + 6 * cnt[4] + ai;
            size_t al = 0;
            z->types[i].off = (int32_t)be32(t);
            z->types[i].dst = t[4] != 0;
            if (ai >= cnt[5])
                goto out;
            while (ai + al < cnt[5] && abbr[al] && al < 11)
                al++;
            memcpy(z->types[i].abbr, abbr, al);
            z->types[i].abbr[al] = '\0';
        }
        p += 6 * cnt[4] + cnt[5] + cnt[2] * (size_t)(tsize + 4) + cnt[1] + cnt[0];
        if (tsize == 8 && p < end && *p == '\n') { /* footer */
            const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
            if (nl && nl - p - 1 < 64) {
                char foot[64];
                memcpy(foot, p + 1, (size_t)(nl - p - 1));
                foot[nl - p - 1] = '\0';
                parse_footer(z, foot);
            }
        }
        ok = true;
        break;
    }
out:
    free(buf);
    if (!ok)
        zone_free(z);
    return ok;
}

/* Day of month of rule r in year y. */
static int rule_mday(const tzrule_t *r, int64_t y) {
    int64_t first = days_from_civil(y, r->m, 1);
    int dow0 = iso_dow(first) % 7; /* 0 = Sunday */
    int d = 1 + (r->d - dow0 + 7) % 7 + (r->w - 1) * 7;
    while (d > days_in_month(y, r->m))
        d -= 7;
    return d;
}

static const ttype_t *rule_type(const zone_t *z, int64_t t) {
    int64_t y, s, e;
    int m, d;
    if (!z->rule_dst)
        return &z->std;
    civil_from_days(floor_div(t + z->std.off, 86400), &y, &m, &d);
    s = (days_from_civil(y, z->start.m, rule_mday(&z->start, y)) * 86400 + z->start.secs) -
        z->std.off;
    e = (days_from_civil(y, z->end.m, rule_mday(&z->end, y)) * 86400 + z->end.secs) -
        z->dstt.off;
    if (s < e)
        return t >= s && t < e ? &z->dstt : &z->std;
    return t >= e && t < s ? &z->std : &z->dstt; /* southern hemisphere */
}

/* The local time type in effect at UTC instant t (seconds). */
static const ttype_t *zone_at(const zone_t *z, int64_t t) {
    size_t lo = 0, hi;
    if (z->fixed)
        return &z->types[0];
    if (z->n_trans == 0)
        return z->has_rule ? rule_type(z, t) : &z->types[0];
    if (t < z->trans[0]) {
        for (size_t i = 0; i < z->n_types; i++) /* RFC 8536: type 0 */
            if (!z->types[i].dst)
                return &z->types[i];
        return &z->types[0];
    }
    if (t >= z->trans[z->n_trans - 1] && z->has_rule)
        return rule_type(z, t);
    hi = z->n_trans;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return &z->types[z->tidx[lo]];
}

/* Local wall time -> UTC: overlaps take the earlier offset, gaps move
 * forward by the gap (java.time's ZonedDateTime.ofLocal). */
static int64_t zone_to_utc(const zone_t *z, int64_t local) {
    int32_t cand[3];
    int64_t best = 0;
    bool found = false;
    if (z->fixed)
        return local - z->types[0].off;
    cand[0] = zone_at(z, local - 86400)->off;
    cand[1] = zone_at(z, local)->off;
    cand[2] = zone_at(z, local + 86400)->off;
    for (int i = 0; i < 3; i++) {
        int64_t u = local - cand[i];
        if (zone_at(z, u)->off == cand[i] && (!found || u < best)) {
            best = u;
            found = true;
        }
    }
    if (found)
        return best;
    return local - cand[0]; /* in a gap: the offset before it */
}

static const struct {
    const char *name;
    int32_t off;
} abbrevs[] = {
    {"EST", -5 * 3600}, {"EDT", -4 * 3600}, {"CST", -6 * 3600}, {"CDT", -5 * 3600},
    {"MST", -7 * 3600}, {"MDT", -6 * 3600}, {"PST", -8 * 3600}, {"PDT", -7 * 3600},
    {"AKST", -9 * 3600}, {"AKDT", -8 * 3600}, {"HST", -10 * 3600}, {"WET", 0},
    {"WEST", 3600}, {"BST", 3600}, {"CET", 3600}, {"CEST", 2 * 3600},
    {"EET", 2 * 3600}, {"EEST", 3 * 3600}, {"JST", 9 * 3600}, {"KST", 9 * 3600},
};

/* A zone ID: UTC/GMT/UT/Z [offset], an offset, (abbreviations when
 * allow_abbr), or an IANA ID. */
static bool zone_resolve(zone_t *z, const char *id, size_t n, bool allow_abbr) {
    static const char *const utc_names[] = {"UTC", "GMT", "UT", "Z"};
    size_t i = 0;
    int32_t off = 0;
    for (size_t k = 0; k < 4; k++) {
        size_t l = strlen(utc_names[k]);
        if (n >= l && strncmp(id, utc_names[k], l) == 0 &&
            (n == l || (k < 3 && (id[l] == '+' || id[l] == '-')))) {
            i = l;
            if (i < n && (!parse_offset(id, n, &i, &off) || i != n))
                return false;
            zone_fixed(z, off, id, n);
            return true;
        }
    }
    if (n && (id[0] == '+' || id[0] == '-')) {
        if (!parse_offset(id, n, &i, &off) || i != n)
            return false;
        zone_fixed(z, off, id, n);
        return true;
    }
    if (allow_abbr)
        for (size_t k = 0; k < sizeof(abbrevs) / sizeof(abbrevs[0]); k++)
            if (strlen(abbrevs[k].name) == n && memcmp(abbrevs[k].name, id, n) == 0) {
                zone_fixed(z, abbrevs[k].off, id, n);
                return true;
            }
    return zone_load(z, id, n);
}

/* ---- output buffer ------------------------------------------------------------ */

typedef struct out_s {
    char *p;
    size_t n, cap;
    bool full;
} out_t;

static void put(out_t *o, const char *s, size_t n) {
    if (o->n + n + 1 > o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void puts_(out_t *o, const char *s) {
    put(o, s, strlen(s));
}

static void put_num(out_t *o, int64_t v, int min_digits) {
    char b[32];
    int l;
    if (min_digits > 20)
        min_digits = 20;
    if (v < 0) {
        put(o, "-", 1);
        v = -v;
    }
    l = snprintf(b, sizeof(b), "%0*lld", min_digits, (long long)v);
    put(o, b, (size_t)l);
}

static void put_offset(out_t *o, int32_t off, bool colon) {
    char b[16];
    int a = off < 0 ? -off : off;
    int l = snprintf(b, sizeof(b), "%c%02d%s%02d", off < 0 ? '-' : '+', a / 3600,
                     colon ? ":" : "", a / 60 % 60);
    put(o, b, (size_t)l);
}

/* ---- parse_time: Joda-Time DateTimeFormat ---------------------------------- */

int ic__sql_time_format(const char *pat, size_t plen, int64_t ms, const char *tzs, size_t tzlen,
                        char *outp, size_t cap) {
    zone_t z;
    const ttype_t *tt;
    out_t o = {outp, 0, cap, false};
    int64_t secs, local, days, y, sod;
    int m, d, msec, h, dow;
    int rc = -1;
    if (cap == 0)
        return -1;
    outp[0] = '\0';
    if (!zone_resolve(&z, tzs, tzlen, false))
        return -1;
    secs = floor_div(ms, 1000);
    msec = (int)(ms - secs * 1000);
    tt = zone_at(&z, secs);
    local = secs + tt->off;
    days = floor_div(local, 86400);
    sod = local - days * 86400;
    civil_from_days(days, &y, &m, &d);
    h = (int)(sod / 3600);
    dow = iso_dow(days);
    for (size_t i = 0; i < plen;) {
        char c = pat[i];
        int cnt = 1;
        if (c == '\'') { /* 'text', '' = quote */
            size_t j = i + 1;
            if (j < plen && pat[j] == '\'') {
                put(&o, "'", 1);
                i += 2;
                continue;
            }
            for (;;) {
                if (j >= plen)
                    goto out; /* unterminated quote */
                if (pat[j] == '\'') {
                    if (j + 1 < plen && pat[j + 1] == '\'') {
                        put(&o, "'", 1);
                        j += 2;
                        continue;
                    }
                    break;
                }
                put(&o, pat + j, 1);
                j++;
            }
            i = j + 1;
            continue;
        }
        if (!isalpha((unsigned char)c)) {
            put(&o, &c, 1);
            i++;
            continue;
        }
        while (i + (size_t)cnt < plen && pat[i + (size_t)cnt] == c)
            cnt++;
        i += (size_t)cnt;
        switch (c) {
        case 'G':
            puts_(&o, y > 0 ? "AD" : "BC");
            break;
        case 'C':
            put_num(&o, (y > 0 ? y : 1 - y) / 100, cnt);
            break;
        case 'Y':
        case 'y': {
            int64_t yy = c == 'Y' && y <= 0 ? 1 - y : y;
            if (cnt == 2)
                put_num(&o, ((yy % 100) + 100) % 100, 2);
            else
                put_num(&o, yy, cnt);
            break;
        }
        case 'x':
        case 'w': { /* ISO week-based year and week */
            int64_t thu = days + (4 - dow), wy, jan1;
            int wm, wd;
            civil_from_days(thu, &wy, &wm, &wd);
            jan1 = days_from_civil(wy, 1, 1);
            if (c == 'x')
                put_num(&o, cnt == 2 ? ((wy % 100) + 100) % 100 : wy, cnt);
            else
                put_num(&o, (thu - jan1) / 7 + 1, cnt);
            break;
        }
        case 'e':
            put_num(&o, dow, cnt);
            break;
        case 'E':
            if (cnt >= 4)
                puts_(&o, day_names[dow - 1]);
            else
                put(&o, day_names[dow - 1], 3);
            break;
        case 'D':
            put_num(&o, days - days_from_civil(y, 1, 1) + 1, cnt);
            break;
        case 'M':
            if (cnt >= 4)
                puts_(&o, month_names[m - 1]);
            else if (cnt == 3)
                put(&o, month_names[m - 1], 3);
            else
                put_num(&o, m, cnt);
            break;
        case 'd':
            put_num(&o, d, cnt);
            break;
        case 'a':
            puts_(&o, h < 12 ? "AM" : "PM");
            break;
        case 'K':
            put_num(&o, h % 12, cnt);
            break;
        case 'h':
            put_num(&o, h % 12 == 0 ? 12 : h % 12, cnt);
            break;
        case 'H':
            put_num(&o, h, cnt);
            break;
        case 'k':
            put_num(&o, h == 0 ? 24 : h, cnt);
            break;
        case 'm':
            put_num(&o, sod / 60 % 60, cnt);
            break;
        case 's':
            put_num(&o, sod % 60, cnt);
            break;
        case 'S': { /* fraction of second: cnt digits */
            char f[4];
            snprintf(f, sizeof(f), "%03d", msec);
            for (int k = 0; k < cnt; k++)
                put(&o, k < 3 ? f + k : "0", 1);
            break;
        }
        case 'z':
            puts_(&o, cnt >= 4 ? z.id : tt->abbr);
            break;
        case 'Z':
            if (cnt >= 3)
                puts_(&o, z.id);
            else
                put_offset(&o, tt->off, cnt == 2);
            break;
        default:
            goto out; /* Joda: illegal pattern component */
        }
    }
    if (!o.full)
        rc = (int)o.n;
out:
    zone_free(&z);
    return rc;
}

/* ---- time_to_epoch: java.time DateTimeFormatter ------------------------------- */

typedef struct pf_s {
    int64_t year;
    bool has_year, bc;
    int month, day, doy;
    int hour24, hour12, ampm; /* -1: absent */
    int minute, second;
    int64_t nanos;
    bool has_zone;
    zone_t zone;
} pf_t;

static bool numeric_letter(char c) {
    return strchr("uyDMLdhKkHmsSn", c) != NULL;
}

/* Width an adjacent fixed-width numeric field needs (0: not numeric). */
static int fixed_width(char c, int cnt) {
    if (!numeric_letter(c) || ((c == 'M' || c == 'L') && cnt >= 3))
        return 0;
    if (c == 'S')
        return cnt;
    if (c == 'u' || c == 'y')
        return cnt == 2 ? 2 : 0;
    return cnt >= 2 ? cnt : 0;
}

/* Read a number of min..max digits at s[*i]. */
static bool read_num(const char *s, size_t n, size_t *i, int min, int max, int64_t *v) {
    size_t k = *i;
    int nd = 0;
    int64_t x = 0;
    while (k < n && nd < max && isdigit((unsigned char)s[k])) {
        x = x * 10 + (s[k++] - '0');
        nd++;
    }
    if (nd < min)
        return false;
    *v = x;
    *i = k;
    return true;
}

/* Match one of names (full, or its first 3 letters when short). */
static int read_name(const char *s, size_t n, size_t *i, const char *const *names, int count,
                     bool short_form) {
    for (int k = 0; k < count; k++) {
        size_t l = short_form ? 3 : strlen(names[k]);
        if (*i + l <= n && strncasecmp(s + *i, names[k], l) == 0) {
            *i += l;
            return k;
        }
    }
    return -1;
}

/* A zone token: ID characters up to the first character that cannot be
 * part of one. */
static bool read_zone(pf_t *f, const char *s, size_t n, size_t *i, bool allow_abbr) {
    size_t k = *i;
    while (k < n && (isalnum((unsigned char)s[k]) || strchr("/_+-:", s[k])))
        k++;
    if (f->has_zone)
        zone_free(&f->zone);
    f->has_zone = false;
    if (k == *i || !zone_resolve(&f->zone, s + *i, k - *i, allow_abbr))
        return false;
    f->has_zone = true;
    *i = k;
    return true;
}

static bool read_offset_field(pf_t *f, const char *s, size_t n, size_t *i, char c) {
    int32_t off = 0;
    if (c == 'O') {
        if (*i + 3 > n || strncmp(s + *i, "GMT", 3) != 0)
            return false;
        *i += 3;
        if (*i < n && (s[*i] == '+' || s[*i] == '-') && !parse_offset(s, n, i, &off))
            return false;
    } else if (*i < n && s[*i] == 'Z' && c != 'x') {
        (*i)++;
    } else if (!parse_offset(s, n, i, &off)) {
        return false;
    }
    if (f->has_zone)
        zone_free(&f->zone);
    zone_fixed(&f->zone, off, "offset", 6);
    f->has_zone = true;
    return true;
}

int ic__sql_time_parse(const char *s, size_t n, const char *pat, size_t plen, int64_t *ms) {
    pf_t f;
    size_t i = 0;
    int64_t days, local, v;
    int rc = -1;
    memset(&f, 0, sizeof(f));
    f.month = f.day = f.doy = f.hour24 = f.hour12 = f.ampm = -1;
    for (size_t p = 0; p < plen;) {
        char c = pat[p];
        int cnt = 1, reserve = 0;
        if (c == '\'') {
            size_t j = p + 1;
            if (j < plen && pat[j] == '\'') {
                if (i >= n || s[i] != '\'')
                    goto out;
                i++;
                p += 2;
                continue;
            }
            for (;;) {
                if (j >= plen)
                    goto out;
                if (pat[j] == '\'') {
                    if (j + 1 < plen && pat[j + 1] == '\'') {
                        if (i >= n || s[i] != '\'')
                            goto out;
                        i++;
                        j += 2;
                        continue;
                    }
                    break;
                }
                if (i >= n || s[i] != pat[j])
                    goto out;
                i++;
                j++;
            }
            p = j + 1;
            continue;
        }
        if (!isalpha((unsigned char)c)) {
            if (c == '[' || c == ']' || c == '{' || c == '}' || c == '#')
                goto out; /* optional sections and reserved characters */
            if (i >= n || s[i] != c)
                goto out;
            i++;
            p++;
            continue;
        }
        while (p + (size_t)cnt < plen && pat[p + (size_t)cnt] == c)
            cnt++;
        p += (size_t)cnt;
        /* adjacent value parsing: leave digits for fixed-width followers */
        for (size_t q = p; q < plen && isalpha((unsigned char)pat[q]);) {
            int c2 = 1, w;
            while (q + (size_t)c2 < plen && pat[q + (size_t)c2] == pat[q])
                c2++;
            w = fixed_width(pat[q], c2);
            if (!w)
                break;
            reserve += w;
            q += (size_t)c2;
        }
        switch (c) {
        case 'G':
            if (cnt <= 3) {
                if (i + 2 <= n && strncasecmp(s + i, "AD", 2) == 0) {
                    i += 2;
                } else if (i + 2 <= n && strncasecmp(s + i, "BC", 2) == 0) {
                    f.bc = true;
                    i += 2;
                } else {
                    goto out;
                }
            } else {
                goto out;
            }
            break;
        case 'u':
        case 'y': {
            int maxd = 19;
            size_t avail = 0;
            while (i + avail < n && isdigit((unsigned char)s[i + avail]))
                avail++;
            if (cnt == 2) {
                if (!read_num(s, n, &i, 2, 2, &v))
                    goto out;
                f.year = 2000 + v; /* reduced year, base 2000 */
            } else {
                if ((int)avail - reserve < maxd)
                    maxd = (int)avail - reserve;
                if (maxd > 9)
                    maxd = 9;
                if (maxd < (cnt >= 3 ? cnt : 1) ||
                    !read_num(s, n, &i, cnt >= 3 ? cnt : 1, maxd, &f.year))
                    goto out;
            }
            f.has_year = true;
            break;
        }
        case 'D':
            if (cnt > 3 || !read_num(s, n, &i, cnt, cnt == 1 && !reserve ? 3 : cnt, &v))
                goto out;
            f.doy = (int)v;
            break;
        case 'M':
        case 'L':
            if (cnt >= 5)
                goto out;
            if (cnt >= 3) {
                int k = read_name(s, n, &i, month_names, 12, cnt == 3);
                if (k < 0)
                    goto out;
                f.month = k + 1;
            } else {
                if (!read_num(s, n, &i, cnt, cnt == 1 && !reserve ? 2 : cnt, &v))
                    goto out;
                f.month = (int)v;
            }
            break;
        case 'E': {
            int k;
            if (cnt >= 5 || (k = read_name(s, n, &i, day_names, 7, cnt <= 3)) < 0)
                goto out;
            (void)k; /* day of week is not cross-checked */
            break;
        }
        case 'a':
            if (i + 2 <= n && strncasecmp(s + i, "AM", 2) == 0)
                f.ampm = 0;
            else if (i + 2 <= n && strncasecmp(s + i, "PM", 2) == 0)
                f.ampm = 1;
            else
                goto out;
            i += 2;
            break;
        case 'd':
        case 'h':
        case 'K':
        case 'k':
        case 'H':
        case 'm':
        case 's':
            if (cnt > 2 || !read_num(s, n, &i, cnt, cnt == 1 && !reserve ? 2 : cnt, &v))
                goto out;
            switch (c) {
            case 'd': f.day = (int)v; break;
            case 'h': if (v < 1 || v > 12) goto out; f.hour12 = (int)(v % 12); break;
            case 'K': if (v > 11) goto out; f.hour12 = (int)v; break;
            case 'k': if (v < 1 || v > 24) goto out; f.hour24 = (int)(v % 24); break;
            case 'H': f.hour24 = (int)v; break;
            case 'm': f.minute = (int)v; break;
            default: f.second = (int)v; break;
            }
            break;
        case 'S': {
            size_t start = i;
            if (cnt > 9 || !read_num(s, n, &i, cnt, cnt, &v))
                goto out;
            for (size_t k = i - start; k < 9; k++)
                v *= 10;
            f.nanos = v;
            break;
        }
        case 'n':
            if (!read_num(s, n, &i, cnt, 9, &v))
                goto out;
            f.nanos = v;
            break;
        case 'V':
            if (cnt != 2 || !read_zone(&f, s, n, &i, false))
                goto out;
            break;
        case 'z':
            if (cnt > 4 || !read_zone(&f, s, n, &i, true))
                goto out;
            break;
        case 'O':
        case 'X':
        case 'x':
        case 'Z':
            if (!read_offset_field(&f, s, n, &i, c))
                goto out;
            break;
        default:
            goto out;
        }
    }
    if (i != n)
        goto out;
    /* resolve */
    if (!f.has_year)
        f.year = 1970;
    if (f.bc)
        f.year = 1 - f.year;
    if (f.year < -999999 || f.year > 999999)
        goto out;
    if (f.doy >= 0 && f.month < 0 && f.day < 0) {
        if (f.doy < 1 || f.doy > (is_leap(f.year) ? 366 : 365))
            goto out;
        days = days_from_civil(f.year, 1, 1) + f.doy - 1;
    } else {
        if (f.month < 0)
            f.month = 1;
        if (f.day < 0)
            f.day = 1;
        if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > days_in_month(f.year, f.month))
            goto out;
        days = days_from_civil(f.year, f.month, f.day);
        if (f.doy >= 0 && days - days_from_civil(f.year, 1, 1) + 1 != f.doy)
            goto out;
    }
    if (f.hour24 < 0)
        f.hour24 = f.hour12 >= 0 ? f.hour12 + (f.ampm == 1 ? 12 : 0) : 0;
    else if (f.ampm >= 0 && (f.hour24 >= 12) != (f.ampm == 1))
        goto out;
    if (f.hour24 > 23 || f.minute > 59 || f.second > 59)
        goto out;
    local = days * 86400 + f.hour24 * 3600 + f.minute * 60 + f.second;
    if (f.has_zone)
        local = zone_to_utc(&f.zone, local);
    *ms = local * 1000 + f.nanos / 1000000;
    rc = 0;
out:
    if (f.has_zone)
        zone_free(&f.zone);
    return rc;
}
