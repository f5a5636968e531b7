// What the test files share: starting osprey inside the test network, sending a chat request
// that names a media URL, reading the victims' counters, and the assertions that every blocked
// and every allowed case makes.
//
// Needs the environment that `run` sets up: OSPREY_NET_BIN, OSPREY_NET_MODEL, OSPREY_NET_STATE
// (a scratch folder) and OSPREY_NET_INSIDE=1 (proof that we are inside the test namespaces).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { CONTROL, VICTIMS, VICTIM_NAMES } from './topology.mjs';

export const PUBLIC_MESSAGE = 'The media could not be fetched from the given URL.';
export const PASSED_PREFIX = 'This model does not accept';

const ENV = (() => {
    const need = ['OSPREY_NET_BIN', 'OSPREY_NET_MODEL', 'OSPREY_NET_STATE'];
    const missing = need.filter((k) => !process.env[k]);
    if (missing.length || process.env.OSPREY_NET_INSIDE !== '1') {
        const what = missing.join(', ') || 'OSPREY_NET_INSIDE';
        throw new Error(`run these tests through tests/net/run (missing: ${what})`);
    }
    return {
        bin: process.env.OSPREY_NET_BIN,
        model: process.env.OSPREY_NET_MODEL,
        state: process.env.OSPREY_NET_STATE,
    };
})();

/** Words and fragments that no media error response may carry, whatever the case. */
const FORBIDDEN = [
    'loopback', 'private', 'resolv', 'link_local', 'link-local', 'cgnat', 'unique_local',
    'own_interface', 'ipv4_embedded', 'special', 'rule=', 'refused', 'curl', 'getaddrinfo',
    'timed out', 'timeout', 'too_large', 'too large', 'redirect', 'socket', 'could not connect',
    'localhost', 'metadata', 'secret', 'osprey-net', 'test-victims', 'etc/passwd', 'gopher',
    'file:', '127.0.0.1', '169.254', '10.0.0.5', '192.168', '100.64', '172.16', 'fd00', 'fd99',
    '10.99', '93.184', '2606:4700', '::ffff', 'addresses=', 'host=',
];

/** The options of the instance most cases run against: a small byte cap and short timeouts, so
 * that the endless and slow bodies end quickly. */
export const MAIN_ARGS = ['--media-max-bytes', '65536', '--media-timeout', '2',
    '--media-connect-timeout', '1', '--media-max-redirects', '5'];

// --- osprey --------------------------------------------------------------------------------

const running = [];

// Every osprey a test file started stops when the file's tests are done.
after(async () => {
    await Promise.all(running.map(async ({ server, child, file }) => {
        if (!server.exited) {
            child.kill('SIGTERM');
            await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
            if (!server.exited) {
                child.kill('SIGKILL');
            }
        }
        file.end();
    }));
});

/** Starts one osprey with `args` after the common ones; stops it when the file ends. */
export async function startOsprey(name, args = []) {
    const env = Object.fromEntries(Object.entries(process.env).filter(
        ([k]) => !k.startsWith('OSPREY_') && !/_proxy$/i.test(k)));
    const argv = ['serve', '--model', ENV.model, '--host', '127.0.0.1', '--port', '0',
        '--threads', '1', '--log-level', 'debug', ...args];
    const child = spawn(ENV.bin, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    appendFileSync(path.join(ENV.state, 'osprey.pids'), `${child.pid}\n`);
    const logPath = path.join(ENV.state, `osprey-${name}.log`);
    const file = createWriteStream(logPath);
    const server = { name, child, lines: [], logPath, port: 0, exited: null };
    let partial = '';
    child.stderr.on('data', (data) => {
        file.write(data);
        const text = partial + data.toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop();
        server.lines.push(...parts);
    });
    child.on('exit', (code, signal) => {
        server.exited = { code, signal };
    });
    running.push({ server, child, file });
    const deadline = Date.now() + 30000;
    while (!server.port) {
        if (server.exited || Date.now() > deadline) {
            throw new Error(`osprey ${name} did not start (${JSON.stringify(server.exited)}):\n` +
                server.lines.join('\n'));
        }
        const m = server.lines.map((l) => /http\.listening .*port=(\d+)/.exec(l)).find(Boolean);
        server.port = m ? Number(m[1]) : 0;
        await sleep(50);
    }
    const health = () => get('127.0.0.1', server.port, '/health').catch(() => ({ status: 0 }));
    while ((await health()).status !== 200) {
        if (server.exited || Date.now() > deadline) {
            throw new Error(`osprey ${name} never became healthy:\n${server.lines.join('\n')}`);
        }
        await sleep(100);
    }
    return server;
}

function get(host, port, urlPath) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host, port, path: urlPath, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({
                status: res.statusCode, text: Buffer.concat(chunks).toString(),
            }));
        });
        req.on('error', reject);
        req.setTimeout(10000, () => req.destroy(new Error('timed out')));
    });
}

