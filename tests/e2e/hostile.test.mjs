// A table of hostile requests against every route: each is refused with its own 4xx in
// the route's own error shape (OpenAI's, or Anthropic's on /v1/messages), /health keeps answering, and the server's memory after the whole
// table is within a bound of what it was before. Raw sockets carry what fetch would not send.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { serverBinary, startServer, testModels } from './lib/server.mjs';

const enabled = serverBinary() && testModels().length > 0;
const suite = enabled ? describe : (title, fn) => describe(title, { skip: 'no server' }, fn);

const GENERATING = ['/v1/chat/completions', '/v1/completions', '/v1/messages'];
const isAnthropic = (route) => route.startsWith('/v1/messages');
// What the suite may leave behind (allocator caches, the engine's buffers grown to the
// largest prompt seen), and what a repeat of its largest requests may add to that: a leak
// would grow with every repeat.
const MEMORY_BOUND_KB = 40 * 1024;
const REPEAT_BOUND_KB = 4 * 1024;

function rssKb(pid) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

// Sends raw bytes and resolves with everything the server sent back before it closed the
// connection or went quiet for `quietMs`.
function rawExchange(port, bytes, quietMs = 1500) {
    return new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        const chunks = [];
        let timer;
        const finish = () => {
            clearTimeout(timer);
            socket.destroy();
            resolve(Buffer.concat(chunks).toString('latin1'));
        };
        const arm = () => {
            clearTimeout(timer);
            timer = setTimeout(finish, quietMs);
        };
        socket.on('data', (d) => { chunks.push(d); arm(); });
        socket.on('close', finish);
        socket.on('error', finish);
        socket.write(bytes);
        arm();
    });
}

function statusOf(raw) {
    return Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1]);
}

// A valid body for each generating route, with `patch` merged in.
function body(route, model, patch = {}) {
    const base = route === '/v1/completions'
        ? { model, prompt: 'Once upon a time', max_tokens: 2 }
        : { model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 };
    return { ...base, ...patch };
}

function assertErrorShape(status, text, expected, route = '') {
    assert.equal(status, expected.status, `status; body: ${text.slice(0, 300)}`);
    const parsed = JSON.parse(text);
    if (isAnthropic(route)) {
        // {type: "error", error: {type, message}, request_id}: no code or param fields, so
        // the message names the field.
        assert.equal(parsed.type, 'error', text.slice(0, 300));
        assert.equal(typeof parsed.error?.type, 'string');
        assert.ok(parsed.error.message.length > 0);
        assert.match(parsed.request_id, /^req_/);
        if (expected.param) {
            assert.ok(parsed.error.message.includes(`'${expected.param}'`), parsed.error.message);
        }
        return;
    }
    assert.equal(typeof parsed.error?.message, 'string');
    assert.equal(typeof parsed.error?.type, 'string');
    assert.ok(parsed.error.message.length > 0);
    if (expected.code) {
        assert.equal(parsed.error.code, expected.code, parsed.error.message);
    }
    if (expected.param !== undefined) {
        assert.equal(parsed.error.param, expected.param, parsed.error.message);
    }
}

