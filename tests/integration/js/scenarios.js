// Integration scenarios driven with MQTT.js from npm.
// Usage: node scenarios.js NAME PORT
// Each scenario asserts what the broker must do and prints "ok NAME"; any
// failure throws (non-zero exit). A global deadline ends every scenario.
'use strict';
const mqtt = require('mqtt');
const assert = require('assert');

const name = process.argv[2];
const port = Number(process.argv[3]);
setTimeout(() => { console.error('deadline: ' + name); process.exit(2); }, 10000).unref();

function connect(clientId, opts = {}) {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, clientId, protocolVersion: 5,
      reconnectPeriod: 0, ...opts });
    c.once('connect', (ack) => { c.connack = ack; resolve(c); });
    c.once('error', reject);
  });
}

function nextMessages(c, n) {
  return new Promise((resolve) => {
    const got = [];
    c.on('message', (topic, payload, packet) => {
      got.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos,
        properties: packet.properties });
      if (got.length === n) resolve(got);
    });
  });
}

async function pubsub(version) {
  const sub = await connect('js-sub-' + version, { protocolVersion: version });
  const pub = await connect('js-pub-' + version, { protocolVersion: version });
  const granted = await sub.subscribeAsync('js/' + version, { qos: 1 });
  assert.strictEqual(granted[0].qos, 1);
  const got = nextMessages(sub, 2);
  await pub.publishAsync('js/' + version, 'm0', { qos: 0 });
  await pub.publishAsync('js/' + version, 'm1', { qos: 1 });
  const m = await got;
  assert.deepStrictEqual(m.map((x) => [x.topic, x.payload, x.qos, x.retain]),
    [['js/' + version, 'm0', 0, false], ['js/' + version, 'm1', 1, false]]);
  await pub.endAsync();
  await sub.endAsync();
}

const scenarios = {
  async pubsub5() { await pubsub(5); },
  async pubsub4() { await pubsub(4); },

  // Client-to-broker topic aliases: MQTT.js assigns them itself.
  async topic_alias() {
    const sub = await connect('js-alias-sub');
    await sub.subscribeAsync('alias/+', { qos: 1 });
    const pub = await connect('js-alias-pub', { autoAssignTopicAlias: true,
      topicAliasMaximum: 8 });
    assert.strictEqual(pub.connack.properties.topicAliasMaximum, 8);
    const got = nextMessages(sub, 4);
    const sent = [];
    pub.on('packetsend', (p) => { if (p.cmd === 'publish') sent.push([p.topic, p.properties.topicAlias]); });
    for (const t of ['alias/a', 'alias/a', 'alias/b', 'alias/a'])
      await pub.publishAsync(t, 'x-' + t, { qos: 1 });
    const m = await got;
    // the client really sent aliases, and empty topics once they were set
    assert.deepStrictEqual(sent, [['alias/a', 1], ['', 1], ['alias/b', 2], ['', 1]]);
    assert.deepStrictEqual(m.map((x) => x.topic), ['alias/a', 'alias/a', 'alias/b', 'alias/a']);
    await pub.endAsync();
    await sub.endAsync();
  },

  // Broker-to-client topic aliases: the subscriber accepts 2; MQTT.js
  // resolves them, so every message must arrive on its real topic.
  async alias_out() {
    const sub = await connect('js-aout-sub', { properties: { topicAliasMaximum: 2 } });
    await sub.subscribeAsync('aout/+', { qos: 1 });
    const pub = await connect('js-aout-pub');
    const topics = ['aout/a', 'aout/b', 'aout/a', 'aout/c', 'aout/b', 'aout/c'];
    const got = nextMessages(sub, topics.length);
    const aliases = [];
    sub.on('packetreceive', (p) => { if (p.cmd === 'publish') aliases.push(p.properties && p.properties.topicAlias); });
    for (const t of topics) await pub.publishAsync(t, 'x', { qos: 1 });
    const m = await got;
    assert.deepStrictEqual(m.map((x) => x.topic), topics);
    // two slots: a -> 1, b -> 2, c goes without an alias
    assert.deepStrictEqual(aliases, [1, 2, 1, undefined, 2, undefined]);
    await pub.endAsync();
    await sub.endAsync();
  },

  // AWS: retained messages go only to a filter equal to the topic, with
  // RETAIN=1; a wildcard subscriber sees only later live publishes, RETAIN=0.
  async retain() {
    const pub = await connect('js-ret-pub');
    await pub.publishAsync('ret/js', 'kept', { qos: 1, retain: true });
    const exact = await connect('js-ret-exact');
    const e = nextMessages(exact, 1);
    await exact.subscribeAsync('ret/js', { qos: 1 });
    const got = await e;
    assert.deepStrictEqual([got[0].topic, got[0].payload, got[0].retain], ['ret/js', 'kept', true]);
    const wild = await connect('js-ret-wild');
    const w = nextMessages(wild, 1);
    await wild.subscribeAsync('ret/+', { qos: 1 });
    await pub.publishAsync('ret/live', 'live', { qos: 1 });
    const gw = await w;
    assert.deepStrictEqual([gw[0].topic, gw[0].payload, gw[0].retain], ['ret/live', 'live', false]);
    // clear it: an empty retained payload deletes
    await pub.publishAsync('ret/js', '', { qos: 1, retain: true });
    await Promise.all([pub.endAsync(), exact.endAsync(), wild.endAsync()]);
  },
};

(async () => {
  await scenarios[name]();
  console.log('ok ' + name);
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
