// wss.js - MQTT.js over wss:// against iotcored with a SigV4 presigned URL
// (service iotdevicegateway, only host signed, as the AWS SDKs build it).
//
//   node wss.js HOST PORT CA_FILE ACCESS_KEY SECRET [CLIENT_PREFIX [SESSION_TOKEN]]
//
// Connects as CLIENT_PREFIX-4 (MQTT 3.1.1) and then CLIENT_PREFIX-5 (MQTT 5)
// (default prefix wss-PID), subscribes to wss/<client id> at QoS 1,
// publishes two QoS 1 messages to itself (a short one with non-ASCII bytes
// and 100 000 bytes, which takes 64-bit WebSocket frame lengths both ways),
// checks that exactly those payloads come back, disconnects; prints
// "ok round N <client id>" per version and "ok wss", exits 0; exits 1 with a
// reason otherwise; 20 s bound. A SESSION_TOKEN is appended to the URL after
// signing (X-Amz-Security-Token, unsigned), as the AWS SDKs do.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const mqtt = require('mqtt');

const [host, port, caFile, akid, secret, prefixArg, token] = process.argv.slice(2);
const prefix = prefixArg || `wss-${process.pid}`;
const region = 'us-east-1';

function hmac(key, s) { return crypto.createHmac('sha256', key).update(s).digest(); }
function enc(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function presign(path) {
    const now = new Date();
    const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
    const date = amzDate.slice(0, 8);
    const scope = `${date}/${region}/iotdevicegateway/aws4_request`;
    const hostHeader = port === '443' ? host : `${host}:${port}`;
    const q = {
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': `${akid}/${scope}`,
        'X-Amz-Date': amzDate,
        'X-Amz-Expires': '86400',
        'X-Amz-SignedHeaders': 'host',
    };
    const canonQuery = Object.keys(q).sort().map(k => `${enc(k)}=${enc(q[k])}`).join('&');
    const payloadHash = crypto.createHash('sha256').update('').digest('hex');
    const canon = ['GET', path, canonQuery, `host:${hostHeader}\n`, 'host', payloadHash].join('\n');
    const sts = ['AWS4-HMAC-SHA256', amzDate, scope,
                 crypto.createHash('sha256').update(canon).digest('hex')].join('\n');
    let k = hmac('AWS4' + secret, date);
    k = hmac(k, region);
    k = hmac(k, 'iotdevicegateway');
    k = hmac(k, 'aws4_request');
    const sig = crypto.createHmac('sha256', k).update(sts).digest('hex');
    let url = `wss://${hostHeader}${path}?${canonQuery}&X-Amz-Signature=${sig}`;
    if (token)
        url += `&X-Amz-Security-Token=${enc(token)}`;  // appended after signing
    return url;
}

function fail(why) { console.log('FAIL ' + why); process.exit(1); }
setTimeout(() => fail('timeout'), 20000).unref();

async function round(version) {
    const id = `${prefix}-${version}`;
    const c = mqtt.connect(presign('/mqtt'), {
        protocolVersion: version, clientId: id, ca: fs.readFileSync(caFile),
        rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: 5000,
        wsOptions: { protocol: 'mqtt' },
    });
    await new Promise((res, rej) => { c.on('connect', res); c.on('error', rej); c.on('close', () => rej(new Error('closed'))); });
    await c.subscribeAsync(`wss/${id}`, { qos: 1 });
    const inbox = [];
    let wake = null;
    c.on('message', (t, p) => { inbox.push([t, p]); if (wake) wake(); });
    const big = Buffer.alloc(100000);
    for (let i = 0; i < big.length; i++)
        big[i] = (i * 13 + 1) & 0xff;
    for (const want of [Buffer.from(`hello over websocket \u00e9\u2713 ${id}`), big]) {
        await c.publishAsync(`wss/${id}`, want, { qos: 1 });
        while (inbox.length === 0)
            await new Promise(res => { wake = res; });
        wake = null;
        const [t, p] = inbox.shift();
        if (t !== `wss/${id}` || !Buffer.from(p).equals(want))
            fail(`got ${t}: ${p.length} bytes ${Buffer.from(p).subarray(0, 32).toString('hex')}, ` +
                 `expected ${want.length} bytes`);
    }
    await c.endAsync();
    console.log(`ok round ${version} ${id}`);
}

(async () => {
    try {
        await round(4);
        await round(5);
        console.log('ok wss');
        process.exit(0);
    } catch (e) {
        fail(e && e.message ? e.message : String(e));
    }
})();
