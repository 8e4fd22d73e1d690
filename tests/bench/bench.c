/* bench.c - iotcored-bench: an open-loop MQTT load generator.
 *
 * Owns its client connections, the publish schedule, the latency histogram
 * and the loss accounting. It speaks MQTT through the project's own codec
 * (libiotcored.a) on libuv, so it measures any MQTT broker the same way:
 * iotcored and Mosquitto side by side (scripts/bench.sh).
 *
 * Open loop: each publisher has absolute send deadlines (rate per second);
 * a message carries (publisher id, sequence, scheduled time) and latency is
 * taken from the scheduled time to receipt, so a broker that stalls cannot
 * hide the delay by slowing the sender. Phases: connect ramp, warm-up
 * (excluded), measurement window, drain. --sweep repeats the window at
 * several rates and reports the knee (highest rate with zero loss and p99
 * under --p99-us). Everything is bounded: it exits by itself.
 *
 * Scenarios: p2p (N publishers each to its own subscriber), fanout (P -> S
 * on one topic), fanin (P -> S, optionally $share), conn (idle connections,
 * broker memory per connection), shadow (Device Shadow updates, below).
 *
 * --json-payload: the payload is a JSON object, {"h":"<the 16-byte header
 * in hex>","v":<seq % 100>,"pad":"xx..."}, padded to --size, so that rules
 * can read it (WHERE v < 1000). --via-rule (p2p): publisher i publishes to
 * bench/in/<i> and subscriber i subscribes to bench/out/<i>, so every
 * message arrives only if a rule republishes it (bench.sh rules installs
 * one); implies --json-payload.
 *
 * shadow: N devices (--devices, 100), each one connection with client ID
 * bench-dev-<i>, subscribed to its own $aws/things/bench-dev-<i>/shadow/
 * update/accepted and .../update/rejected, publishing
 * {"state":{"reported":{"seq":n,"temp":x}},"clientToken":"<i>-<slot>-<n>"} to
 * .../shadow/update. QoS 1 both ways by default (--qos 0 for QoS 0), as the
 * AWS IoT Device SDKs do for shadow operations, so the PUBACKs are part of
 * the cost. The clientToken that the answer echoes matches it to its
 * request. Each device keeps at most --window requests unanswered (8;
 * AWS allows 10 in flight per connection and answers 429 beyond), so with
 * --rate 0 (the default here) it is closed loop on the answers and measures
 * the throughput the broker sustains, not a queue. With --rate R each
 * device has deadlines at R/s and latency runs from the deadline, as for
 * p2p. Reported: updates/s (update/accepted received in the window),
 * latency from publish (or deadline) to update/accepted for the requests
 * sent in the window, rejections (and how many were 429), requests never
 * answered (loss: still open at the end of the drain or older than 5 s),
 * answers matching no open request, broker CPU and RSS.
 */
#include "iotcored/buf.h"
#include "iotcored/codec.h"
#include "iotcored/error.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define HDR_BYTES 16   /* pub id u32, seq u32, scheduled ns u64 */
#define HIST_SUB 64
#define HIST_BUCKETS (2 * HIST_SUB + 40 * HIST_SUB)
#define READ_BYTES 65536
#define SH_MAX_WINDOW 32              /* shadow: open requests per device */
#define SH_TIMEOUT_NS 5000000000ull   /* shadow: a request unanswered this long is lost */

typedef enum { ROLE_SUB, ROLE_PUB, ROLE_IDLE } role_t;
typedef enum { SC_P2P, SC_FANOUT, SC_FANIN, SC_CONN, SC_SHADOW } scenario_t;
typedef enum { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_DONE } phase_t;

typedef struct pair_s {
    uint8_t *seen;     /* bitmap by sequence */
    uint32_t cap_bits;
    uint32_t max_seq;
    uint64_t dups, reordered;
} pair_t;

/* shadow: one open update request */
typedef struct sh_slot_s {
    uint64_t sched;  /* publish time (saturation) or deadline (--rate) */
    uint64_t sent;   /* publish time */
    uint32_t seq;
    bool busy;
    bool in_win;     /* scheduled inside the measurement window */
} sh_slot_t;

struct bench_s;

typedef struct cli_s {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct bench_s *b;
    role_t role;
    int idx;            /* index within its role */
    char id[48];
    char topic[96];     /* shadow: the update topic */
    ic_buf_t in, out, wbuf;
    bool is_writing, is_ready, is_closed;
    uint64_t next_ns;   /* publisher: next scheduled send */
    uint32_t seq;
    uint32_t inflight;  /* QoS 1 unacknowledged */
    uint16_t next_pid;
    uint32_t win_first, win_last; /* sequences scheduled in the window */
    uint32_t echo_seq;  /* publisher: highest seq seen by the first subscriber */
    uint64_t unsent;    /* publisher: window deadlines it never got to send */
    sh_slot_t *slots;   /* shadow: SH_MAX_WINDOW request slots */
    uint32_t sh_open;   /* shadow: requests sent and not yet answered */
} cli_t;

typedef struct opts_s {
    const char *host, *label, *sweep;
    int port, pubs, subs, qos, size, version, window, conns, sat_window;
    double rate, connect_rate, warmup_s, duration_s, drain_s, p99_bound_us;
    scenario_t scenario;
    bool share, json_only, json_payload, via_rule;
    int broker_pid;
} opts_t;

/* shadow counters, reset with each window */
typedef struct sh_stats_s {
    uint64_t win_sent;      /* requests scheduled in the window and sent */
    uint64_t win_answered;  /* ... and answered (accepted or rejected) */
    uint64_t accepted;      /* update/accepted of window requests */
    uint64_t rejected;      /* update/rejected of window requests */
    uint64_t rejected_429;  /* ... of which code 429 (too many in flight) */
    uint64_t timeouts;      /* requests dropped unanswered after SH_TIMEOUT_NS */
    uint64_t unmatched;     /* answers matching no open request */
    uint64_t payload_bytes; /* update payload bytes sent in the window */
} sh_stats_t;

typedef struct bench_s {
    uv_loop_t *loop;
    opts_t o;
    cli_t *clis;
    int n_clis, n_connecting, n_ready;
    uv_timer_t tick, conn_timer;
    phase_t phase;
    uint64_t t_start, t_measure, t_end, t_drain_end;
    double rate; /* current per-publisher rate, 0 = saturation */
    pair_t *pairs;
    int n_pair_subs; /* subscribers per publisher in the pair table */
    uint64_t hist[HIST_BUCKETS];
    uint64_t lat_n, lat_max;
    uint64_t scheduled, sent, delivered_win, received_total, expected;
    double cpu0, cpu1;
    long rss_before, rss_after;
    uint8_t rbuf[READ_BYTES];
    int sweep_step;
    double sweep_rates[32];
    int n_sweep;
    double knee;
    int exit_code;
    sh_stats_t sh;
    uint64_t sh_last_scan;
    bool sh_warned;
} bench_t;

