import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { fakeTranscriptLayout } from './testing/layout';

fakeTranscriptLayout();

afterEach(() => {
  cleanup();
  window.localStorage.clear();
});
