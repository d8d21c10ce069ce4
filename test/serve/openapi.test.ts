import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { API_ROUTES } from '../../src/serve/app.js';
import { OPEN_INFERENCE_ROUTES, matchOpenInference } from '../../src/serve/open-inference.js';
import { openApiDocument, type OpenApiDocument, type OperationObject, type ParameterObject } from '../../src/serve/openapi.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';
import { promoteTestModel, registerTestModel } from './helpers/model-fixture.js';
import { form, useTempHome, testServerOptions } from './helpers/server-fixture.js';

let home: Awaited<ReturnType<typeof useTempHome>>;
let s3: TestS3;
let srv: RunningServer;

beforeAll(async () => {
  home = await useTempHome('openapi');
  s3 = await startTestS3('openapi');
  await promoteTestModel(await registerTestModel({ tmp: home.home, seed: 1 }));
  srv = await startServer(testServerOptions(s3, {
    workers: 0,
    log: () => undefined,
  }));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await s3?.stop();
  await home?.restore();
});

/** Every route the server answers, from its route tables: `METHOD path-template`. */
function serverRoutes(): string[] {
  return [...Object.entries(API_ROUTES), ...Object.entries(OPEN_INFERENCE_ROUTES)].map(([p, m]) => `${m} ${p}`).sort();
}

function documentedRoutes(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths)
    .flatMap(([p, item]) => (['get', 'post'] as const).filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();
}

/**
 * A structural subset of the OpenAPI 3.1 schema (draft-07, for the ajv in node_modules): version, info, paths with
 * operations that have an id and responses with descriptions, parameters with a name, a place and a schema.
 */
const OPENAPI_STRUCTURE = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: ['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'parameters', 'summary', 'description'] },
        properties: { parameters: { type: 'array', items: { $ref: '#/definitions/parameter' } } },
        additionalProperties: { $ref: '#/definitions/operation' },
      },
    },
    components: { type: 'object', properties: { schemas: { type: 'object' }, responses: { type: 'object' } } },
  },
  definitions: {
    parameter: {
      type: 'object',
      required: ['name', 'in', 'schema'],
      properties: { name: { type: 'string' }, in: { enum: ['path', 'query', 'header', 'cookie'] }, required: { type: 'boolean' }, schema: { type: 'object' } },
    },
    operation: {
      type: 'object',
      required: ['operationId', 'responses'],
      properties: {
        operationId: { type: 'string' },
        parameters: { type: 'array', items: { $ref: '#/definitions/parameter' } },
        requestBody: { type: 'object', required: ['content'], properties: { content: { type: 'object', minProperties: 1 } } },
        responses: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([1-5][0-9][0-9]|default)$' },
          additionalProperties: { type: 'object', required: ['description'], properties: { description: { type: 'string' }, content: { type: 'object' } } },
        },
      },
    },
  },
};

interface ExampleCase {
  route: string;
  name: string;
  method: string;
  path: string;
  status: number;
  contentType: string | undefined;
  body: BodyInit | undefined;
  responseExample: unknown;
}

/** Fill in the path template with the parameters' examples named `name` (else their default example). */
function fillPath(template: string, params: ParameterObject[], name: string): string {
  return template.replace(/\{([^}]+)\}/g, (_, p: string) => {
    const param = params.find((x) => x.name === p && x.in === 'path');
    if (!param) throw new Error(`${template}: no parameter ${p}`);
    return encodeURIComponent(String(param.examples?.[name]?.value ?? param.example));
  });
}

/** The body of the request a named example describes: the body's example of that name, else its first example. */
function requestBody(op: OperationObject, name: string, inParams: boolean): { contentType: string | undefined; body: BodyInit | undefined } {
  if (!op.requestBody) return { contentType: undefined, body: undefined };
  const content = Object.entries(op.requestBody.content).filter(([, m]) => m.examples);
  const named = content.find(([, m]) => m.examples![name]);
  if (!named && !inParams) throw new Error(`${op.operationId}: a response example "${name}" has no request example of that name`);
  for (const [type, media] of named ? [named] : content.slice(0, 1)) {
    const example = media.examples![name] ?? Object.values(media.examples!)[0];
    if (type === 'application/json') return { contentType: type, body: JSON.stringify(example.value) };
    if (type === 'multipart/form-data') {
      const fields = example.value as Record<string, string>;
      const parts: Parameters<typeof form>[0] = {};
      for (const [k, v] of Object.entries(fields)) {
        const file = media.encoding?.[k];
        parts[k] = file ? { data: Buffer.from(v, 'base64'), filename: `${k}.bin`, type: file.contentType } : v;
      }
      return { contentType: undefined, body: form(parts) };
    }
    return { contentType: type, body: new Uint8Array(Buffer.from(String(example.value), 'base64')) };
  }
  throw new Error(`${op.operationId}: the request body has no example`);
}