static uint64_t now_ns(void) {
    return uv_hrtime();
}

/* ---- histogram (log-linear, ~1.5% precision) --------------------------------- */

static int hist_index(uint64_t v) {
    int msb, shift;
    if (v < 2 * HIST_SUB)
        return (int)v;
    msb = 63 - __builtin_clzll(v);
    shift = msb - 6;
    if (shift > 40)
        return HIST_BUCKETS - 1;
    return 2 * HIST_SUB + (shift - 1) * HIST_SUB + (int)((v >> shift) - HIST_SUB);
}

static uint64_t hist_value(int i) {
    int shift;
    if (i < 2 * HIST_SUB)
        return (uint64_t)i;
    shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
    return ((uint64_t)((i - 2 * HIST_SUB) % HIST_SUB + HIST_SUB) << shift) +
           ((1ull << shift) >> 1);
}

static double percentile_us(const bench_t *b, double q) {
    uint64_t want = (uint64_t)(q * (double)b->lat_n), acc = 0;
    int i;
    if (b->lat_n == 0)
        return 0;
    if (want >= b->lat_n)
        want = b->lat_n - 1;
    for (i = 0; i < HIST_BUCKETS; i++) {
        acc += b->hist[i];
        if (acc > want)
            return (double)hist_value(i) / 1000.0;
    }
    return (double)b->lat_max / 1000.0;
}

/* ---- /proc accounting ------------------------------------------------------------- */

static double proc_cpu_s(int pid) {
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    int i;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL || fgets(buf, sizeof(buf), f) == NULL) {
        if (f)
            fclose(f);
        return 0;
    }
    fclose(f);
    p = strrchr(buf, ')');
    for (i = 0; p && i < 12; i++) /* fields 3..14 after the comm */
        p = strchr(p + 1, ' ');
    if (p)
        sscanf(p + 1, "%lu %lu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_rss_kb(int pid) {
    char path[64], line[256];
    long kb = 0;
    FILE *f;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* ---- output path -------------------------------------------------------------- */

static void on_written(uv_write_t *req, int status);

static void flush(cli_t *c) {
    uv_buf_t buf;
    ic_buf_t tmp;
    if (c->is_writing || c->out.len == 0 || c->is_closed)
        return;
    tmp = c->wbuf;
    c->wbuf = c->out;
    c->out = tmp;
    ic_buf_reset(&c->out);
    buf = uv_buf_init((char *)c->wbuf.data, (unsigned)c->wbuf.len);
    c->is_writing = true;
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
        c->is_writing = false;
}

static void send_pkt(cli_t *c, const ic_packet_t *p) {
    ic_codec_encode(&c->out, (uint8_t)c->b->o.version, p);
}

/* ---- publishing ----------------------------------------------------------------- */

static void publish_one(cli_t *c, uint64_t sched) {
    bench_t *b = c->b;
    uint8_t payload[65536];
    ic_packet_t p;
    size_t n = (size_t)b->o.size;
    uint32_t id = (uint32_t)c->idx, seq = ++c->seq;
    if (n < HDR_BYTES)
        n = HDR_BYTES;
    if (b->o.json_payload) {
        /* {"h":"<32 hex>","v":N,"pad":"x..."} padded to --size */
        int k = snprintf((char *)payload, 128, "{\"h\":\"%08x%08x%016llx\",\"v\":%u,"
                         "\"pad\":\"", (unsigned)id, (unsigned)seq,
                         (unsigned long long)sched, (unsigned)(seq % 100));
        size_t pad = n > (size_t)k + 2 ? n - (size_t)k - 2 : 0;
        memset(payload + k, 'x', pad);
        memcpy(payload + (size_t)k + pad, "\"}", 2);
        n = (size_t)k + pad + 2;
    } else {
        memcpy(payload, &id, 4);
        memcpy(payload + 4, &seq, 4);
        memcpy(payload + 8, &sched, 8);
        memset(payload + HDR_BYTES, 'x', n - HDR_BYTES);
    }
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_PUBLISH;
    p.u.publish.qos = (uint8_t)b->o.qos;
    p.u.publish.topic.p = (const uint8_t *)c->topic;
    p.u.publish.topic.len = strlen(c->topic);
    p.u.publish.payload.p = payload;
    p.u.publish.payload.len = n;
    if (b->o.qos) {
        if (++c->next_pid == 0)
            c->next_pid = 1;
        p.u.publish.packet_id = c->next_pid;
        c->inflight++;
    }
    send_pkt(c, &p);
    if (b->phase == PH_MEASURE && sched >= b->t_measure) {
        if (c->win_first == 0)
            c->win_first = seq;
        c->win_last = seq;
        b->sent++;
    }
}

static bool can_send(const cli_t *c) {
    /* Saturation is closed loop on delivery: at most sat_window messages a
     * publisher has sent that its first subscriber has not yet received,
     * so the measured rate is what the broker sustains, not what its
     * buffers absorb. */
    if (c->b->rate <= 0 && c->seq - c->echo_seq >= (uint32_t)c->b->o.sat_window)
        return false;
    return c->b->o.qos == 0 || c->inflight < (uint32_t)c->b->o.window;
}

/* ---- shadow ---------------------------------------------------------------------- */

static void shadow_drop(cli_t *c, sh_slot_t *s) {
    s->busy = false;
    if (c->sh_open)
        c->sh_open--;
}

static void shadow_send(cli_t *c, uint64_t sched, uint64_t now) {
    bench_t *b = c->b;
    char payload[192];
    ic_packet_t p;
    uint32_t seq = ++c->seq;
    sh_slot_t *s = NULL;
    int n, k;
    /* a free slot: there is one, fewer than --window <= SH_MAX_WINDOW are open */
    for (k = 0; k < SH_MAX_WINDOW && s == NULL; k++)
        if (!c->slots[k].busy)
            s = &c->slots[k];
    if (s == NULL)
        return;
    k = (int)(s - c->slots);
    n = snprintf(payload, sizeof(payload),
                 "{\"state\":{\"reported\":{\"seq\":%u,\"temp\":%.1f}},"
                 "\"clientToken\":\"%d-%d-%u\"}",
                 seq, 15.0 + (double)((seq * 7u + (uint32_t)c->idx) % 200u) / 10.0,
                 c->idx, k, seq);
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_PUBLISH;
    p.u.publish.qos = (uint8_t)b->o.qos;
    p.u.publish.topic.p = (const uint8_t *)c->topic;
    p.u.publish.topic.len = strlen(c->topic);
    p.u.publish.payload.p = (const uint8_t *)payload;
    p.u.publish.payload.len = (size_t)n;
    if (b->o.qos) {
        if (++c->next_pid == 0)
            c->next_pid = 1;
        p.u.publish.packet_id = c->next_pid;
    }
    send_pkt(c, &p);
    s->busy = true;
    s->seq = seq;
    s->sched = sched;
    s->sent = now;
    s->in_win = b->phase == PH_MEASURE && sched >= b->t_measure && sched < b->t_end;
    c->sh_open++;
    if (s->in_win) {
        b->sent++;
        b->sh.win_sent++;
        b->sh.payload_bytes += (uint64_t)n;
    }
}

/* Keep up to --window requests open; with --rate, only those now due. */
static void pump_shadow(cli_t *c, uint64_t now) {
    bench_t *b = c->b;
    int burst = 0;
    if (b->phase != PH_WARMUP && b->phase != PH_MEASURE)
        return;
    if (b->rate <= 0) {
        while (c->sh_open < (uint32_t)b->o.window)
            shadow_send(c, now, now);
    } else {
        uint64_t interval = (uint64_t)(1e9 / b->rate);
        while (c->next_ns <= now && c->sh_open < (uint32_t)b->o.window &&
               burst++ < 10000) {
            if (b->phase == PH_MEASURE && c->next_ns >= b->t_measure)
                b->scheduled++;
            shadow_send(c, c->next_ns, now);
            c->next_ns += interval;
        }
    }
}

/* The value of "key": in a JSON text (string value: up to its closing
 * quote), NULL if absent; enough for the broker's flat answers. */
static const uint8_t *json_find(const uint8_t *p, size_t len, const char *key,
                                size_t *vlen) {
    size_t kl = strlen(key);
    const uint8_t *end = p + len, *q = p, *v, *e;
    while ((q = memmem(q, (size_t)(end - q), key, kl)) != NULL) {
        v = q + kl;
        q = v;
        while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v >= end || *v != ':')
            continue;
        v++;
        while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;
        if (v < end && *v == '"') {
            v++;
            e = memchr(v, '"', (size_t)(end - v));
        } else {
            for (e = v; e < end && *e != ',' && *e != '}'; e++)
                ;
        }
        if (e == NULL)
            return NULL;
        *vlen = (size_t)(e - v);
        return v;
    }
    return NULL;
}

