/** The websocket URL for a path on the page's own host: ws:// under http, wss:// under https. */
export function websocketUrl(location: Pick<Location, 'protocol' | 'host'>, path: string) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}
