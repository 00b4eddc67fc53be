import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { fakeTranscriptLayout } from './testing/layout';
import { fixTreeWalkerPreviousNode } from './testing/treeWalker';

fakeTranscriptLayout();
fixTreeWalkerPreviousNode();

afterEach(() => {
  cleanup();
  window.localStorage.clear();
});
