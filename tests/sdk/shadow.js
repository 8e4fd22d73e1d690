#!/usr/bin/env node
/* shadow.js - drive iotcored's Device Shadow service with the real AWS IoT
 * Device SDK v2 for JavaScript (aws-iot-device-sdk-v2, on aws-crt), over
 * mutual TLS, as a device would talk to AWS IoT Core.
 *
 *   node shadow.js HOST PORT CA CERT KEY THING 3|5 [TIMEOUT_S]
 *
 * Connects with client ID = THING (MQTT 3.1.1 through
 * AwsIotMqttConnectionConfigBuilder, MQTT 5 through
 * AwsIotMqtt5ClientConfigBuilder) and runs, with iotshadow.IotShadowClient
 * (the subscribeTo.../publish... API, the same for both protocol versions):
 * get of a missing shadow (404), update reported, delta, documents, a named
 * shadow, a version conflict (409), delete and get again (404). Then the
 * same service through the request-response client
 * (iotshadow.IotShadowClientv2), which subscribes to .../get/+ and
 * .../delete/+ and correlates every answer by the clientToken it generates.
 *
 * Prints "ok STEP" per step; exits 0 only when every step passed, 1 with
 * "FAIL STEP: why" otherwise, 3 on the overall timeout (default 20 s). */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const util = require('util');
const { mqtt, mqtt5, iot, iotshadow, CrtError } = require('aws-iot-device-sdk-v2');

const USAGE = 'usage: node shadow.js HOST PORT CA CERT KEY THING 3|5 [TIMEOUT_S]';
const argv = process.argv.slice(2);
if (argv.length < 7 || argv.length > 8 || !['3', '5'].includes(argv[6])) {
    console.error(USAGE);
    process.exit(2);
}
const [host, portArg, caPath, certPath, keyPath, thing, version] = argv;
const port = Number(portArg);
const timeoutS = argv[7] ? Number(argv[7]) : 20;
if (!Number.isInteger(port) || port <= 0 || !(timeoutS > 0)) {
    console.error(USAGE);
    process.exit(2);
}

for (const f of [caPath, certPath, keyPath]) {
    try {
        fs.accessSync(f, fs.constants.R_OK);
    } catch (e) {
        console.log(`FAIL usage: cannot read ${f}: ${e.message}`);
        process.exit(2);
    }
}

const QOS1 = mqtt.QoS.AtLeastOnce;
let step = 'connect';
let waitingFor = 'the connection';

const overall = setTimeout(() => {
    console.log(`FAIL ${step}: overall timeout (${timeoutS} s) waiting for ${waitingFor}`);
    process.exit(3);
}, timeoutS * 1000);

function show(v) {
    try {
        const s = JSON.stringify(v);
        if (s !== undefined)
            return s;
    } catch (e) { /* below */ }
    return util.inspect(v, { depth: 8, breakLength: Infinity, compact: true });
}

class Failure extends Error {}

/* Fail at once from an event handler (not from inside a step). */
function abort(why) {
    console.log(`FAIL ${step}: ${why}`);
    process.exit(1);
}

function check(cond, what, doc) {
    if (!cond)
        throw new Failure(doc === undefined ? what : `${what}; got ${show(doc)}`);
}

function deepEq(a, b) {
    return util.isDeepStrictEqual(a, b);
}

const nowS = () => Date.now() / 1000;

/* An integer number of seconds since the epoch, within 60 s of now. */
function checkSeconds(ts, what, doc) {
    check(Number.isInteger(ts), `${what} is not an integer (${show(ts)})`, doc);
    check(Math.abs(ts - nowS()) <= 60,
          `${what} ${ts} is not within 60 s of now (${Math.round(nowS())}): ` +
          'not epoch seconds', doc);
}

