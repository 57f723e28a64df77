// `npm run bench`: every benchmark, each reported against a baseline measured in the same run.
//   npm run bench                 all sections
//   npm run bench -- criteria     one section (criteria, membership, signing, firstbuild, peer, http, list, import)
//   BENCH_IMPORT_ROWS=1000000 npm run bench -- import   the import also at that size
import { benchCriteriaEval } from './criteria.js';
import { benchFirstBuild } from './firstbuild.js';
import { benchHttp } from './http.js';
import { benchImport } from './import.js';
import { benchList } from './list.js';
import { benchMembership } from './membership.js';
import { benchPeer } from './peer.js';
import { benchSigning, type BenchRow } from './signing.js';

const sections: Record<string, () => Promise<BenchRow[]>> = {
  criteria: benchCriteriaEval,
  membership: () => benchMembership(),
  signing: () => benchSigning(),
  firstbuild: () => benchFirstBuild(),
  peer: benchPeer,
  http: () => benchHttp(),
  list: () => benchList(),
  import: benchImport,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in sections));
if (unknown.length) {
  console.error(`unknown section(s): ${unknown.join(', ')}; choose from ${Object.keys(sections).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n== ${name}`);
  for (const r of await run()) {
    const vs = r.ratio === undefined ? '' : `   baseline ${r.baseline?.toLocaleString('en-US')}   ratio ${r.ratio}`;
    console.log(`${r.name.padEnd(62)} ${r.value.toLocaleString('en-US').padStart(12)} ${r.unit}${vs}`);
  }
}