static void on_shadow_answer(cli_t *c, const ic_publish_t *p, uint64_t now) {
    bench_t *b = c->b;
    const char *t = (const char *)p->topic.p;
    size_t tl = p->topic.len, vl;
    bool accepted = tl >= 9 && memcmp(t + tl - 9, "/accepted", 9) == 0;
    bool rejected = tl >= 9 && memcmp(t + tl - 9, "/rejected", 9) == 0;
    const uint8_t *v;
    char tok[72], *dash;
    long idx, slot;
    unsigned long seq;
    sh_slot_t *s;
    if (!accepted && !rejected)
        return;
    b->received_total++;
    v = json_find(p->payload.p, p->payload.len, "\"clientToken\"", &vl);
    if (v == NULL || vl == 0 || vl >= sizeof(tok)) {
        b->sh.unmatched++;
        return;
    }
    memcpy(tok, v, vl);
    tok[vl] = '\0';
    /* "<device>-<slot>-<seq>" */
    idx = strtol(tok, &dash, 10);
    if (*dash != '-' || idx != c->idx) {
        b->sh.unmatched++;
        return;
    }
    slot = strtol(dash + 1, &dash, 10);
    if (*dash != '-' || slot < 0 || slot >= SH_MAX_WINDOW) {
        b->sh.unmatched++;
        return;
    }
    seq = strtoul(dash + 1, NULL, 10);
    s = &c->slots[slot];
    if (!s->busy || s->seq != (uint32_t)seq) {
        b->sh.unmatched++; /* late (after a timeout) or duplicate */
        return;
    }
    shadow_drop(c, s);
    if (s->in_win)
        b->sh.win_answered++;
    if (rejected) {
        const uint8_t *cv = json_find(p->payload.p, p->payload.len, "\"code\"", &vl);
        int code = cv ? atoi((const char *)cv) : 0;
        if (s->in_win) {
            b->sh.rejected++;
            if (code == 429)
                b->sh.rejected_429++;
        }
        if (!b->sh_warned) {
            b->sh_warned = true;
            fprintf(stderr, "bench: %s: update rejected: %.*s\n", c->id,
                    (int)(p->payload.len > 200 ? 200 : p->payload.len),
                    (const char *)p->payload.p);
        }
        return;
    }
    if (b->t_measure && now >= b->t_measure && now < b->t_end)
        b->delivered_win++;
    if (s->in_win) {
        uint64_t lat = now > s->sched ? now - s->sched : 0;
        b->sh.accepted++;
        b->hist[hist_index(lat)]++;
        b->lat_n++;
        if (lat > b->lat_max)
            b->lat_max = lat;
    }
}

/* Requests open longer than SH_TIMEOUT_NS are lost; their slots free. */
static void shadow_expire(bench_t *b, uint64_t now) {
    int i, k;
    if (now - b->sh_last_scan < 100000000ull)
        return;
    b->sh_last_scan = now;
    for (i = 0; i < b->n_clis; i++) {
        cli_t *c = &b->clis[i];
        for (k = 0; c->slots && c->sh_open && k < SH_MAX_WINDOW; k++) {
            sh_slot_t *s = &c->slots[k];
            if (s->busy && now > s->sent + SH_TIMEOUT_NS) {
                b->sh.timeouts++;
                shadow_drop(c, s);
            }
        }
    }
}

static uint64_t shadow_open_total(const bench_t *b) {
    uint64_t n = 0;
    int i;
    for (i = 0; i < b->n_clis; i++)
        n += b->clis[i].sh_open;
    return n;
}

static void pump_publisher(cli_t *c, uint64_t now) {
    bench_t *b = c->b;
    int burst = 0;
    /* only in the warm-up and the window: a publisher that reads its
     * CONNACK (or a PUBACK in the drain) before then must not send - its
     * schedule is not set yet (it would flood 10,000 messages from t=0) */
    if (!c->is_ready || c->is_closed ||
        (b->phase != PH_WARMUP && b->phase != PH_MEASURE))
        return;
    if (b->o.scenario == SC_SHADOW) {
        pump_shadow(c, now);
        flush(c);
        return;
    }
    if (b->rate <= 0) {
        /* saturation: keep the socket busy, a batch per drained write */
        while (c->out.len < 64 * 1024 && can_send(c) && burst++ < 256)
            publish_one(c, now);
    } else {
        uint64_t interval = (uint64_t)(1e9 / b->rate);
        while (c->next_ns <= now && can_send(c) && burst++ < 10000) {
            if (b->phase == PH_MEASURE && c->next_ns >= b->t_measure)
                b->scheduled++;
            publish_one(c, c->next_ns);
            c->next_ns += interval;
        }
    }
    flush(c);
}

