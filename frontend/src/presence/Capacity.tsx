import type { Channel } from '../gql/graphql';
import { channelLabel } from '../log/channel';

export interface CapacityEntry {
  channel: Channel;
  max: number;
  used: number;
}

/**
 * Capacity in use per channel, compact for the header: "Chat 1/4" (P2). Offered, active and
 * wrapping interactions all count. Channels the agent cannot take (max 0) are left out.
 */
export function Capacity({ capacity }: { capacity: readonly CapacityEntry[] }) {
  const shown = capacity.filter((c) => c.max > 0);
  if (shown.length === 0) return null;
  return (
    <ul className="capacity" aria-label="Capacity in use">
      {shown.map((c) => (
        <li
          key={c.channel}
          className="capacity__item"
          data-used={c.used > 0 || undefined}
          data-full={c.used >= c.max || undefined}
          title={`${channelLabel[c.channel]}: ${c.used} of ${c.max} in use`}
        >
          <span aria-hidden="true">
            {channelLabel[c.channel]} {c.used}/{c.max}
          </span>
          <span className="visually-hidden">
            {channelLabel[c.channel]}: {c.used} of {c.max} in use
          </span>
        </li>
      ))}
    </ul>
  );
}
