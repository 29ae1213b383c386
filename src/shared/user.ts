/** Who is asking, for the audit trail: resets and terminations record `user: reason`, as the Temporal CLI does. */
import { userInfo } from 'node:os';

export function requester(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