/**
 * POSTs a chat completion whose user message carries `urls` (one or more) as media parts of
 * `kind` (image_url, audio_url or video_url). Returns status, the raw header block, the body
 * and the request id.
 */
export function chat(server, urls, { stream = false, kind = 'image_url' } = {}) {
    const content = [{ type: 'text', text: 'hi' },
        ...[urls].flat().map((url) => ({ type: kind, [kind]: { url } }))];
    const body = JSON.stringify({
        model: 'stories260K', messages: [{ role: 'user', content }], max_tokens: 4, stream,
    });
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: '127.0.0.1', port: server.port, path: '/v1/chat/completions', method: 'POST',
            agent: false,
            headers: {
                'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
            },
        }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const raw = [];
                for (let i = 0; i < res.rawHeaders.length; i += 2) {
                    raw.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
                }
                const statusLine = `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}`;
                resolve({
                    status: res.statusCode,
                    head: `${statusLine}\r\n${raw.join('\r\n')}`,
                    contentType: res.headers['content-type'] ?? '',
                    requestId: res.headers['x-request-id'],
                    text: Buffer.concat(chunks).toString('utf8'),
                });
            });
        });
        req.on('error', reject);
        req.setTimeout(60000, () => req.destroy(new Error('no answer from osprey in 60 s')));
        req.end(body);
    });
}

// --- the victims' side -----------------------------------------------------------------------

/** Both namespaces' /state: victim counters, secrets, DNS and outside-server logs. */
export async function networkState() {
    const [near, far] = await Promise.all(['near', 'far'].map(async (role) => {
        const r = await get(CONTROL[role].host, CONTROL[role].port, '/state');
        assert.equal(r.status, 200, `control server of the ${role} namespace answers`);
        return JSON.parse(r.text);
    }));
    return {
        victims: { ...near.victims, ...far.victims },
        secrets: { ...near.secrets, ...far.secrets },
        dns: near.dns,
        outside: far.outside,
        stores: [...near.stores, ...far.stores],
    };
}

export function victimTotals(state) {
    let connections = 0;
    let requests = 0;
    for (const v of Object.values(state.victims)) {
        connections += v.connections;
        requests += v.requests;
    }
    return { connections, requests };
}

function victimHits(state) {
    return Object.fromEntries(Object.entries(state.victims)
        .filter(([, v]) => v.connections || v.requests)
        .map(([label, v]) => [label, v]));
}

/** How often the DNS server was asked about `name` so far. */
export function dnsQueries(state, name) {
    return state.dns.filter((q) => q.name === name.toLowerCase().replace(/\.$/, '')).length;
}

// --- assertions --------------------------------------------------------------------------------

function assertNothingLeaks(res, state, extra = []) {
    // The request id is random hex and may spell "fd00" or "10.0" by chance; it is the one
    // thing the client is meant to get, so it is taken out before looking for leaks.
    const id = /x-request-id: *(\S+)/i.exec(res.head)?.[1] ?? '\u0000';
    const bytes = `${res.head}\r\n\r\n${res.text}`.toLowerCase().replaceAll(id.toLowerCase(), '');
    const needles = [
        ...FORBIDDEN,
        ...Object.values(state.secrets),
        ...Object.values(VICTIMS).map((v) => v.address).filter((a) => a.length > 3),
        ...VICTIM_NAMES,
        ...extra,
    ];
    for (const needle of needles) {
        assert.ok(!bytes.includes(needle.toLowerCase()), `the response must not contain ` +
            `${JSON.stringify(needle)}:\n${res.head}\r\n\r\n${res.text}`);
    }
}

