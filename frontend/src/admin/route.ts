import { useEffect, useState } from 'react';

/**
 * The SPA's hash routes: `#/` (or none) is the desk, `#/admin/<section>[/<id>]` the admin area.
 * Other areas (the supervisor's live view) add their own first segment.
 */
export interface Route {
  /** The first segment: '' for the desk, 'admin', … */
  area: string;
  /** The segments after it. */
  rest: string[];
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const [area = '', ...rest] = path.split('/').filter((s, i) => s !== '' || i === 0).map(decodeURIComponent);
  return { area, rest: rest.filter(Boolean) };
}

export function routeHref(...segments: string[]): string {
  return `#/${segments.map(encodeURIComponent).join('/')}`;
}

/** Goes to a route (adds a history entry, as a link would). */
export function navigate(...segments: string[]) {
  window.location.hash = routeHref(...segments);
}

/** The current route, following the hash. */
export function useHashRoute(): Route {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const follow = () => setHash(window.location.hash);
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return parseRoute(hash);
}
