// Bad requests: each must get an OpenAI-shaped error with the right status, code and param,
// and the server must answer the next good request afterwards.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { BadRequestError, NotFoundError } from 'openai';

import {
    STORY_PROMPT, assertRawError, assertServing, chatMessages, expectApiError, getRaw, postRaw,
} from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

// Far more tokens than the 512-token context, in either test vocabulary.
const LONG_TEXT = 'the little dog ran to the big red house and '.repeat(200);

describeEachModel('errors', (model) => {
    const ctx = useServer(model);
    const chat = (params) => ctx.client.chat.completions.create({
        model: model.id, messages: chatMessages(), max_tokens: 4, ...params,
    });
    const complete = (params) => ctx.client.completions.create({
        model: model.id, prompt: STORY_PROMPT, max_tokens: 4, ...params,
    });
    const badRequest = (code, param) => ({ status: 400, code, param, errorClass: BadRequestError });

    // Registers a test that runs `body` and then checks the server still serves.
    const errorCase = (name, body) => it(name, async () => {
        await body();
        await assertServing(ctx);
    });

    for (const path of ['/v1/chat/completions', '/v1/completions']) {
        errorCase(`rejects malformed JSON on ${path} with invalid_json`, async () => {
            const res = await postRaw(ctx.server, path, '{"model": "x", "messages": [');
            assert.equal(assertRawError(res, 400).code, 'invalid_json');
        });
    }

    errorCase('rejects messages that are not an array with invalid_type', async () => {
        await expectApiError(chat({ messages: 'hi' }), badRequest('invalid_type', 'messages'));
    });

    errorCase('rejects a string temperature with invalid_type (chat)', async () => {
        await expectApiError(chat({ temperature: 'hot' }),
            badRequest('invalid_type', 'temperature'));
    });

    errorCase('rejects a string temperature with invalid_type (completions)', async () => {
        await expectApiError(complete({ temperature: 'hot' }),
            badRequest('invalid_type', 'temperature'));
    });

    errorCase('rejects a string max_tokens with invalid_type', async () => {
        await expectApiError(chat({ max_tokens: 'ten' }), badRequest('invalid_type', 'max_tokens'));
    });

    errorCase('requires messages', async () => {
        const res = ctx.client.chat.completions.create({ model: model.id, max_tokens: 4 });
        await expectApiError(res, badRequest('missing_required_parameter', 'messages'));
    });

    errorCase('rejects an empty messages array with invalid_value', async () => {
        await expectApiError(chat({ messages: [] }), badRequest('invalid_value', 'messages'));
    });

    errorCase('rejects an unknown role, naming the message', async () => {
        const messages = [{ role: 'wizard', content: 'hello' }];
        await expectApiError(chat({ messages }), badRequest('invalid_value', /^messages\[0\]/));
    });

    errorCase('rejects a chat prompt longer than the context', async () => {
        await expectApiError(chat({ messages: chatMessages(LONG_TEXT) }),
            badRequest('context_length_exceeded'));
    });

    errorCase('rejects a completion prompt longer than the context', async () => {
        await expectApiError(complete({ prompt: LONG_TEXT }),
            badRequest('context_length_exceeded'));
    });

    for (const max_tokens of [0, -5]) {
        errorCase(`rejects max_tokens ${max_tokens} (chat and completions)`, async () => {
            await expectApiError(chat({ max_tokens }), badRequest('invalid_value', 'max_tokens'));
            await expectApiError(complete({ max_tokens }),
                badRequest('invalid_value', 'max_tokens'));
        });
    }

    errorCase('rejects n above 8', async () => {
        await expectApiError(chat({ n: 9 }), badRequest('invalid_value', 'n'));
    });

    // Tools on a model whose chat template has no way to call them are refused, never ignored.
    errorCase('refuses tools the model\'s template cannot call', async () => {
        const tools = [{
            type: 'function',
            function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        }];
        await expectApiError(chat({ tools }), { status: 400, param: /^tools/ });
    });

    errorCase('refuses a response_format of an unknown type rather than ignoring it', async () => {
        const response_format = { type: 'yaml' };
        await expectApiError(chat({ response_format }),
            { status: 400, param: 'response_format.type' });
    });

    errorCase('answers an unknown model with 404 model_not_found', async () => {
        const expected = { status: 404, code: 'model_not_found', errorClass: NotFoundError };
        await expectApiError(chat({ model: 'no-such-model' }), expected);
        await expectApiError(complete({ model: 'no-such-model' }), expected);
    });

    errorCase('answers an unknown route with 404', async () => {
        assertRawError(await getRaw(ctx.server, '/v1/no-such-route'), 404);
        assertRawError(await postRaw(ctx.server, '/v1/no-such-route', {}), 404);
    });

    for (const path of ['/v1/chat/completions', '/v1/completions']) {
        errorCase(`answers GET ${path} with 405`, async () => {
            assertRawError(await getRaw(ctx.server, path), 405);
        });
    }
});
