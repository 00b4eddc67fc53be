// What agents typed and did not send yet, per interaction, for as long as the desk is open:
// switching between interactions keeps it. Attached files are not kept: they are dropped when
// the agent switches (the seeds, S7).

/** Unsent chat replies (Composer). */
export const replyDrafts = new Map<string, string>();

/** Unsent email bodies, without the signature, so it is never added twice (E2; EmailComposer). */
export const emailDrafts = new Map<string, string>();