static void on_written(uv_write_t *req, int status) {
    cli_t *c = req->data;
    c->is_writing = false;
    if (status < 0)
        return;
    if (c->role == ROLE_PUB && c->b->rate <= 0 &&
        (c->b->phase == PH_WARMUP || c->b->phase == PH_MEASURE))
        pump_publisher(c, now_ns());
    flush(c);
}

/* ---- receiving -------------------------------------------------------------------- */

static pair_t *pair_of(bench_t *b, uint32_t pub, int sub) {
    int slot;
    if ((int)pub >= b->o.pubs)
        return NULL;
    slot = b->n_pair_subs == 1 ? 0 : sub;
    if (b->o.scenario == SC_P2P)
        slot = 0;
    return &b->pairs[(size_t)pub * (size_t)b->n_pair_subs + (size_t)slot];
}

static void mark(pair_t *pr, uint32_t seq) {
    if (seq >= pr->cap_bits) {
        uint32_t cap = pr->cap_bits ? pr->cap_bits : 4096;
        while (cap <= seq)
            cap *= 2;
        pr->seen = realloc(pr->seen, cap / 8);
        memset(pr->seen + pr->cap_bits / 8, 0, (cap - pr->cap_bits) / 8);
        pr->cap_bits = cap;
    }
    if (pr->seen[seq / 8] & (1u << (seq % 8))) {
        pr->dups++;
        return;
    }
    pr->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
    if (seq < pr->max_seq)
        pr->reordered++;
    else
        pr->max_seq = seq;
}

static void on_publish(cli_t *c, const ic_publish_t *p, uint64_t now) {
    bench_t *b = c->b;
    uint32_t pub, seq;
    uint64_t sched;
    pair_t *pr;
    if (p->qos == 1) {
        ic_packet_t ack;
        memset(&ack, 0, sizeof(ack));
        ack.type = IC_MQTT_PUBACK;
        ack.u.ack.packet_id = p->packet_id;
        send_pkt(c, &ack);
    }
    if (b->o.scenario == SC_SHADOW) {
        on_shadow_answer(c, p, now);
        return;
    }
    if (b->o.json_payload) {
        size_t hl = 0;
        const uint8_t *h = json_find(p->payload.p, p->payload.len, "\"h\"", &hl);
        char hex[33];
        if (h == NULL || hl != 32)
            return;
        memcpy(hex, h, 32);
        hex[32] = '\0';
        sched = strtoull(hex + 16, NULL, 16);
        hex[16] = '\0';
        seq = (uint32_t)strtoul(hex + 8, NULL, 16);
        hex[8] = '\0';
        pub = (uint32_t)strtoul(hex, NULL, 16);
    } else {
        if (p->payload.len < HDR_BYTES)
            return;
        memcpy(&pub, p->payload.p, 4);
        memcpy(&seq, p->payload.p + 4, 4);
        memcpy(&sched, p->payload.p + 8, 8);
    }
    b->received_total++;
    pr = pair_of(b, pub, c->idx);
    if (pr)
        mark(pr, seq);
    if ((int)pub < b->o.pubs && (c->idx == 0 || b->n_pair_subs == 1)) {
        cli_t *pc = &b->clis[b->n_clis - b->o.pubs + (int)pub];
        if (seq > pc->echo_seq)
            pc->echo_seq = seq;
        if (b->rate <= 0 && (b->phase == PH_WARMUP || b->phase == PH_MEASURE))
            pump_publisher(pc, now);
    }
    if (sched >= b->t_measure && sched < b->t_end && b->t_measure) {
        uint64_t lat = now > sched ? now - sched : 0;
        b->hist[hist_index(lat)]++;
        b->lat_n++;
        if (lat > b->lat_max)
            b->lat_max = lat;
        if (now < b->t_end)
            b->delivered_win++;
    }
}

static void start_phases(bench_t *b);

static void on_ready(cli_t *c) {
    bench_t *b = c->b;
    if (c->is_ready)
        return;
    c->is_ready = true;
    if (++b->n_ready == b->n_clis)
        start_phases(b);
}

static void handle(cli_t *c, ic_packet_t *p, uint64_t now) {
    switch (p->type) {
    case IC_MQTT_CONNACK:
        if (p->u.connack.rc != 0) {
            fprintf(stderr, "bench: %s refused, CONNACK 0x%02x\n", c->id,
                    p->u.connack.rc);
            c->b->exit_code = 1;
            uv_stop(c->b->loop);
            return;
        }
        if (c->b->o.scenario == SC_SHADOW) {
            /* the device's own answers: one SUBSCRIBE, two filters */
            char acc[128], rej[128];
            ic_packet_t s;
            snprintf(acc, sizeof(acc), "%s/accepted", c->topic);
            snprintf(rej, sizeof(rej), "%s/rejected", c->topic);
            memset(&s, 0, sizeof(s));
            s.type = IC_MQTT_SUBSCRIBE;
            s.u.subscribe.packet_id = 1;
            s.u.subscribe.n_total = 2;
            s.u.subscribe.e[0].filter.p = (const uint8_t *)acc;
            s.u.subscribe.e[0].filter.len = strlen(acc);
            s.u.subscribe.e[0].opts = (uint8_t)c->b->o.qos;
            s.u.subscribe.e[1].filter.p = (const uint8_t *)rej;
            s.u.subscribe.e[1].filter.len = strlen(rej);
            s.u.subscribe.e[1].opts = (uint8_t)c->b->o.qos;
            send_pkt(c, &s);
            flush(c);
        } else if (c->role == ROLE_SUB) {
            ic_packet_t s;
            memset(&s, 0, sizeof(s));
            s.type = IC_MQTT_SUBSCRIBE;
            s.u.subscribe.packet_id = 1;
            s.u.subscribe.n_total = 1;
            s.u.subscribe.e[0].filter.p = (const uint8_t *)c->topic;
            s.u.subscribe.e[0].filter.len = strlen(c->topic);
            s.u.subscribe.e[0].opts = (uint8_t)c->b->o.qos;
            send_pkt(c, &s);
            flush(c);
        } else {
            on_ready(c);
        }
        break;
    case IC_MQTT_SUBACK: {
        size_t k, want = c->b->o.scenario == SC_SHADOW ? 2 : 1;
        bool ok = p->u.suback.rcs.len >= want;
        for (k = 0; ok && k < want; k++)
            ok = p->u.suback.rcs.p[k] < 0x80;
        if (!ok) {
            fprintf(stderr, "bench: %s subscription refused\n", c->id);
            c->b->exit_code = 1;
        }
        on_ready(c);
        break;
    }
    case IC_MQTT_PUBLISH:
        on_publish(c, &p->u.publish, now);
        break;
    case IC_MQTT_PUBACK:
        if (c->inflight)
            c->inflight--;
        break;
    default:
        break;
    }
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf) {
    cli_t *c = h->data;
    (void)sz;
    buf->base = (char *)c->b->rbuf;
    buf->len = READ_BYTES;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    cli_t *c = s->data;
    uint64_t now = now_ns();
    size_t off = 0;
    if (n < 0) {
        if (!c->is_closed && c->b->phase != PH_DONE) {
            fprintf(stderr, "bench: %s: connection lost (%s)\n", c->id,
                    uv_strerror((int)n));
            c->b->exit_code = 1;
        }
        c->is_closed = true;
        uv_read_stop(s);
        return;
    }
    ic_buf_append(&c->in, buf->base, (size_t)n);
    for (;;) {
        ic_packet_t p;
        int rc = ic_codec_decode(c->in.data + off, c->in.len - off,
                                 (uint8_t)c->b->o.version, 1u << 28, &p);
        if (rc == IC_EAGAIN)
            break;
        if (rc < 0) {
            fprintf(stderr, "bench: %s: undecodable packet: %s\n", c->id, p.why);
            c->b->exit_code = 1;
            c->is_closed = true;
            uv_read_stop(s);
            return;
        }
        handle(c, &p, now);
        off += (size_t)rc;
    }
    c->in.rpos = off;
    ic_buf_compact(&c->in);
    if (c->role == ROLE_PUB)
        pump_publisher(c, now);
    flush(c);
}

