import { describe, expect, it } from 'vitest';
import type { LogCardFragment } from '../gql/graphql';
import { linkedTogether } from './ConversationLog';

const card = (id: string, linked?: string) => ({ id, linkedInteraction: linked ? { id: linked } : null }) as LogCardFragment;

describe('linkedTogether (X1)', () => {
  it('puts a consult call right after the chat it came from, and leaves the rest in order', () => {
    const list = [card('chat-a', 'call-a'), card('chat-b'), card('email-c'), card('call-a', 'chat-a')];
    expect(linkedTogether(list).map((c) => c.id)).toEqual(['chat-a', 'call-a', 'chat-b', 'email-c']);
  });

  it('keeps each card once, whoever comes first, and ignores a partner not in the list', () => {
    const list = [card('call-a', 'chat-a'), card('chat-b', 'gone'), card('chat-a', 'call-a')];
    expect(linkedTogether(list).map((c) => c.id)).toEqual(['call-a', 'chat-a', 'chat-b']);
  });
});
