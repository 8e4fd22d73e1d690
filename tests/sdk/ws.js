#!/usr/bin/env node
/* ws.js - MQTT over WebSocket (wss://HOST:PORT/mqtt, SigV4 presigned by the
 * SDK itself) against iotcored with the real AWS IoT Device SDKs for
 * JavaScript, as an application would use them:
 *
 *   v2-3  aws-iot-device-sdk-v2 (aws-crt), MQTT 3.1.1:
 *         iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({region,
 *         credentials_provider: auth.AwsCredentialsProvider.newStatic(...)})
 *   v2-5  aws-iot-device-sdk-v2, MQTT 5:
 *         iot.AwsIotMqtt5ClientConfigBuilder.newWebsocketMqttBuilderWithSigv4Auth(
 *         host, {region, credentialsProvider})
 *   v1    aws-iot-device-sdk (v1, MQTT.js 4 + websocket-stream underneath):
 *         awsIot.device({protocol: 'wss', accessKeyId, secretKey, region, ...});
 *         v1 has no CA option of its own for wss: websocketOptions goes to the
 *         `ws` WebSocket (its `ca` is a TLS option), as its README says.
 *
 *   node ws.js HOST PORT CA ACCESS_KEY SECRET v2-3|v2-5|v1 CLIENT_ID [TIMEOUT_S]
 *
 * Each connects with CLIENT_ID, subscribes to ws/CLIENT_ID at QoS 1,
 * publishes two QoS 1 messages to it (a short one with bytes outside ASCII,
 * and 100 000 bytes, which needs 64-bit WebSocket frame lengths both ways),
 * checks that exactly those payloads come back, and disconnects. Prints
 * "ok STEP" per step and "ok ws MODE CLIENT_ID" at the end; exits 0 only
 * then, 1 with "FAIL STEP: why" otherwise, 3 on the overall timeout (default
 * 30 s). */
'use strict';

const fs = require('fs');

const USAGE = 'usage: node ws.js HOST PORT CA ACCESS_KEY SECRET v2-3|v2-5|v1 CLIENT_ID [TIMEOUT_S]';
const argv = process.argv.slice(2);
if (argv.length < 7 || argv.length > 8 || !['v2-3', 'v2-5', 'v1'].includes(argv[5])) {
    console.error(USAGE);
    process.exit(2);
}
const [host, portArg, caPath, akid, secret, mode, clientId] = argv;
const port = Number(portArg);
const timeoutS = argv[7] ? Number(argv[7]) : 30;
const region = 'us-east-1';
const topic = `ws/${clientId}`;
const short = Buffer.from(`hello over wss from ${clientId} \u00e9\u2713 \u0000\u00ff`, 'utf8');
const big = Buffer.alloc(100000);
for (let i = 0; i < big.length; i++)
    big[i] = (i * 7 + 3) & 0xff;

let step = 'connect';
setTimeout(() => {
    console.log(`FAIL ${step}: overall timeout (${timeoutS} s)`);
    process.exit(3);
}, timeoutS * 1000).unref();

function fail(why) {
    console.log(`FAIL ${step}: ${why}`);
    process.exit(1);
}

/* Messages arriving on the topic, in order. */
const inbox = [];
let wake = null;
function deliver(t, payload) {
    inbox.push([t, Buffer.from(payload)]);
    if (wake) {
        const w = wake;
        wake = null;
        w();
    }
}
async function next() {
    while (inbox.length === 0)
        await new Promise((resolve) => { wake = resolve; });
    return inbox.shift();
}

async function expectMessage(want, what) {
    const [t, p] = await next();
    if (t !== topic)
        fail(`${what}: topic ${t}, expected ${topic}`);
    if (!p.equals(want))
        fail(`${what}: payload of ${p.length} bytes differs from the ${want.length} ` +
             `published (first bytes ${p.subarray(0, 24).toString('hex')})`);
}

async function runStep(name, fn) {
    step = name;
    await fn();
    console.log(`ok ${name}`);
}

/* ---- aws-iot-device-sdk-v2, MQTT 3.1.1 -------------------------------- */

async function v2mqtt3() {
    const { mqtt, iot, auth } = require('aws-iot-device-sdk-v2');
    const builder = iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({
        region,
        credentials_provider: auth.AwsCredentialsProvider.newStatic(akid, secret),
    })
        .with_endpoint(host)
        .with_port(port)
        .with_certificate_authority_from_path(undefined, caPath)
        .with_client_id(clientId)
        .with_clean_session(true)
        .with_keep_alive_seconds(60);
    const conn = new mqtt.MqttClient().new_connection(builder.build());
    conn.on('error', () => { /* connect() rejects with it */ });
    await runStep('connect', async () => {
        const sessionPresent = await conn.connect();
        if (sessionPresent)
            fail('session present on a clean connection');
    });
    conn.on('interrupt', (e) => fail(`connection interrupted: ${e}`));
    await runStep('subscribe', async () => {
        const r = await conn.subscribe(topic, mqtt.QoS.AtLeastOnce, (t, p) => deliver(t, p));
        if (r.qos !== mqtt.QoS.AtLeastOnce)
            fail(`SUBACK granted ${JSON.stringify(r)}`);
    });
    await runStep('publish short', async () => {
        await conn.publish(topic, short, mqtt.QoS.AtLeastOnce);
        await expectMessage(short, 'short message');
    });
    await runStep('publish 100000 bytes', async () => {
        await conn.publish(topic, big, mqtt.QoS.AtLeastOnce);
        await expectMessage(big, 'big message');
    });
    await runStep('disconnect', async () => { await conn.disconnect(); });
}

