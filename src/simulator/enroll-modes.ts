// How a simulated device gets its enrollment profile (no crypto here: `mockiron --help` loads it).
//   ota           an invitation URL: Profile Service, then signed device attributes (OTA phases 1 and 2)
//   direct        a direct enrollment profile URL (GET /mdm/enroll?token=…), signed or plain
//   machine-info  a CMS-signed MachineInfo POSTed to the enrollment URL (POST /mdm/enroll)
export const ENROLL_MODES = ['ota', 'direct', 'machine-info'] as const;
export type EnrollMode = (typeof ENROLL_MODES)[number];

export const isEnrollMode = (value: string): value is EnrollMode => (ENROLL_MODES as readonly string[]).includes(value);
