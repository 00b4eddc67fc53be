import { describe, expect, it } from 'vitest';
import { detectOperation } from './operation';

describe('detectOperation', () => {
  it.each([
    ['{ me { name } }', 'query'],
    ['query Me { me { name } }', 'query'],
    ['mutation { logout }', 'mutation'],
    ['subscription { offers { kind } }', 'subscription'],
    ['# comment first\nsubscription Offers { offers { kind } }', 'subscription'],
    ['fragment F on Agent { id }\nsubscription S { offers { kind } }', 'subscription'],
  ])('%j is a %s', (source, type) => {
    const operation = detectOperation(source);
    expect(operation.ok && operation.type).toBe(type);
  });

  it('picks the named operation among several', () => {
    const source = 'query Me { me { name } }\nsubscription Offers { offers { kind } }';
    expect(detectOperation(source, 'Offers')).toEqual({
      ok: true,
      type: 'subscription',
      name: 'Offers',
      names: ['Me', 'Offers'],
    });
    expect(detectOperation(source, 'Me')).toMatchObject({ ok: true, type: 'query' });
  });

  it('asks to choose when several operations and no name', () => {
    const operation = detectOperation('query A { me { id } } query B { me { id } }');
    expect(operation).toMatchObject({ ok: false, names: ['A', 'B'] });
    expect(!operation.ok && operation.error).toMatch(/several operations/);
  });

  it('reports an unknown operation name', () => {
    expect(detectOperation('query A { me { id } }', 'B')).toMatchObject({
      ok: false,
      error: 'The document has no operation named "B".',
    });
  });

  it('reports syntax errors and documents without operations', () => {
    const broken = detectOperation('query { me { ');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error).toMatch(/Syntax Error/);
    expect(detectOperation('fragment F on Agent { id }')).toMatchObject({
      ok: false,
      error: 'The document has no operation to run.',
    });
  });
});
