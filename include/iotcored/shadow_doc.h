/* shadow_doc.h - the Device Shadow document engine: update (validate,
 * merge, delta, metadata, version), get and delete, as pure functions over a
 * stored document (pure, L1; aws-iot-dataplane.md section 1).
 *
 * A stored shadow is opaque: desired and reported state, their metadata
 * trees (every leaf replaced by {"timestamp": s}, arrays by per-element
 * arrays) and the version. The functions here build the exact JSON texts
 * AWS IoT publishes on .../accepted, .../rejected, .../update/delta and
 * .../update/documents; the caller (the shadow service) routes them and
 * persists ic_shadow_doc_to_json. No loop, no I/O, no clock (now_s is an
 * argument), no globals; any thread.
 *
 * Decisions on the spec's open points (section 9), all AWS-UNCONFIRMED:
 *   - a non-UTF-8 update payload -> 415 "Unsupported documented encoding;
 *     supported encoding is UTF-8", checked before parsing;
 *   - `"state": null` is accepted and clears both sections (GG-SM; the guide
 *     says nulling the state keeps the shadow and bumps the version);
 *   - `delta` inside state is dropped silently (also from the echo); any
 *     other key inside state -> 400 "State contains an invalid node";
 *   - a null anywhere inside an array, duplicate object keys, a top-level
 *     non-object payload handled as: 400 "Invalid JSON", 400 "Invalid
 *     JSON", 400 "Missing required node: state";
 *   - a nested null delete that empties an object keeps `{}` (GG-SM);
 *   - version supplied for a shadow that does not exist: must equal the
 *     version the new shadow will get (prev_version + 1, so 1 for a fresh
 *     shadow; GG-SM), else 400 "Invalid version";
 *   - error documents carry "timestamp" for 400/413/415 and not for 404/409
 *     (the spec's observed 404 and documented 409 examples have none);
 *   - GET/DELETE payloads: a JSON object's string clientToken of <= 64
 *     bytes is echoed; anything else in the payload is ignored.
 */
#ifndef IOTCORED_SHADOW_DOC_H
#define IOTCORED_SHADOW_DOC_H

#include <stddef.h>
#include <stdint.h>

typedef struct ic_shadow_doc_s ic_shadow_doc_t;

#define IC_SHADOW_MAX_DOC_BYTES 8192 /* AWS: desired+reported, metadata excluded */
#define IC_SHADOW_MAX_DEPTH 6        /* AWS: error text "maximum is 6" */
#define IC_SHADOW_TOKEN_MAX 64       /* AWS: clientToken bytes */

typedef struct ic_shadow_limits_s {
    size_t max_doc_bytes; /* serialized desired + reported, bytes; 8192 */
    int max_depth;        /* containers per section, the section object being
                             level 1 (GG-SM counting); 6 */
} ic_shadow_limits_t;

/* Results of one operation. Every text is NUL-terminated compact JSON owned
 * by the struct (release with ic_shadow_out_free); NULL when not produced.
 * On success exactly the documents of that operation are set, on failure
 * only rejected. */
typedef struct ic_shadow_out_s {
    int code;        /* HTTP-style: 200, or 400/404/409/413/415 */
    char *accepted;  /* update/get/delete accepted document */
    char *documents; /* update only: {"previous","current","timestamp"...} */
    char *delta;     /* update only: NULL when the resulting delta is empty */
    char *rejected;  /* {"code","message"[,"timestamp"][,"clientToken"]} */
} ic_shadow_out_t;

/* Parse a stored shadow written by ic_shadow_doc_to_json (stored borrowed).
 * Returns a new document owned by the caller, or NULL if stored is not a
 * well-formed storage text. */
ic_shadow_doc_t *ic_shadow_doc_from_json(const char *stored);