// Body cases: [name, body (object, string or Buffer), expected].
function bodyCases(route, model) {
    const deep = '['.repeat(10000) + ']'.repeat(10000);
    const many = Array.from({ length: 100000 }, () => ({ role: 'user', content: 'x' }));
    const parts = Array.from({ length: 300 }, () => ({ type: 'text', text: 'x' }));
    const chat = route === '/v1/chat/completions';
    const anthropic = isAnthropic(route);
    const cases = [
        ['not JSON', '{"model":', { status: 400, code: 'invalid_json' }],
        ['an array', '[]', { status: 400, code: 'invalid_json' }],
        ['an empty body', '', { status: 400, code: 'invalid_json' }],
        ['nesting 10000 deep', `{"model":"${model}","x":${deep}}`, { status: 400, code: 'invalid_json' }],
        ['a duplicate key', `{"model":"${model}","model":"${model}"}`,
            { status: 400, code: 'invalid_json', param: 'model' }],
        ['invalid UTF-8', Buffer.concat([Buffer.from(`{"model":"${model}","user":"`),
            Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), { status: 400, code: 'invalid_json' }],
        ['a lone surrogate', `{"model":"${model}","user":"\\ud800"}`, { status: 400, code: 'invalid_json' }],
        ['a NUL in a key', `{"model":"${model}","us\\u0000er":"x"}`, { status: 400, code: 'invalid_json' }],
        ['a 5000-byte model name', body(route, 'm'.repeat(5000)), { status: 400, param: 'model' }],
        ['temperature 5', body(route, model, { temperature: 5 }), { status: 400, param: 'temperature' }],
        ['temperature 1.5', body(route, model, { temperature: 1.5 }),
            anthropic ? { status: 400, param: 'temperature' } : { status: 200 }],
        ['top_p 2', body(route, model, { top_p: 2 }), { status: 400, param: 'top_p' }],
        ['max_tokens 0', body(route, model, { max_tokens: 0 }), { status: 400, param: 'max_tokens' }],
        ['max_tokens 1e30', body(route, model, { max_tokens: 1e30 }), { status: 400, param: 'max_tokens' }],
        ['a string temperature', body(route, model, { temperature: 'hot' }),
            { status: 400, param: 'temperature' }],
        ['an unknown field', body(route, model, { frobnicate: 1 }), { status: 400, param: 'frobnicate' }],
        ['an unknown model', body(route, 'nope'), { status: 404, code: 'model_not_found' }],
    ].filter(([, , expected]) => expected.status !== 200);
    if (!anthropic) {
        // On /v1/messages max_tokens is a cap, and the answer ends with the context.
        cases.push(
            ['max_tokens past the context', body(route, model, { max_tokens: 1e9 }), { status: 400 }],
            ['n 100', body(route, model, { n: 100 }), { status: 400, param: 'n' }],
            ['presence_penalty 3', body(route, model, { presence_penalty: 3 }),
                { status: 400, param: 'presence_penalty' }],
            ['frequency_penalty -3', body(route, model, { frequency_penalty: -3 }),
                { status: 400, param: 'frequency_penalty' }],
            ['a 1e30 seed', body(route, model, { seed: 1e30 }), { status: 400, param: 'seed' }],
            ['5 stop sequences', body(route, model, { stop: ['a', 'b', 'c', 'd', 'e'] }),
                { status: 400, param: 'stop' }],
            ['a 5000-byte stop sequence', body(route, model, { stop: 's'.repeat(5000) }),
                { status: 400, param: 'stop' }],
        );
    }
    if (anthropic) {
        const blocks = Array.from({ length: 300 }, () => ({ type: 'text', text: 'x' }));
        cases.push(
            ['no max_tokens', { model, messages: [{ role: 'user', content: 'Hi' }] },
                { status: 400, param: 'max_tokens' }],
            ['17 stop sequences', body(route, model, { stop_sequences: Array(17).fill('s') }),
                { status: 400, param: 'stop_sequences' }],
            ['a 5000-byte stop sequence', body(route, model, { stop_sequences: ['s'.repeat(5000)] }),
                { status: 400, param: 'stop_sequences' }],
            ['100000 messages', body(route, model, { messages: many }), { status: 400, param: 'messages' }],
            ['300 content blocks', body(route, model, { messages: [{ role: 'user', content: blocks }] }),
                { status: 400, param: 'messages[0].content' }],
            ['a 9 MiB message', body(route, model, { messages: [{ role: 'user', content: 'a'.repeat(9 << 20) }] }),
                { status: 400, param: 'messages[0].content' }],
            ['a 9 MiB system prompt', body(route, model, { system: 'a'.repeat(9 << 20) }),
                { status: 400, param: 'system' }],
            ['a prompt far past the context',
                body(route, model, { messages: [{ role: 'user', content: 'once upon a time '.repeat(20000) }] }),
                { status: 400 }],
            ['a system role in messages', body(route, model, { messages: [{ role: 'system', content: 'x' }] }),
                { status: 400, param: 'messages[0].role' }],
            ['tools', body(route, model, { tools: [{ name: 'f', input_schema: { type: 'object' } }] }),
                { status: 400, param: 'tools' }],
            ['thinking without its budget', body(route, model, { thinking: { type: 'enabled' } }),
                { status: 400, param: 'thinking.budget_tokens' }],
            ['an image from a file id', body(route, model, { messages: [{ role: 'user', content: [
                { type: 'image', source: { type: 'file', file_id: 'f' } }] }] }),
                { status: 400, param: 'messages[0].content[0].source.type' }],
        );
    }
    if (chat) {
        cases.push(
            ['100000 messages', { model, messages: many }, { status: 400, param: 'messages' }],
            ['300 content parts', { model, messages: [{ role: 'user', content: parts }] },
                { status: 400, param: 'messages[0].content' }],
            ['a 9 MiB message', { model, messages: [{ role: 'user', content: 'a'.repeat(9 << 20) }] },
                { status: 400, param: 'messages[0].content' }],
            ['a prompt far past the context',
                { model, messages: [{ role: 'user', content: 'once upon a time '.repeat(20000) }] },
                { status: 400, code: 'context_length_exceeded' }],
            ['top_logprobs 50', body(route, model, { logprobs: true, top_logprobs: 50 }),
                { status: 400, param: 'top_logprobs' }],
            ['messages as a string', { model, messages: 'hi' }, { status: 400, param: 'messages' }],
            ['a bad role', { model, messages: [{ role: 'god', content: 'x' }] },
                { status: 400, param: 'messages[0].role' }],
        );
    } else if (!anthropic) {
        cases.push(
            ['a 9 MiB prompt', { model, prompt: 'a'.repeat(9 << 20) }, { status: 400, param: 'prompt' }],
            ['a prompt array of two', { model, prompt: ['a', 'b'] }, { status: 400, param: 'prompt' }],
        );
    }
    return cases;
}

suite('hostile requests', () => {
    let server;
    let rssBefore;
    const model = testModels()[0];
    let cases = 0;

    before(async () => {
        server = await startServer(model.path);
        // Warm up: the first request allocates what every later one reuses.
        await fetch(`${server.origin}/v1/completions`, {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body('/v1/completions', model.id)),
        }).then((r) => r.text());
        rssBefore = rssKb(server.child.pid);
    });
    after(async () => {
        const died = !server.isAlive();
        await server.stop();
        assert.ok(!died, server.describeFailure('the server died during the hostile suite'));
    });

    for (const route of GENERATING) {
        for (const [name, payload, expected] of bodyCases(route, model.id)) {
            it(`${route}: ${name} -> ${expected.status}`, async () => {
                const data = typeof payload === 'string' || Buffer.isBuffer(payload)
                    ? payload : JSON.stringify(payload);
                const res = await fetch(`${server.origin}${route}`, {
                    method: 'POST', headers: { 'content-type': 'application/json' }, body: data,
                });
                assertErrorShape(res.status, await res.text(), expected, route);
                assert.ok(res.headers.get('x-request-id'));
                cases += 1;
            });
        }
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
            it(`${route}: a ${type} body -> 415`, async () => {
                const res = await fetch(`${server.origin}${route}`, {
                    method: 'POST', headers: { 'content-type': type },
                    body: JSON.stringify(body(route, model.id)),
                });
                assertErrorShape(res.status, await res.text(), { status: 415 }, route);
                cases += 1;
            });
        }
        for (const method of ['GET', 'DELETE', 'PUT']) {
            it(`${route}: ${method} -> 405`, async () => {
                const res = await fetch(`${server.origin}${route}`, { method });
                assertErrorShape(res.status, await res.text(), { status: 405 }, route);
                assert.equal(res.headers.get('allow'), 'POST');
                cases += 1;
            });
        }
    }

    it('/v1/models and /v1/models/{id}: wrong methods and unknown ids', async () => {
        for (const [method, path, status] of [['POST', '/v1/models', 405], ['DELETE', '/v1/models', 405],
            ['GET', '/v1/models/nope', 404], ['GET', '/v2/anything', 404], ['GET', '/', 404],
            ['GET', '/v1/messages/count_tokens', 405], ['POST', '/v1/messages/batches', 404]]) {
            const res = await fetch(`${server.origin}${path}`, {
                method, headers: { 'content-type': 'application/json' },
                body: method === 'POST' ? '{}' : undefined,
            });
            assertErrorShape(res.status, await res.text(), { status }, path);
            cases += 1;
        }
    });

    const rawCases = [
        ['a 9000-byte URL', `GET /v1/models?${'q'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
        ['150 header fields', `GET /health HTTP/1.1\r\n${Array.from({ length: 150 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, 431],
        ['a 100 KiB header', `GET /health HTTP/1.1\r\nX-Big: ${'b'.repeat(100 << 10)}\r\n\r\n`, 431],
        ['a garbage request line', 'HELLO THERE\r\n\r\n', 400],
        ['a body over 32 MiB', `POST /v1/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${33 << 20}\r\n\r\n{`, 413],
        ['a negative Content-Length', 'POST /v1/completions HTTP/1.1\r\nContent-Length: -5\r\n\r\n', 400],
        ['chunked garbage', 'POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\n', 400],
    ];
    for (const [name, bytes, status] of rawCases) {
        it(`transport: ${name} -> ${status}`, async () => {
            const reply = await rawExchange(server.port, bytes);
            assert.equal(statusOf(reply), status, reply.slice(0, 200));
            assertErrorShape(status, reply.slice(reply.indexOf('\r\n\r\n') + 4), { status });
            cases += 1;
        });
    }

    it('transport: HTTP/1.0 and pipelined requests are answered in order', async () => {
        const old = await rawExchange(server.port, 'GET /health HTTP/1.0\r\n\r\n');
        assert.equal(statusOf(old), 200);
        const two = await rawExchange(server.port,
            'GET /health HTTP/1.1\r\n\r\nGET /v1/models/nope HTTP/1.1\r\n\r\n', 500);
        const statuses = [...two.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
        assert.deepEqual(statuses, [200, 404]);
        cases += 2;
    });

    // On a server of its own: with a one-second read timeout, keep-alive connections that
    // the other cases' client pools would reuse close under them.
    it('transport: slow headers are cut off after --read-timeout while /health answers', async () => {
        const strict = await startServer(model.path, { args: ['--read-timeout', '1'] });
        try {
            const slow = connect(strict.port, '127.0.0.1');
            slow.write('GET /health HTTP/1.1\r\nX-Slow: ');
            let slowClosed = false;
            const closed = new Promise((resolve) => slow.on('close', () => {
                slowClosed = true;
                resolve();
            }));
            const res = await fetch(`${strict.origin}/health`);
            assert.equal(res.status, 200);
            assert.equal(slowClosed, false, '/health answered while the slow client held on');
            await closed;  // the server, not the client, ends the slow connection
        } finally {
            await strict.stop();
        }
        cases += 1;
    });

    it('transport: a client that leaves mid-stream releases its request', async () => {
        for (let i = 0; i < 5; ++i) {
            const controller = new AbortController();
            const res = await fetch(`${server.origin}/v1/completions`, {
                method: 'POST', headers: { 'content-type': 'application/json' },
                body: JSON.stringify(body('/v1/completions', model.id, { max_tokens: 400, stream: true })),
                signal: controller.signal,
            });
            const reader = res.body.getReader();
            await reader.read();
            controller.abort();
        }
        const res = await fetch(`${server.origin}/v1/completions`, {
            method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body('/v1/completions', model.id)),
        });
        assert.equal(res.status, 200, 'the slots the leavers held are free again');
        cases += 1;
    });

    it('keeps serving, and memory returns within bound after the whole table', async () => {
        const res = await fetch(`${server.origin}/health`);
        assert.equal(res.status, 200);
        const rssAfter = rssKb(server.child.pid);
        console.log(`# hostile cases: ${cases}; RSS before ${rssBefore} kB, after ${rssAfter} kB`);
        assert.ok(cases > 60, `ran ${cases} cases`);
        if (process.env.OSPREY_SANITIZER) {
            return;  // ASan keeps freed memory in quarantine: RSS says nothing of leaks there
        }
        assert.ok(rssAfter - rssBefore < MEMORY_BOUND_KB,
            `RSS grew from ${rssBefore} kB to ${rssAfter} kB`);

        // The largest requests again, until memory settles: a leak would keep it growing.
        const largest = bodyCases('/v1/chat/completions', model.id)
            .filter(([name]) => /100000|9 MiB|far past/.test(name));
        const repeat = async () => {
            for (let round = 0; round < 3; ++round) {
                for (const [, payload] of largest) {
                    await fetch(`${server.origin}/v1/chat/completions`, {
                        method: 'POST', headers: { 'content-type': 'application/json' },
                        body: JSON.stringify(payload),
                    }).then((r) => r.text());
                }
            }
            return rssKb(server.child.pid);
        };
        const settled = await repeat();
        const again = await repeat();
        console.log(`# after repeats of the largest: ${settled} kB, then ${again} kB`);
        assert.ok(again - settled < REPEAT_BOUND_KB, `RSS grew from ${settled} kB to ${again} kB`);
        assert.ok(again - rssBefore < MEMORY_BOUND_KB, `RSS grew from ${rssBefore} kB to ${again} kB`);
    });
});
