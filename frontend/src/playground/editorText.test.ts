import { describe, expect, it } from 'vitest';
import {
  parseHeaders,
  parseVariables,
  withBearerToken,
  withoutCredentialHeaders,
  withoutCredentialVariables,
} from './editorText';

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

describe('withoutCredentialHeaders', () => {
  it('empties Authorization and leaves out other credential headers', () => {
    const text = JSON.stringify({ authorization: 'Bearer adk_secret', 'X-Api-Key': 'k', Cookie: 'c', 'X-Trace': '1' });
    expect(JSON.parse(withoutCredentialHeaders(text)!)).toEqual({ authorization: 'Bearer ', 'X-Trace': '1' });
  });

  it('returns text without credentials unchanged, and nothing for text it cannot read', () => {
    const text = '{\n  "Authorization": "Bearer "\n}';
    expect(withoutCredentialHeaders(text)).toBe(text);
    expect(withoutCredentialHeaders('{"X-Trace": "1"}')).toBe('{"X-Trace": "1"}');
    expect(withoutCredentialHeaders('{"Authorization": "Bearer tok"')).toBeNull();
  });
});

describe('withoutCredentialVariables', () => {
  it("empties passwords and tokens at any depth, and keeps the rest", () => {
    const text = JSON.stringify({ input: { username: 'alice', password: 'demo' }, apiKey: 'adk_x', first: 5 });
    expect(JSON.parse(withoutCredentialVariables(text)!)).toEqual({
      input: { username: 'alice', password: '' },
      apiKey: '',
      first: 5,
    });
    expect(withoutCredentialVariables('')).toBe('');
    expect(withoutCredentialVariables('{"first": 5}')).toBe('{"first": 5}');
  });
});