/* ---- connecting ------------------------------------------------------------------- */

static void on_connected(uv_connect_t *req, int status) {
    cli_t *c = req->data;
    ic_packet_t p;
    if (status < 0) {
        fprintf(stderr, "bench: connect %s: %s\n", c->id, uv_strerror(status));
        c->b->exit_code = 1;
        uv_stop(c->b->loop);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    memset(&p, 0, sizeof(p));
    p.type = IC_MQTT_CONNECT;
    p.u.connect.version = (uint8_t)c->b->o.version;
    p.u.connect.clean_start = true;
    p.u.connect.keep_alive = 300;
    p.u.connect.client_id.p = (const uint8_t *)c->id;
    p.u.connect.client_id.len = strlen(c->id);
    send_pkt(c, &p);
    flush(c);
}

static void connect_next(uv_timer_t *t) {
    bench_t *b = t->data;
    struct sockaddr_in sa;
    int per_tick = (int)(b->o.connect_rate / 100.0);
    if (per_tick < 1)
        per_tick = 1;
    uv_ip4_addr(b->o.host, b->o.port, &sa);
    while (per_tick-- > 0 && b->n_connecting < b->n_clis) {
        cli_t *c = &b->clis[b->n_connecting++];
        uv_tcp_init(b->loop, &c->tcp);
        c->tcp.data = c;
        c->creq.data = c;
        uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&sa, on_connected);
    }
    if (b->n_connecting == b->n_clis)
        uv_timer_stop(t);
}

/* ---- phases and report --------------------------------------------------------------- */

static void reset_window(bench_t *b) {
    int i;
    memset(b->hist, 0, sizeof(b->hist));
    b->lat_n = b->lat_max = 0;
    b->scheduled = b->sent = b->delivered_win = 0;
    memset(&b->sh, 0, sizeof(b->sh));
    for (i = 0; i < b->n_clis; i++)
        b->clis[i].win_first = b->clis[i].win_last = b->clis[i].unsent = 0;
    for (i = 0; b->pairs && i < b->o.pubs * b->n_pair_subs; i++)
        b->pairs[i].dups = b->pairs[i].reordered = 0;
}

static void report_shadow(bench_t *b) {
    double dur = b->o.duration_s, cpu = b->cpu1 - b->cpu0;
    double p50 = percentile_us(b, 0.50), p90 = percentile_us(b, 0.90),
           p99 = percentile_us(b, 0.99), p999 = percentile_us(b, 0.999);
    const sh_stats_t *h = &b->sh;
    uint64_t loss = h->win_sent > h->win_answered ? h->win_sent - h->win_answered : 0;
    double offered = b->rate > 0 ? (double)b->scheduled / dur : (double)b->sent / dur;
    double ups = (double)b->delivered_win / dur;
    double cpu_per = b->delivered_win ? cpu * 1e6 / (double)b->delivered_win : 0.0;
    int size = h->win_sent ? (int)(h->payload_bytes / h->win_sent) : 0;
    if (!b->o.json_only) {
        printf("%-8s shadow     devices=%d window=%d qos=%d rate=%.0f updates/s=%-9.0f "
               "sent/s=%-9.0f accepted=%llu rejected=%llu (429: %llu) lost=%llu "
               "unmatched=%llu\n",
               b->o.label, b->o.pubs, b->o.window, b->o.qos, b->rate, ups,
               (double)b->sent / dur, (unsigned long long)h->accepted,
               (unsigned long long)h->rejected, (unsigned long long)h->rejected_429,
               (unsigned long long)loss, (unsigned long long)h->unmatched);
        printf("         latency us (publish -> update/accepted): p50=%.0f p90=%.0f "
               "p99=%.0f p99.9=%.0f max=%.0f  cpu=%.2fs (%.0f%%) cpu_us/update=%.2f "
               "rss_kb=%ld->%ld\n",
               p50, p90, p99, p999, (double)b->lat_max / 1000.0, cpu,
               cpu * 100.0 / dur, cpu_per, b->rss_before, b->rss_after);
    }
    printf("{\"broker\":\"%s\",\"scenario\":\"shadow\",\"pubs\":%d,\"subs\":%d,"
           "\"conns\":%d,\"qos\":%d,\"size\":%d,\"version\":%d,\"share\":false,"
           "\"rate_per_pub\":%.1f,\"duration_s\":%.1f,\"offered_per_s\":%.1f,"
           "\"sent_per_s\":%.1f,\"delivered_per_s\":%.1f,\"expected\":%llu,"
           "\"received\":%llu,\"loss\":%llu,\"duplicates\":%llu,\"reordered\":0,"
           "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
           "\"max_us\":%.1f,\"broker_cpu_s\":%.3f,\"cpu_us_per_msg\":%.3f,"
           "\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"bytes_per_conn\":0,"
           "\"devices\":%d,\"window\":%d,\"updates_per_s\":%.1f,\"accepted\":%llu,"
           "\"rejected\":%llu,\"rejected_429\":%llu,\"timeouts\":%llu,"
           "\"unmatched\":%llu,\"broker_cpu_pct\":%.1f}\n",
           b->o.label, b->o.pubs, b->o.pubs, b->o.pubs, b->o.qos, size,
           b->o.version, b->rate, dur, offered, (double)b->sent / dur, ups,
           (unsigned long long)h->win_sent, (unsigned long long)h->win_answered,
           (unsigned long long)loss, (unsigned long long)h->unmatched, p50, p90,
           p99, p999, (double)b->lat_max / 1000.0, cpu, cpu_per, b->rss_before,
           b->rss_after, b->o.pubs, b->o.window, ups,
           (unsigned long long)h->accepted, (unsigned long long)h->rejected,
           (unsigned long long)h->rejected_429, (unsigned long long)h->timeouts,
           (unsigned long long)h->unmatched, cpu * 100.0 / dur);
    fflush(stdout);
    if (loss == 0 && h->rejected == 0 && p99 <= b->o.p99_bound_us && b->rate > b->knee)
        b->knee = b->rate;
}

