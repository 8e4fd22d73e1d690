// wss_custom.js - MQTT.js over wss:// with a custom authorizer: the
// authorizer's name and token in the upgrade request's headers.
//
//   node wss_custom.js HOST PORT CA_FILE AUTHORIZER TOKEN_KEY TOKEN
//
// Prints "ok wss_custom" after a QoS 1 round trip on ca/<id>; "FAIL ..."
// and exit 1 otherwise (also when the upgrade is refused); 20 s bound.
'use strict';
const fs = require('fs');
const mqtt = require('mqtt');

const [host, port, caFile, authorizer, tokenKey, token] = process.argv.slice(2);
const seen = [];
function fail(why) { console.log('FAIL ' + why + ' after ' + seen.join(' ')); process.exit(1); }
setTimeout(() => fail('timeout'), 20000).unref();

const id = `wsca-${process.pid}`;
const c = mqtt.connect(`wss://${host}:${port}/mqtt`, {
    protocolVersion: 5, clientId: id, ca: fs.readFileSync(caFile),
    rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: 5000,
    wsOptions: { protocol: 'mqtt', headers: {
        'x-amz-customauthorizer-name': authorizer, [tokenKey]: token } },
});
c.on('packetreceive', p => seen.push(`${p.cmd}:${p.reasonCode}`));
c.on('error', e => fail(e.message));
c.on('close', () => fail('closed'));
c.on('connect', async () => {
    try {
        await c.subscribeAsync(`ca/${id}`, { qos: 1 });
        const got = new Promise(res => c.on('message', (t, p) => res([t, p.toString()])));
        await c.publishAsync(`ca/${id}`, 'custom', { qos: 1 });
        const [t, p] = await got;
        if (t !== `ca/${id}` || p !== 'custom')
            fail(`got ${t} ${p}`);
        c.removeAllListeners('close');
        await c.endAsync();
        console.log('ok wss_custom');
        process.exit(0);
    } catch (e) {
        fail(e.message);
    }
});
