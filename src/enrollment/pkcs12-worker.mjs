// Builds a device's PKCS#12 off the main thread. node-forge derives the 3DES key and the MAC key
// with PKCS#12's own KDF (2,048 SHA-1 rounds each, in JavaScript): 60–150 ms that would
// otherwise stall every other request. Plain JavaScript, so a worker loads it without a loader.
import { parentPort, workerData } from 'node:worker_threads';
import forge from 'node-forge';

const { keyPem, certificatePems, password, friendlyName } = workerData;
const asn1 = forge.pkcs12.toPkcs12Asn1(
  forge.pki.privateKeyFromPem(keyPem),
  certificatePems.map((pem) => forge.pki.certificateFromPem(pem)),
  password,
  // 3DES: the cipher every iOS version reads (AES PKCS#12 only from iOS 15 on).
  { algorithm: '3des', friendlyName },
);
parentPort.postMessage(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