/* Messages of one response topic, in arrival order. */
class Inbox {
    constructor(name) {
        this.name = name;
        this.msgs = [];
        this.waiters = [];
    }
    /* The IotShadowClient message handler: (error, response). */
    handler() {
        return (error, response) => {
            if (error) {
                const raw = error.payload ? Buffer.from(error.payload).toString() : '';
                this.msgs.push({ __sdkError: `${error.message} (payload ${show(raw)})` });
            } else {
                this.msgs.push(response);
            }
            const w = this.waiters.splice(0);
            w.forEach((f) => f());
        };
    }
    wait() {
        return new Promise((resolve) => this.waiters.push(resolve));
    }
}

/* The first message to arrive on any of the inboxes (consumed). */
async function first(inboxes, what) {
    waitingFor = what;
    for (;;) {
        for (const box of inboxes) {
            if (box.msgs.length) {
                const msg = box.msgs.shift();
                check(msg.__sdkError === undefined,
                      `the SDK could not parse a message on ${box.name}: ${msg.__sdkError}`);
                return { box, msg };
            }
        }
        await Promise.race(inboxes.map((b) => b.wait()));
    }
}

/* The next message on `expected`; fails if one of `others` answers first. */
async function expectOn(expected, others, what) {
    const { box, msg } = await first([expected, ...others], `${what} on ${expected.name}`);
    check(box === expected, `${what}: the answer came on ${box.name}, not ${expected.name}`, msg);
    return msg;
}

function checkKeys(doc, allowed, required, what) {
    for (const k of Object.keys(doc))
        check(allowed.includes(k), `${what} has an unexpected key '${k}'`, doc);
    for (const k of required)
        check(k in doc, `${what} lacks '${k}'`, doc);
}

function checkError(doc, code, message, token, what) {
    checkKeys(doc, ['code', 'message', 'timestamp', 'clientToken'], ['code', 'message'], what);
    check(doc.code === code, `${what}: code ${show(doc.code)}, expected ${code}`, doc);
    check(doc.message === message,
          `${what}: message ${show(doc.message)}, expected ${show(message)}`, doc);
    check(doc.clientToken === token,
          `${what}: clientToken ${show(doc.clientToken)}, expected the request's ${show(token)}`,
          doc);
    if (doc.timestamp !== undefined)
        checkSeconds(doc.timestamp, `${what}: timestamp`, doc);
}

function checkToken(doc, token, what) {
    check(doc.clientToken === token,
          `${what}: clientToken ${show(doc.clientToken)}, expected the request's ${show(token)}`,
          doc);
}

const token = () => crypto.randomUUID();

async function runStep(name, fn) {
    step = name;
    await fn();
    console.log(`ok ${name}`);
}

/* ---- connection --------------------------------------------------------- */

async function connect311() {
    const builder = iot.AwsIotMqttConnectionConfigBuilder
        .new_mtls_builder_from_path(certPath, keyPath)
        .with_certificate_authority_from_path(undefined, caPath)
        .with_endpoint(host)
        .with_port(port)
        .with_client_id(thing)
        .with_clean_session(true)
        .with_keep_alive_seconds(60);
    const client = new mqtt.MqttClient();
    const conn = client.new_connection(builder.build());
    conn.on('error', (e) => { /* connect() rejects with it */ void e; });
    await conn.connect();
    /* the broker never has a reason to drop this device */
    conn.on('interrupt', (e) => abort(`the MQTT 3.1.1 connection was interrupted: ${e}`));
    return {
        conn,
        shadow: new iotshadow.IotShadowClient(conn),
        rr: (opts) => iotshadow.IotShadowClientv2.newFromMqtt311(conn, opts),
        close: async () => { await conn.disconnect(); },
    };
}

