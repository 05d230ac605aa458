#!/usr/bin/env node
// mcp-client.mjs: a scriptable MCP client on the official TypeScript SDK.
//
// The end-to-end tests use it to drive a server (directly, or through
// mcpwarden) from a second, independent MCP implementation, so that what the
// proxy forwards is checked against a real client's parser and not only
// against the Go SDK.
//
// Usage:
//   node mcp-client.mjs [--steps JSON] [--elicit accept|decline|cancel]
//                       [--elicit-content JSON] [--sample-text TEXT]
//                       [--roots JSON] [--protocol-version V] [--timeout-ms N]
//                       -- CMD [ARGS...]
//
// CMD runs with this process's full environment and working directory; its
// stderr passes through to this process's stderr.
//
// The client declares the sampling, elicitation (form and url) and roots
// capabilities and answers:
//   sampling/createMessage  with an assistant text message (--sample-text)
//   elicitation/create      with --elicit (default: accept when
//                           --elicit-content is given, else decline) and, for
//                           an accepted form, the --elicit-content object
//   roots/list              with the --roots paths (a JSON array; default:
//                           the working directory only; [] for none)
//
// --steps is a JSON array, run in order. Each step is an object with "op":
//   {"op":"listTools"}                        all pages, following nextCursor
//   {"op":"callTool","name":N,"arguments":{},"progress":true}
//   {"op":"listResources"}                    all pages
//   {"op":"listResourceTemplates"}            all pages
//   {"op":"readResource","uri":U}
//   {"op":"subscribeResource","uri":U}
//   {"op":"unsubscribeResource","uri":U}
//   {"op":"listPrompts"}                      all pages
//   {"op":"getPrompt","name":N,"arguments":{}}
//   {"op":"setLoggingLevel","level":L}
//   {"op":"ping"}
//   {"op":"request","method":M,"params":{}}   any request, result unchecked
//   {"op":"notify","method":M,"params":{}}    any notification
//   {"op":"sleep","ms":N}
// Any step may carry "timeoutMs" (default --timeout-ms, else 60000). The
// list ops return every page's items joined, plus "pages", the page count.
//
// Output, one JSON object a line on stdout:
//   {"initialized":{"protocolVersion":..,"serverInfo":..,"capabilities":..,"instructions":..}}
//   {"connect":false,"error":{..}}        instead, when initialization failed
//   {"step":i,"op":..,"ok":true,"result":..}
//   {"step":i,"op":..,"ok":false,"error":{"code":..,"message":..,"data":..}}
//   {"notification":METHOD,"params":..}   each notification from the server,
//                                         as received, printed before the
//                                         step result it belongs to
//   {"request":METHOD,"params":..}        each request from the server
// A tool result with isError:true is a successful step: check result.isError.
// "code" is null for errors raised inside the client (e.g. not connected);
// "message" is the server's, without the SDK's "MCP error N: " prefix. What
// the server sends is validated by the SDK as any SDK client would.
//
// After the last step the SDK closes the server's stdin, and sends SIGTERM
// 2 s later, SIGKILL 2 s after that, if it is still running.
//
// Exit status: 0 when it connected and ran every step (whatever their
// outcome), 1 when it could not connect, 2 on a usage error.

import process from 'node:process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
    CreateMessageRequestSchema,
    ElicitRequestSchema,
    ListRootsRequestSchema,
    McpError,
    ResultSchema,
} from '@modelcontextprotocol/sdk/types.js';

const USAGE = `usage: node mcp-client.mjs [--steps JSON] [--elicit accept|decline|cancel]
       [--elicit-content JSON] [--sample-text TEXT] [--roots JSON]
       [--protocol-version V] [--timeout-ms N] -- CMD [ARGS...]`;

const DEFAULT_TIMEOUT_MS = 60000;
const MAX_PAGES = 1000;

class UsageError extends Error {}

// Each op names the fields it requires and how to run it.
const OPS = {
    listTools: { need: [], run: (c, s, o) => listAll(c, 'listTools', 'tools', o) },
    callTool: { need: ['name'], run: callTool },
    listResources: { need: [], run: (c, s, o) => listAll(c, 'listResources', 'resources', o) },
    listResourceTemplates: {
        need: [],
        run: (c, s, o) => listAll(c, 'listResourceTemplates', 'resourceTemplates', o),
    },
    readResource: { need: ['uri'], run: (c, s, o) => c.readResource({ uri: s.uri }, o) },
    subscribeResource: { need: ['uri'], run: (c, s, o) => c.subscribeResource({ uri: s.uri }, o) },
    unsubscribeResource: { need: ['uri'], run: (c, s, o) => c.unsubscribeResource({ uri: s.uri }, o) },
    listPrompts: { need: [], run: (c, s, o) => listAll(c, 'listPrompts', 'prompts', o) },
    getPrompt: {
        need: ['name'],
        run: (c, s, o) => c.getPrompt({ name: s.name, arguments: s.arguments ?? {} }, o),
    },
    setLoggingLevel: { need: ['level'], run: (c, s, o) => c.setLoggingLevel(s.level, o) },
    ping: { need: [], run: (c, s, o) => c.ping(o) },
    request: {
        need: ['method'],
        // ResultSchema is loose: whatever the server answers is passed on.
        run: (c, s, o) => c.request({ method: s.method, params: s.params }, ResultSchema, o),
    },
    notify: {
        need: ['method'],
        run: async (c, s) => {
            await c.notification({ method: s.method, params: s.params });
            return {};
        },
    },
    sleep: {
        need: ['ms'],
        run: (c, s) => new Promise((resolve) => setTimeout(() => resolve({}), s.ms)),
    },
};

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

