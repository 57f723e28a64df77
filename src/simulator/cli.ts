// CLI: `mockiron simulate` (run a fleet), `mockiron simulate status` (what the devices hold) and
// `mockiron simulate identity` (the identity certificate a VPN authenticates with, for QA).
// Only the definitions are here: each action loads ./cli-actions.js (the fleet, the device's
// crypto and protocol) when it runs, so `mockiron --help` does not load them.

import type { Command } from 'commander';
import type { SimulateIdentityOptions, SimulateOptions } from './cli-actions.js';
import type { CliIo } from '../platform/cli/io.js';
import { FAULT_KINDS } from './fault-kinds.js';
import { ENROLL_MODES } from './enroll-modes.js';

export const DEFAULT_STATE_FILE = './simulator-state.json';
export const PASSWORD_ENV = 'MOCKIRON_ADMIN_PASSWORD';

export function registerSimulatorCommands(program: Command, io: CliIo): void {
  const simulate = program
    .command('simulate')
    .description('run a fleet of virtual iOS devices that enroll in and poll a mockiron server over the real MDM protocol')
    .option('--server <url>', 'mockiron base URL, e.g. http://localhost:8080')
    .option('--devices <n>', 'number of devices', '1')
    .option('--concurrency <c>', 'devices working at the same time', '10')
    .option('--duration <seconds>', 'keep polling for this long')
    .option('--iterations <k>', 'poll cycles per device (default 1 when --duration is not given)')
    .option('--poll-interval <ms>', 'pause between two poll cycles of a device', '1000')
    .option('--state <file>', 'state file (private keys inside; written 0600)', DEFAULT_STATE_FILE)
    .option('--seed <text>', 'seed the device identities derive from (kept in the state file)')
    .option('--admin-user <user>', 'admin user that creates the enrollment invitations', 'admin')
    .option('--admin-password-file <file>', `file holding the admin password (default: env ${PASSWORD_ENV})`)
    .option(
      '--enroll-mode <mode>',
      `how devices get their enrollment profile: ${ENROLL_MODES.join(', ')} (ota: invitation URL and Profile Service; direct: GET /mdm/enroll?token=; machine-info: POST signed MachineInfo to /mdm/enroll)`,
      'ota',
    )
    .option(
      '--enrollment-url <url>',
      'ota: an invitation URL, direct: a direct profile URL, both created elsewhere (only with --devices 1); machine-info: where MachineInfo goes',
    )
    .option('--models <mix>', 'product:version list the fleet cycles through, e.g. "iPad4,1:9.3.1,iPhone8,1:10.3.3"')
    .option('--not-now-rate <r>', 'share (0..1) of commands answered NotNow', '0')
    .option('--faults <list>', `inject faults: ${FAULT_KINDS.join(',')}`)
    .option('--fault-rate <r>', 'probability (0..1) of each fault at each opportunity', '0.1')
    .option(
      '--wake-on-push <host:port>',
      'wake on push instead of polling: stand in for APNs here (point the server at it with MOCKIRON_APNS_URL and MOCKIRON_APNS_CA_FILE); needs --duration',
    )
    .option('--push-tls-cert <pem>', "with --wake-on-push: the listener's TLS certificate (the server must trust it)")
    .option('--push-tls-key <pem>', 'with --wake-on-push: its private key')
    .option('--pregenerate-keys', "make the enrolling devices' RSA keys before the run (benchmarks: enrollment time is then the server's)")
    .option('--json', 'print the summary as JSON')
    .action(async (opts: SimulateOptions) => (await import('./cli-actions.js')).runSimulate(opts, io));

  simulate
    .command('status')
    .description('show what each simulated device holds: status, profiles, identity certificates and per-app VPN bindings')
    .option('--state <file>', `state file (default ${DEFAULT_STATE_FILE})`)
    .option('--json', 'print JSON')
    .action(async (local: { state?: string; json?: boolean }, command: Command) =>
      (await import('./cli-actions.js')).runSimulateStatus(local, command, io),
    );

  simulate
    .command('identity')
    .description(
      'print the identity certificate (PEM) a VPN authenticates with on a simulated device, e.g. for `mockiron anyconnect simulate --client-cert`',
    )
    .option('--state <file>', `state file (default ${DEFAULT_STATE_FILE})`)
    .option('--vpn-uuid <uuid>', "the VPN payload's VPNUUID")
    .option('--vpn-name <name>', 'or its name (the VPN configuration name, UserDefinedName in the profile)')
    .option('--device <udid>', 'the device, when more than one holds an identity for that VPN')
    .option('--key-out <file>', 'also write its private key (PKCS#8 PEM) to this file, mode 0600')
    .option('--json', 'print the certificate details and PEM as JSON')
    .action(async (local: SimulateIdentityOptions, command: Command) =>
      (await import('./cli-actions.js')).runSimulateIdentity(local, command, io),
    );
}
