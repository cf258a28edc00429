import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { paramsOf, parseFrame, validate, v } from './index.ts';

describe('protocol frames', () => {
  it('classifies requests, notifications and responses', () => {
    assert.deepEqual(parseFrame('{"id":1,"method":"daemon/status"}'), { ok: true, frame: { kind: 'request', id: 1, method: 'daemon/status', params: {} } });
    assert.deepEqual(parseFrame('{"method":"notify/runs","params":{"a":1}}'), { ok: true, frame: { kind: 'notification', method: 'notify/runs', params: { a: 1 } } });
    const res = parseFrame('{"id":"x","error":{"code":"E_NOT_FOUND","message":"no"}}');
    assert.ok(res.ok && res.frame.kind === 'response' && res.frame.error?.code === 'E_NOT_FOUND');
  });

  it('rejects what is not a frame, keeping the id when it can', () => {
    const cases: [string, string][] = [
      ['nope', 'E_PARSE'], ['null', 'E_INVALID_REQUEST'], ['{"id":1.5,"method":"a"}', 'E_INVALID_REQUEST'],
      ['{"id":2,"method":7}', 'E_INVALID_REQUEST'], ['{"id":3}', 'E_INVALID_REQUEST'], ['{"id":4,"error":"x"}', 'E_INVALID_REQUEST'],
    ];
    for (const [text, code] of cases) {
      const r = parseFrame(text);
      assert.ok(!r.ok, text);
      assert.equal(r.error.code, code, text);
    }
    const r = parseFrame('{"id":2,"method":7}');
    assert.ok(!r.ok && r.id === 2);
  });
});

describe('validators', () => {
  it('give typed values and name every bad field', () => {
    const ok = validate(paramsOf.initialize, { protocolVersion: 1, client: { name: 'x', version: '1' } });
    assert.ok(ok.ok && ok.value.client.name === 'x');
    const bad = validate(paramsOf.initialize, { protocolVersion: '1', client: { name: 3 }, extra: 1 });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.issues.map((i) => i.path).sort(), ['params.client.name', 'params.client.version', 'params.extra', 'params.protocolVersion']);
  });

  it('handle optional, literal, array limits and records', () => {
    const shape = v.object({ a: v.optional(v.number({ min: 0 })), t: v.array(v.literal('x', 'y'), { maxItems: 2 }), r: v.record(v.boolean()) });
    assert.ok(validate(shape, { t: ['x'], r: { k: true } }).ok);
    const r = validate(shape, { a: -1, t: ['x', 'y', 'x'], r: { k: 1 } });
    assert.ok(!r.ok);
    assert.deepEqual(r.issues.map((i) => i.path), ['params.a', 'params.t', 'params.r.k']);
    assert.ok(!validate(v.number(), Number.NaN).ok, 'NaN is not a number on the wire');
  });
});