/** One case per response example: the paired request and the status it is documented with. */
function exampleCases(doc: OpenApiDocument): ExampleCase[] {
  const cases: ExampleCase[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post'] as const) {
      const op = item[method];
      if (!op) continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      for (const [status, response] of Object.entries(op.responses)) {
        for (const media of Object.values(response.content ?? {})) {
          for (const [name, example] of Object.entries(media.examples ?? {})) {
            cases.push({
              route: `${method.toUpperCase()} ${template}`,
              name,
              method: method.toUpperCase(),
              path: fillPath(template, params, name),
              status: Number(status),
              ...requestBody(op, name, params.some((x) => x.examples?.[name])),
              responseExample: example.value,
            });
          }
        }
      }
    }
  }
  return cases;
}

describe('OpenAPI description', () => {
  it('describes every route the server answers, and no other', () => {
    const doc = openApiDocument();
    expect(documentedRoutes(doc)).toEqual(serverRoutes());
    // The protocol table is the one the router labels paths with.
    for (const template of Object.keys(OPEN_INFERENCE_ROUTES)) {
      expect(matchOpenInference(template.replace('{name}', 'm').replace('{version}', '1')).label).toBe(template);
    }
  });

  it('has the structure of an OpenAPI 3.1 document, every $ref resolves and every operation id is unique', () => {
    const doc = openApiDocument();
    const ajv = new Ajv({ allErrors: true });
    const valid = ajv.validate(OPENAPI_STRUCTURE, doc);
    expect(ajv.errors ?? [], ajv.errorsText()).toEqual([]);
    expect(valid).toBe(true);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    for (const r of refs) expect(doc.components.schemas, r).toHaveProperty(r);
    const ids = documentedRoutes(doc).map((r) => {
      const [m, p] = r.split(' ');
      return doc.paths[p][m.toLowerCase() as 'get' | 'post']!.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    // Path parameters are declared for every template segment.
    for (const [template, item] of Object.entries(doc.paths)) {
      const declared = (item.parameters ?? []).map((p) => p.name).sort();
      expect(declared, template).toEqual([...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort());
    }
  });

  it('is served at GET /openapi.json with the server\'s model name', async () => {
    const res = await fetch(`${srv.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument({ modelName: 'areyouacat' }))));
  });

  it('every example request gets its documented status from the server', async () => {
    const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as OpenApiDocument;
    const cases = exampleCases(doc);
    // Every operation has at least one example that is exercised.
    expect(new Set(cases.map((c) => c.route))).toEqual(new Set(documentedRoutes(doc)));
    // ... and a successful one.
    expect(new Set(cases.filter((c) => c.status < 300).map((c) => c.route))).toEqual(new Set(documentedRoutes(doc)));
    const results: string[] = [];
    for (const c of cases) {
      const headers: Record<string, string> = c.contentType ? { 'content-type': c.contentType } : {};
      const res = await fetch(`${srv.url}${c.path}`, { method: c.method, headers, body: c.body });
      const text = await res.text();
      results.push(`${c.route} [${c.name}] -> ${res.status}${res.status === c.status ? '' : ` (documented ${c.status}): ${text.slice(0, 200)}`}`);
      if (res.status !== c.status) continue;
      // The answer has at least the fields the example shows.
      if (c.responseExample && typeof c.responseExample === 'object') {
        const body = JSON.parse(text) as Record<string, unknown>;
        for (const key of Object.keys(c.responseExample)) expect(body, `${c.route} [${c.name}]`).toHaveProperty(key);
      }
    }
    expect(results.filter((r) => r.includes('documented')), results.join('\n')).toEqual([]);
  }, 120_000);
});
