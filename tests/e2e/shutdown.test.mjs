// Graceful shutdown: SIGTERM stops taking requests, lets the ones already running finish
// within --drain-timeout, and exits 0.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serverBinary, startServer, testModels } from './lib/server.mjs';

const enabled = serverBinary() && testModels().length > 0;
const suite = enabled ? describe : (title, fn) => describe(title, { skip: 'no server' }, fn);

// The servers here get a context of 2048 tokens, so that a stream of 1500 runs long enough
// (a few seconds on the tiny models) for the signal to arrive while it runs.
const LONG = ['--ctx-size', '2048'];

// Starts a stream of many tokens and resolves once its first event has arrived, with a
// promise of the whole text the client will have read.
async function startLongStream(server) {
    const res = await fetch(`${server.origin}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
            model: testModels()[0].id, prompt: 'Once upon a time', max_tokens: 1500,
            temperature: 0, stream: true,
        }),
    });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    const rest = (async () => {
        for (;;) {
            const { value, done } = await reader.read().catch(() => ({ done: true }));
            if (done) {
                return text;
            }
            text += decoder.decode(value, { stream: true });
        }
    })();
    return { whole: rest };  // wrapped, or awaiting this function would await the whole stream
}

suite('graceful shutdown', () => {
    it('finishes a running stream after SIGTERM, refuses new work, and exits 0', async () => {
        const server = await startServer(testModels()[0].path, { args: ['--drain-timeout', '30', ...LONG] });
        const { whole } = await startLongStream(server);
        server.child.kill('SIGTERM');

        // The listener closes as soon as the signal is handled: a new client is refused, or
        // told 503 if it got in just before.
        let health = 200;
        for (let i = 0; i < 100 && health === 200; ++i) {
            health = await fetch(`${server.origin}/health`).then((r) => r.status, () => 'refused');
            await new Promise((r) => setTimeout(r, 10));
        }
        assert.ok(health === 'refused' || health === 503, `health during drain: ${health}`);

        const text = await whole;
        assert.match(text, /"finish_reason":"(length|stop)"/, 'the stream ran to its end');
        assert.match(text.trim(), /data: \[DONE\]$/);
        const exit = await server.exited;
        assert.deepEqual(exit, { code: 0, signal: null });
        assert.match(server.log(), /server\.draining/);
        assert.doesNotMatch(server.log(), /drain_cut_short/);
    });

    it('stops what is still running after --drain-timeout, and still exits 0', async () => {
        const server = await startServer(testModels()[0].path,
            { args: ['--drain-timeout', '0.05', ...LONG] });
        const { whole } = await startLongStream(server);
        server.child.kill('SIGTERM');
        const exit = await server.exited;
        assert.deepEqual(exit, { code: 0, signal: null });
        assert.match(server.log(), /drain_cut_short.*reason="?drain timeout/);
        await whole;
    });
});
