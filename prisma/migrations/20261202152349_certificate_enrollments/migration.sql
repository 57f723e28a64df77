-- CreateTable
CREATE TABLE "CertificateEnrollment" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "nameKey" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "method" TEXT NOT NULL,
    "keyType" TEXT NOT NULL DEFAULT 'RSA',
    "keySize" INTEGER NOT NULL DEFAULT 2048,
    "subject" TEXT NOT NULL,
    "subjectAltNames" TEXT NOT NULL DEFAULT '[]',
    "validityDays" INTEGER NOT NULL DEFAULT 365,
    "renewalWindowDays" INTEGER NOT NULL DEFAULT 30,
    "keyUsage" TEXT NOT NULL DEFAULT '["signing","encryption"]',
    "extendedKeyUsage" TEXT NOT NULL DEFAULT '["clientAuth"]',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "DeviceIdentity" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "deviceRef" INTEGER NOT NULL,
    "enrollmentRef" INTEGER NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 1,
    "certificateSerial" TEXT,
    "filled" TEXT NOT NULL DEFAULT '{}',
    "pkcs12" TEXT,
    "pkcs12Password" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "DeviceIdentity_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "DeviceIdentity_enrollmentRef_fkey" FOREIGN KEY ("enrollmentRef") REFERENCES "CertificateEnrollment" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_DeviceCertificate" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "serialNumber" TEXT NOT NULL,
    "fingerprintSha256" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "deviceRef" INTEGER,
    "source" TEXT NOT NULL,
    "purpose" TEXT NOT NULL DEFAULT 'mdm',
    "enrollmentRef" INTEGER,
    "subjectAltNames" TEXT NOT NULL DEFAULT '[]',
    "transactionId" TEXT,
    "notBefore" DATETIME NOT NULL,
    "notAfter" DATETIME NOT NULL,
    "revoked" BOOLEAN NOT NULL DEFAULT false,
    "revokedAt" DATETIME,
    "certificatePem" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "DeviceCertificate_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_DeviceCertificate" ("certificatePem", "createdAt", "deviceRef", "fingerprintSha256", "id", "notAfter", "notBefore", "revoked", "revokedAt", "serialNumber", "source", "subject", "transactionId") SELECT "certificatePem", "createdAt", "deviceRef", "fingerprintSha256", "id", "notAfter", "notBefore", "revoked", "revokedAt", "serialNumber", "source", "subject", "transactionId" FROM "DeviceCertificate";
DROP TABLE "DeviceCertificate";
ALTER TABLE "new_DeviceCertificate" RENAME TO "DeviceCertificate";
CREATE UNIQUE INDEX "DeviceCertificate_serialNumber_key" ON "DeviceCertificate"("serialNumber");
CREATE UNIQUE INDEX "DeviceCertificate_fingerprintSha256_key" ON "DeviceCertificate"("fingerprintSha256");
CREATE INDEX "DeviceCertificate_deviceRef_idx" ON "DeviceCertificate"("deviceRef");
CREATE INDEX "DeviceCertificate_transactionId_idx" ON "DeviceCertificate"("transactionId");
CREATE TABLE "new_ScepChallenge" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "challengeHash" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "deviceRef" INTEGER,
    "identityRef" INTEGER,
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ScepChallenge_identityRef_fkey" FOREIGN KEY ("identityRef") REFERENCES "DeviceIdentity" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_ScepChallenge" ("challengeHash", "createdAt", "createdBy", "deviceRef", "expiresAt", "id", "purpose", "usedAt") SELECT "challengeHash", "createdAt", "createdBy", "deviceRef", "expiresAt", "id", "purpose", "usedAt" FROM "ScepChallenge";
DROP TABLE "ScepChallenge";
ALTER TABLE "new_ScepChallenge" RENAME TO "ScepChallenge";
CREATE UNIQUE INDEX "ScepChallenge_challengeHash_key" ON "ScepChallenge"("challengeHash");
CREATE TABLE "new_VpnConfiguration" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "nameKey" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "connectionType" TEXT NOT NULL,
    "providerBundleId" TEXT,
    "server" TEXT NOT NULL,
    "group" TEXT,
    "perApp" BOOLEAN NOT NULL DEFAULT true,
    "onDemandMatchAppEnabled" BOOLEAN NOT NULL DEFAULT true,
    "safariDomains" TEXT NOT NULL DEFAULT '[]',
    "associatedDomains" TEXT NOT NULL DEFAULT '[]',
    "excludedDomains" TEXT NOT NULL DEFAULT '[]',
    "smbDomains" TEXT NOT NULL DEFAULT '[]',
    "mailDomains" TEXT NOT NULL DEFAULT '[]',
    "calendarDomains" TEXT NOT NULL DEFAULT '[]',
    "contactsDomains" TEXT NOT NULL DEFAULT '[]',
    "userAuthentication" TEXT NOT NULL DEFAULT 'PASSWORD',
    "username" TEXT,
    "password" TEXT,
    "providerType" TEXT,
    "customData" TEXT NOT NULL DEFAULT '{}',
    "vpnUuid" TEXT NOT NULL,
    "certificateEnrollmentId" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "VpnConfiguration_certificateEnrollmentId_fkey" FOREIGN KEY ("certificateEnrollmentId") REFERENCES "CertificateEnrollment" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_VpnConfiguration" ("associatedDomains", "calendarDomains", "connectionType", "contactsDomains", "createdAt", "customData", "description", "excludedDomains", "group", "id", "mailDomains", "name", "nameKey", "onDemandMatchAppEnabled", "password", "perApp", "providerBundleId", "providerType", "safariDomains", "server", "smbDomains", "updatedAt", "userAuthentication", "username", "vpnUuid") SELECT "associatedDomains", "calendarDomains", "connectionType", "contactsDomains", "createdAt", "customData", "description", "excludedDomains", "group", "id", "mailDomains", "name", "nameKey", "onDemandMatchAppEnabled", "password", "perApp", "providerBundleId", "providerType", "safariDomains", "server", "smbDomains", "updatedAt", "userAuthentication", "username", "vpnUuid" FROM "VpnConfiguration";
DROP TABLE "VpnConfiguration";
ALTER TABLE "new_VpnConfiguration" RENAME TO "VpnConfiguration";
CREATE UNIQUE INDEX "VpnConfiguration_nameKey_key" ON "VpnConfiguration"("nameKey");
CREATE UNIQUE INDEX "VpnConfiguration_vpnUuid_key" ON "VpnConfiguration"("vpnUuid");
CREATE INDEX "VpnConfiguration_certificateEnrollmentId_idx" ON "VpnConfiguration"("certificateEnrollmentId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "CertificateEnrollment_nameKey_key" ON "CertificateEnrollment"("nameKey");

-- CreateIndex
CREATE INDEX "DeviceIdentity_enrollmentRef_idx" ON "DeviceIdentity"("enrollmentRef");

-- CreateIndex
CREATE UNIQUE INDEX "DeviceIdentity_deviceRef_enrollmentRef_key" ON "DeviceIdentity"("deviceRef", "enrollmentRef");
