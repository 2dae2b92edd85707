/** A failure no retry can fix (a channel disabled or misconfigured): the delivery fails at once. */
export class PermanentError extends Error {}
