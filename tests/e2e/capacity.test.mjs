// What the engine's settings promise: the memory line at start-up and the refusal of a cache
// that cannot fit, --ubatch-size checked against --batch-size, and --request-timeout answered
// with a 504 in each API's own error shape.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { serverBinary, startServer, testModels } from './lib/server.mjs';

const enabled = serverBinary() && testModels().length > 0;
const suite = enabled ? describe : (title, fn) => describe(title, { skip: 'no server' }, fn);

// Resolves with the failure message of a server that must refuse to start.
async function refusedStart(args) {
    try {
        const server = await startServer(testModels()[0].path, { args });
        await server.stop();
    } catch (err) {
        return err.message;
    }
    assert.fail(`the server started with ${args.join(' ')}`);
}

suite('start-up memory', () => {
    it('logs the KV cache size for --ctx-size and --parallel', async () => {
        const server = await startServer(testModels()[0].path, { args: ['--parallel', '3'] });
        try {
            const line = /model\.memory kv_cache_mib=([\d.]+) ctx_per_sequence=512 parallel=3 /
                .exec(server.log());
            assert.ok(line, server.log());
            assert.ok(Number(line[1]) > 0);
        } finally {
            await server.stop();
        }
    });

    it('refuses a KV cache that cannot fit, naming what to lower', async () => {
        const message = await refusedStart(['--ctx-size', '16000000', '--parallel', '256']);
        assert.match(message, /exit code 1/);
        assert.match(message, /lower --ctx-size or --parallel/);
    });

    it('refuses an ubatch larger than the batch', async () => {
        const message = await refusedStart(['--batch-size', '256', '--ubatch-size', '512']);
        assert.match(message, /exit code 1/);
        assert.match(message, /--ubatch-size \(512\) may not exceed --batch-size \(256\)/);
    });

    it('refuses a batch too small for a token of every sequence', async () => {
        const message = await refusedStart(['--parallel', '64', '--batch-size', '32']);
        assert.match(message, /exit code 1/);
        assert.match(message, /--batch-size \(32\) must be at least --parallel \(64\)/);
    });
});

// The limit is one millisecond and every prompt takes longer than that to prepare (a few
// thousand words to tokenize), so each request is past its deadline before it can run.
suite('--request-timeout', () => {
    let server;
    const words = Array.from({ length: 2000 }, (_, i) => `word${i % 97}`).join(' ');

    before(async () => {
        server = await startServer(testModels()[0].path, {
            args: ['--ctx-size', '16384', '--request-timeout', '0.001'],
        });
    });
    after(async () => server?.stop());

    it('answers a Chat Completion with a 504 timeout_error', async () => {
        const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'x', maxRetries: 0 });
        for (const stream of [false, true]) {
            const err = await client.chat.completions
                .create({ model: testModels()[0].id, messages: [{ role: 'user', content: words }],
                    max_tokens: 8, stream })
                .then(() => null, (e) => e);
            assert.ok(err instanceof OpenAI.APIError, `stream=${stream}: ${err}`);
            assert.equal(err.status, 504);
            assert.equal(err.error.type, 'timeout_error');
            assert.equal(err.error.code, 'request_timeout');
            assert.ok(err.headers.get('x-request-id'));
        }
        assert.match(server.log(), /generation\.timeout req=\S+ state=preparing/);
    });

    it('answers an Anthropic Message with a 504 timeout_error', async () => {
        const client = new Anthropic({ baseURL: server.origin, apiKey: 'x', maxRetries: 0 });
        const err = await client.messages
            .create({ model: testModels()[0].id, max_tokens: 8,
                messages: [{ role: 'user', content: words }] })
            .then(() => null, (e) => e);
        assert.ok(err instanceof Anthropic.APIError, String(err));
        assert.equal(err.status, 504);
        assert.equal(err.error.type, 'error');
        assert.equal(err.error.error.type, 'timeout_error');
    });

    it('keeps serving /health', async () => {
        assert.equal((await fetch(`${server.origin}/health`)).status, 200);
    });
});
