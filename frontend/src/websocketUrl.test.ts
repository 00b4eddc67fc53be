import { describe, expect, it } from 'vitest';
import { websocketUrl } from './websocketUrl';

describe('websocketUrl', () => {
  it('follows the page scheme and host', () => {
    expect(websocketUrl({ protocol: 'http:', host: '127.0.0.1:8080' }, '/query')).toBe(
      'ws://127.0.0.1:8080/query',
    );
    expect(websocketUrl({ protocol: 'https:', host: 'desk.example' }, '/query')).toBe(
      'wss://desk.example/query',
    );
  });
});
