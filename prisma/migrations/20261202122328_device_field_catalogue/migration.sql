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
    "wifiMac" TEXT,
    "ipAddress" TEXT,
    "phoneNumber" TEXT,
    "osVersionKey" TEXT,
    "reportedInfo" TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT "Device_userRef_fkey" FOREIGN KEY ("userRef") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_Device" ("adminDeviceSpaceId", "compliant", "customAttributes", "deviceName", "enrolledAt", "id", "imei", "lastConnectedAt", "manufacturer", "mdmState", "model", "osVersion", "owner", "platform", "pushMagic", "pushToken", "quarantined", "registeredAt", "serialNumber", "status", "topic", "udid", "unlockToken", "updatedAt", "userRef", "uuid") SELECT "adminDeviceSpaceId", "compliant", "customAttributes", "deviceName", "enrolledAt", "id", "imei", "lastConnectedAt", "manufacturer", "mdmState", "model", "osVersion", "owner", "platform", "pushMagic", "pushToken", "quarantined", "registeredAt", "serialNumber", "status", "topic", "udid", "unlockToken", "updatedAt", "userRef", "uuid" FROM "Device";
DROP TABLE "Device";
ALTER TABLE "new_Device" RENAME TO "Device";
CREATE UNIQUE INDEX "Device_uuid_key" ON "Device"("uuid");
CREATE UNIQUE INDEX "Device_udid_key" ON "Device"("udid");
CREATE INDEX "Device_userRef_idx" ON "Device"("userRef");
CREATE INDEX "Device_updatedAt_idx" ON "Device"("updatedAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
