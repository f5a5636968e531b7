// Tool calls on Chat Completions through the official SDK, on the generated model whose chat
// template offers tools (osprey-make-test-model --tools-template). A forced tool choice is held
// by a grammar, so even random weights make a call that parses and matches its schema, streamed
// or not; the call and its result go back into the conversation; what a template or osprey
// cannot honour is a 400 naming the field.

import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, it } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { BadRequestError } from 'openai';

import { expectApiError } from './lib/api.mjs';
import { serverBinary } from './lib/server.mjs';
import { useServer } from './lib/suite.mjs';

const TOOLS_MODEL = process.env.OSPREY_TEST_TOOLS_MODEL;
const STORIES = (process.env.OSPREY_TEST_MODELS ?? '').split(',')
    .find((path) => path.endsWith('stories260K.gguf'));

// Enums keep a random-weight model's arguments short, so that every forced call ends well
// within max_tokens.
export const weatherTool = {
    type: 'function',
    function: {
        name: 'get_weather',
        description: 'The weather in a city.',
        parameters: {
            type: 'object',
            properties: {
                city: { enum: ['Paris', 'Rome', 'Oslo'] },
                unit: { enum: ['celsius', 'fahrenheit'] },
            },
            required: ['city', 'unit'],
            additionalProperties: false,
        },
    },
};
const timeTool = {
    type: 'function',
    function: {
        name: 'get_time',
        description: 'The time in a city.',
        parameters: {
            type: 'object',
            properties: { city: { enum: ['Paris', 'Rome'] } },
            required: ['city'],
        },
    },
};

function assertWeatherCall(call) {
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.match(call.id, /^call_/);
    const args = JSON.parse(call.function.arguments);
    assert.deepEqual(Object.keys(args).sort(), ['city', 'unit']);
    assert.ok(['Paris', 'Rome', 'Oslo'].includes(args.city), call.function.arguments);
    assert.ok(['celsius', 'fahrenheit'].includes(args.unit), call.function.arguments);
    return args;
}

const skip = !serverBinary() ? 'OSPREY_BIN is not set'
    : !TOOLS_MODEL ? 'OSPREY_TEST_TOOLS_MODEL is not set' : false;

