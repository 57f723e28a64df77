// What the MDM parts answer a device, as domain outcomes; src/mdm/routes.ts turns them into HTTP.
// `deviceUuid` names the device once authentication knew it (for the access log).

export type DeviceOutcome = (
  | /** A check-in message accepted: nothing to say back. */ { kind: 'accepted' }
  | /** The next command for the device (an XML plist). */ { kind: 'command'; plist: string }
  | /** Nothing queued for the device. */ { kind: 'idle' }
  | /** Authentication failed: the device is told why, in our words. */ { kind: 'refused'; reason: string }
  | /** The message cannot be taken (malformed, unknown type or command). */ { kind: 'rejected'; reason: string }
) & {
  deviceUuid?: string;
  /** The kind of message the device sent (`Idle`, `Acknowledged`, `TokenUpdate`...), once decoded; for the access log. */
  message?: string;
};

export const accepted = (): DeviceOutcome => ({ kind: 'accepted' });
export const rejected = (reason: string): DeviceOutcome => ({ kind: 'rejected', reason });

/** The next command, or nothing queued. */
export const nextCommand = (cmd: { body: string } | null): DeviceOutcome => (cmd ? { kind: 'command', plist: cmd.body } : { kind: 'idle' });

/** Device-supplied text echoed in an answer is cut short: a reply never grows with the request. */
export function echo(text: string, max = 160): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