async function connect5() {
    const builder = iot.AwsIotMqtt5ClientConfigBuilder
        .newDirectMqttBuilderWithMtlsFromPath(host, certPath, keyPath);
    builder.withCertificateAuthorityFromPath(undefined, caPath);
    builder.withPort(port);
    builder.withConnectProperties({ clientId: thing, keepAliveIntervalSeconds: 60 });
    builder.withSessionBehavior(mqtt5.ClientSessionBehavior.Clean);
    const client = new mqtt5.Mqtt5Client(builder.build());
    await new Promise((resolve, reject) => {
        client.once('connectionSuccess', (ev) => {
            const cp = ev.connack;
            if (cp.reasonCode !== mqtt5.ConnectReasonCode.Success)
                reject(new Failure(`CONNACK reason code ${cp.reasonCode}`));
            else
                resolve();
        });
        client.once('connectionFailure', (ev) => {
            const rc = ev.connack ? ` (CONNACK reason code ${ev.connack.reasonCode})` : '';
            reject(new Failure(`MQTT 5 connection failed: ${ev.error}${rc}`));
        });
        client.start();
    });
    client.on('disconnection', (ev) => {
        if (step !== 'disconnect')
            abort(`the MQTT 5 connection was lost: ${ev.error}` +
                  (ev.disconnect ? ` (DISCONNECT reason code ${ev.disconnect.reasonCode})` : ''));
    });
    return {
        client,
        shadow: iotshadow.IotShadowClient.newFromMqtt5Client(client),
        rr: (opts) => iotshadow.IotShadowClientv2.newFromMqtt5(client, opts),
        close: async () => {
            const stopped = new Promise((resolve) => client.once('stopped', resolve));
            client.stop({ reasonCode: mqtt5.DisconnectReasonCode.NormalDisconnection });
            await stopped;
            client.close();
        },
    };
}

/* ---- the scenario ------------------------------------------------------- */