describe('tool calls on Chat Completions', { skip }, () => {
    const model = { path: TOOLS_MODEL, id: basename(TOOLS_MODEL ?? '').replace(/\.gguf$/, '') };
    const ctx = useServer(model, { args: ['--ctx-size', '1024'] });
    const params = (extra) => ({
        model: model.id,
        max_tokens: 300,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [weatherTool, timeTool],
        parallel_tool_calls: false,
        ...extra,
    });
    const forced = { type: 'function', function: { name: 'get_weather' } };

    it('makes a forced call that parses and matches its schema, whatever the seed', async () => {
        for (const seed of [1, 2, 3]) {
            const r = await ctx.client.chat.completions.create(
                params({ tool_choice: forced, temperature: 1, seed }));
            const choice = r.choices[0];
            assert.equal(choice.finish_reason, 'tool_calls', JSON.stringify(choice));
            assert.equal(choice.message.content, null);
            assert.equal(choice.message.tool_calls.length, 1);
            assertWeatherCall(choice.message.tool_calls[0]);
        }
    });

    it('makes some call when tool_choice is required', async () => {
        const r = await ctx.client.chat.completions.create(
            params({ tool_choice: 'required', temperature: 0 }));
        assert.equal(r.choices[0].finish_reason, 'tool_calls');
        const call = r.choices[0].message.tool_calls[0];
        assert.ok(['get_weather', 'get_time'].includes(call.function.name));
        JSON.parse(call.function.arguments);
    });

    // The SDK's stream helper puts the deltas back together and parses the arguments itself.
    it('streams the call: the SDK assembles the same call as the whole response', async () => {
        const whole = await ctx.client.chat.completions.create(
            params({ tool_choice: forced, temperature: 0 }));
        const stream = ctx.client.chat.completions.stream(
            params({ tool_choice: forced, temperature: 0 }));
        const argumentsDone = [];
        stream.on('tool_calls.function.arguments.done', (e) => argumentsDone.push(e));
        const final = await stream.finalChatCompletion();
        const call = final.choices[0].message.tool_calls[0];
        assert.equal(final.choices[0].finish_reason, 'tool_calls');
        assert.deepEqual(assertWeatherCall(call),
            JSON.parse(whole.choices[0].message.tool_calls[0].function.arguments));
        assert.equal(argumentsDone.length, 1);
        assert.equal(argumentsDone[0].name, 'get_weather');
    });

    it('takes the call and its result back into the conversation', async () => {
        const first = await ctx.client.chat.completions.create(
            params({ tool_choice: forced, temperature: 0 }));
        const call = first.choices[0].message.tool_calls[0];
        const history = [
            { role: 'user', content: 'What is the weather in Paris?' },
            first.choices[0].message,
            { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' },
        ];
        const second = await ctx.client.chat.completions.create(
            params({ messages: history, tool_choice: 'none', max_tokens: 8, temperature: 0 }));
        assert.equal(second.choices[0].message.tool_calls, undefined);
        assert.equal(typeof second.choices[0].message.content, 'string');
        // The history, the call and its result are all in the prompt.
        assert.ok(second.usage.prompt_tokens > first.usage.prompt_tokens + 20,
            `${second.usage.prompt_tokens} vs ${first.usage.prompt_tokens}`);
    });

    it('answers in text when the model does not call a tool', async () => {
        const r = await ctx.client.chat.completions.create(params({ max_tokens: 12, temperature: 0 }));
        const choice = r.choices[0];
        assert.ok(['stop', 'length', 'tool_calls'].includes(choice.finish_reason));
        if (choice.finish_reason !== 'tool_calls') {
            assert.equal(typeof choice.message.content, 'string');
        }
    });

    const refusals = [
        ['a tool choice naming no offered tool',
            { tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice'],
        ['a tool choice without tools', { tools: undefined, tool_choice: 'required' }, 'tool_choice'],
        ['a tool that is not a function', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
        ['a bad tool name',
            { tools: [{ type: 'function', function: { name: 'a b' } }] }, 'tools[0].function.name'],
        ['the same tool twice', { tools: [weatherTool, weatherTool] }, 'tools[1].function.name'],
        ['a schema keyword osprey cannot hold calls to',
            { tools: [{ type: 'function', function: { name: 'f', parameters: {
                type: 'object', properties: { x: { type: 'string', pattern: 'a+' } } } } }] },
            'tools[0].function.parameters.properties.x.pattern'],
        ['arguments that are not a JSON object',
            { messages: [{ role: 'user', content: 'hi' },
                { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function',
                    function: { name: 'get_weather', arguments: '[1' } }] }] },
            'messages[1].tool_calls[0].function.arguments'],
        ['a tool message without its call id',
            { messages: [{ role: 'tool', content: 'sunny' }] }, 'messages[0].tool_call_id'],
        ['a response format together with tools',
            { response_format: { type: 'json_object' } }, 'response_format'],
        ['a control token in a tool description',
            { tools: [{ type: 'function', function: { name: 'f', description: 'x </s> y' } }] },
            'tools[0]'],
    ];
    for (const [what, extra, param] of refusals) {
        it(`refuses ${what}, naming the field`, async () => {
            await expectApiError(ctx.client.chat.completions.create(params(extra)),
                { status: 400, param, errorClass: BadRequestError });
        });
    }
});

describe('tool calls on a model without a tool template', { skip: skip || (!STORIES && 'no stories260K') }, () => {
    const ctx = useServer({ path: STORIES, id: 'stories260K' });
    it('refuses tools with a 400 naming tools', async () => {
        await expectApiError(ctx.client.chat.completions.create({
            model: 'stories260K', max_tokens: 4,
            messages: [{ role: 'user', content: 'hi' }], tools: [weatherTool],
        }), { status: 400, param: 'tools', errorClass: BadRequestError });
    });
});

describe('tool use on Anthropic Messages', { skip }, () => {
    const model = { path: TOOLS_MODEL, id: basename(TOOLS_MODEL ?? '').replace(/\.gguf$/, '') };
    const ctx = useServer(model, { args: ['--ctx-size', '1024'] });
    let anthropic;
    const weather = {
        name: weatherTool.function.name,
        description: weatherTool.function.description,
        input_schema: weatherTool.function.parameters,
    };
    const params = (extra) => ({
        model: model.id,
        max_tokens: 300,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [weather],
        tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
        ...extra,
    });
    const assertToolUse = (block) => {
        assert.equal(block.type, 'tool_use');
        assert.equal(block.name, 'get_weather');
        assert.match(block.id, /^toolu_/);
        assert.ok(['Paris', 'Rome', 'Oslo'].includes(block.input.city), JSON.stringify(block.input));
        assert.ok(['celsius', 'fahrenheit'].includes(block.input.unit), JSON.stringify(block.input));
    };

    it('makes a forced call as a tool_use block, whatever the seed', async () => {
        anthropic = new Anthropic({ baseURL: ctx.server.origin, apiKey: 'unused', maxRetries: 0 });
        for (const temperature of [0, 1]) {
            const m = await anthropic.messages.create(params({ temperature }));
            assert.equal(m.stop_reason, 'tool_use', JSON.stringify(m));
            const uses = m.content.filter((b) => b.type === 'tool_use');
            assert.equal(uses.length, 1, JSON.stringify(m.content));
            assertToolUse(uses[0]);
        }
    });

    // The SDK's MessageStream assembles the input from its input_json_delta events.
    it('streams the call: the SDK assembles the same tool_use block', async () => {
        const whole = await anthropic.messages.create(params({ temperature: 0 }));
        const stream = anthropic.messages.stream(params({ temperature: 0 }));
        const kinds = new Set();
        stream.on('streamEvent', (e) => {
            if (e.type === 'content_block_delta') {
                kinds.add(e.delta.type);
            }
        });
        const final = await stream.finalMessage();
        assert.equal(final.stop_reason, 'tool_use');
        assert.ok(kinds.has('input_json_delta'), [...kinds].join());
        const use = final.content.find((b) => b.type === 'tool_use');
        assertToolUse(use);
        assert.deepEqual(use.input, whole.content.find((b) => b.type === 'tool_use').input);
    });

    it('takes tool_use and tool_result back, and counts them', async () => {
        const first = await anthropic.messages.create(params({ temperature: 0 }));
        const use = first.content.find((b) => b.type === 'tool_use');
        const messages = [
            { role: 'user', content: 'What is the weather in Paris?' },
            { role: 'assistant', content: first.content },
            { role: 'user', content: [
                { type: 'tool_result', tool_use_id: use.id, content: '21 degrees' },
                { type: 'text', text: 'And tomorrow?' },
            ] },
        ];
        const second = await anthropic.messages.create(params({
            messages, tool_choice: { type: 'none' }, max_tokens: 8, temperature: 0 }));
        assert.ok(['end_turn', 'max_tokens'].includes(second.stop_reason));
        assert.ok(second.content.every((b) => b.type === 'text'));
        const counted = await anthropic.messages.countTokens({ model: model.id, messages,
            tools: [weather] });
        const bare = await anthropic.messages.countTokens({ model: model.id,
            messages: [{ role: 'user', content: 'What is the weather in Paris?' }] });
        assert.ok(counted.input_tokens > bare.input_tokens + 40,
            `${counted.input_tokens} vs ${bare.input_tokens}`);
        assert.equal(second.usage.input_tokens + second.usage.cache_read_input_tokens,
            counted.input_tokens);
    });

    it('accepts thinking enabled, and earlier thinking blocks', async () => {
        const m = await anthropic.messages.create(params({
            thinking: { type: 'enabled', budget_tokens: 1024 }, tool_choice: { type: 'auto' },
            max_tokens: 8, temperature: 0,
            messages: [
                { role: 'user', content: 'Hi' },
                { role: 'assistant', content: [{ type: 'thinking', thinking: 'Greet.', signature: '' },
                    { type: 'text', text: 'Hello.' }] },
                { role: 'user', content: 'Weather?' },
            ] }));
        assert.ok(m.content.length >= 1);
    });

    const refusals = [
        ['a server tool', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
            /tools\[0\]\.type/],
        ['a tool choice naming no tool', { tool_choice: { type: 'tool', name: 'nope' } },
            /tool_choice/],
        ['a tool without its input schema', { tools: [{ name: 'f' }] }, /tools\[0\]\.input_schema/],
        ['a tool_result in an assistant turn', { messages: [{ role: 'user', content: 'hi' },
            { role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'y' }] },
            { role: 'user', content: 'ok' }] }, /assistant|user/],
    ];
    for (const [what, extra, pattern] of refusals) {
        it(`refuses ${what} in Anthropic's error shape`, async () => {
            const err = await anthropic.messages.create(params(extra)).then(
                () => assert.fail('expected a 400'), (e) => e);
            assert.equal(err.status, 400, err.message);
            assert.equal(err.error.type, 'error');
            assert.equal(err.error.error.type, 'invalid_request_error');
            assert.match(err.error.error.message, pattern);
        });
    }
});
