// A spec's `matrix:` expanded into cells: one spec per connection type × user authentication,
// each with its own profile identifier (so PayloadUUIDs and derived VPNUUIDs differ per cell and
// the cells can sit on one device together), re-validated as a whole spec (a CUSTOM_SSL cell
// still needs providerBundleId, a CERTIFICATE cell certificatePayloadUuid). Pure.

import { derivedVpnUuid, profileSpecSchema, type ProfileSpec } from './spec.js';

export interface MatrixCell {
  /** File-name-safe cell name, e.g. `ikev2-password`. */
  name: string;
  spec: ProfileSpec;
}

export interface MatrixProblem {
  cell: string;
  message: string;
}

/** The cells of a spec's matrix (one cell, the spec itself, when it has none); problems instead when a cell is not a valid spec. */
export function expandMatrix(spec: ProfileSpec): { cells: MatrixCell[] } | { problems: MatrixProblem[] } {
  const matrix = spec.matrix;
  if (!matrix || (!matrix.connectionType && !matrix.userAuthentication)) return { cells: [{ name: '', spec }] };
  // A vpnUuid other than the derived one was written in the spec
  const explicitVpnUuids = new Set(
    spec.vpnConfigurations.filter((c) => c.vpnUuid?.toUpperCase() !== derivedVpnUuid(spec.profile.identifier, c.name)).map((c) => c.name),
  );
  const types = matrix.connectionType ?? [undefined];
  const auths = matrix.userAuthentication ?? [undefined];
  const cells: MatrixCell[] = [];
  const problems: MatrixProblem[] = [];
  for (const type of types) {
    for (const auth of auths) {
      const name = [type, auth].filter((p) => p !== undefined).join('-').toLowerCase().replace(/_/g, '-');
      const identifier = `${spec.profile.identifier}.${name}`;
      const candidate = {
        ...spec,
        matrix: undefined,
        profile: { ...spec.profile, identifier, displayName: `${spec.profile.displayName} (${[type, auth].filter(Boolean).join(', ')})` },
        vpnConfigurations: spec.vpnConfigurations.map((c) => ({
          ...c,
          ...(type ? { connectionType: type } : {}),
          ...(auth ? { userAuthentication: auth } : {}),
          // A written vpnUuid stays (the spec pins it); a derived one follows the cell's identifier
          vpnUuid: explicitVpnUuids.has(c.name) ? c.vpnUuid : derivedVpnUuid(identifier, c.name),
        })),
      };
      const parsed = profileSpecSchema.safeParse(candidate);
      if (parsed.success) cells.push({ name, spec: parsed.data });
      else {
        for (const issue of parsed.error.issues) {
          const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
          problems.push({ cell: name, message: `${path}: ${issue.message}` });
        }
      }
    }
  }
  return problems.length > 0 ? { problems } : { cells };
}
