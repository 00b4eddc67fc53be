// The contact's side of the agentdesk GraphQL API over HTTP POST (JSON), and the operations
// the widget sends. Top-level errors become an ApiError carrying extensions.code.
import { ATTACHMENT_FIELDS } from '../src/attachments/core';
import type { ChatMessage } from './messages';

export interface UserError {
  code: string;
  message: string;
  field?: string[] | null;
}

export interface Chat {
  id: string;
  state: string;
  agentName: string | null;
  endedBy: string | null;
  messages: {
    edges: { node: ChatMessage }[];
    pageInfo?: { hasNextPage: boolean; endCursor: string | null };
  };
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const MESSAGE = `id from text sentAt attachments { ${ATTACHMENT_FIELDS} }`;
const CHAT = `id state agentName endedBy messages(first: 100, after: $after) { edges { node { ${MESSAGE} } } pageInfo { hasNextPage endCursor } }`;
const USER_ERRORS = 'userErrors { code message field }';

export const START = `mutation ($input: StartWebchatInput!, $after: String) { startWebchat(input: $input) { token chat { ${CHAT} } ${USER_ERRORS} } }`;
export const MY_CHAT = `query ($after: String) { myChat { ${CHAT} } }`;
export const SEND = `mutation ($input: ContactMessageInput!) { sendContactMessage(input: $input) { message { ${MESSAGE} } ${USER_ERRORS} } }`;
export const END = `mutation ($after: String) { endWebchat { chat { ${CHAT} } ${USER_ERRORS} } }`;
export const MESSAGES = `subscription ($id: ID!) { messages(interactionId: $id) { ${MESSAGE} } }`;

/** Whether the chat is over: the agent wraps it up or it is already in history. */
export const hasEnded = (chat: Pick<Chat, 'state'>) => chat.state === 'WRAP' || chat.state === 'COMPLETED';

export function createApi(server: string, token: () => string | undefined, fetchImpl: typeof fetch = fetch) {
  async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const t = token();
    let body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      const response = await fetchImpl(`${server}/query`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/graphql-response+json, application/json',
          ...(t ? { Authorization: `Bearer ${t}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      body = await response.json();
    } catch {
      throw new ApiError('We could not reach the chat service. Check your connection and try again.', 'NETWORK');
    }
    const error = body.errors?.[0];
    if (error) throw new ApiError(error.message, error.extensions?.code);
    if (!body.data) throw new ApiError('The chat service gave an empty answer.');
    return body.data;
  }

  /** myChat with every page of its messages; null when the token is unknown. */
  async function myChat(): Promise<Chat | null> {
    let chat: Chat | null = null;
    let after: string | null | undefined;
    do {
      const { myChat: page } = await request<{ myChat: Chat | null }>(MY_CHAT, { after });
      if (!page) return null;
      if (chat) chat = { ...page, messages: { edges: [...chat.messages.edges, ...page.messages.edges] } };
      else chat = page;
      after = page.messages.pageInfo?.hasNextPage ? page.messages.pageInfo.endCursor : null;
    } while (after);
    return chat;
  }

  return {
    request,
    myChat,
    start: (input: { name?: string; planId?: string; text: string }) =>
      request<{ startWebchat: { token: string | null; chat: Chat | null; userErrors: UserError[] } }>(START, { input }).then(
        (d) => d.startWebchat,
      ),
    /** Sends text and the uploaded files' IDs (text may be empty when there are files). */
    send: (text: string, attachmentIds: string[] = []) =>
      request<{ sendContactMessage: { message: ChatMessage | null; userErrors: UserError[] } }>(SEND, {
        input: { text, ...(attachmentIds.length > 0 && { attachmentIds }) },
      }).then((d) => d.sendContactMessage),
    end: () =>
      request<{ endWebchat: { chat: Chat | null; userErrors: UserError[] } }>(END).then((d) => d.endWebchat),
  };
}

export type Api = ReturnType<typeof createApi>;