/* ---- aws-iot-device-sdk-v2, MQTT 5 ------------------------------------ */

async function v2mqtt5() {
    const { mqtt5, iot, auth } = require('aws-iot-device-sdk-v2');
    const builder = iot.AwsIotMqtt5ClientConfigBuilder.newWebsocketMqttBuilderWithSigv4Auth(host, {
        region,
        credentialsProvider: auth.AwsCredentialsProvider.newStatic(akid, secret),
    });
    builder.withPort(port);
    builder.withCertificateAuthorityFromPath(undefined, caPath);
    builder.withConnectProperties({ clientId, keepAliveIntervalSeconds: 60 });
    builder.withSessionBehavior(mqtt5.ClientSessionBehavior.Clean);
    const client = new mqtt5.Mqtt5Client(builder.build());
    client.on('messageReceived', (ev) => deliver(ev.message.topicName, ev.message.payload));
    await runStep('connect', async () => {
        await new Promise((resolve) => {
            client.once('connectionSuccess', (ev) => {
                if (ev.connack.reasonCode !== mqtt5.ConnectReasonCode.Success)
                    fail(`CONNACK reason code ${ev.connack.reasonCode}`);
                resolve();
            });
            client.once('connectionFailure', (ev) => {
                fail(`connection failed: ${ev.error}` +
                     (ev.connack ? ` (CONNACK reason code ${ev.connack.reasonCode})` : ''));
            });
            client.start();
        });
    });
    client.on('disconnection', (ev) => {
        if (step !== 'disconnect')
            fail(`connection lost: ${ev.error}` +
                 (ev.disconnect ? ` (DISCONNECT reason code ${ev.disconnect.reasonCode})` : ''));
    });
    await runStep('subscribe', async () => {
        const suback = await client.subscribe({
            subscriptions: [{ topicFilter: topic, qos: mqtt5.QoS.AtLeastOnce }],
        });
        if (suback.reasonCodes[0] !== mqtt5.SubackReasonCode.GrantedQoS1)
            fail(`SUBACK reason codes ${JSON.stringify(suback.reasonCodes)}`);
    });
    for (const [name, payload] of [['publish short', short], ['publish 100000 bytes', big]]) {
        await runStep(name, async () => {
            const r = await client.publish({ topicName: topic, payload, qos: mqtt5.QoS.AtLeastOnce });
            const rc = r && r.reasonCode !== undefined ? r.reasonCode : 0;
            if (rc !== mqtt5.PubackReasonCode.Success)
                fail(`PUBACK reason code ${rc}`);
            await expectMessage(payload, name);
        });
    }
    await runStep('disconnect', async () => {
        const stopped = new Promise((resolve) => client.once('stopped', resolve));
        client.stop({ reasonCode: mqtt5.DisconnectReasonCode.NormalDisconnection });
        await stopped;
        client.close();
    });
}

/* ---- aws-iot-device-sdk (v1) ------------------------------------------ */

async function v1() {
    const awsIot = require('aws-iot-device-sdk');
    const device = awsIot.device({
        protocol: 'wss',
        host,
        port,
        region,
        accessKeyId: akid,
        secretKey: secret,
        clientId,
        clean: true,
        keepalive: 60,
        autoResubscribe: false,
        offlineQueueing: false,
        websocketOptions: { ca: fs.readFileSync(caPath) },
    });
    device.on('error', (e) => fail(`error: ${e && e.message ? e.message : e}`));
    device.on('message', (t, p) => deliver(t, p));
    await runStep('connect', async () => {
        const closed = () => fail('the connection closed before the CONNACK (v1 hides the ' +
                                  'reason: upgrade refused or TLS failure)');
        device.once('close', closed);
        await new Promise((resolve) => device.once('connect', resolve));
        device.removeListener('close', closed);
    });
    device.on('offline', () => {
        if (step !== 'disconnect')
            fail('went offline');
    });
    device.on('reconnect', () => fail('reconnecting'));
    await runStep('subscribe', async () => {
        await new Promise((resolve) => device.subscribe(topic, { qos: 1 }, (err, granted) => {
            if (err || !granted || granted[0].qos !== 1)
                fail(`SUBACK ${err || JSON.stringify(granted)}`);
            resolve();
        }));
    });
    for (const [name, payload] of [['publish short', short], ['publish 100000 bytes', big]]) {
        await runStep(name, async () => {
            await new Promise((resolve) => device.publish(topic, payload, { qos: 1 }, (err) => {
                if (err)
                    fail(`publish: ${err}`);
                resolve();
            }));
            await expectMessage(payload, name);
        });
    }
    await runStep('disconnect', async () => {
        await new Promise((resolve) => device.end(false, resolve));
    });
}

(async () => {
    try {
        if (mode === 'v2-3')
            await v2mqtt3();
        else if (mode === 'v2-5')
            await v2mqtt5();
        else
            await v1();
        console.log(`ok ws ${mode} ${clientId}`);
        process.exit(0);
    } catch (e) {
        fail(e && e.stack ? e.stack : String(e));
    }
})();