function parseJSONFlag(flag, text) {
    try {
        return JSON.parse(text);
    } catch (err) {
        throw new UsageError(`${flag}: invalid JSON: ${err.message}`);
    }
}

function parseArgs(argv) {
    const opts = {
        steps: [],
        elicit: undefined,
        elicitContent: undefined,
        sampleText: 'sampled by mcp-client',
        protocolVersion: undefined,
        roots: [process.cwd()],
        timeoutMs: DEFAULT_TIMEOUT_MS,
        command: undefined,
        args: [],
    };
    let i = 0;
    for (; i < argv.length; i++) {
        let arg = argv[i];
        if (arg === '--') {
            break;
        }
        if (arg === '-h' || arg === '--help') {
            throw new UsageError('');
        }
        if (!arg.startsWith('--')) {
            throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (missing "--" before the command?)`);
        }
        let value;
        const eq = arg.indexOf('=');
        if (eq >= 0) {
            value = arg.slice(eq + 1);
            arg = arg.slice(0, eq);
        } else {
            if (i + 1 >= argv.length) {
                throw new UsageError(`${arg} needs a value`);
            }
            value = argv[++i];
        }
        switch (arg) {
            case '--steps':
                opts.steps = parseJSONFlag(arg, value);
                break;
            case '--elicit':
                if (!['accept', 'decline', 'cancel'].includes(value)) {
                    throw new UsageError(`--elicit must be accept, decline or cancel, not ${JSON.stringify(value)}`);
                }
                opts.elicit = value;
                break;
            case '--elicit-content':
                opts.elicitContent = parseJSONFlag(arg, value);
                if (!isPlainObject(opts.elicitContent)) {
                    throw new UsageError('--elicit-content must be a JSON object');
                }
                break;
            case '--sample-text':
                opts.sampleText = value;
                break;
            case '--roots':
                opts.roots = parseJSONFlag(arg, value);
                if (!Array.isArray(opts.roots) || !opts.roots.every((r) => typeof r === 'string' && r !== '')) {
                    throw new UsageError('--roots must be a JSON array of paths');
                }
                break;
            case '--protocol-version':
                opts.protocolVersion = value;
                break;
            case '--timeout-ms':
                opts.timeoutMs = Number(value);
                if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs <= 0) {
                    throw new UsageError('--timeout-ms must be a positive integer');
                }
                break;
            default:
                throw new UsageError(`unknown flag ${arg}`);
        }
    }
    if (i >= argv.length - 1) {
        throw new UsageError('missing "-- CMD [ARGS...]"');
    }
    opts.command = argv[i + 1];
    opts.args = argv.slice(i + 2);
    opts.elicit ??= opts.elicitContent === undefined ? 'decline' : 'accept';
    validateSteps(opts.steps);
    return opts;
}

function isPlainObject(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Steps are checked before the server starts, so that a typo in a test is a
// usage error and not a half-run session.
function validateSteps(steps) {
    if (!Array.isArray(steps)) {
        throw new UsageError('--steps must be a JSON array');
    }
    steps.forEach((step, i) => {
        if (!isPlainObject(step)) {
            throw new UsageError(`step ${i}: not an object`);
        }
        if (typeof step.op !== 'string' || !Object.hasOwn(OPS, step.op)) {
            throw new UsageError(`step ${i}: unknown op ${JSON.stringify(step.op)}`);
        }
        const op = OPS[step.op];
        for (const field of op.need) {
            if (step[field] === undefined) {
                throw new UsageError(`step ${i} (${step.op}): missing "${field}"`);
            }
        }
        if (step.op === 'sleep' && !(Number.isFinite(step.ms) && step.ms >= 0)) {
            throw new UsageError(`step ${i} (sleep): "ms" must be a non-negative number`);
        }
        if (step.timeoutMs !== undefined && !(Number.isInteger(step.timeoutMs) && step.timeoutMs > 0)) {
            throw new UsageError(`step ${i}: "timeoutMs" must be a positive integer`);
        }
    });
}

async function listAll(client, method, key, options) {
    const items = [];
    const seen = new Set();
    let cursor;
    let pages = 0;
    do {
        const page = await client[method](cursor === undefined ? undefined : { cursor }, options);
        items.push(...(page[key] ?? []));
        pages++;
        cursor = page.nextCursor;
        if (cursor !== undefined) {
            if (seen.has(cursor) || pages >= MAX_PAGES) {
                throw new Error(`${method}: pagination does not end (cursor ${JSON.stringify(cursor)})`);
            }
            seen.add(cursor);
        }
    } while (cursor !== undefined);
    if (method === 'listTools' && typeof client.cacheToolMetadata === 'function') {
        // Each page replaces the SDK's output-schema cache; give it all tools.
        client.cacheToolMetadata(items);
    }
    return { [key]: items, pages };
}

async function callTool(client, step, options) {
    const params = { name: step.name, arguments: step.arguments ?? {} };
    if (step.progress) {
        // The SDK sends a progressToken only when there is a handler; the
        // notification itself is printed by the transport tap.
        options = { ...options, onprogress: () => {}, resetTimeoutOnProgress: true };
    }
    return client.callTool(params, undefined, options);
}

function errorObject(err) {
    if (err instanceof McpError) {
        const prefix = `MCP error ${err.code}: `;
        const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
        const out = { code: err.code, message };
        if (err.data !== undefined) {
            out.data = err.data;
        }
        return out;
    }
    return { code: null, message: err instanceof Error ? err.message : String(err) };
}

// TapTransport wraps the stdio transport to print every message the server
// originates exactly as received, and to set the protocol version offered in
// initialize, which the SDK otherwise fixes to its latest.
class TapTransport {
    constructor(inner, protocolVersion) {
        this.inner = inner;
        this.protocolVersion = protocolVersion;
        this.initializeId = undefined;
        this.initializeResult = undefined;
    }

    async start() {
        this.inner.onmessage = (message, extra) => {
            this.observe(message);
            this.onmessage?.(message, extra);
        };
        this.inner.onclose = () => this.onclose?.();
        this.inner.onerror = (err) => this.onerror?.(err);
        return this.inner.start();
    }

    observe(message) {
        if (typeof message.method === 'string') {
            const kind = message.id === undefined ? 'notification' : 'request';
            emit({ [kind]: message.method, params: message.params });
        } else if (message.id !== undefined && message.id === this.initializeId && message.result) {
            this.initializeResult = message.result;
        }
    }

    async send(message, options) {
        if (message.method === 'initialize') {
            this.initializeId = message.id;
            if (this.protocolVersion !== undefined) {
                message = { ...message, params: { ...message.params, protocolVersion: this.protocolVersion } };
            }
        }
        return this.inner.send(message, options);
    }

    async close() {
        return this.inner.close();
    }
}

function newClient(opts) {
    const client = new Client(
        { name: 'mcpwarden-e2e-client', version: '1.0.0' },
        {
            capabilities: {
                sampling: {},
                elicitation: { form: {}, url: {} },
                roots: {},
            },
        },
    );
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
        role: 'assistant',
        content: { type: 'text', text: opts.sampleText },
        model: 'mcp-client',
        stopReason: 'endTurn',
    }));
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
        const result = { action: opts.elicit };
        if (opts.elicit === 'accept' && request.params.mode !== 'url') {
            result.content = opts.elicitContent ?? {};
        }
        return result;
    });
    const roots = opts.roots.map((dir) => {
        const abs = path.resolve(dir);
        return { uri: pathToFileURL(abs).href, name: path.basename(abs) || abs };
    });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots }));
    client.onerror = (err) => {
        process.stderr.write(`mcp-client: ${err instanceof Error ? err.message : String(err)}\n`);
    };
    return client;
}

async function runSteps(client, steps, timeoutMs) {
    for (const [i, step] of steps.entries()) {
        const options = { timeout: step.timeoutMs ?? timeoutMs };
        try {
            const result = await OPS[step.op].run(client, step, options);
            emit({ step: i, op: step.op, ok: true, result });
        } catch (err) {
            emit({ step: i, op: step.op, ok: false, error: errorObject(err) });
        }
    }
}

async function main() {
    let opts;
    try {
        opts = parseArgs(process.argv.slice(2));
    } catch (err) {
        if (err instanceof UsageError) {
            process.stderr.write((err.message ? `mcp-client: ${err.message}\n` : '') + USAGE + '\n');
            return 2;
        }
        throw err;
    }

    const stdio = new StdioClientTransport({
        command: opts.command,
        args: opts.args,
        env: { ...process.env },
        stderr: 'inherit',
    });
    const transport = new TapTransport(stdio, opts.protocolVersion);
    const client = newClient(opts);
    try {
        await client.connect(transport, { timeout: opts.timeoutMs });
    } catch (err) {
        process.stderr.write(`mcp-client: connect to ${opts.command}: ${err instanceof Error ? err.message : err}\n`);
        emit({ connect: false, error: errorObject(err) });
        await transport.close().catch(() => {});
        return 1;
    }
    const init = transport.initializeResult ?? {};
    emit({
        initialized: {
            protocolVersion: init.protocolVersion,
            serverInfo: client.getServerVersion(),
            capabilities: client.getServerCapabilities(),
            instructions: client.getInstructions(),
        },
    });

    await runSteps(client, opts.steps, opts.timeoutMs);
    await client.close().catch(() => {});
    return 0;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        process.stderr.write(`mcp-client: ${err?.stack ?? err}\n`);
        process.exit(1);
    },
);