/* The storage text of doc (borrowed): compact JSON
 * {"state":{"desired"?,"reported"?},"metadata":{"desired"?,"reported"?},
 *  "version":V}; ic_shadow_doc_from_json of it gives a document whose
 * ic_shadow_doc_to_json is byte-identical. Owned by the caller (free()). */
char *ic_shadow_doc_to_json(const ic_shadow_doc_t *doc);

/* The document's version (>= 1). doc borrowed. */
int64_t ic_shadow_doc_version(const ic_shadow_doc_t *doc);

/* Release doc (taken); NULL is a no-op. */
void ic_shadow_doc_free(ic_shadow_doc_t *doc);

/* Apply an update request (payload borrowed, len bytes, need not be
 * NUL-terminated) to *doc (in/out; NULL = no shadow exists). prev_version is
 * used only when *doc is NULL: the version of a shadow deleted within the
 * retention window, or 0; the new shadow gets prev_version + 1. lim
 * borrowed. out (out) is overwritten: the caller passes a zeroed or freed
 * struct and releases it with ic_shadow_out_free whatever the result.
 *
 * On success *doc is replaced by the new document (the old one is freed),
 * out->code = 200 and out->accepted, out->documents and (if the resulting
 * delta is non-empty) out->delta are set. On failure *doc is untouched,
 * out->rejected is the error document and out->code its code.
 *
 * Returns 0, or
 *   IC_EINVAL    400 (Invalid JSON, Missing required node: state, ...node
 *                must be an object, Invalid clientToken, Invalid version,
 *                too many levels of nesting, State contains an invalid
 *                node) or 415 (payload not UTF-8);
 *   IC_ECONFLICT 409 Version conflict;
 *   IC_ETOOBIG   413 the resulting desired+reported exceed max_doc_bytes. */
int ic_shadow_update(ic_shadow_doc_t **doc, int64_t prev_version,
                     const uint8_t *payload, size_t len, int64_t now_s,
                     const ic_shadow_limits_t *lim, ic_shadow_out_t *out);

/* Answer a get request. doc borrowed (NULL = no shadow); not_found_name
 * borrowed, the name quoted in the 404 message; payload borrowed (may be
 * NULL when len is 0). out (out) as for ic_shadow_update.
 *
 * Returns 0 with out->accepted = the get/accepted document (state with
 * desired/reported/delta when non-empty, metadata desired/reported,
 * version, timestamp = now_s, clientToken if the payload carries one), or
 * IC_ENOTFOUND with out->rejected = 404 "No shadow exists with name:
 * '<not_found_name>'". */
int ic_shadow_get(const ic_shadow_doc_t *doc, const char *not_found_name,
                  const uint8_t *payload, size_t len, int64_t now_s,
                  ic_shadow_out_t *out);

/* Answer a delete request. On success frees *doc (in/out) and sets it to
 * NULL, stores the deleted version in *deleted_version (out) and sets
 * out->accepted = {"version":V,"timestamp":T[,"clientToken"]}; returns 0.
 * If *doc is NULL returns IC_ENOTFOUND with the 404 document as for
 * ic_shadow_get, leaving *deleted_version untouched. Other pointers as for
 * ic_shadow_get. */
int ic_shadow_delete(ic_shadow_doc_t **doc, const char *not_found_name,
                     const uint8_t *payload, size_t len, int64_t now_s,
                     ic_shadow_out_t *out, int64_t *deleted_version);

/* A service-level refusal (429 in-flight limit, 500 store failure): sets
 * out->rejected = {"code","message","timestamp"[,"clientToken"]} with the
 * clientToken of payload when it is a JSON object carrying a valid one.
 * Returns the IC_E* of the code (IC_EINVAL for codes without their own). */
int ic_shadow_reject(int code, const char *message, const uint8_t *payload,
                     size_t len, int64_t now_s, ic_shadow_out_t *out);
/* Release the texts of out and zero it; out may be NULL. */
void ic_shadow_out_free(ic_shadow_out_t *out);

#endif
