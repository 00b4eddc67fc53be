import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { TokenStore } from '../auth/tokenStore';
import { createUploader, fetchAttachment, type Uploader } from './core';

/**
 * How the SPA moves attachments: uploads over XMLHttpRequest (for progress) and downloads with
 * the session's Authorization header, read at each request. Images in the transcript are
 * fetched once and kept as object URLs until the session ends.
 */
export interface AttachmentTransport {
  upload: Uploader;
  /** The bytes at an attachment's url. */
  open(url: string): Promise<Blob>;
  /** An object URL of the image at url, fetched once per session. */
  imageUrl(url: string): Promise<string>;
  /** Revokes the images' object URLs. */
  dispose(): void;
}

export function createAttachmentTransport(
  tokens: Pick<TokenStore, 'get' | 'clear'>,
  { url = '/query', fetch: fetchImpl }: { url?: string; fetch?: typeof fetch } = {},
): AttachmentTransport {
  const images = new Map<string, Promise<string>>();
  const open = (fileUrl: string) => fetchAttachment(fileUrl, tokens.get(), fetchImpl);
  return {
    upload: createUploader({ url, token: tokens.get, onUnauthenticated: () => tokens.clear() }),
    open,
    imageUrl(fileUrl) {
      let image = images.get(fileUrl);
      if (!image) {
        image = open(fileUrl).then((blob) => URL.createObjectURL(blob));
        images.set(fileUrl, image);
        // A failure is not cached: the next render tries again.
        image.catch(() => images.delete(fileUrl));
      }
      return image;
    },
    dispose() {
      for (const image of images.values()) void image.then((u) => URL.revokeObjectURL(u), () => {});
      images.clear();
    },
  };
}

const noSession = createAttachmentTransport({ get: () => null, clear: () => {} });

const TransportContext = createContext<AttachmentTransport>(noSession);

/** Gives the screens below the session's attachment transport. */
export function AttachmentsProvider({ tokens, children }: { tokens: TokenStore; children: ReactNode }) {
  const [transport] = useState(() => createAttachmentTransport(tokens));
  useEffect(() => () => transport.dispose(), [transport]);
  return <TransportContext.Provider value={transport}>{children}</TransportContext.Provider>;
}

/** For tests: a transport of their own. */
export const AttachmentTransportProvider = TransportContext.Provider;

export function useAttachmentTransport(): AttachmentTransport {
  return useContext(TransportContext);
}
