/* custom_auth.js - the AWS IoT Device SDK v2 for JavaScript with a custom
 * authorizer against iotcored: direct MQTT on the 443-style listener (ALPN
 * mqtt, the SDK's with_custom_authorizer / newDirectMqttBuilderWithCustomAuth)
 * and MQTT over WebSocket (newWebsocketMqttBuilderWithCustomAuth: the
 * credentials in the CONNECT), MQTT 3.1.1 and 5.
 *
 *   node custom_auth.js HOST PORT CA AUTHORIZER PASSWORD direct3|direct5|ws5 CLIENT_ID
 *
 * Subscribes to ca/CLIENT_ID, publishes QoS 1 to it, checks the payload;
 * prints "ok <step>" per step and exits 0, or "FAIL <step>: why" and 1;
 * 30 s bound. */
'use strict';

const [host, portArg, caPath, authorizer, password, mode, clientId] = process.argv.slice(2);
const port = Number(portArg);
const topic = `ca/${clientId}`;
const payload = Buffer.from(`custom authorizer ${mode}`);
let step = 'connect';
setTimeout(() => { console.log(`FAIL ${step}: timeout`); process.exit(3); }, 30000).unref();
function fail(why) { console.log(`FAIL ${step}: ${why}`); process.exit(1); }
async function run(name, fn) { step = name; await fn(); console.log(`ok ${name}`); }

async function direct3() {
    const { mqtt, iot } = require('aws-iot-device-sdk-v2');
    const builder = iot.AwsIotMqttConnectionConfigBuilder.new_default_builder()
        .with_custom_authorizer('dev', authorizer, '', password)
        .with_endpoint(host)
        .with_port(port) /* after with_custom_authorizer, which sets 443 */
        .with_certificate_authority_from_path(undefined, caPath)
        .with_client_id(clientId)
        .with_clean_session(true);
    const conn = new mqtt.MqttClient().new_connection(builder.build());
    conn.on('error', () => {});
    await run('connect', () => conn.connect());
    let got;
    const arrived = new Promise((res) => { got = res; });
    await run('subscribe', () => conn.subscribe(topic, mqtt.QoS.AtLeastOnce,
                                                (t, p) => got([t, Buffer.from(p)])));
    await run('publish', async () => {
        await conn.publish(topic, payload, mqtt.QoS.AtLeastOnce);
        const [t, p] = await arrived;
        if (t !== topic || !p.equals(payload))
            fail(`got ${t} ${p}`);
    });
    await run('disconnect', () => conn.disconnect());
}

async function mqtt5client(ws) {
    const { mqtt5, iot } = require('aws-iot-device-sdk-v2');
    const cfg = { authorizerName: authorizer, username: 'dev', password: Buffer.from(password) };
    const builder = ws
        ? iot.AwsIotMqtt5ClientConfigBuilder.newWebsocketMqttBuilderWithCustomAuth(host, cfg)
        : iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithCustomAuth(host, cfg);
    builder.withPort(port);
    builder.withCertificateAuthorityFromPath(undefined, caPath);
    builder.withConnectProperties({ clientId, keepAliveIntervalSeconds: 60 });
    const client = new mqtt5.Mqtt5Client(builder.build());
    let got;
    const arrived = new Promise((res) => { got = res; });
    client.on('messageReceived', (ev) => got([ev.message.topicName,
                                              Buffer.from(ev.message.payload)]));
    await run('connect', () => new Promise((res, rej) => {
        client.on('connectionSuccess', res);
        client.on('connectionFailure', (ev) => rej(new Error(
            `connection failure: ${ev.error} reason ${ev.connack && ev.connack.reasonCode}`)));
        client.start();
    }));
    await run('subscribe', async () => {
        const r = await client.subscribe({ subscriptions: [{ topicFilter: topic, qos: 1 }] });
        if (r.reasonCodes[0] !== 1)
            fail(`SUBACK ${JSON.stringify(r.reasonCodes)}`);
    });
    await run('publish', async () => {
        await client.publish({ topicName: topic, payload, qos: 1 });
        const [t, p] = await arrived;
        if (t !== topic || !p.equals(payload))
            fail(`got ${t} ${p}`);
    });
    await run('disconnect', () => new Promise((res) => { client.on('stopped', res); client.stop(); }));
    client.close();
}

(async () => {
    try {
        if (mode === 'direct3')
            await direct3();
        else
            await mqtt5client(mode === 'ws5');
        console.log('ok custom_auth ' + mode);
        process.exit(0);
    } catch (e) {
        fail(e && e.message ? e.message : String(e));
    }
})();