static void report(bench_t *b) {
    double dur = b->o.duration_s;
    uint64_t expected = 0, received = 0, dups = 0, reord = 0, loss;
    int i, k, copies;
    double cpu = b->cpu1 - b->cpu0;
    double p50 = percentile_us(b, 0.50), p90 = percentile_us(b, 0.90),
           p99 = percentile_us(b, 0.99), p999 = percentile_us(b, 0.999);
    const char *names[] = {"p2p", "fanout", "fanin", "conn", "shadow"};
    long per_conn = 0;
    if (b->o.scenario == SC_SHADOW) {
        report_shadow(b);
        return;
    }
    if (b->o.scenario == SC_CONN) {
        per_conn = b->o.conns ? (b->rss_after - b->rss_before) * 1024 / b->o.conns : 0;
    } else {
        copies = b->o.scenario == SC_P2P ? 1 : (b->o.share ? 1 : b->o.subs);
        for (i = 0; i < b->n_clis; i++) {
            cli_t *c = &b->clis[i];
            if (c->role != ROLE_PUB)
                continue;
            /* open loop: a deadline the publisher could not meet (QoS 1
             * window full) is offered load the broker did not carry */
            expected += c->unsent * (uint64_t)copies;
            if (c->win_first == 0)
                continue;
            expected += (uint64_t)(c->win_last - c->win_first + 1) * (uint64_t)copies;
            for (k = 0; k < b->n_pair_subs; k++) {
                pair_t *pr = &b->pairs[(size_t)c->idx * (size_t)b->n_pair_subs + (size_t)k];
                uint32_t s;
                for (s = c->win_first; s <= c->win_last; s++)
                    if (s < pr->cap_bits && (pr->seen[s / 8] & (1u << (s % 8))))
                        received++;
                dups += pr->dups;
                reord += pr->reordered;
            }
        }
    }
    loss = expected > received ? expected - received : 0;
    if (!b->o.json_only) {
        printf("%-8s %-10s rate=%-8.0f offered/s=%-10.0f sent/s=%-10.0f "
               "delivered/s=%-10.0f loss=%llu dup=%llu reorder=%llu\n",
               b->o.label, names[b->o.scenario], b->rate, (double)b->scheduled / dur,
               (double)b->sent / dur, (double)b->delivered_win / dur,
               (unsigned long long)loss, (unsigned long long)dups,
               (unsigned long long)reord);
        printf("         latency us: p50=%.0f p90=%.0f p99=%.0f p99.9=%.0f max=%.0f  "
               "cpu=%.2fs cpu_us/msg=%.2f rss_kb=%ld->%ld bytes/conn=%ld\n",
               p50, p90, p99, p999, (double)b->lat_max / 1000.0, cpu,
               b->delivered_win ? cpu * 1e6 / (double)b->delivered_win : 0.0,
               b->rss_before, b->rss_after, per_conn);
    }
    printf("{\"broker\":\"%s\",\"scenario\":\"%s\",\"pubs\":%d,\"subs\":%d,"
           "\"conns\":%d,\"qos\":%d,\"size\":%d,\"version\":%d,\"share\":%s,"
           "\"rate_per_pub\":%.1f,\"duration_s\":%.1f,\"offered_per_s\":%.1f,"
           "\"sent_per_s\":%.1f,\"delivered_per_s\":%.1f,\"expected\":%llu,"
           "\"received\":%llu,\"loss\":%llu,\"duplicates\":%llu,\"reordered\":%llu,"
           "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
           "\"max_us\":%.1f,\"broker_cpu_s\":%.3f,\"cpu_us_per_msg\":%.3f,"
           "\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"bytes_per_conn\":%ld}\n",
           b->o.label, names[b->o.scenario], b->o.pubs, b->o.subs, b->o.conns,
           b->o.qos, b->o.size, b->o.version, b->o.share ? "true" : "false",
           b->rate, dur, (double)b->scheduled / dur, (double)b->sent / dur,
           (double)b->delivered_win / dur, (unsigned long long)expected,
           (unsigned long long)received, (unsigned long long)loss,
           (unsigned long long)dups, (unsigned long long)reord, p50, p90, p99,
           p999, (double)b->lat_max / 1000.0, cpu,
           b->delivered_win ? cpu * 1e6 / (double)b->delivered_win : 0.0,
           b->rss_before, b->rss_after, per_conn);
    fflush(stdout);
    if (b->o.scenario != SC_CONN && loss == 0 && p99 <= b->o.p99_bound_us &&
        b->rate > b->knee)
        b->knee = b->rate;
}

static void close_all(bench_t *b) {
    int i;
    b->phase = PH_DONE;
    uv_timer_stop(&b->tick);
    for (i = 0; i < b->n_connecting; i++)
        if (!uv_is_closing((uv_handle_t *)&b->clis[i].tcp))
            uv_close((uv_handle_t *)&b->clis[i].tcp, NULL);
    uv_close((uv_handle_t *)&b->tick, NULL);
    uv_close((uv_handle_t *)&b->conn_timer, NULL);
}

static void begin_window(bench_t *b, uint64_t now) {
    int i;
    b->phase = PH_WARMUP;
    b->t_start = now;
    b->t_measure = now + (uint64_t)(b->o.warmup_s * 1e9);
    b->t_end = b->t_measure + (uint64_t)(b->o.duration_s * 1e9);
    b->t_drain_end = b->t_end + (uint64_t)(b->o.drain_s * 1e9);
    reset_window(b);
    /* Publishers are spread evenly over one interval, so N publishers at
     * r/s offer a smooth N*r/s rather than N-message bursts. */
    for (i = 0; i < b->n_clis; i++) {
        cli_t *c = &b->clis[i];
        c->next_ns = now;
        if (b->rate > 0 && c->role == ROLE_PUB)
            c->next_ns += (uint64_t)(1e9 / b->rate) * (uint64_t)c->idx /
                          (uint64_t)b->o.pubs;
    }
}

