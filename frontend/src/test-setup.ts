import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';
import { emailDrafts, replyDrafts } from './drafts';
import { fakeTranscriptLayout } from './testing/layout';
import { fixTreeWalkerPreviousNode } from './testing/treeWalker';

// findBy* and waitFor wait up to 10 s for what they look for (the default is 1 s, which a
// loaded machine can miss: make test runs these beside the Go race run and the browser tests).
configure({ asyncUtilTimeout: 10_000 });

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
