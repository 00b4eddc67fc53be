import type { Channel } from '../gql/graphql';

/** What agents call each channel; capacity shows "Chat 1/4" for webchat. */
export const channelLabel: Record<Channel, string> = {
  WEBCHAT: 'Chat',
  SMS: 'SMS',
  RCS: 'RCS',
  WHATSAPP: 'WhatsApp',
  EMAIL: 'Email',
  VOICE: 'Voice',
};

// 16×16 outline glyphs, drawn with currentColor so they follow the card's text colour.
const paths: Record<Channel, string> = {
  WEBCHAT: 'M2.5 3.5h11v7h-6l-3 2.5v-2.5h-2z',
  SMS: 'M3 2.5h10v11H3zM6 11.5h4',
  RCS: 'M3 2.5h10v11H3zM5.5 6h5M5.5 8.5h3',
  WHATSAPP: 'M8 2a6 6 0 0 0-5.2 9L2 14l3.1-.8A6 6 0 1 0 8 2z',
  EMAIL: 'M2 4h12v8H2zM2 4l6 4.5L14 4',
  VOICE: 'M4 2.5l2.5 2-1 2a7 7 0 0 0 4 4l2-1 2 2.5-1.5 1.5C7 13.5 2.5 9 2.5 4z',
};

/** The channel's icon and name; the name is the accessible text. */
export function ChannelTag({ channel }: { channel: Channel }) {
  return (
    <span className="channel-tag" data-channel={channel}>
      <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
        <path
          d={paths[channel]}
          fill="none"
          stroke="currentColor"
          strokeWidth="1.4"
          strokeLinejoin="round"
        />
      </svg>
      {channelLabel[channel]}
    </span>
  );
}

/** How a contact is named on cards and headers: their name, else their address. */
export function contactName(contact: { name?: string | null; address: string }): string {
  return contact.name?.trim() || contact.address;
}

/** Channels carried by a messaging provider (SMS/RCS, WhatsApp): they have identities and delivery marks. */
export function isProviderChannel(channel: Channel): boolean {
  return channel === 'SMS' || channel === 'RCS' || channel === 'WHATSAPP';
}
