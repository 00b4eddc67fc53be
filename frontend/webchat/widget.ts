// The webchat widget's entry: any site embeds it with one tag,
//   <script src="https://desk.example.com/webchat/widget.js" data-plan="<plan ID>" data-title="Help" async></script>
// The server is the origin of the script's own src, so the page may live anywhere. The widget
// renders into a shadow root of its own element, so the page's CSS cannot break it.
import { mountWidget } from './ui';

const script = (document.currentScript ??
  document.querySelector('script[src*="/webchat/widget.js"]')) as HTMLScriptElement | null;
const marker = '__agentdeskWebchat';
const page = window as unknown as Record<string, unknown>;

if (script && !page[marker]) {
  page[marker] = true;
  const mount = () => {
    const host = document.createElement('agentdesk-webchat');
    document.body.append(host);
    mountWidget({
      server: new URL(script.src, location.href).origin,
      planId: script.dataset.plan || undefined,
      title: script.dataset.title,
      root: host.attachShadow({ mode: 'open' }),
    });
  };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
}
