// Wires node:test suites to osprey servers: one describe block per model under test.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import OpenAI from 'openai';

import { serverBinary, startServer, testModels } from './server.mjs';

/**
 * Declares `body(model)` once per model in OSPREY_TEST_MODELS, each in its own describe block.
 * Skips the whole suite when OSPREY_BIN is unset; an empty model list is a failure, since
 * a run that tests nothing must not look like a pass.
 */
export function describeEachModel(title, body) {
    if (!serverBinary()) {
        describe(title, { skip: 'OSPREY_BIN is not set' }, () => {});
        return;
    }
    const models = testModels();
    if (models.length === 0) {
        describe(title, () => {
            it('has models to test', () => {
                assert.fail('OSPREY_TEST_MODELS is empty: name at least one GGUF file');
            });
        });
        return;
    }
    for (const model of models) {
        describe(`${title} [${model.id}]`, () => body(model));
    }
}

/**
 * Starts a server for the enclosing describe block (before its tests) and stops it after them.
 * Returns a context whose `server` and `client` are set once the block's tests run.
 * `api_key` is what the client sends; `args` and `env` go to the server. `args` may be a
 * function, called when the server starts, for what is known only then (a store's URL).
 */
export function useServer(model, { args = [], env = {}, api_key = 'unused' } = {}) {
    const ctx = { model, server: undefined, client: undefined };
    before(async () => {
        const argv = typeof args === 'function' ? args() : args;
        ctx.server = await startServer(model.path, { args: argv, env });
        ctx.client = makeClient(ctx.server, api_key);
    });
    after(async () => {
        if (!ctx.server) {
            return;
        }
        // A server that died mid-suite shows up as connection errors in later tests; its log
        // says why, so the block fails with it.
        const died = !ctx.server.isAlive();
        await ctx.server.stop();
        if (died) {
            throw new Error(ctx.server.describeFailure('server died during the tests'));
        }
    });
    return ctx;
}

/** An SDK client for `server` that never retries, so each call is exactly one request. */
export function makeClient(server, api_key = 'unused') {
    return new OpenAI({
        baseURL: server.baseURL,
        apiKey: api_key,
        maxRetries: 0,
        timeout: 30_000,
    });
}