async function logLine(server, requestId, events, waitMs = 3000) {
    const deadline = Date.now() + waitMs;
    const re = new RegExp(`\\b(${events.join('|')})\\b.*\\breq=${requestId}\\b`);
    for (;;) {
        const line = server.lines.find((l) => re.test(l));
        if (line || Date.now() > deadline) {
            return line;
        }
        await sleep(25);
    }
}

function hostOf(url) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url);
    if (!m) {
        return [];
    }
    const host = m[1].replace(/^.*@/, '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return host.length > 3 ? [host] : [];
}

/**
 * Sends `urls` and checks everything a blocked fetch must look like: 400, code
 * media_unavailable, the one public message, a request id, no SSE byte, nothing in the
 * response that names the network, no victim touched, and a refusal in the log under the
 * request's id with a rule (matching `rule` when given). Returns the response and log line.
 */
export async function expectBlocked(server, urls, { stream = false, kind, rule, events } = {}) {
    const before = await networkState();
    const res = await chat(server, urls, { stream, kind });
    const after = await networkState();

    const where = `request ${JSON.stringify(urls)} -> ${res.status} ${res.text}`;
    assert.deepEqual(victimHits(after), victimHits(before), `no victim may be reached: ${where}` +
        `\nvictims now: ${JSON.stringify(victimHits(after), null, 1)}`);
    assert.equal(res.status, 400, where);
    assert.match(res.contentType, /^application\/json/, `a JSON error, not a stream: ${where}`);
    assert.ok(!res.text.includes('data:'), `no SSE byte: ${where}`);
    assert.ok(res.requestId, `an x-request-id header: ${where}`);
    const body = JSON.parse(res.text);
    assert.equal(body.error?.code, 'media_unavailable', where);
    assert.equal(body.error?.message, PUBLIC_MESSAGE, where);
    assertNothingLeaks(res, after, [urls].flat().flatMap(hostOf));

    const local = [urls].flat().some((u) => u.startsWith('file://') || u.startsWith('/'));
    const line = await logLine(server, res.requestId,
        events ?? (local ? ['media.file_refused'] : ['media.fetch_refused']));
    assert.ok(line, `the log has a refusal under req=${res.requestId} for ${where}`);
    assert.match(line, /rule=/, `the refusal names its rule: ${line}`);
    if (rule) {
        assert.match(line, rule, `the refusal's rule: ${line}`);
    }
    return { res, line, before, after };
}

/**
 * Sends `urls` and checks that the gate let them through: the fetch worked and the bytes were
 * an image, so the model (which has no projector) is what says no. No victim may be touched.
 */
export async function expectPassed(server, urls, { stream = false, kind = 'image_url' } = {}) {
    const before = await networkState();
    const res = await chat(server, urls, { stream, kind });
    const after = await networkState();
    const where = `request ${JSON.stringify(urls)} -> ${res.status} ${res.text}`;
    assert.deepEqual(victimHits(after), victimHits(before), `no victim may be reached: ${where}`);
    assert.equal(res.status, 400, where);
    assert.match(res.contentType, /^application\/json/, where);
    const body = JSON.parse(res.text);
    assert.ok(body.error?.message?.startsWith(PASSED_PREFIX),
        `the gate passed and the model refused the image: ${where}`);
    // The refusal would be logged before the response was written; a short wait is enough.
    const refused = await logLine(server, res.requestId, ['media.fetch_refused'], 200);
    assert.equal(refused, undefined, `no refusal logged for a fetch that passed: ${refused}`);
    return { res, before, after };
}

// --- suites ------------------------------------------------------------------------------------

/**
 * One test file's suite: `netCase` registers a case and counts it; at the end the suite writes
 * its summary (cases run, victim hits during the suite) for `run` to print.
 */
export function suite(name) {
    const counts = { suite: name, cases: 0, failed: 0 };
    let start;
    before(async () => {
        start = victimTotals(await networkState());
    });
    after(async () => {
        const end = victimTotals(await networkState());
        counts.victimConnections = end.connections - start.connections;
        counts.victimRequests = end.requests - start.requests;
        writeFileSync(path.join(ENV.state, `summary-${name}.json`), JSON.stringify(counts));
    });
    return {
        netCase(title, fn) {
            test(title, async (t) => {
                counts.cases += 1;
                try {
                    await fn(t);
                } catch (err) {
                    counts.failed += 1;
                    throw err;
                }
            });
        },
    };
}
