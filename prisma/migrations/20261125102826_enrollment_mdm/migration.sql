-- CreateTable
CREATE TABLE "EnrollmentInvitation" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "token" TEXT NOT NULL,
    "challengeHash" TEXT NOT NULL,
    "userRef" INTEGER,
    "deviceRef" INTEGER,
    "identityKind" TEXT NOT NULL DEFAULT 'scep',
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "EnrollmentInvitation_userRef_fkey" FOREIGN KEY ("userRef") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "EnrollmentInvitation_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ScepChallenge" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "challengeHash" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "deviceRef" INTEGER,
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "DeviceCertificate" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "serialNumber" TEXT NOT NULL,
    "fingerprintSha256" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "deviceRef" INTEGER,
    "source" TEXT NOT NULL,
    "transactionId" TEXT,
    "notBefore" DATETIME NOT NULL,
    "notAfter" DATETIME NOT NULL,
    "revoked" BOOLEAN NOT NULL DEFAULT false,
    "revokedAt" DATETIME,
    "certificatePem" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "DeviceCertificate_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "MdmCommand" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "commandUuid" TEXT NOT NULL,
    "deviceRef" INTEGER NOT NULL,
    "requestType" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'Queued',
    "origin" TEXT NOT NULL,
    "purpose" TEXT,
    "result" TEXT,
    "errorChain" TEXT,
    "queuedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" DATETIME,
    "completedAt" DATETIME,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "MdmCommand_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "PushRecord" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "deviceRef" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PushRecord_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Device" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "uuid" TEXT NOT NULL,
    "adminDeviceSpaceId" INTEGER NOT NULL DEFAULT 1,
    "platform" TEXT NOT NULL,
    "osVersion" TEXT,
    "model" TEXT,
    "manufacturer" TEXT,
    "deviceName" TEXT,
    "serialNumber" TEXT,
    "udid" TEXT,
    "imei" TEXT,
    "owner" TEXT NOT NULL DEFAULT 'COMPANY',
    "status" TEXT NOT NULL DEFAULT 'VERIFICATION_PENDING',
    "compliant" BOOLEAN NOT NULL DEFAULT true,
    "quarantined" BOOLEAN NOT NULL DEFAULT false,
    "customAttributes" TEXT NOT NULL DEFAULT '{}',
    "userRef" INTEGER,
    "registeredAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastConnectedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    "enrolledAt" DATETIME,
    "topic" TEXT,
    "pushToken" TEXT,
    "pushMagic" TEXT,
    "unlockToken" TEXT,
    "mdmState" TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT "Device_userRef_fkey" FOREIGN KEY ("userRef") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Device" ("adminDeviceSpaceId", "compliant", "customAttributes", "deviceName", "id", "imei", "lastConnectedAt", "manufacturer", "model", "osVersion", "owner", "platform", "quarantined", "registeredAt", "serialNumber", "status", "udid", "updatedAt", "userRef", "uuid") SELECT "adminDeviceSpaceId", "compliant", "customAttributes", "deviceName", "id", "imei", "lastConnectedAt", "manufacturer", "model", "osVersion", "owner", "platform", "quarantined", "registeredAt", "serialNumber", "status", "udid", "updatedAt", "userRef", "uuid" FROM "Device";
DROP TABLE "Device";
ALTER TABLE "new_Device" RENAME TO "Device";
CREATE UNIQUE INDEX "Device_uuid_key" ON "Device"("uuid");
CREATE UNIQUE INDEX "Device_udid_key" ON "Device"("udid");
CREATE INDEX "Device_userRef_idx" ON "Device"("userRef");
CREATE INDEX "Device_updatedAt_idx" ON "Device"("updatedAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "EnrollmentInvitation_token_key" ON "EnrollmentInvitation"("token");

-- CreateIndex
CREATE INDEX "EnrollmentInvitation_userRef_idx" ON "EnrollmentInvitation"("userRef");

-- CreateIndex
CREATE INDEX "EnrollmentInvitation_deviceRef_idx" ON "EnrollmentInvitation"("deviceRef");

-- CreateIndex
CREATE UNIQUE INDEX "ScepChallenge_challengeHash_key" ON "ScepChallenge"("challengeHash");

-- CreateIndex
CREATE UNIQUE INDEX "DeviceCertificate_serialNumber_key" ON "DeviceCertificate"("serialNumber");

-- CreateIndex
CREATE UNIQUE INDEX "DeviceCertificate_fingerprintSha256_key" ON "DeviceCertificate"("fingerprintSha256");

-- CreateIndex
CREATE INDEX "DeviceCertificate_deviceRef_idx" ON "DeviceCertificate"("deviceRef");

-- CreateIndex
CREATE INDEX "DeviceCertificate_transactionId_idx" ON "DeviceCertificate"("transactionId");

-- CreateIndex
CREATE UNIQUE INDEX "MdmCommand_commandUuid_key" ON "MdmCommand"("commandUuid");

-- CreateIndex
CREATE INDEX "MdmCommand_deviceRef_status_id_idx" ON "MdmCommand"("deviceRef", "status", "id");

-- CreateIndex
CREATE INDEX "MdmCommand_deviceRef_purpose_idx" ON "MdmCommand"("deviceRef", "purpose");

-- CreateIndex
CREATE INDEX "PushRecord_deviceRef_at_idx" ON "PushRecord"("deviceRef", "at");
