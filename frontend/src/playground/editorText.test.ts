import { describe, expect, it } from 'vitest';
import { parseHeaders, parseVariables, withBearerToken } from './editorText';

describe('parseHeaders', () => {
  it('accepts an object of strings', () => {
    expect(parseHeaders('{"Authorization": "Bearer abc", "X-Trace": "1"}')).toEqual({
      ok: true,
      value: { Authorization: 'Bearer abc', 'X-Trace': '1' },
    });
  });

  it('treats empty text as no headers', () => {
    expect(parseHeaders('  \n')).toEqual({ ok: true, value: {} });
  });

  it('leaves out the pre-filled Authorization header without a token', () => {
    expect(parseHeaders('{"Authorization": "Bearer "}')).toEqual({ ok: true, value: {} });
    expect(parseHeaders('{"authorization": "bearer"}')).toEqual({ ok: true, value: {} });
  });

  it('explains what is wrong', () => {
    expect(parseHeaders('{"Authorization": ')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Headers are not valid JSON/),
    });
    expect(parseHeaders('["a"]')).toEqual({ ok: false, error: 'Headers must be a JSON object.' });
    expect(parseHeaders('{"X-Count": 3}')).toEqual({
      ok: false,
      error: 'Header "X-Count" must be a string.',
    });
  });
});

describe('parseVariables', () => {
  it('accepts an object, or nothing', () => {
    expect(parseVariables('{"id": "A1", "n": 2}')).toEqual({ ok: true, value: { id: 'A1', n: 2 } });
    expect(parseVariables('')).toEqual({ ok: true, value: {} });
  });

  it('refuses other JSON', () => {
    expect(parseVariables('42')).toEqual({ ok: false, error: 'Variables must be a JSON object.' });
    expect(parseVariables('null')).toEqual({ ok: false, error: 'Variables must be a JSON object.' });
  });
});

describe('withBearerToken', () => {
  it('fills the token and keeps other headers', () => {
    const text = withBearerToken('{"authorization": "Bearer old", "X-Trace": "1"}', 'new');
    expect(JSON.parse(text)).toEqual({ Authorization: 'Bearer new', 'X-Trace': '1' });
  });

  it('starts afresh when the headers text is broken', () => {
    expect(JSON.parse(withBearerToken('{oops', 'tok'))).toEqual({ Authorization: 'Bearer tok' });
  });
});
