import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { emailDrafts, replyDrafts } from './drafts';
import { fakeTranscriptLayout } from './testing/layout';
import { fixTreeWalkerPreviousNode } from './testing/treeWalker';

fakeTranscriptLayout();
fixTreeWalkerPreviousNode();

// The test files share one environment (isolate: false in vitest.config.ts, four times
// faster than a fresh one per file): what a module keeps between renders is emptied here.
afterEach(() => {
  cleanup();
  window.localStorage.clear();
  replyDrafts.clear();
  emailDrafts.clear();
});