async function main() {
    const c = version === '5' ? await connect5() : await connect311();
    console.log('ok connect');
    const sh = c.shadow;
    const T = { thingName: thing };
    const N = { thingName: thing, shadowName: 'cfg' };
    const box = (n) => new Inbox(n);
    const pre = `$aws/things/${thing}/shadow`;
    const ib = {
        getAcc: box(`${pre}/get/accepted`), getRej: box(`${pre}/get/rejected`),
        updAcc: box(`${pre}/update/accepted`), updRej: box(`${pre}/update/rejected`),
        delAcc: box(`${pre}/delete/accepted`), delRej: box(`${pre}/delete/rejected`),
        delta: box(`${pre}/update/delta`), docs: box(`${pre}/update/documents`),
        nGetAcc: box(`${pre}/name/cfg/get/accepted`), nGetRej: box(`${pre}/name/cfg/get/rejected`),
        nUpdAcc: box(`${pre}/name/cfg/update/accepted`),
        nUpdRej: box(`${pre}/name/cfg/update/rejected`),
    };
    const sub = async (p, what) => {
        waitingFor = `the SUBACK for ${what}`;
        await p;
    };

    await runStep('subscribe', async () => {
        await sub(sh.subscribeToGetShadowAccepted(T, QOS1, ib.getAcc.handler()), ib.getAcc.name);
        await sub(sh.subscribeToGetShadowRejected(T, QOS1, ib.getRej.handler()), ib.getRej.name);
        await sub(sh.subscribeToUpdateShadowAccepted(T, QOS1, ib.updAcc.handler()), ib.updAcc.name);
        await sub(sh.subscribeToUpdateShadowRejected(T, QOS1, ib.updRej.handler()), ib.updRej.name);
        await sub(sh.subscribeToDeleteShadowAccepted(T, QOS1, ib.delAcc.handler()), ib.delAcc.name);
        await sub(sh.subscribeToDeleteShadowRejected(T, QOS1, ib.delRej.handler()), ib.delRej.name);
    });

    const get = async (what) => {
        const tok = token();
        waitingFor = `the PUBACK of ${what}`;
        await sh.publishGetShadow({ ...T, clientToken: tok }, QOS1);
        return tok;
    };
    const update = async (body, what) => {
        const tok = token();
        waitingFor = `the PUBACK of ${what}`;
        await sh.publishUpdateShadow({ ...T, ...body, clientToken: tok }, QOS1);
        return tok;
    };

    await runStep('get-missing', async () => {
        const tok = await get('get of a missing shadow');
        const r = await expectOn(ib.getRej, [ib.getAcc], 'get of a missing shadow');
        checkError(r, 404, `No shadow exists with name: '${thing}'`, tok, 'get/rejected');
    });

    await runStep('update-reported', async () => {
        const tok = await update({ state: { reported: { temp: 20 } } }, 'update reported');
        const r = await expectOn(ib.updAcc, [ib.updRej], 'update reported');
        checkKeys(r, ['state', 'metadata', 'version', 'timestamp', 'clientToken'],
                  ['state', 'metadata', 'version', 'timestamp', 'clientToken'], 'update/accepted');
        checkToken(r, tok, 'update/accepted');
        check(r.version === 1, 'update/accepted: version is not 1', r);
        check(deepEq(r.state, { reported: { temp: 20 } }),
              'update/accepted: state is not {reported:{temp:20}}', r);
        check(r.state.reported.temp === 20, 'update/accepted: state.reported.temp !== 20', r);
        checkKeys(r.metadata, ['reported'], ['reported'], 'update/accepted metadata');
        checkKeys(r.metadata.reported.temp, ['timestamp'], ['timestamp'],
                  'update/accepted metadata.reported.temp');
        checkSeconds(r.metadata.reported.temp.timestamp,
                     'update/accepted: metadata.reported.temp.timestamp', r);
        checkSeconds(r.timestamp, 'update/accepted: timestamp', r);
    });

    await runStep('subscribe-delta', async () => {
        await sub(sh.subscribeToShadowDeltaUpdatedEvents(T, QOS1, ib.delta.handler()),
                  ib.delta.name);
    });

    await runStep('update-desired-delta', async () => {
        const tok = await update({ state: { desired: { temp: 22 } } }, 'update desired');
        const r = await expectOn(ib.updAcc, [ib.updRej], 'update desired');
        checkToken(r, tok, 'update/accepted');
        check(r.version === 2, 'update/accepted: version is not 2', r);
        check(deepEq(r.state, { desired: { temp: 22 } }),
              'update/accepted: state is not {desired:{temp:22}}', r);
        checkSeconds(r.metadata.desired.temp.timestamp,
                     'update/accepted: metadata.desired.temp.timestamp', r);
        const d = (await first([ib.delta], `the delta event on ${ib.delta.name}`)).msg;
        checkKeys(d, ['state', 'metadata', 'version', 'timestamp', 'clientToken'],
                  ['state', 'metadata', 'version', 'timestamp'], 'update/delta');
        check(deepEq(d.state, { temp: 22 }), 'update/delta: state is not {temp:22}', d);
        check(d.version === 2, 'update/delta: version is not 2', d);
        checkToken(d, tok, 'update/delta');
        checkSeconds(d.metadata.temp.timestamp, 'update/delta: metadata.temp.timestamp', d);
        checkSeconds(d.timestamp, 'update/delta: timestamp', d);
    });

    await runStep('subscribe-documents', async () => {
        await sub(sh.subscribeToShadowUpdatedEvents(T, QOS1, ib.docs.handler()), ib.docs.name);
    });

    /* reported catches up with desired: version 3, documents 2 -> 3, and
     * no delta (checked at the end, once later answers have come in) */
    await runStep('documents', async () => {
        const tok = await update({ state: { reported: { temp: 22 } } }, 'update reported 22');
        const r = await expectOn(ib.updAcc, [ib.updRej], 'update reported 22');
        checkToken(r, tok, 'update/accepted');
        check(r.version === 3, 'update/accepted: version is not 3', r);
        const d = (await first([ib.docs], `the documents event on ${ib.docs.name}`)).msg;
        checkKeys(d, ['previous', 'current', 'timestamp', 'clientToken'],
                  ['previous', 'current', 'timestamp'], 'update/documents');
        checkToken(d, tok, 'update/documents');
        checkSeconds(d.timestamp, 'update/documents: timestamp', d);
        for (const [k, v, state] of [
            ['previous', 2, { desired: { temp: 22 }, reported: { temp: 20 } }],
            ['current', 3, { desired: { temp: 22 }, reported: { temp: 22 } }]]) {
            const doc = d[k];
            check(doc && typeof doc === 'object', `update/documents: ${k} is not an object`, d);
            checkKeys(doc, ['state', 'metadata', 'version'], ['state', 'metadata', 'version'],
                      `update/documents ${k}`);
            check(doc.version === v, `update/documents: ${k}.version is not ${v}`, d);
            check(deepEq(doc.state, state),
                  `update/documents: ${k}.state is not ${show(state)}`, d);
            checkSeconds(doc.metadata.desired.temp.timestamp,
                         `update/documents: ${k}.metadata.desired.temp.timestamp`, d);
            checkSeconds(doc.metadata.reported.temp.timestamp,
                         `update/documents: ${k}.metadata.reported.temp.timestamp`, d);
        }
    });

    await runStep('named-update', async () => {
        await sub(sh.subscribeToUpdateNamedShadowAccepted(N, QOS1, ib.nUpdAcc.handler()),
                  ib.nUpdAcc.name);
        await sub(sh.subscribeToUpdateNamedShadowRejected(N, QOS1, ib.nUpdRej.handler()),
                  ib.nUpdRej.name);
        await sub(sh.subscribeToGetNamedShadowAccepted(N, QOS1, ib.nGetAcc.handler()),
                  ib.nGetAcc.name);
        await sub(sh.subscribeToGetNamedShadowRejected(N, QOS1, ib.nGetRej.handler()),
                  ib.nGetRej.name);
        const tok = token();
        waitingFor = 'the PUBACK of the named update';
        await sh.publishUpdateNamedShadow({ ...N, state: { reported: { mode: 'eco' } },
                                            clientToken: tok }, QOS1);
        const r = await expectOn(ib.nUpdAcc, [ib.nUpdRej], 'named update');
        checkToken(r, tok, 'name/cfg/update/accepted');
        check(r.version === 1, 'name/cfg/update/accepted: version is not 1', r);
        check(deepEq(r.state, { reported: { mode: 'eco' } }),
              'name/cfg/update/accepted: state is not {reported:{mode:"eco"}}', r);
        checkSeconds(r.metadata.reported.mode.timestamp,
                     'name/cfg/update/accepted: metadata.reported.mode.timestamp', r);
    });

    await runStep('named-get', async () => {
        const tok = token();
        waitingFor = 'the PUBACK of the named get';
        await sh.publishGetNamedShadow({ ...N, clientToken: tok }, QOS1);
        const r = await expectOn(ib.nGetAcc, [ib.nGetRej], 'named get');
        checkKeys(r, ['state', 'metadata', 'version', 'timestamp', 'clientToken'],
                  ['state', 'metadata', 'version', 'timestamp', 'clientToken'],
                  'name/cfg/get/accepted');
        checkToken(r, tok, 'name/cfg/get/accepted');
        check(r.state.reported.mode === 'eco',
              'name/cfg/get/accepted: state.reported.mode !== "eco"', r);
        check(deepEq(r.state, { reported: { mode: 'eco' } }),
              'name/cfg/get/accepted: state is not {reported:{mode:"eco"}}', r);
        check(r.version === 1, 'name/cfg/get/accepted: version is not 1', r);
        checkSeconds(r.metadata.reported.mode.timestamp,
                     'name/cfg/get/accepted: metadata.reported.mode.timestamp', r);
        checkSeconds(r.timestamp, 'name/cfg/get/accepted: timestamp', r);
    });

    await runStep('version-conflict', async () => {
        const tok = await update({ state: { reported: { temp: 99 } }, version: 1 },
                                 'update with version 1');
        const r = await expectOn(ib.updRej, [ib.updAcc], 'update with a stale version');
        checkError(r, 409, 'Version conflict', tok, 'update/rejected');
    });

    await runStep('get-after-conflict', async () => {
        const tok = await get('get after the conflict');
        const r = await expectOn(ib.getAcc, [ib.getRej], 'get after the conflict');
        checkToken(r, tok, 'get/accepted');
        check(r.version === 3, 'get/accepted: version is not 3', r);
        check(deepEq(r.state, { desired: { temp: 22 }, reported: { temp: 22 } }),
              'get/accepted: state is not {desired:{temp:22},reported:{temp:22}} ' +
              '(no delta: they agree)', r);
        checkKeys(r.metadata, ['desired', 'reported'], ['desired', 'reported'],
                  'get/accepted metadata');
        checkSeconds(r.timestamp, 'get/accepted: timestamp', r);
    });

    await runStep('delete', async () => {
        const tok = token();
        waitingFor = 'the PUBACK of the delete';
        await sh.publishDeleteShadow({ ...T, clientToken: tok }, QOS1);
        const r = await expectOn(ib.delAcc, [ib.delRej], 'delete');
        checkKeys(r, ['version', 'timestamp', 'clientToken'],
                  ['version', 'timestamp', 'clientToken'], 'delete/accepted');
        checkToken(r, tok, 'delete/accepted');
        check(r.version === 3, 'delete/accepted: version is not 3 (the last version)', r);
        checkSeconds(r.timestamp, 'delete/accepted: timestamp', r);
    });

    await runStep('get-deleted', async () => {
        const tok = await get('get of the deleted shadow');
        const r = await expectOn(ib.getRej, [ib.getAcc], 'get of the deleted shadow');
        checkError(r, 404, `No shadow exists with name: '${thing}'`, tok, 'get/rejected');
    });

    /* Everything this client caused has been answered in order on this
     * connection by now: no leftovers (in particular no delta for the update
     * that made reported equal desired). */
    await runStep('no-stray-messages', async () => {
        check(ib.delta.msgs.length === 0,
              'a delta was published for the update that made reported equal desired',
              ib.delta.msgs);
        for (const b of Object.values(ib))
            check(b.msgs.length === 0, `unexpected message(s) on ${b.name}`, b.msgs);
    });

    /* ---- the request-response client (IotShadowClientv2) ---------------- */
    const rr = c.rr({ maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2,
                      operationTimeoutInSeconds: Math.max(5, Math.floor(timeoutS / 2)) });
    const rrError = (e, what) => {
        if (e instanceof Failure)
            return e;
        const me = e && e.modeledError;
        return new Failure(`${what} failed: ${e && e.message}` +
                           (me ? `; service answered ${show(me)}` : '') +
                           (e && e.internalError ? `; ${e.internalError}` : ''));
    };

    await runStep('rr-get-missing', async () => {
        waitingFor = 'IotShadowClientv2.getShadow of the deleted shadow';
        let r;
        try {
            r = await rr.getShadow(T);
        } catch (e) {
            const me = e && e.modeledError;
            check(me, `getShadow failed without a service answer: ${e && e.message}` +
                      (e && e.internalError ? ` (${e.internalError})` : ''));
            check(me.code === 404 && me.message === `No shadow exists with name: '${thing}'`,
                  'getShadow: not the 404 of a missing shadow', me);
            check(typeof me.clientToken === 'string' && me.clientToken.length > 0,
                  'getShadow: the rejection carries no clientToken', me);
            return;
        }
        check(false, 'getShadow of a deleted shadow succeeded', r);
    });

    let stream;
    const streamEvents = [];
    let streamWaiter = null;
    await runStep('rr-delta-stream', async () => {
        waitingFor = 'the delta stream subscription';
        stream = rr.createShadowDeltaUpdatedStream(T);
        await new Promise((resolve, reject) => {
            stream.on('subscriptionStatus', (ev) => {
                if (ev.type === 0 /* SubscriptionEstablished */)
                    resolve();
                else
                    reject(new Failure(`delta stream subscription status ${ev.type}: ${ev.error}`));
            });
            stream.on('incomingPublish', (ev) => {
                streamEvents.push(ev.message);
                if (streamWaiter)
                    streamWaiter();
            });
            stream.on('incomingPublishError', (ev) => {
                streamEvents.push({ __sdkError: `${ev.error} (payload ` +
                                    `${show(Buffer.from(ev.payload).toString())})` });
                if (streamWaiter)
                    streamWaiter();
            });
            stream.open();
        });
    });

    /* the request-response client hands over the parsed JSON (a Date only
     * in some SDK versions) */
    const checkDate = (d, what, doc) => {
        if (d instanceof Date) {
            check(Math.abs(d.getTime() / 1000 - nowS()) <= 60,
                  `${what} ${d.toISOString()} is not within 60 s of now: not epoch seconds`,
                  doc);
        } else {
            checkSeconds(d, what, doc);
        }
    };

    await runStep('rr-update', async () => {
        waitingFor = 'IotShadowClientv2.updateShadow';
        let r;
        try {
            r = await rr.updateShadow({ ...T, state: { desired: { temp: 25 } } });
        } catch (e) {
            throw rrError(e, 'updateShadow');
        }
        check(r.version === 4, 'updateShadow: version is not 4 (deleted at 3, continues)', r);
        check(deepEq(r.state, { desired: { temp: 25 } }),
              'updateShadow: state is not {desired:{temp:25}}', r);
        checkDate(r.timestamp, 'updateShadow: timestamp', r);
        waitingFor = 'the delta on the IotShadowClientv2 stream';
        while (streamEvents.length === 0)
            await new Promise((resolve) => { streamWaiter = resolve; });
        const d = streamEvents.shift();
        check(d.__sdkError === undefined, `delta stream: ${d.__sdkError}`);
        check(deepEq(d.state, { temp: 25 }), 'delta stream: state is not {temp:25}', d);
        check(d.version === 4, 'delta stream: version is not 4', d);
        checkDate(d.timestamp, 'delta stream: timestamp', d);
    });

    await runStep('rr-get', async () => {
        waitingFor = 'IotShadowClientv2.getShadow';
        let r;
        try {
            r = await rr.getShadow(T);
        } catch (e) {
            throw rrError(e, 'getShadow');
        }
        check(r.version === 4, 'getShadow: version is not 4', r);
        check(deepEq(r.state, { desired: { temp: 25 }, delta: { temp: 25 } }),
              'getShadow: state is not {desired:{temp:25},delta:{temp:25}}', r);
        checkDate(r.timestamp, 'getShadow: timestamp', r);
    });

    await runStep('rr-delete', async () => {
        waitingFor = 'IotShadowClientv2.deleteShadow';
        let r;
        try {
            r = await rr.deleteShadow(T);
        } catch (e) {
            throw rrError(e, 'deleteShadow');
        }
        check(r.version === 4, 'deleteShadow: version is not 4', r);
        checkDate(r.timestamp, 'deleteShadow: timestamp', r);
    });

    step = 'disconnect';
    waitingFor = 'the disconnect';
    stream.close();
    rr.close();
    await c.close();
    console.log('ok disconnect');
}

main().then(() => {
    clearTimeout(overall);
    process.exit(0);
}, (e) => {
    /* an assertion, an SDK/CRT error (e.g. a PUBACK/SUBACK failure code),
     * or a bug in this script (then the stack) */
    const why = e instanceof Failure ? e.message
        : e instanceof CrtError ? `${e.message}${e.error_name ? ` (${e.error_name})` : ''}`
            : e instanceof Error ? e.stack : `${typeof e === 'string' ? e : show(e)}`;
    console.log(`FAIL ${step}: ${why}`);
    process.exit(1);
});