static void on_tick(uv_timer_t *t) {
    bench_t *b = t->data;
    uint64_t now = now_ns();
    int i;
    if (b->phase == PH_WARMUP && now >= b->t_measure) {
        b->phase = PH_MEASURE;
        b->cpu0 = proc_cpu_s(b->o.broker_pid);
    }
    if (b->phase == PH_MEASURE && now >= b->t_end) {
        /* Send what was due before the window closed (this tick may come a
         * little late); what still cannot go (QoS 1 window full) is
         * counted as not carried. */
        for (i = 0; i < b->n_clis; i++)
            if (b->clis[i].role == ROLE_PUB &&
                (b->o.scenario != SC_SHADOW || b->rate > 0))
                pump_publisher(&b->clis[i], b->t_end - 1);
        b->phase = PH_DRAIN;
        b->cpu1 = proc_cpu_s(b->o.broker_pid);
        for (i = 0; b->rate > 0 && i < b->n_clis; i++) {
            cli_t *c = &b->clis[i];
            uint64_t interval = (uint64_t)(1e9 / b->rate), from;
            if (c->role != ROLE_PUB || c->next_ns >= b->t_end)
                continue;
            from = c->next_ns > b->t_measure ? c->next_ns : b->t_measure;
            c->unsent = (b->t_end - from + interval - 1) / interval;
            b->scheduled += c->unsent;
        }
    }
    if (b->o.scenario == SC_SHADOW && b->phase != PH_DONE) {
        shadow_expire(b, now);
        /* every request answered: the drain has nothing left to wait for */
        if (b->phase == PH_DRAIN && shadow_open_total(b) == 0)
            b->t_drain_end = now;
    }
    if (b->phase == PH_WARMUP || b->phase == PH_MEASURE) {
        for (i = 0; i < b->n_clis; i++)
            if (b->clis[i].role == ROLE_PUB)
                pump_publisher(&b->clis[i], now);
        return;
    }
    if (b->phase == PH_DRAIN && now >= b->t_drain_end) {
        report(b);
        if (++b->sweep_step < b->n_sweep) {
            b->rate = b->sweep_rates[b->sweep_step];
            begin_window(b, now);
            return;
        }
        if (b->n_sweep > 1)
            printf("{\"broker\":\"%s\",\"knee_rate_per_pub\":%.1f}\n", b->o.label,
                   b->knee);
        close_all(b);
    }
}

static void start_phases(bench_t *b) {
    b->rss_after = proc_rss_kb(b->o.broker_pid);
    if (b->o.scenario == SC_CONN) {
        report(b);
        close_all(b);
        return;
    }
    begin_window(b, now_ns());
    uv_timer_start(&b->tick, on_tick, 1, 1);
}

