// MobileIron-style substitution variables ($USERID$, $EMAIL$, ...) as they appear in VPN
// usernames and custom data. The lead applies them per device; unknown variables and
// variables without a value stay as written so a missing value is visible, not silently blank.

export interface DeviceVariables {
  userId?: string | null;
  email?: string | null;
  displayName?: string | null;
  deviceUuid?: string | null;
  serialNumber?: string | null;
  udid?: string | null;
}

const VARIABLE_NAMES: Record<string, keyof DeviceVariables> = {
  USERID: 'userId',
  USER_ID: 'userId',
  EMAIL: 'email',
  DISPLAYNAME: 'displayName',
  DISPLAY_NAME: 'displayName',
  DEVICE_UUID: 'deviceUuid',
  SERIAL_NUMBER: 'serialNumber',
  DEVICE_SN: 'serialNumber',
  UDID: 'udid',
  DEVICE_UDID: 'udid',
};

/** Names (without the dollar signs) that substituteVariables understands. */
export const KNOWN_VARIABLES: readonly string[] = Object.keys(VARIABLE_NAMES);

export function substituteVariables(text: string, vars: DeviceVariables): string {
  return text.replace(/\$([A-Z_]+)\$/g, (whole, name: string) => {
    const field = VARIABLE_NAMES[name];
    const value = field === undefined ? undefined : vars[field];
    return value === undefined || value === null ? whole : value;
  });
}