/* ---- setup --------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: iotcored-bench --port N [options]\n"
            "  --host A           broker address (127.0.0.1)\n"
            "  --scenario S       p2p | fanout | fanin | conn | shadow (p2p)\n"
            "  --pubs N --subs N  publishers, subscribers (1, 1)\n"
            "  --devices N        shadow: devices bench-dev-0..N-1 (100)\n"
            "  --conns N          idle connections for `conn` (1000)\n"
            "  --share            fanin through $share/bench/...\n"
            "  --rate R           messages/s per publisher, 0 = saturation (100;\n"
            "                     shadow: 0, closed loop on the answers)\n"
            "  --sweep R1,R2,...  repeat the window at each rate, report the knee\n"
            "  --p99-us U         knee bound on p99 latency (10000)\n"
            "  --qos Q --size B   QoS 0/1 (0; shadow: 1), payload bytes (64, min 16)\n"
            "  --window N         QoS 1 in-flight per publisher (100; shadow: open\n"
            "                     update requests per device, 8, at most 32)\n"
            "  --sat-window N     saturation: sent but not yet delivered (1000)\n"
            "  --version V        4 (3.1.1) or 5 (4)\n"
            "  --connect-rate R   connections opened per second (2000)\n"
            "  --warmup S --duration S --drain S   phases in seconds (1, 5, 2)\n"
            "  --broker-pid P     read CPU and RSS of P from /proc\n"
            "  --label L          broker name in the report (broker)\n"
            "  --json             print only the JSON line(s)\n"
            "  --json-payload     JSON payloads {\"h\":hex header,\"v\":seq%%100,...}\n"
            "  --via-rule         p2p: publish to bench/in/<i>, subscribe to\n"
            "                     bench/out/<i> (a rule carries them; JSON payloads)\n");
}

static int parse(opts_t *o, int argc, char **argv) {
    static const struct option lo[] = {
        {"host", 1, 0, 'h'},      {"port", 1, 0, 'p'},     {"scenario", 1, 0, 's'},
        {"pubs", 1, 0, 'P'},      {"subs", 1, 0, 'S'},     {"conns", 1, 0, 'C'},
        {"share", 0, 0, 'x'},     {"rate", 1, 0, 'r'},     {"sweep", 1, 0, 'w'},
        {"p99-us", 1, 0, 'b'},    {"qos", 1, 0, 'q'},      {"size", 1, 0, 'z'},
        {"window", 1, 0, 'W'},    {"version", 1, 0, 'V'},  {"connect-rate", 1, 0, 'c'},
        {"warmup", 1, 0, 'u'},    {"duration", 1, 0, 'd'}, {"drain", 1, 0, 'D'},
        {"broker-pid", 1, 0, 'k'},{"label", 1, 0, 'l'},    {"json", 0, 0, 'j'},
        {"sat-window", 1, 0, 'Z'}, {"devices", 1, 0, 'N'},
        {"json-payload", 0, 0, 'J'}, {"via-rule", 0, 0, 'R'},
        {0, 0, 0, 0}};
    int ch, devices = 100;
    bool qos_set = false, rate_set = false, window_set = false;
    memset(o, 0, sizeof(*o));
    o->host = "127.0.0.1";
    o->label = "broker";
    o->pubs = o->subs = 1;
    o->conns = 1000;
    o->rate = 100;
    o->p99_bound_us = 10000;
    o->size = 64;
    o->window = 100;
    o->version = 4;
    o->connect_rate = 2000;
    o->warmup_s = 1;
    o->duration_s = 5;
    o->drain_s = 2;
    o->sat_window = 1000;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'h': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 's':
            o->scenario = !strcmp(optarg, "fanout") ? SC_FANOUT
                          : !strcmp(optarg, "fanin") ? SC_FANIN
                          : !strcmp(optarg, "conn")  ? SC_CONN
                          : !strcmp(optarg, "shadow") ? SC_SHADOW
                                                     : SC_P2P;
            break;
        case 'P': o->pubs = atoi(optarg); break;
        case 'S': o->subs = atoi(optarg); break;
        case 'C': o->conns = atoi(optarg); break;
        case 'x': o->share = true; break;
        case 'r': o->rate = atof(optarg); rate_set = true; break;
        case 'w': o->sweep = optarg; break;
        case 'b': o->p99_bound_us = atof(optarg); break;
        case 'q': o->qos = atoi(optarg); qos_set = true; break;
        case 'z': o->size = atoi(optarg); break;
        case 'W': o->window = atoi(optarg); window_set = true; break;
        case 'V': o->version = atoi(optarg); break;
        case 'c': o->connect_rate = atof(optarg); break;
        case 'u': o->warmup_s = atof(optarg); break;
        case 'd': o->duration_s = atof(optarg); break;
        case 'D': o->drain_s = atof(optarg); break;
        case 'k': o->broker_pid = atoi(optarg); break;
        case 'l': o->label = optarg; break;
        case 'j': o->json_only = true; break;
        case 'Z': o->sat_window = atoi(optarg); break;
        case 'N': devices = atoi(optarg); break;
        case 'J': o->json_payload = true; break;
        case 'R': o->via_rule = o->json_payload = true; break;
        default: return -1;
        }
    }
    if (o->scenario == SC_SHADOW) {
        o->pubs = o->subs = devices;
        if (!qos_set)
            o->qos = 1;
        if (!rate_set)
            o->rate = 0;
        if (!window_set)
            o->window = 8;
        if (o->window < 1 || o->window > SH_MAX_WINDOW || devices < 1)
            return -1;
        if (o->window > 10)
            fprintf(stderr, "bench: --window %d: beyond AWS's 10 in-flight shadow "
                            "requests per connection (429)\n", o->window);
    }
    if (o->port <= 0 || o->qos < 0 || o->qos > 1 || o->size > 65536 ||
        o->pubs < 1 || o->subs < 1 || (o->version != 4 && o->version != 5) ||
        o->duration_s <= 0 ||
        (o->scenario != SC_SHADOW && o->pubs * (long)o->subs > 4000000))
        return -1;
    if (o->size < HDR_BYTES)
        o->size = HDR_BYTES;
    if (o->via_rule && o->scenario != SC_P2P)
        return -1;
    if (o->scenario == SC_P2P)
        o->subs = o->pubs;
    return 0;
}

static void setup_clients(bench_t *b) {
    opts_t *o = &b->o;
    int i, n = 0, pid = (int)getpid();
    if (o->scenario == SC_CONN) {
        b->n_clis = o->conns;
        b->clis = calloc((size_t)b->n_clis, sizeof(cli_t));
        for (i = 0; i < o->conns; i++) {
            cli_t *c = &b->clis[n++];
            c->role = ROLE_IDLE;
            c->idx = i;
            c->b = b;
            snprintf(c->id, sizeof(c->id), "bench-%d-idle-%d", pid, i);
        }
        return;
    }
    if (o->scenario == SC_SHADOW) {
        /* one connection per device: it publishes its updates and
         * receives its own answers */
        b->n_clis = o->pubs;
        b->clis = calloc((size_t)b->n_clis, sizeof(cli_t));
        for (i = 0; i < o->pubs; i++) {
            cli_t *c = &b->clis[n++];
            c->role = ROLE_PUB;
            c->idx = i;
            c->b = b;
            c->slots = calloc(SH_MAX_WINDOW, sizeof(sh_slot_t));
            snprintf(c->id, sizeof(c->id), "bench-dev-%d", i);
            snprintf(c->topic, sizeof(c->topic), "$aws/things/%s/shadow/update",
                     c->id);
        }
        return;
    }
    b->n_clis = o->pubs + o->subs;
    b->clis = calloc((size_t)b->n_clis, sizeof(cli_t));
    /* subscribers first, so they are subscribed before anyone publishes */
    for (i = 0; i < o->subs; i++) {
        cli_t *c = &b->clis[n++];
        c->role = ROLE_SUB;
        c->idx = i;
        c->b = b;
        snprintf(c->id, sizeof(c->id), "bench-%d-sub-%d", pid, i);
        if (o->scenario == SC_P2P)
            snprintf(c->topic, sizeof(c->topic),
                     o->via_rule ? "bench/out/%d" : "bench/p2p/%d", i);
        else if (o->scenario == SC_FANOUT)
            snprintf(c->topic, sizeof(c->topic), "bench/fanout");
        else
            snprintf(c->topic, sizeof(c->topic), "%sbench/fanin/+",
                     o->share ? "$share/bench/" : "");
    }
    for (i = 0; i < o->pubs; i++) {
        cli_t *c = &b->clis[n++];
        c->role = ROLE_PUB;
        c->idx = i;
        c->b = b;
        snprintf(c->id, sizeof(c->id), "bench-%d-pub-%d", pid, i);
        if (o->scenario == SC_P2P)
            snprintf(c->topic, sizeof(c->topic),
                     o->via_rule ? "bench/in/%d" : "bench/p2p/%d", i);
        else if (o->scenario == SC_FANOUT)
            snprintf(c->topic, sizeof(c->topic), "bench/fanout");
        else
            snprintf(c->topic, sizeof(c->topic), "bench/fanin/%d", i);
    }
    b->n_pair_subs = (o->scenario == SC_P2P || o->share) ? 1 : o->subs;
    b->pairs = calloc((size_t)o->pubs * (size_t)b->n_pair_subs, sizeof(pair_t));
}

int main(int argc, char **argv) {
    bench_t *b = calloc(1, sizeof(*b));
    int i;
    if (parse(&b->o, argc, argv) != 0) {
        usage();
        return 64;
    }
    b->loop = uv_default_loop();
    b->rate = b->o.rate;
    b->n_sweep = 1;
    if (b->o.sweep) {
        char *s = strdup(b->o.sweep), *tok, *save = NULL;
        b->n_sweep = 0;
        for (tok = strtok_r(s, ",", &save); tok && b->n_sweep < 32;
             tok = strtok_r(NULL, ",", &save))
            b->sweep_rates[b->n_sweep++] = atof(tok);
        free(s);
        if (b->n_sweep == 0)
            b->n_sweep = 1;
        else
            b->rate = b->sweep_rates[0];
    }
    setup_clients(b);
    b->rss_before = proc_rss_kb(b->o.broker_pid);
    uv_timer_init(b->loop, &b->tick);
    uv_timer_init(b->loop, &b->conn_timer);
    b->tick.data = b->conn_timer.data = b;
    uv_timer_start(&b->conn_timer, connect_next, 0, 10);
    /* Hard bound: connect ramp + every window + slack. */
    {
        double total = (double)b->n_clis / b->o.connect_rate + 10 +
                       b->n_sweep * (b->o.warmup_s + b->o.duration_s + b->o.drain_s);
        alarm((unsigned)total + 30);
    }
    uv_run(b->loop, UV_RUN_DEFAULT);
    for (i = 0; b->pairs && i < b->o.pubs * b->n_pair_subs; i++)
        free(b->pairs[i].seen);
    for (i = 0; i < b->n_clis; i++) {
        ic_buf_free(&b->clis[i].in);
        ic_buf_free(&b->clis[i].out);
        ic_buf_free(&b->clis[i].wbuf);
        free(b->clis[i].slots);
    }
    free(b->pairs);
    free(b->clis);
    i = b->exit_code;
    free(b);
    return i;
}
